/* test_maps.c - every map operation with the kernel's errnos: arrays,
 * hash and lru_hash (full maps, eviction order, iteration with deletion),
 * per-CPU maps (a slot per CPU, the run's CPU's slot), lpm_trie (longest
 * match, exact update/delete, post-order next_key), ring buffers, and the public map API of an object; all of it with the
 * values unguarded and guarded (stdlib/map_values.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/guard.h"
#include "core/object.h"
#include "stdlib/maps.h"
#include "testutil.h"

static struct bl_map_def def(uint32_t type, uint32_t ks, uint32_t vs, uint32_t n)
{
    char name[16];
    snprintf(name, sizeof name, "m%u", type);
    return tu_map_def(name, type, ks, vs, n, 0);
}

static struct bl_map *make(uint32_t type, uint32_t ks, uint32_t vs, uint32_t n)
{
    struct bl_map_def d = def(type, ks, vs, n);
    char *err = NULL;
    struct bl_map *m = bl_map_create(&d, &err);
    if (!m)
        fprintf(stderr, "create: %s\n", err ? err : "?");
    free(err);
    assert_non_null(m);
    return m;
}

static int put(struct bl_map *m, uint32_t k, uint64_t v, uint64_t flags)
{
    return bl_map_update(m, &k, &v, flags);
}

static int get(struct bl_map *m, uint32_t k, uint64_t *v)
{
    uint64_t *p = bl_map_lookup(m, &k);
    if (!p)
        return -ENOENT;
    *v = *p;
    return 0;
}

static int has(struct bl_map *m, uint32_t k)
{
    return bl_map_lookup_sys(m, &k) != NULL;
}

/* ---- array ----------------------------------------------------------------- */

static void array_ops(void **state)
{
    struct bl_map *m = make(BPFLUA_MAP_ARRAY, 4, 8, 4);
    uint64_t v = 1;
    assert_int_equal(get(m, 3, &v), 0);
    assert_int_equal(v, 0); /* zeroed at creation */
    assert_int_equal(get(m, 4, &v), -ENOENT);
    assert_int_equal(put(m, 2, 42, BL_ANY), 0);
    assert_int_equal(put(m, 2, 43, BL_EXIST), 0);
    assert_int_equal(get(m, 2, &v), 0);
    assert_int_equal(v, 43);
    assert_int_equal(put(m, 2, 1, BL_NOEXIST), -EEXIST);
    assert_int_equal(put(m, 4, 1, BL_ANY), -E2BIG);
    assert_int_equal(put(m, 1, 1, 3), -EINVAL);
    assert_int_equal(put(m, 1, 1, 4), -EINVAL); /* BPF_F_LOCK without a lock */
    uint32_t k = 2;
    assert_int_equal(bl_map_delete(m, &k), -EINVAL);
    /* the value pointer is stable and 8-byte aligned */
    uint64_t *p1 = bl_map_lookup(m, &k), *p2 = bl_map_lookup(m, &k);
    assert_ptr_equal(p1, p2);
    assert_int_equal((uintptr_t)p1 % 8, 0);
    bl_map_free(m);
}

static void array_next_key(void **state)
{
    struct bl_map *m = make(BPFLUA_MAP_ARRAY, 4, 4, 3);
    uint32_t k = 99, next = 77;
    assert_int_equal(bl_map_next_key(m, NULL, &next), 0);
    assert_int_equal(next, 0);
    assert_int_equal(bl_map_next_key(m, &k, &next), 0); /* out of range: restart */
    assert_int_equal(next, 0);
    k = 0;
    assert_int_equal(bl_map_next_key(m, &k, &next), 0);
    assert_int_equal(next, 1);
    k = 2;
    assert_int_equal(bl_map_next_key(m, &k, &next), -ENOENT);
    bl_map_free(m);
}

static int count_visit(struct bl_map *m, void *key, void *value, void *ctx)
{
    uint32_t *seen = ctx;
    seen[0]++;
    seen[1] += *(uint32_t *)key;
    return seen[0] == seen[2]; /* stop after seen[2] when nonzero */
}

static void array_for_each(void **state)
{
    struct bl_map *m = make(BPFLUA_MAP_PERCPU_ARRAY, 4, 8, 5);
    uint32_t seen[3] = {0, 0, 0};
    assert_int_equal(bl_map_for_each(m, count_visit, seen), 5);
    assert_int_equal(seen[1], 0 + 1 + 2 + 3 + 4);
    uint32_t stop[3] = {0, 0, 2};
    assert_int_equal(bl_map_for_each(m, count_visit, stop), 2);
    bl_map_free(m);
}

/* ---- hash ------------------------------------------------------------------ */

static void hash_ops(void **state)
{
    struct bl_map *m = make(BPFLUA_MAP_HASH, 4, 8, 3);
    uint64_t v;
    assert_int_equal(get(m, 1, &v), -ENOENT);
    assert_int_equal(put(m, 1, 10, BL_EXIST), -ENOENT);
    assert_int_equal(put(m, 1, 10, BL_NOEXIST), 0);
    assert_int_equal(put(m, 1, 11, BL_NOEXIST), -EEXIST);
    assert_int_equal(put(m, 1, 12, BL_EXIST), 0);
    assert_int_equal(get(m, 1, &v), 0);
    assert_int_equal(v, 12);
    assert_int_equal(put(m, 1, 1, 3), -EINVAL);
    assert_int_equal(put(m, 2, 20, BL_ANY), 0);
    assert_int_equal(put(m, 3, 30, BL_ANY), 0);
    /* full: a new key is refused, existing keys still update */
    assert_int_equal(put(m, 4, 40, BL_ANY), -E2BIG);
    assert_int_equal(put(m, 3, 31, BL_ANY), 0);
    uint32_t k = 2;
    assert_int_equal(bl_map_delete(m, &k), 0);
    assert_int_equal(bl_map_delete(m, &k), -ENOENT);
    assert_int_equal(put(m, 4, 40, BL_ANY), 0); /* the freed slot is reused */
    assert_int_equal(get(m, 4, &v), 0);
    assert_int_equal(v, 40);
    assert_int_equal(get(m, 3, &v), 0);
    assert_int_equal(v, 31);
    bl_map_free(m);
}

static void hash_many_keys(void **state)
{
    /* odd sizes, many collisions in the chains, delete every other key */
    struct bl_map *m = make(BPFLUA_MAP_HASH, 12, 3, 1000);
    unsigned char key[12], val[3];
    for (uint32_t i = 0; i < 1000; i++) {
        memset(key, 0, sizeof key);
        memcpy(key + 5, &i, 4);
        memset(val, (int)(i & 0xff), sizeof val);
        assert_int_equal(bl_map_update(m, key, val, BL_NOEXIST), 0);
    }
    for (uint32_t i = 0; i < 1000; i += 2) {
        memset(key, 0, sizeof key);
        memcpy(key + 5, &i, 4);
        assert_int_equal(bl_map_delete(m, key), 0);
    }
    for (uint32_t i = 0; i < 1000; i++) {
        memset(key, 0, sizeof key);
        memcpy(key + 5, &i, 4);
        unsigned char *p = bl_map_lookup(m, key);
        if (i % 2) {
            assert_non_null(p);
            assert_int_equal(p[2], i & 0xff);
            assert_int_equal((uintptr_t)p % 8, 0);
        } else {
            assert_null(p);
        }
    }
    bl_map_free(m);
}

