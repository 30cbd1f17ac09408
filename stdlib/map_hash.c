/* map_hash.c - BPF_MAP_TYPE_HASH, LRU_HASH, PERCPU_HASH and LRU_PERCPU_HASH.
 *
 * All max_entries elements are allocated at creation in one pool and kept
 * on a free list, as the kernel's preallocated maps do. Buckets hold the
 * index of the first element of a chain; n_buckets is the power of two at
 * or above max_entries, so chains stay short and lookups are O(1).
 *
 * LRU_HASH keeps every live element on a recency list, most recent first:
 * a program's lookup and any update move an element to the front, and an
 * insert into a full map evicts the one at the back. This is exact LRU;
 * the kernel approximates it (reference bits, per-CPU free lists), so it
 * may evict a little earlier, never refusing an insert either way.
 *
 * Iteration (next_key, for_each) walks the pool in slot order: a deleted
 * element only clears its live mark, so deleting the current element -- or
 * any other -- while iterating is safe.
 *
 * An element is its head, key and value, one after the other in the pool;
 * in guarded mode (map_values.c) the values live apart, behind guard pages
 * or canaries, so that a write past a value cannot reach the next
 * element's head. Per-CPU maps keep their values apart too, n_cpus
 * slots per element, CPU by CPU (CPU c's slot of element i is value
 * c * max_entries + i); maps.c picks the slot.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "map_impl.h"

#define NONE UINT32_MAX

struct elem_head {
    uint32_t hash;
    uint32_t chain;          /* next in the bucket, or in the free list */
    uint32_t newer, older;   /* LRU recency list */
    uint32_t live;
    uint32_t pad;            /* keeps the key 8-byte aligned */
};

struct hash_map {
    struct bl_map map;
    int lru;
    size_t elem_size, value_off;
    uint32_t bucket_mask;
    uint32_t *buckets;
    unsigned char *pool;
    uint32_t free_head;
    uint32_t count;
    uint32_t newest, oldest; /* ends of the LRU list */
    struct bl_map_values values; /* value i: INLINE in the pool, or guarded apart */
};

static struct hash_map *as_hash(struct bl_map *m)
{
    return (struct hash_map *)m;
}

static struct elem_head *elem(struct hash_map *h, uint32_t i)
{
    return (struct elem_head *)(h->pool + (size_t)i * h->elem_size);
}

static unsigned char *elem_key(struct hash_map *h, uint32_t i)
{
    return (unsigned char *)(elem(h, i) + 1);
}

static unsigned char *elem_value(struct hash_map *h, uint32_t i)
{
    return bl_map_value(&h->values, i);
}

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return x;
}

#define BL_INLINE static inline __attribute__((always_inline))

/* The n (< 8) bytes at p as a little-endian word, zero-extended: up to
 * three loads, no memcpy call of a variable size. */
BL_INLINE uint64_t tail_word(const unsigned char *p, uint32_t n)
{
    uint64_t w = 0;
    uint32_t at = 0;
    if (n & 4) {
        uint32_t x;
        memcpy(&x, p, 4);
        w = x;
        at = 4;
    }
    if (n & 2) {
        uint16_t x;
        memcpy(&x, p + at, 2);
        w |= (uint64_t)x << (8 * at);
        at += 2;
    }
    if (n & 1)
        w |= (uint64_t)p[at] << (8 * at);
    return w;
}

/* A 64-bit multiply-xorshift mix over the key words. The common u32 and
 * u64 keys skip the word loop; with a constant n (the sized lookups
 * below) the loop unrolls into straight loads. */