/* key j of size ks: byte 0 is j, the last byte j ^ 0x5a, the middle
 * bytes a pattern of ks; one byte of the buffer is left before it (the
 * keys a program passes need not be 8-byte aligned) */
static unsigned char *sized_key(unsigned char *buf, uint32_t ks, uint32_t j)
{
    unsigned char *k = buf + 1;
    for (uint32_t b = 0; b < ks; b++)
        k[b] = (unsigned char)(ks * 3 + b);
    k[0] = (unsigned char)j;
    k[ks - 1] = (unsigned char)(j ^ 0x5a);
    return k;
}

/* bl_map_prog_lookup, the lookup the JIT calls for a map it knows (a hash
 * map's specialised for its key size), finds exactly what bl_map_lookup
 * finds for every key size from 1 to 72 bytes: keys that differ only in
 * their first or their last byte, chains of colliding keys (48 keys in
 * 64 buckets), deleted keys, keys never inserted; lru_hash too */
static void hash_prog_lookup_sizes(void **state)
{
    static const uint32_t types[] = {BPFLUA_MAP_HASH, BPFLUA_MAP_LRU_HASH};
    unsigned char buf[80];
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        for (uint32_t ks = 1; ks <= 72; ks++) {
            struct bl_map *m = make(types[t], ks, 8, 64);
            bl_map_prog_lookup_fn fn = bl_map_prog_lookup(m);
            assert_non_null(fn);
            for (uint32_t j = 0; j < 48; j++) {
                uint64_t v = j * 1000 + ks;
                assert_int_equal(bl_map_update(m, sized_key(buf, ks, j), &v, BL_NOEXIST), 0);
            }
            for (uint32_t j = 0; j < 48; j += 3)
                assert_int_equal(bl_map_delete(m, sized_key(buf, ks, j)), 0);
            for (uint32_t j = 0; j < 256; j++) {
                const unsigned char *k = sized_key(buf, ks, j);
                uint64_t *want = bl_map_lookup(m, k), *got = fn(m, k);
                assert_ptr_equal(got, want);
                if (j < 48 && j % 3) {
                    assert_non_null(got);
                    assert_int_equal(*got, j * 1000 + ks);
                } else {
                    assert_null(got);
                }
            }
            /* a key that differs from a present one in one middle byte */
            if (ks > 2) {
                unsigned char *k = sized_key(buf, ks, 1);
                k[ks / 2] ^= 0x80;
                assert_null(fn(m, k));
            }
            bl_map_free(m);
        }
    }
    /* lru_hash: the program's lookup counts as a use, as bl_map_lookup's */
    struct bl_map *m = make(BPFLUA_MAP_LRU_HASH, 16, 8, 4);
    bl_map_prog_lookup_fn fn = bl_map_prog_lookup(m);
    for (uint32_t j = 0; j < 4; j++) {
        uint64_t v = j;
        assert_int_equal(bl_map_update(m, sized_key(buf, 16, j), &v, BL_ANY), 0);
    }
    assert_non_null(fn(m, sized_key(buf, 16, 0)));   /* 1 is now the oldest */
    uint64_t v = 9;
    assert_int_equal(bl_map_update(m, sized_key(buf, 16, 9), &v, BL_ANY), 0);
    assert_non_null(fn(m, sized_key(buf, 16, 0)));
    assert_null(fn(m, sized_key(buf, 16, 1)));
    assert_non_null(fn(m, sized_key(buf, 16, 9)));
    bl_map_free(m);
    /* no direct lookup where bl_map_lookup does more than the type's:
     * per-CPU maps (the run's CPU's slot) */
    m = make(BPFLUA_MAP_PERCPU_HASH, 16, 8, 4);
    assert_null(bl_map_prog_lookup(m));
    bl_map_free(m);
    m = make(BPFLUA_MAP_ARRAY, 4, 8, 4);
    assert_null(bl_map_prog_lookup(m));
    bl_map_free(m);
}

static void hash_next_key(void **state)
{
    struct bl_map *m = make(BPFLUA_MAP_HASH, 4, 8, 8);
    uint32_t k, next;
    assert_int_equal(bl_map_next_key(m, NULL, &next), -ENOENT);
    for (uint32_t i = 0; i < 5; i++)
        assert_int_equal(put(m, 100 + i, i, BL_ANY), 0);
    uint32_t sum = 0, n = 0;
    for (int rc = bl_map_next_key(m, NULL, &k); rc == 0; rc = bl_map_next_key(m, &k, &k)) {
        sum += k;
        n++;
    }
    assert_int_equal(n, 5);
    assert_int_equal(sum, 100 + 101 + 102 + 103 + 104);
    /* a missing key restarts from the first, as in the kernel */
    uint32_t first;
    assert_int_equal(bl_map_next_key(m, NULL, &first), 0);
    k = 999;
    assert_int_equal(bl_map_next_key(m, &k, &next), 0);
    assert_int_equal(next, first);
    /* deleting the current key while walking with next_key */
    n = 0;
    int rc = bl_map_next_key(m, NULL, &k);
    while (rc == 0) {
        uint32_t cur = k;
        rc = bl_map_next_key(m, &cur, &k);
        assert_int_equal(bl_map_delete(m, &cur), 0);
        n++;
    }
    assert_int_equal(n, 5);
    assert_int_equal(bl_map_next_key(m, NULL, &next), -ENOENT);
    bl_map_free(m);
}

static int delete_visit(struct bl_map *m, void *key, void *value, void *ctx)
{
    int *n = ctx;
    (*n)++;
    /* delete the current element, and a later one on even keys */
    assert_int_equal(bl_map_delete(m, key), 0);
    uint32_t later = *(uint32_t *)key + 1;
    if (later % 2 == 1 && later < 10)
        bl_map_delete(m, &later);
    return 0;
}

static void hash_for_each_delete(void **state)
{
    struct bl_map *m = make(BPFLUA_MAP_HASH, 4, 8, 16);
    for (uint32_t i = 0; i < 10; i++)
        assert_int_equal(put(m, i, i * 10, BL_ANY), 0);
    int n = 0;
    assert_int_equal(bl_map_for_each(m, delete_visit, &n), 5);
    assert_int_equal(n, 5); /* the odd keys went before being reached */
    uint32_t k;
    assert_int_equal(bl_map_next_key(m, NULL, &k), -ENOENT);
    uint32_t seen[3] = {0, 0, 0};
    assert_int_equal(bl_map_for_each(m, count_visit, seen), 0);
    bl_map_free(m);
}


/* Maps above 2 MiB live in huge-page areas: same behaviour, freed cleanly. */
static void big_maps(void **state)
{
    struct bl_map *h = make(BPFLUA_MAP_HASH, 4, 8, 100000);
    struct bl_map *a = make(BPFLUA_MAP_ARRAY, 4, 8, 300000);
    uint64_t v;
    for (uint32_t k = 0; k < 100000; k += 7)
        assert_int_equal(put(h, k * 3, k, BL_NOEXIST), 0);
    assert_int_equal(get(h, 21 * 3, &v), 0);
    assert_int_equal(v, 21);
    assert_int_equal(get(h, 22 * 3, &v), -ENOENT);
    assert_int_equal(put(a, 299999, 5, BL_ANY), 0);
    assert_int_equal(get(a, 299999, &v), 0);
    assert_int_equal(v, 5);
    assert_int_equal(get(a, 150000, &v), 0);
    assert_int_equal(v, 0);
    bl_map_free(h);
    bl_map_free(a);
}

/* ---- lru_hash -------------------------------------------------------------- */

static void lru_eviction_order(void **state)
{
    struct bl_map *m = make(BPFLUA_MAP_LRU_HASH, 4, 8, 3);
    uint64_t v;
    assert_int_equal(put(m, 1, 1, BL_ANY), 0);
    assert_int_equal(put(m, 2, 2, BL_ANY), 0);
    assert_int_equal(put(m, 3, 3, BL_ANY), 0);
    /* full: inserting evicts the least recently used (1) */
    assert_int_equal(put(m, 4, 4, BL_ANY), 0);
    assert_false(has(m, 1));
    assert_true(has(m, 2) && has(m, 3) && has(m, 4));
    /* a program's lookup makes 2 the most recent: 3 goes next */
    assert_int_equal(get(m, 2, &v), 0);
    assert_int_equal(put(m, 5, 5, BL_ANY), 0);
    assert_false(has(m, 3));
    assert_true(has(m, 2) && has(m, 4) && has(m, 5));
    /* an update of an existing key also counts as a use: 4 goes next */
    assert_int_equal(put(m, 2, 22, BL_EXIST), 0);
    assert_int_equal(put(m, 6, 6, BL_NOEXIST), 0);
    assert_false(has(m, 4));
    /* a lookup from outside a program does not count: 5 is oldest */
    assert_non_null(bl_map_lookup_sys(m, &(uint32_t){5}));
    assert_int_equal(put(m, 7, 7, BL_ANY), 0);
    assert_false(has(m, 5));
    assert_true(has(m, 2) && has(m, 6) && has(m, 7));
    /* errors evict nothing */
    assert_int_equal(put(m, 7, 0, BL_NOEXIST), -EEXIST);
    assert_int_equal(put(m, 8, 0, BL_EXIST), -ENOENT);
    assert_int_equal(put(m, 8, 0, 5), -EINVAL);
    assert_true(has(m, 2) && has(m, 6) && has(m, 7));
    /* a deleted element leaves a free slot: nothing is evicted */
    uint32_t k = 6;
    assert_int_equal(bl_map_delete(m, &k), 0);
    assert_int_equal(put(m, 9, 9, BL_ANY), 0);
    assert_true(has(m, 2) && has(m, 7) && has(m, 9));
    assert_int_equal(get(m, 2, &v), 0);
    assert_int_equal(v, 22);
    bl_map_free(m);
}

static void lru_long_run(void **state)
{
    /* 100 inserts into 10 slots: exactly the last 10 remain */
    struct bl_map *m = make(BPFLUA_MAP_LRU_HASH, 4, 8, 10);
    for (uint32_t i = 0; i < 100; i++)
        assert_int_equal(put(m, i, i, BL_ANY), 0);
    for (uint32_t i = 0; i < 100; i++)
        assert_int_equal(has(m, i), i >= 90);
    bl_map_free(m);
}


/* Random operations against a reference model: an array of (key, last use)
 * where the smallest last use is evicted. */
static void lru_matches_model(void **state)
{
    enum { CAP = 8, KEYS = 20 };
    struct bl_map *m = make(BPFLUA_MAP_LRU_HASH, 4, 8, CAP);
    long last_use[KEYS];
    uint64_t model_val[KEYS];
    for (int k = 0; k < KEYS; k++)
        last_use[k] = -1; /* absent */
    uint64_t x = 0x853c49e6748fea9bull;
    for (long step = 0; step < 5000; step++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        uint32_t k = (uint32_t)(x % KEYS), op = (uint32_t)(x >> 40) % 4;
        uint64_t flags = (x >> 50) % 3, v = x;
        int present = last_use[k] >= 0;
        if (op == 0) { /* program lookup: a use */
            uint64_t got;
            assert_int_equal(get(m, k, &got), present ? 0 : -ENOENT);
            if (present) {
                assert_int_equal(got, model_val[k]);
                last_use[k] = step;
            }
        } else if (op == 1) {
            uint32_t key = k;
            assert_int_equal(bl_map_delete(m, &key), present ? 0 : -ENOENT);
            last_use[k] = -1;
        } else {
            int want = 0;
            if (flags == BL_NOEXIST && present)
                want = -EEXIST;
            else if (flags == BL_EXIST && !present)
                want = -ENOENT;
            assert_int_equal(put(m, k, v, flags), want);
            if (want == 0) {
                if (!present) {
                    int n = 0, oldest = -1;
                    for (int j = 0; j < KEYS; j++)
                        if (last_use[j] >= 0) {
                            n++;
                            if (oldest < 0 || last_use[j] < last_use[oldest])
                                oldest = j;
                        }
                    if (n == CAP)
                        last_use[oldest] = -1; /* evicted */
                }
                last_use[k] = step;
                model_val[k] = v;
            }
        }
        for (int j = 0; j < KEYS; j++)
            if (has(m, (uint32_t)j) != (last_use[j] >= 0))
                fail_msg("step %ld: key %d %s in the map, model says otherwise", step, j,
                         has(m, (uint32_t)j) ? "is" : "is not");
    }
    bl_map_free(m);
}

/* ---- ringbuf --------------------------------------------------------------- */