BL_INLINE uint32_t hash_key_n(const void *key, uint32_t n)
{
    const unsigned char *p = key;
    uint64_t x = 0x9e3779b97f4a7c15ull ^ n;
    if (n == 4) {
        uint32_t w;
        memcpy(&w, p, 4);
        return (uint32_t)mix64((x ^ w) * 0xc4ceb9fe1a85ec53ull);
    }
    if (n == 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        return (uint32_t)mix64((x ^ w) * 0xc4ceb9fe1a85ec53ull);
    }
    for (; n >= 8; p += 8, n -= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        x = (x ^ w) * 0xff51afd7ed558ccdull;
        x ^= x >> 32;
    }
    if (n)
        x = (x ^ tail_word(p, n)) * 0xc4ceb9fe1a85ec53ull;
    return (uint32_t)mix64(x);
}

static uint32_t hash_key(const void *key, uint32_t n)
{
    return hash_key_n(key, n);
}

/* Fixed-size copies compile to single loads, alignment-safe. */
static int key_equal(const void *a, const void *b, uint32_t n)
{
    if (n == 4) {
        uint32_t x, y;
        memcpy(&x, a, 4);
        memcpy(&y, b, 4);
        return x == y;
    }
    if (n == 8) {
        uint64_t x, y;
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        return x == y;
    }
    return memcmp(a, b, n) == 0;
}

/* The same for a constant n (the sized lookups): word by word, no memcmp
 * call. (With a variable n the compiler vectorises the loop behind a long
 * set-up that every call would pay: the generic path keeps key_equal.) */
BL_INLINE int key_equal_n(const void *a, const void *b, uint32_t n)
{
    const unsigned char *p = a, *q = b;
    if (n > 64)
        return memcmp(a, b, n) == 0;
    uint64_t d = 0;
    for (; n >= 8; p += 8, q += 8, n -= 8) {
        uint64_t x, y;
        memcpy(&x, p, 8);
        memcpy(&y, q, 8);
        d |= x ^ y;
    }
    if (n)
        d |= tail_word(p, n) ^ tail_word(q, n);
    return d == 0;
}

/* ---- the LRU list -------------------------------------------------------- */

static void lru_unlink(struct hash_map *h, uint32_t i)
{
    struct elem_head *e = elem(h, i);
    if (e->newer != NONE)
        elem(h, e->newer)->older = e->older;
    else
        h->newest = e->older;
    if (e->older != NONE)
        elem(h, e->older)->newer = e->newer;
    else
        h->oldest = e->newer;
    e->newer = e->older = NONE;
}

static void lru_push_newest(struct hash_map *h, uint32_t i)
{
    struct elem_head *e = elem(h, i);
    e->newer = NONE;
    e->older = h->newest;
    if (h->newest != NONE)
        elem(h, h->newest)->newer = i;
    else
        h->oldest = i;
    h->newest = i;
}

static void lru_touch(struct hash_map *h, uint32_t i)
{
    if (h->lru && h->newest != i) {
        lru_unlink(h, i);
        lru_push_newest(h, i);
    }
}

/* ---- chains -------------------------------------------------------------- */

/* Index of key's element, or NONE; *link gets the chain slot pointing to it. */
static uint32_t find(struct hash_map *h, const void *key, uint32_t hash, uint32_t **link)
{
    uint32_t *at = &h->buckets[hash & h->bucket_mask];
    while (*at != NONE) {
        struct elem_head *e = elem(h, *at);
        if (e->hash == hash && key_equal(e + 1, key, h->map.def.key_size))
            break;
        at = &e->chain;
    }
    if (link)
        *link = at;
    return *at;
}

/* Takes element i out of its chain, the LRU list and the count, onto the
 * free list. Its key and value stay readable until it is reused. */
static void remove_elem(struct hash_map *h, uint32_t i)
{
    struct elem_head *e = elem(h, i);
    uint32_t *link = NULL;
    find(h, e + 1, e->hash, &link);
    *link = e->chain;
    if (h->lru)
        lru_unlink(h, i);
    e->live = 0;
    e->chain = h->free_head;
    h->free_head = i;
    h->count--;
}