static void ringbuf_records(void **state)
{
    struct bl_map *m = make(BPFLUA_MAP_RINGBUF, 0, 0, 4096);
    char buf[4096];
    assert_int_equal(bl_ringbuf_pop(m, buf, sizeof buf), 0);
    assert_int_equal(bl_ringbuf_output(m, "hello", 5, 0), 0);
    assert_int_equal(bl_ringbuf_output(m, "world!!", 7, 1), 0);
    assert_int_equal(bl_ringbuf_output(m, "x", 1, 4), -EINVAL);
    assert_int_equal(bl_ringbuf_pop(m, buf, 4), -ENOSPC);
    assert_int_equal(bl_ringbuf_pop(m, buf, sizeof buf), 5);
    assert_memory_equal(buf, "hello", 5);
    assert_int_equal(bl_ringbuf_pop(m, buf, sizeof buf), 7);
    assert_memory_equal(buf, "world!!", 7);
    assert_int_equal(bl_ringbuf_pop(m, buf, sizeof buf), 0);
    /* empty records take 8 bytes and are skipped by pop */
    assert_int_equal(bl_ringbuf_output(m, NULL, 0, 0), 0);
    assert_int_equal(bl_ringbuf_output(m, "z", 1, 0), 0);
    assert_int_equal(bl_ringbuf_output(m, buf, 0, 0), 0);
    assert_int_equal(bl_ringbuf_pop(m, buf, sizeof buf), 1);
    assert_int_equal(buf[0], 'z');
    assert_int_equal(bl_ringbuf_pop(m, buf, sizeof buf), 0);
    /* too big for the whole buffer, then filling it up */
    assert_int_equal(bl_ringbuf_output(m, buf, 4096, 0), -EAGAIN);
    memset(buf, 'a', sizeof buf);
    int written = 0;
    while (bl_ringbuf_output(m, buf, 100, 0) == 0)
        written++;
    assert_int_equal(written, 4096 / 112);
    /* records wrap around the end and come back intact, in order */
    for (int round = 0; round < 200; round++) {
        char rec[100], out[100];
        memset(rec, 'A' + round % 26, sizeof rec);
        assert_int_equal(bl_ringbuf_pop(m, out, sizeof out), 100);
        assert_int_equal(bl_ringbuf_output(m, rec, 100, 2), 0);
    }
    char out[100];
    for (int i = 0; i < written; i++)
        assert_int_equal(bl_ringbuf_pop(m, out, sizeof out), 100);
    assert_int_equal(out[99], 'A' + 199 % 26);
    assert_int_equal(bl_ringbuf_pop(m, out, sizeof out), 0);
    /* the kernel's capacity: size - 1 bytes of records (255 of 16 bytes) */
    int small = 0;
    while (bl_ringbuf_output(m, buf, 8, 0) == 0)
        small++;
    assert_int_equal(small, 255);
    while (bl_ringbuf_pop(m, out, sizeof out) > 0)
        ;
    /* no keys */
    uint32_t k = 0;
    assert_null(bl_map_lookup(m, &k));
    assert_int_equal(bl_map_update(m, &k, &k, 0), -EOPNOTSUPP);
    bl_map_free(m);
}

/* ---- per-CPU maps ----------------------------------------------------------- */

/* CPU cpu's u64 slot of key k, or -1 if absent */
static int64_t slot(struct bl_map *m, uint32_t k, uint32_t cpu)
{
    const uint64_t *v = bl_map_lookup_cpu(m, &k, cpu);
    return v ? (int64_t)*v : -1;
}

static int sum_visit(struct bl_map *m, void *key, void *value, void *ctx)
{
    *(uint64_t *)ctx += *(uint64_t *)value;
    return 0;
}

static void percpu_type(uint32_t type)
{
    uint32_t n = bl_num_cpus(), last = n - 1;
    struct bl_map *m = make(type, 4, 8, 4);
    uint64_t v;
    bl_set_run_cpu(0);
    assert_int_equal(put(m, 1, 10, BL_ANY), 0);
    assert_int_equal(slot(m, 1, 0), 10);
    for (uint32_t c = 1; c < n; c++)
        assert_int_equal(slot(m, 1, c), 0);      /* a program's insert zeroes the others */
    assert_int_equal(slot(m, 1, n), -1);         /* no such CPU */
    /* the run on the last CPU sees and writes its own slot only */
    bl_set_run_cpu(last);
    assert_int_equal(bl_run_cpu(), last);
    assert_int_equal(get(m, 1, &v), 0);
    assert_int_equal(v, n > 1 ? 0 : 10);
    assert_int_equal(put(m, 1, 20, BL_EXIST), 0);
    assert_int_equal(slot(m, 1, last), 20);
    assert_int_equal(slot(m, 1, 0), n > 1 ? 10 : 20);
    assert_int_equal(put(m, 1, 30, BL_NOEXIST), -EEXIST);
    assert_int_equal(put(m, 1, 30, 4), -EINVAL);
    uint64_t sum = 0;
    assert_int_equal(bl_map_for_each(m, sum_visit, &sum), type == BPFLUA_MAP_PERCPU_ARRAY ? 4 : 1);
    assert_int_equal(sum, 20);                   /* the run's CPU's slots */
    /* bpf(2)'s layout: one slot per CPU, 8 bytes apart */
    uint64_t all[64];
    assert_true(n <= 64);
    for (uint32_t c = 0; c < n; c++)
        all[c] = 100 + c;
    uint32_t k = 2;
    assert_int_equal(bl_map_update_cpus(m, &k, all, BL_ANY, 0), 0);
    for (uint32_t c = 0; c < n; c++)
        assert_int_equal(slot(m, 2, c), 100 + c);
    assert_int_equal(bl_map_update_cpus(m, &k, all, BL_ANY, 1), 0);
    for (uint32_t c = 0; c < n; c++)
        assert_int_equal(slot(m, 2, c), 100);
    bl_set_run_cpu(0);
    assert_int_equal(*(uint64_t *)bl_map_lookup_sys(m, &k), 100); /* CPU 0's */
    if (type == BPFLUA_MAP_PERCPU_ARRAY) {
        assert_int_equal(put(m, 4, 1, BL_ANY), -E2BIG);
        assert_int_equal(bl_map_delete(m, &k), -EINVAL);
    } else {
        assert_int_equal(put(m, 3, 1, BL_EXIST), -ENOENT);
        assert_int_equal(put(m, 3, 1, BL_ANY), 0);
        assert_int_equal(put(m, 4, 1, BL_ANY), 0);
        /* full: the plain hash refuses, the LRU one evicts its oldest (key 1) */
        if (type == BPFLUA_MAP_PERCPU_HASH) {
            assert_int_equal(put(m, 5, 1, BL_ANY), -E2BIG);
        } else {
            assert_int_equal(put(m, 5, 7, BL_ANY), 0);
            assert_int_equal(slot(m, 1, 0), -1);
            /* the reused element's other slots do not leak the evicted values */
            for (uint32_t c = 1; c < n; c++)
                assert_int_equal(slot(m, 5, c), 0);
        }
        assert_int_equal(bl_map_delete(m, &k), 0);
        assert_int_equal(slot(m, 2, last), -1);
    }
    bl_map_free(m);
}

static void percpu_maps(void **state)
{
    assert_true(bl_num_cpus() >= 1);
    percpu_type(BPFLUA_MAP_PERCPU_ARRAY);
    percpu_type(BPFLUA_MAP_PERCPU_HASH);
    percpu_type(BPFLUA_MAP_LRU_PERCPU_HASH);
}

/* ---- lpm_trie ---------------------------------------------------------------- */

struct v4key { uint32_t len; uint8_t a[4]; };

static struct v4key v4(uint32_t len, uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    struct v4key k = {len, {a, b, c, d}};
    return k;
}

static int lpm_put(struct bl_map *m, struct v4key k, uint64_t v, uint64_t flags)
{
    return bl_map_update(m, &k, &v, flags);
}

static int64_t lpm_get(struct bl_map *m, struct v4key k)
{
    const uint64_t *v = bl_map_lookup(m, &k);
    return v ? (int64_t)*v : -1;
}

static void lpm_ops(void **state)
{
    struct bl_map_def d = tu_map_def("lpm", BPFLUA_MAP_LPM_TRIE, 8, 8, 6, 1);
    struct bl_map *m = bl_map_create(&d, NULL);
    assert_non_null(m);
    assert_int_equal(lpm_put(m, v4(8, 10, 0, 0, 0), 1, BL_NOEXIST), 0);
    assert_int_equal(lpm_put(m, v4(16, 10, 1, 0, 0), 2, BL_ANY), 0);
    assert_int_equal(lpm_put(m, v4(24, 10, 1, 2, 0), 3, BL_ANY), 0);
    assert_int_equal(lpm_put(m, v4(0, 0, 0, 0, 0), 4, BL_ANY), 0);
    assert_int_equal(lpm_put(m, v4(9, 10, 128, 0, 0), 5, BL_ANY), 0);
    assert_int_equal(lpm_get(m, v4(32, 10, 1, 2, 3)), 3);
    assert_int_equal(lpm_get(m, v4(32, 10, 1, 3, 3)), 2);
    assert_int_equal(lpm_get(m, v4(32, 10, 2, 0, 0)), 1);
    assert_int_equal(lpm_get(m, v4(32, 10, 200, 0, 0)), 5);
    assert_int_equal(lpm_get(m, v4(32, 11, 0, 0, 0)), 4);
    assert_int_equal(lpm_get(m, v4(16, 10, 1, 2, 3)), 2);   /* the key's own length bounds it */
    assert_int_equal(lpm_get(m, v4(33, 10, 1, 2, 3)), -1);  /* beyond 32: none, as 6.18 */
    /* exact prefixes: host bits ignored, lengths past 32 refused */
    assert_int_equal(lpm_put(m, v4(24, 10, 1, 2, 99), 6, BL_NOEXIST), -EEXIST);
    assert_int_equal(lpm_put(m, v4(24, 10, 1, 2, 99), 6, BL_EXIST), 0);
    assert_int_equal(lpm_get(m, v4(32, 10, 1, 2, 3)), 6);
    assert_int_equal(lpm_put(m, v4(25, 10, 1, 2, 0), 7, BL_EXIST), -ENOENT);
    assert_int_equal(lpm_put(m, v4(33, 10, 1, 2, 0), 7, BL_ANY), -EINVAL);
    assert_int_equal(lpm_put(m, v4(8, 10, 1, 2, 0), 7, 3), -EINVAL);
    struct v4key k = v4(33, 0, 0, 0, 0);
    assert_int_equal(bl_map_delete(m, &k), -EINVAL);
    k = v4(0, 0, 0, 0, 0);
    assert_int_equal(bl_map_delete(m, &k), 0);
    assert_int_equal(bl_map_delete(m, &k), -ENOENT);
    assert_int_equal(lpm_get(m, v4(32, 11, 0, 0, 0)), -1);
    assert_int_equal(lpm_put(m, v4(16, 192, 168, 0, 0), 8, BL_ANY), 0);
    assert_int_equal(lpm_put(m, v4(32, 1, 2, 3, 4), 9, BL_ANY), 0);
    assert_int_equal(lpm_put(m, v4(32, 1, 2, 3, 5), 9, BL_ANY), -ENOSPC); /* full */
    assert_int_equal(lpm_put(m, v4(32, 1, 2, 3, 4), 10, BL_ANY), 0);     /* in place: fine */
    /* next_key in the kernel's post-order */
    static const struct { uint32_t len; uint8_t a[4]; } order[] = {
        {32, {1, 2, 3, 4}}, {24, {10, 1, 2, 99}}, {16, {10, 1, 0, 0}}, {9, {10, 128, 0, 0}},
        {8, {10, 0, 0, 0}}, {16, {192, 168, 0, 0}},
    };
    struct v4key cur, next;
    int rc = bl_map_next_key(m, NULL, &next);
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        assert_int_equal(rc, 0);
        assert_int_equal(next.len, order[i].len);
        assert_memory_equal(next.a, order[i].a, 4);
        cur = next;
        rc = bl_map_next_key(m, &cur, &next);
    }
    assert_int_equal(rc, -ENOENT);
    k = v4(20, 7, 7, 7, 7); /* missing: restart from the first */
    assert_int_equal(bl_map_next_key(m, &k, &next), 0);
    assert_int_equal(next.len, 32);
    assert_int_equal(bl_map_for_each(m, sum_visit, &(uint64_t){0}), -EOPNOTSUPP);
    bl_map_free(m);

    /* any data size: 1 byte and 16 bytes (IPv6) */
    d = tu_map_def("lpm1", BPFLUA_MAP_LPM_TRIE, 5, 1, 2, 1);
    m = bl_map_create(&d, NULL);
    assert_non_null(m);
    uint8_t k1[5] = {3, 0, 0, 0, 0xa0}, q1[5] = {8, 0, 0, 0, 0xbf}, val = 42;
    assert_int_equal(bl_map_update(m, k1, &val, BL_ANY), 0);
    assert_non_null(bl_map_lookup(m, q1));
    q1[4] = 0x40;
    assert_null(bl_map_lookup(m, q1));
    bl_map_free(m);
    d = tu_map_def("lpm6", BPFLUA_MAP_LPM_TRIE, 20, 4, 8, 1);
    m = bl_map_create(&d, NULL);
    assert_non_null(m);
    uint8_t k6[20] = {64, 0, 0, 0, 0x20, 0x01, 0x0d, 0xb8}, q6[20] = {128, 0, 0, 0, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 1};
    uint32_t v6 = 6;
    assert_int_equal(bl_map_update(m, k6, &v6, BL_ANY), 0);
    assert_int_equal(*(uint32_t *)bl_map_lookup(m, q6), 6);
    q6[7] = 0xb9;
    assert_null(bl_map_lookup(m, q6));
    bl_map_free(m);
}

/* ---- slot maps, queues, stacks ---------------------------------------------- */