static void *hash_lookup(struct bl_map *m, const void *key, int touch)
{
    struct hash_map *h = as_hash(m);
    uint32_t i = find(h, key, hash_key(key, m->def.key_size), NULL);
    if (i == NONE)
        return NULL;
    if (touch)
        lru_touch(h, i);
    return elem_value(h, i);
}

/* hash_lookup(m, key, 1) for a constant key size n */
BL_INLINE void *lookup_n(struct bl_map *m, const void *key, uint32_t n)
{
    struct hash_map *h = as_hash(m);
    uint32_t hash = hash_key_n(key, n);
    uint32_t i = h->buckets[hash & h->bucket_mask];
    while (i != NONE) {
        struct elem_head *e = elem(h, i);
        if (e->hash == hash && key_equal_n(e + 1, key, n))
            break;
        i = e->chain;
    }
    if (i == NONE)
        return NULL;
    lru_touch(h, i);
    return elem_value(h, i);
}

/* A program's lookup with the key size a constant: what the JIT calls for
 * a map it knows at the call (bl_map_prog_lookup), as the kernel's JIT
 * has the verifier inline a hash map's lookup. The common key sizes (u32,
 * u64 and records of up to 32 bytes) hash and compare in straight-line
 * loads; the others take the generic one. */
#define SIZED_LOOKUP(N)                                                  \
    static void *hash_lookup_k##N(struct bl_map *m, const void *key)      \
    {                                                                     \
        return lookup_n(m, key, N);                                       \
    }
SIZED_LOOKUP(4)
SIZED_LOOKUP(8)
SIZED_LOOKUP(12)
SIZED_LOOKUP(16)
SIZED_LOOKUP(20)
SIZED_LOOKUP(24)
SIZED_LOOKUP(32)

static void *hash_lookup_prog(struct bl_map *m, const void *key)
{
    return hash_lookup(m, key, 1);
}

static bl_map_prog_lookup_fn sized_lookup(uint32_t key_size)
{
    switch (key_size) {
    case 4: return hash_lookup_k4;
    case 8: return hash_lookup_k8;
    case 12: return hash_lookup_k12;
    case 16: return hash_lookup_k16;
    case 20: return hash_lookup_k20;
    case 24: return hash_lookup_k24;
    case 32: return hash_lookup_k32;
    default: return hash_lookup_prog;
    }
}

static int hash_update(struct bl_map *m, const void *key, const void *value, uint64_t flags)
{
    struct hash_map *h = as_hash(m);
    if (flags > BL_EXIST)
        return -EINVAL;
    uint32_t hash = hash_key(key, m->def.key_size);
    uint32_t i = find(h, key, hash, NULL);
    if (i != NONE) {
        if (flags == BL_NOEXIST)
            return -EEXIST;
        memmove(elem_value(h, i), value, m->def.value_size);
        lru_touch(h, i);
        return 0;
    }
    if (flags == BL_EXIST)
        return -ENOENT;
    if (h->free_head == NONE) {
        if (!h->lru)
            return -E2BIG;
        remove_elem(h, h->oldest);
    }
    i = h->free_head;
    struct elem_head *e = elem(h, i);
    h->free_head = e->chain;
    e->hash = hash;
    e->live = 1;
    memmove(elem_key(h, i), key, m->def.key_size);
    memmove(elem_value(h, i), value, m->def.value_size);
    uint32_t *bucket = &h->buckets[hash & h->bucket_mask];
    e->chain = *bucket;
    *bucket = i;
    if (h->lru)
        lru_push_newest(h, i);
    h->count++;
    return 0;
}

static int hash_delete(struct bl_map *m, const void *key)
{
    struct hash_map *h = as_hash(m);
    uint32_t i = find(h, key, hash_key(key, m->def.key_size), NULL);
    if (i == NONE)
        return -ENOENT;
    remove_elem(h, i);
    return 0;
}