static void slot_maps(void **state)
{
    uint32_t k, v = 3, next;
    /* prog_array: BPF_ANY only, -E2BIG past the end, -ENOENT deleting an empty slot */
    struct bl_map *m = make(BPFLUA_MAP_PROG_ARRAY, 4, 4, 4);
    k = 1;
    assert_null(bl_map_lookup_sys(m, &k));
    assert_int_equal(bl_map_update(m, &k, &v, BL_NOEXIST), -EINVAL);
    assert_int_equal(bl_map_update(m, &k, &v, BL_ANY), 0);
    assert_int_equal(*(uint32_t *)bl_map_lookup_sys(m, &k), 3);
    k = 4;
    assert_int_equal(bl_map_update(m, &k, &v, BL_ANY), -E2BIG);
    assert_int_equal(bl_map_delete(m, &k), -E2BIG);
    k = 2;
    assert_int_equal(bl_map_delete(m, &k), -ENOENT);
    k = 1;
    assert_int_equal(bl_map_delete(m, &k), 0);
    assert_null(bl_map_lookup_sys(m, &k));
    assert_int_equal(bl_map_next_key(m, NULL, &next), 0);   /* every index, as arrays */
    assert_int_equal(next, 0);
    k = 3;
    assert_int_equal(bl_map_next_key(m, &k, &next), -ENOENT);
    bl_map_free(m);
    /* devmap: every index exists (NOEXIST -EEXIST); delete never fails in range */
    m = make(BPFLUA_MAP_DEVMAP, 4, 4, 2);
    k = 0;
    assert_int_equal(bl_map_update(m, &k, &v, BL_NOEXIST), -EEXIST);
    assert_int_equal(bl_map_update(m, &k, &v, BL_EXIST), 0);
    assert_int_equal(bl_map_delete(m, &k), 0);
    assert_int_equal(bl_map_delete(m, &k), 0);
    k = 2;
    assert_int_equal(bl_map_delete(m, &k), -EINVAL);
    bl_map_free(m);
    /* cpumap: a queue size of 0 is no entry */
    m = make(BPFLUA_MAP_CPUMAP, 4, 4, 2);
    k = 1;
    v = 0;
    assert_int_equal(bl_map_update(m, &k, &v, BL_ANY), 0);
    assert_null(bl_map_lookup_sys(m, &k));
    v = 192;
    assert_int_equal(bl_map_update(m, &k, &v, BL_ANY), 0);
    assert_non_null(bl_map_lookup_sys(m, &k));
    bl_map_free(m);
    /* xskmap: NOEXIST and EXIST by presence */
    m = make(BPFLUA_MAP_XSKMAP, 4, 4, 2);
    assert_int_equal(bl_map_update(m, &k, &v, BL_EXIST), -ENOENT);
    assert_int_equal(bl_map_update(m, &k, &v, BL_NOEXIST), 0);
    assert_int_equal(bl_map_update(m, &k, &v, BL_NOEXIST), -EEXIST);
    bl_map_free(m);
    /* stack_trace: only bpf_get_stackid fills it; next_key walks filled ids */
    m = make(BPFLUA_MAP_STACK_TRACE, 4, 64, 8);
    uint64_t ips[8] = {0};
    assert_int_equal(bl_map_update(m, &k, ips, BL_ANY), -EINVAL);
    assert_int_equal(bl_map_next_key(m, NULL, &next), -ENOENT);
    assert_int_equal(bl_map_delete(m, &k), -ENOENT);
    bl_map_free(m);
    /* perf_event_array: 0 entries is one per CPU, all open; records oldest first */
    struct bl_map_def pd = def(BPFLUA_MAP_PERF_EVENT_ARRAY, 4, 4, 0);
    m = bl_map_create(&pd, NULL);
    assert_non_null(m);
    assert_int_equal(bl_map_def(m)->max_entries, bl_num_cpus());
    assert_int_equal(bl_perf_output(m, 0xffffffffull, "abcd", 4), 0);
    assert_int_equal(bl_perf_output(m, 0, "xy", 2), 0);
    assert_int_equal(bl_perf_output(m, bl_num_cpus(), "z", 1), -E2BIG);
    assert_int_equal(bl_perf_output(m, 1ull << 32, "z", 1), -EINVAL);
    k = 0;
    assert_int_equal(bl_map_delete(m, &k), 0);
    assert_int_equal(bl_perf_output(m, 0, "z", 1), -ENOENT);   /* closed by the delete */
    char rec[8];
    uint32_t cpu = 99;
    assert_int_equal(bl_perf_pop(m, rec, sizeof rec, &cpu), 4);
    assert_memory_equal(rec, "abcd", 4);
    assert_int_equal(cpu, 0);
    /* sizes as a perf reader sees the kernel's raw samples: 4 + size
     * rounded up to 8 bytes, zero-padded */
    assert_int_equal(bl_ringbuf_pop(m, rec, sizeof rec), 4);
    assert_memory_equal(rec, "xy\0\0", 4);
    assert_int_equal(bl_ringbuf_pop(m, rec, sizeof rec), 0);
    bl_map_free(m);
}

static void queue_stack(void **state)
{
    for (int type = BPFLUA_MAP_QUEUE; type <= BPFLUA_MAP_STACK; type++) {
        struct bl_map_def d = def((uint32_t)type, 0, 8, 3);
        struct bl_map *m = bl_map_create(&d, NULL);
        assert_non_null(m);
        uint64_t v, x = 77;
        assert_int_equal(bl_map_pop(m, &x), -ENOENT);
        assert_int_equal(x, 0); /* zeroed, as the kernel does */
        assert_int_equal(bl_map_peek(m, &x), -ENOENT);
        for (v = 1; v <= 3; v++)
            assert_int_equal(bl_map_push(m, &v, 0), 0);
        assert_int_equal(bl_map_push(m, &v, 0), -E2BIG);
        assert_int_equal(bl_map_push(m, &v, 1), -EINVAL);        /* BPF_NOEXIST */
        v = 4;
        assert_int_equal(bl_map_push(m, &v, BL_EXIST), 0);       /* drops the oldest, 1 */
        assert_int_equal(bl_map_peek(m, &x), 0);
        assert_int_equal(x, type == BPFLUA_MAP_QUEUE ? 2 : 4);
        static const uint64_t fifo[3] = {2, 3, 4}, lifo[3] = {4, 3, 2};
        for (int i = 0; i < 3; i++) {
            assert_int_equal(bl_map_pop(m, &x), 0);
            assert_int_equal(x, type == BPFLUA_MAP_QUEUE ? fifo[i] : lifo[i]);
        }
        assert_int_equal(bl_map_pop(m, &x), -ENOENT);
        /* bpf(2): update pushes, lookup peeks; delete and next_key refused */
        v = 9;
        assert_int_equal(bl_map_update(m, &v, &v, BL_ANY), 0);
        assert_int_equal(*(uint64_t *)bl_map_lookup_sys(m, &v), 9);
        assert_int_equal(bl_map_delete(m, &v), -EINVAL);
        assert_int_equal(bl_map_next_key(m, NULL, &x), -EINVAL);
        assert_int_equal(bl_map_push(NULL, &v, 0), -EINVAL);
        bl_map_free(m);
    }
    struct bl_map *h = make(BPFLUA_MAP_HASH, 4, 8, 2);
    uint64_t v = 1;
    assert_int_equal(bl_map_push(h, &v, 0), -EINVAL);
    assert_int_equal(bl_map_pop(h, &v), -EINVAL);
    bl_map_free(h);
}

/* ---- definitions ----------------------------------------------------------- */

static void bad_definitions(void **state)
{
    struct {
        struct bl_map_def d;
        int rc;
    } cases[] = {
        {def(3, 4, 8, 4), -EINVAL},                    /* prog_array: 4-byte values */
        {def(BPFLUA_MAP_PROG_ARRAY, 4, 4, 0), -EINVAL},
        {def(BPFLUA_MAP_DEVMAP, 4, 12, 4), -EINVAL},
        {def(BPFLUA_MAP_STACK_TRACE, 4, 12, 4), -EINVAL},   /* 8 bytes a frame */
        {def(BPFLUA_MAP_QUEUE, 4, 8, 4), -EINVAL},          /* no keys */
        {def(BPFLUA_MAP_STACK, 0, 0, 4), -EINVAL},
        {def(BPFLUA_MAP_DEVMAP_HASH, 8, 4, 4), -EINVAL},
        {def(30, 4, 4, 4), -EINVAL},                        /* an unknown type */
        {def(BPFLUA_MAP_ARRAY, 8, 4, 4), -EINVAL},     /* array key is u32 */
        {def(BPFLUA_MAP_ARRAY, 4, 0, 4), -EINVAL},
        {def(BPFLUA_MAP_HASH, 4, 4, 0), -EINVAL},
        {def(BPFLUA_MAP_HASH, 0, 4, 4), -EINVAL},
        {def(BPFLUA_MAP_HASH, 2u << 20, 4, 4), -E2BIG},
        {def(BPFLUA_MAP_HASH, 8, 8, 100000000), -E2BIG}, /* over the size limit */
        {def(BPFLUA_MAP_ARRAY, 4, 1 << 16, 1 << 16), -E2BIG},
        {def(BPFLUA_MAP_PERCPU_ARRAY, 4, 40000, 1), -E2BIG},
        {def(BPFLUA_MAP_RINGBUF, 0, 0, 5000), -EINVAL},
        {def(BPFLUA_MAP_RINGBUF, 0, 0, 1024), -EINVAL},
        {def(BPFLUA_MAP_RINGBUF, 4, 0, 4096), -EINVAL},
        {def(BPFLUA_MAP_PERCPU_HASH, 4, 40000, 1), -E2BIG},
        {def(BPFLUA_MAP_LRU_PERCPU_HASH, 4, 0, 1), -EINVAL},
        {def(BPFLUA_MAP_PERCPU_HASH, 8, 8, 100000000), -E2BIG},
        {def(BPFLUA_MAP_LPM_TRIE, 8, 8, 16), -EINVAL},          /* no BPF_F_NO_PREALLOC */
        {tu_map_def("lpm4", BPFLUA_MAP_LPM_TRIE, 4, 8, 16, 1), -EINVAL},   /* no data */
        {tu_map_def("lpm261", BPFLUA_MAP_LPM_TRIE, 261, 8, 16, 1), -EINVAL},
        {tu_map_def("lpmv0", BPFLUA_MAP_LPM_TRIE, 8, 0, 16, 1), -EINVAL},
        {tu_map_def("lpmn0", BPFLUA_MAP_LPM_TRIE, 8, 8, 0, 1), -EINVAL},
        {tu_map_def("lpmfl", BPFLUA_MAP_LPM_TRIE, 8, 8, 16, 3), -EINVAL},
        {tu_map_def("lpmbig", BPFLUA_MAP_LPM_TRIE, 260, 8, 100000000, 1), -E2BIG},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *err = NULL;
        assert_int_equal(bl_map_check_def(&cases[i].d, &err), cases[i].rc);
        assert_non_null(err);
        assert_non_null(strstr(err, cases[i].d.name));
        free(err);
        err = NULL;
        assert_null(bl_map_create(&cases[i].d, &err));
        assert_non_null(err);
        free(err);
    }
    struct bl_map_def flags = def(BPFLUA_MAP_HASH, 4, 4, 4);
    flags.flags = 1; /* BPF_F_NO_PREALLOC: fine */
    assert_int_equal(bl_map_check_def(&flags, NULL), 0);
    flags.flags = 0x40;
    assert_int_equal(bl_map_check_def(&flags, NULL), -EINVAL);
    assert_int_equal(bl_map_check_def(NULL, NULL), -EINVAL);
}

/* ---- cgroup storage --------------------------------------------------------- */

/* One value, the sandbox's cgroup's (id 0), under struct
 * bpf_cgroup_storage_key or a bare u64 id; the kernel's syscall-side rules */
static void cgroup_storage(void **state)
{
    struct bl_map *m = make(BPFLUA_MAP_CGROUP_STORAGE, 16, 8, 0);
    uint64_t key[2] = { 0, 3 /* attach type: not compared */ }, other[2] = { 7, 0 }, v = 5;
    uint64_t *p = bl_map_lookup(m, key);
    assert_non_null(p);
    assert_int_equal(*p, 0); /* a new cgroup's storage is zeroed */
    assert_int_equal(bl_map_update(m, key, &v, 0), 0);
    assert_int_equal(*(uint64_t *)bl_map_lookup(m, key), 5);
    assert_int_equal(bl_map_update(m, key, &v, 2 /* BPF_EXIST */), 0);
    assert_int_equal(bl_map_update(m, key, &v, 1 /* BPF_NOEXIST */), -EINVAL);
    assert_null(bl_map_lookup(m, other));
    assert_int_equal(bl_map_update(m, other, &v, 0), -ENOENT);
    assert_int_equal(bl_map_delete(m, key), -EINVAL);
    uint64_t next[2] = { 9, 9 };
    assert_int_equal(bl_map_next_key(m, NULL, next), 0);
    assert_int_equal(next[0], 0);
    assert_int_equal(next[1], 0);
    assert_int_equal(bl_map_next_key(m, next, next), -ENOENT);
    bl_map_free(m);

    /* per CPU: each CPU's own copy */
    m = make(BPFLUA_MAP_PERCPU_CGROUP_STORAGE, 8, 8, 0);
    uint64_t id = 0;
    for (uint32_t c = 0; c < bl_num_cpus() && c < 4; c++) {
        bl_set_run_cpu(c);
        *(uint64_t *)bl_map_lookup(m, &id) = 100 + c;
    }
    for (uint32_t c = 0; c < bl_num_cpus() && c < 4; c++)
        assert_int_equal(*(uint64_t *)bl_map_lookup_cpu(m, &id, c), 100 + c);
    bl_set_run_cpu(0);
    bl_map_free(m);

    struct { struct bl_map_def d; } bad[] = {
        { def(BPFLUA_MAP_CGROUP_STORAGE, 12, 8, 0) },       /* the key is 16 bytes or 8 */
        { def(BPFLUA_MAP_CGROUP_STORAGE, 16, 8, 1) },       /* max_entries is 0 */
        { def(BPFLUA_MAP_CGROUP_STORAGE, 16, 0, 0) },
        { def(BPFLUA_MAP_CGROUP_STORAGE, 16, 4097, 0) },    /* at most a page */
        { def(BPFLUA_MAP_PERCPU_CGROUP_STORAGE, 8, 32769, 0) },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *err = NULL;
        assert_int_equal(bl_map_check_def(&bad[i].d, &err), -EINVAL);
        assert_non_null(err);
        free(err);
    }
}