static uint32_t next_live(struct hash_map *h, uint32_t from)
{
    for (uint32_t i = from; i < h->map.def.max_entries; i++)
        if (elem(h, i)->live)
            return i;
    return NONE;
}

static int hash_next_key(struct bl_map *m, const void *key, void *next_key)
{
    struct hash_map *h = as_hash(m);
    /* as the kernel: a missing key restarts from the first one */
    uint32_t at = key ? find(h, key, hash_key(key, m->def.key_size), NULL) : NONE;
    uint32_t next = next_live(h, at == NONE ? 0 : at + 1);
    if (next == NONE)
        return -ENOENT;
    memcpy(next_key, elem_key(h, next), m->def.key_size);
    return 0;
}

static long hash_for_each(struct bl_map *m, bl_map_visit_fn fn, void *ctx)
{
    struct hash_map *h = as_hash(m);
    long visited = 0;
    for (uint32_t i = next_live(h, 0); i != NONE; i = next_live(h, i + 1)) {
        visited++;
        if (fn(m, elem_key(h, i), elem_value(h, i), ctx))
            break;
    }
    return visited;
}

static void hash_free(struct bl_map *m)
{
    struct hash_map *h = as_hash(m);
    bl_map_area_free(h->buckets, (size_t)(h->bucket_mask + 1) * sizeof *h->buckets);
    bl_map_area_free(h->pool, (size_t)m->def.max_entries * h->elem_size);
    bl_map_values_free(&h->values);
    free(h);
}

static int hash_check(struct bl_map *m)
{
    return bl_map_values_check(&as_hash(m)->values);
}

static const struct bl_map_ops hash_ops = {
    hash_lookup, hash_update, hash_delete, hash_next_key, hash_for_each, hash_free, NULL,
};
static const struct bl_map_ops hash_ops_guarded = {
    hash_lookup, hash_update, hash_delete, hash_next_key, hash_for_each, hash_free, hash_check,
};

#define F_NO_PREALLOC 1u  /* BPF_F_NO_PREALLOC: we preallocate anyway */
#define F_NO_COMMON_LRU 2u /* BPF_F_NO_COMMON_LRU: one CPU, one list */

static uint32_t bucket_count(uint32_t max_entries)
{
    uint32_t n = 1;
    while (n < max_entries)
        n <<= 1;
    return n;
}

static size_t elem_size(const struct bl_map_def *d)
{
    return sizeof(struct elem_head) + bl_round8(d->key_size) + bl_round8(d->value_size);
}

int bl_hash_check(const struct bl_map_def *d, char **err)
{
    int lru = d->type == BPFLUA_MAP_LRU_HASH || d->type == BPFLUA_MAP_LRU_PERCPU_HASH;
    if (d->key_size == 0 || d->value_size == 0 || d->max_entries == 0) {
        bl_set_err(err, "map '%s': key_size, value_size and max_entries must be > 0", d->name);
        return -EINVAL;
    }
    uint32_t allowed = lru ? F_NO_COMMON_LRU : F_NO_PREALLOC;
    if (d->flags & ~allowed) {
        bl_set_err(err, "map '%s': unsupported %s map flags 0x%x", d->name,
                   lru ? "lru_hash" : "hash", d->flags);
        return -EINVAL;
    }
    uint64_t ncpus = bl_map_type_percpu(d->type) ? bl_num_cpus() : 1;
    /* the kernel's per-CPU allocator unit (PCPU_MIN_UNIT_SIZE) */
    if (bl_map_type_percpu(d->type)) {
        if (d->value_size > 32768) {
            bl_set_err(err, "map '%s': per-CPU values are at most 32768 bytes", d->name);
            return -E2BIG;
        }
        if ((uint64_t)d->max_entries * (sizeof(struct elem_head) + bl_round8(d->key_size) +
                                        ncpus * bl_round8(d->value_size)) > BL_MAP_MAX_BYTES) {
            bl_set_err(err, "map '%s': %u entries of %u+%u bytes on %u CPUs exceed the %llu "
                       "MiB limit per map", d->name, d->max_entries, d->key_size,
                       d->value_size, (unsigned)ncpus, BL_MAP_MAX_BYTES >> 20);
            return -E2BIG;
        }
    }
    if (d->key_size > BL_MAP_MAX_KEY_SIZE) {
        bl_set_err(err, "map '%s': key_size %u exceeds %u bytes", d->name, d->key_size,
                   BL_MAP_MAX_KEY_SIZE);
        return -E2BIG;
    }
    if (d->value_size > BL_MAP_MAX_VALUE_SIZE || d->max_entries > (1u << 31) ||
        (uint64_t)d->max_entries * elem_size(d) +
        (uint64_t)bucket_count(d->max_entries) * sizeof(uint32_t) > BL_MAP_MAX_BYTES) {
        bl_set_err(err, "map '%s': %u entries of %u+%u bytes exceed the %llu MiB limit per map",
                   d->name, d->max_entries, d->key_size, d->value_size, BL_MAP_MAX_BYTES >> 20);
        return -E2BIG;
    }
    return 0;
}

struct bl_map *bl_hash_create(const struct bl_map_def *d, char **err)
{
    struct hash_map *h = calloc(1, sizeof *h);
    uint32_t n_buckets = bucket_count(d->max_entries);
    int guarded = bl_guard_default();
    int values_rc = 0;
    uint32_t ncpus = bl_map_type_percpu(d->type) ? bl_num_cpus() : 1;
    int apart = guarded || bl_map_type_percpu(d->type);
    if (h) {
        h->value_off = sizeof(struct elem_head) + bl_round8(d->key_size);
        /* values apart: the pool holds heads and keys only */
        h->elem_size = apart ? h->value_off : elem_size(d);
        h->pool = bl_map_area_alloc((size_t)d->max_entries * h->elem_size);
        h->buckets = bl_map_area_alloc((size_t)n_buckets * sizeof *h->buckets);
        if (apart) {
            values_rc = bl_map_values_alloc(&h->values, d->value_size, d->max_entries * ncpus,
                                            guarded);
        } else if (h->pool) {
            h->values = (struct bl_map_values){
                .base = h->pool + h->value_off, .stride = h->elem_size,
                .value_size = d->value_size, .n = d->max_entries, .layout = BL_VALUES_INLINE,
            };
        }
    }
    if (!h || !h->pool || !h->buckets || values_rc < 0) {
        if (h) {
            bl_map_area_free(h->pool, (size_t)d->max_entries * h->elem_size);
            bl_map_area_free(h->buckets, (size_t)n_buckets * sizeof *h->buckets);
            if (values_rc == 0)
                bl_map_values_free(&h->values);
        }
        free(h);
        bl_set_err(err, "map '%s': out of memory", d->name);
        return NULL;
    }
    h->map.def = *d;
    h->map.ops = guarded ? &hash_ops_guarded : &hash_ops;
    h->map.prog_lookup = sized_lookup(d->key_size);
    h->lru = d->type == BPFLUA_MAP_LRU_HASH || d->type == BPFLUA_MAP_LRU_PERCPU_HASH;
    h->map.ncpus = ncpus;
    h->map.cpu_stride = ncpus > 1 ? (size_t)d->max_entries * h->values.stride : 0;
    h->bucket_mask = n_buckets - 1;
    memset(h->buckets, 0xff, (size_t)n_buckets * sizeof *h->buckets);
    /* free list in slot order, so a fresh map iterates in insertion order */
    for (uint32_t i = 0; i < d->max_entries; i++) {
        elem(h, i)->chain = i + 1 < d->max_entries ? i + 1 : NONE;
        elem(h, i)->newer = elem(h, i)->older = NONE;
    }
    h->free_head = 0;
    h->newest = h->oldest = NONE;
    return &h->map;
}