/* sk_storage: values by socket (bl_sk_storage_get), none reachable by fd */
static void sk_storage(void **state)
{
    struct bl_map_def d = tu_map_def("socks", BPFLUA_MAP_SK_STORAGE, 4, 8, 0, 1);
    struct bl_map *m = bl_map_create(&d, NULL);
    assert_non_null(m);
    uint64_t init = 7, sk1 = 0x1000, sk2 = 0x2000;
    assert_null(bl_sk_storage_get(m, sk1, NULL, 0));     /* none without F_CREATE */
    assert_null(bl_sk_storage_get(m, sk1, NULL, 2));     /* an unknown flag */
    assert_null(bl_sk_storage_get(m, 0, NULL, 1));       /* no socket */
    uint64_t *a = bl_sk_storage_get(m, sk1, &init, 1);
    assert_non_null(a);
    assert_int_equal(*a, 7);
    uint64_t *b = bl_sk_storage_get(m, sk2, NULL, 1);
    assert_non_null(b);
    assert_int_equal(*b, 0);
    assert_ptr_equal(bl_sk_storage_get(m, sk1, NULL, 0), a);
    assert_int_equal(bl_sk_storage_delete(m, sk1), 0);
    assert_int_equal(bl_sk_storage_delete(m, sk1), -ENOENT);
    assert_null(bl_sk_storage_get(m, sk1, NULL, 0));
    uint32_t fd = 3;
    uint64_t v = 1, next;
    assert_null(bl_map_lookup_sys(m, &fd));
    assert_int_equal(bl_map_update(m, &fd, &v, 0), -EBADF);
    assert_int_equal(bl_map_next_key(m, NULL, &next), -EOPNOTSUPP);
    bl_sk_storage_clear(m); /* the run's sockets are gone */
    assert_null(bl_sk_storage_get(m, sk2, NULL, 0));
    bl_map_free(m);
    struct bl_map_def bad[] = {
        tu_map_def("noflag", BPFLUA_MAP_SK_STORAGE, 4, 8, 0, 0), /* BPF_F_NO_PREALLOC required */
        tu_map_def("key8", BPFLUA_MAP_SK_STORAGE, 8, 8, 0, 1),
        tu_map_def("entries", BPFLUA_MAP_SK_STORAGE, 4, 8, 16, 1),
        tu_map_def("empty", BPFLUA_MAP_SK_STORAGE, 4, 0, 0, 1),
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(bl_map_check_def(&bad[i], NULL), -EINVAL);
}

/* ---- the public API -------------------------------------------------------- */

static void object_api(void **state)
{
    bpflua_object *obj = bpflua_object_new();
    assert_non_null(obj);
    struct bpflua_map_spec hs = {.name = "hits", .type = BPFLUA_MAP_HASH, .key_size = 4,
                                 .value_size = 8, .max_entries = 2, .value_signed = 1};
    struct bpflua_map_spec rs = {.name = "events", .type = BPFLUA_MAP_RINGBUF,
                                 .max_entries = 8192};
    struct bpflua_map_spec bad = {.name = "bad", .type = BPFLUA_MAP_ARRAY, .key_size = 2,
                                  .value_size = 8, .max_entries = 2};
    assert_int_equal(bpflua_object_add_map(obj, &hs), 0);
    assert_int_equal(bpflua_object_add_map(obj, &rs), 1);
    assert_int_equal(bpflua_object_add_map(obj, &bad), 2);
    assert_int_equal(bpflua_map_count(obj), 3);
    assert_int_equal(bpflua_map_find(obj, "events"), 1);
    assert_int_equal(bpflua_map_find(obj, "nope"), -1);
    struct bpflua_map_spec out;
    assert_int_equal(bpflua_map_spec(obj, 0, &out), 0);
    assert_string_equal(out.name, "hits");
    assert_int_equal(out.max_entries, 2);
    assert_int_equal(out.value_signed, 1);
    assert_int_equal(bpflua_map_spec(obj, 3, &out), -EINVAL);

    uint32_t k = 7, next;
    uint64_t v = 70, got = 0;
    assert_int_equal(bpflua_map_lookup(obj, 0, &k, &got), -ENOENT);
    assert_int_equal(bpflua_map_update(obj, 0, &k, &v, BL_ANY), 0);
    assert_int_equal(bpflua_map_lookup(obj, 0, &k, &got), 0);
    assert_int_equal(got, 70);
    assert_int_equal(bpflua_map_next_key(obj, 0, NULL, &next), 0);
    assert_int_equal(next, 7);
    assert_int_equal(bpflua_map_next_key(obj, 0, &next, &next), -ENOENT);
    assert_int_equal(bpflua_map_update(obj, 0, &k, &v, 9), -EINVAL);
    assert_int_equal(bpflua_map_delete(obj, 0, &k), 0);
    assert_int_equal(bpflua_map_delete(obj, 0, &k), -ENOENT);

    char rec[16];
    assert_int_equal(bpflua_ringbuf_pop(obj, 1, rec, sizeof rec), 0);
    assert_int_equal(bl_ringbuf_output(bl_object_map(obj, 1, NULL), "abc", 3, 0), 0);
    assert_int_equal(bpflua_ringbuf_pop(obj, 1, rec, sizeof rec), 3);
    assert_int_equal(bpflua_ringbuf_pop(obj, 0, rec, sizeof rec), -EINVAL);
    assert_int_equal(bpflua_map_lookup(obj, 1, &k, rec), -EOPNOTSUPP);

    /* an invalid definition and a bad index are errors, never crashes */
    assert_int_equal(bpflua_map_lookup(obj, 2, &k, &got), -EINVAL);
    assert_int_equal(bpflua_map_update(obj, 9, &k, &v, 0), -EINVAL);
    assert_int_equal(bpflua_map_lookup(NULL, 0, &k, &got), -EINVAL);
    assert_int_equal(bpflua_map_lookup(obj, 0, NULL, &got), -EINVAL);
    assert_int_equal(bpflua_map_count(NULL), 0);
    bpflua_object_free(obj);
}

static int unguarded(void **state)
{
    (void)state;
    bl_guard_set_default(0);
    return 0;
}

static int guarded(void **state)
{
    (void)state;
    bl_guard_set_default(1);
    return 0;
}

static int restore_default(void **state)
{
    (void)state;
    bl_guard_set_default(-1);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(array_ops),
        cmocka_unit_test(array_next_key),
        cmocka_unit_test(array_for_each),
        cmocka_unit_test(hash_ops),
        cmocka_unit_test(hash_many_keys),
        cmocka_unit_test(hash_prog_lookup_sizes),
        cmocka_unit_test(hash_next_key),
        cmocka_unit_test(hash_for_each_delete),
        cmocka_unit_test(big_maps),
        cmocka_unit_test(lru_eviction_order),
        cmocka_unit_test(lru_long_run),
        cmocka_unit_test(lru_matches_model),
        cmocka_unit_test(ringbuf_records),
        cmocka_unit_test(percpu_maps),
        cmocka_unit_test(lpm_ops),
        cmocka_unit_test(slot_maps),
        cmocka_unit_test(queue_stack),
        cmocka_unit_test(cgroup_storage),
        cmocka_unit_test(sk_storage),
        cmocka_unit_test(bad_definitions),
        cmocka_unit_test(object_api),
    };
    /* every test twice: values in one plain area (release builds), and in
     * guarded storage (test builds: guard pages and canaries, map_values.c) */
    int failed = cmocka_run_group_tests_name("unguarded", tests, unguarded, restore_default);
    failed += cmocka_run_group_tests_name("guarded", tests, guarded, restore_default);
    return failed;
}
