/* map_lpm.c - BPF_MAP_TYPE_LPM_TRIE: longest-prefix match.
 *
 * A key is { u32 prefixlen; u8 data[key_size - 4] }, data in network
 * order; bit i of a prefix is bit 7 - i % 8 of data[i / 8]. Kernel rules
 * (kernel/bpf/lpm_trie.c, 6.18): BPF_F_NO_PREALLOC is required, data is
 * 1..256 bytes; lookup gives the value of the longest stored prefix that
 * covers the key's first prefixlen bits (none if prefixlen is above
 * 8 * data size); update and
 * delete take exact prefixes (prefixlen above 8 * data size: -EINVAL; the
 * bits past prefixlen are kept as given but never compared); a new prefix
 * in a full map is -ENOSPC; next_key walks in the kernel's post-order (a
 * longer prefix before the shorter one it extends, a 0 bit before a 1),
 * restarting from the first for a missing key. There is no for_each.
 *
 * Not a trie: each stored prefix is found by an exact-match index (one of
 * our hash maps, keyed by prefixlen and the data with the bits past
 * prefixlen cleared), and a lookup tries each prefix length in use, from
 * the longest down: at most 8 * data size + 1 hash lookups, usually a
 * handful. next_key scans every element (O(n) per call).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "map_impl.h"

#define NONE UINT32_MAX
#define F_NO_PREALLOC 1u
#define LPM_DATA_MAX 256
#define LPM_KEY_MAX (4 + LPM_DATA_MAX)

struct lpm_map {
    struct bl_map map;
    uint32_t data_size, max_prefixlen;
    struct bl_map *index;     /* masked key -> u32 slot */
    unsigned char *keys;      /* slot i's key as last stored, key_stride apart */
    size_t key_stride;
    uint32_t *next_free;      /* free list through the slots */
    uint8_t *live;
    uint32_t free_head, count;
    uint32_t *len_count;      /* stored prefixes per length, 0..max_prefixlen */
    struct bl_map_values values;
};

static struct lpm_map *as_lpm(struct bl_map *m)
{
    return (struct lpm_map *)m;
}

static uint32_t prefixlen_of(const void *key)
{
    uint32_t len;
    memcpy(&len, key, 4);
    return len;
}

static unsigned char *slot_key(struct lpm_map *t, uint32_t i)
{
    return t->keys + (size_t)i * t->key_stride;
}

/* out = { len, data with the bits from len on cleared } */
static void mask_key(const struct lpm_map *t, const void *key, uint32_t len, unsigned char *out)
{
    const unsigned char *data = (const unsigned char *)key + 4;
    memcpy(out, &len, 4);
    uint32_t full = len / 8, rest = len % 8;
    memcpy(out + 4, data, full);
    if (full < t->data_size) {
        out[4 + full] = rest ? (unsigned char)(data[full] & (0xff00u >> rest)) : 0;
        memset(out + 5 + full, 0, t->data_size - full - 1);
    }
}

static uint32_t find_exact(struct lpm_map *t, const void *key)
{
    unsigned char masked[LPM_KEY_MAX];
    mask_key(t, key, prefixlen_of(key), masked);
    const uint32_t *slot = bl_map_lookup_sys(t->index, masked);
    return slot ? *slot : NONE;
}

static void *lpm_lookup(struct bl_map *m, const void *key, int touch)
{
    struct lpm_map *t = as_lpm(m);
    uint32_t len = prefixlen_of(key);
    if (len > t->max_prefixlen)
        return NULL; /* as 6.18 */
    unsigned char masked[LPM_KEY_MAX];
    for (uint32_t l = len + 1; l-- > 0;) {
        if (!t->len_count[l])
            continue;
        mask_key(t, key, l, masked);
        const uint32_t *slot = bl_map_lookup_sys(t->index, masked);
        if (slot)
            return bl_map_value(&t->values, *slot);
    }
    return NULL;
}

static int lpm_update(struct bl_map *m, const void *key, const void *value, uint64_t flags)
{
    struct lpm_map *t = as_lpm(m);
    if (flags > BL_EXIST)
        return -EINVAL;
    uint32_t len = prefixlen_of(key);
    if (len > t->max_prefixlen)
        return -EINVAL;
    uint32_t i = find_exact(t, key);
    if (i != NONE) {
        if (flags == BL_NOEXIST)
            return -EEXIST;
    } else {
        if (flags == BL_EXIST)
            return -ENOENT;
        if (t->free_head == NONE)
            return -ENOSPC;
        unsigned char masked[LPM_KEY_MAX];
        mask_key(t, key, len, masked);
        i = t->free_head;
        int rc = bl_map_update(t->index, masked, &i, BL_NOEXIST);
        if (rc)
            return rc;
        t->free_head = t->next_free[i];
        t->live[i] = 1;
        t->count++;
        t->len_count[len]++;
    }
    memmove(slot_key(t, i), key, m->def.key_size);
    memmove(bl_map_value(&t->values, i), value, m->def.value_size);
    return 0;
}

static int lpm_delete(struct bl_map *m, const void *key)
{
    struct lpm_map *t = as_lpm(m);
    uint32_t len = prefixlen_of(key);
    if (len > t->max_prefixlen)
        return -EINVAL;
    uint32_t i = find_exact(t, key);
    if (i == NONE)
        return -ENOENT;
    unsigned char masked[LPM_KEY_MAX];
    mask_key(t, key, len, masked);
    bl_map_delete(t->index, masked);
    t->live[i] = 0;
    t->next_free[i] = t->free_head;
    t->free_head = i;
    t->count--;
    t->len_count[len]--;
    return 0;
}

static int bit_at(const unsigned char *data, uint32_t i)
{
    return (data[i / 8] >> (7 - i % 8)) & 1;
}

/* < 0 if prefix a comes before b in the kernel's post-order: a prefix
 * extending the other comes first, else the one with a 0 at the first
 * differing bit. 0 for the same prefix. */
static int postorder_cmp(const struct lpm_map *t, const unsigned char *a, const unsigned char *b)
{
    uint32_t la = prefixlen_of(a), lb = prefixlen_of(b), min = la < lb ? la : lb;
    for (uint32_t i = 0; i < min; i++) {
        int ba = bit_at(a + 4, i), bb = bit_at(b + 4, i);
        if (ba != bb)
            return ba - bb;
    }
    return la == lb ? 0 : la > lb ? -1 : 1;
}

static int lpm_next_key(struct bl_map *m, const void *key, void *next_key)
{
    struct lpm_map *t = as_lpm(m);
    uint32_t at = key && prefixlen_of(key) <= t->max_prefixlen ? find_exact(t, key) : NONE;
    const unsigned char *cur = at == NONE ? NULL : slot_key(t, at);
    uint32_t best = NONE;
    for (uint32_t i = 0; i < m->def.max_entries; i++) {
        if (!t->live[i] || (cur && postorder_cmp(t, slot_key(t, i), cur) <= 0))
            continue;
        if (best == NONE || postorder_cmp(t, slot_key(t, i), slot_key(t, best)) < 0)
            best = i;
    }
    if (best == NONE)
        return -ENOENT;
    memcpy(next_key, slot_key(t, best), m->def.key_size);
    return 0;
}

static void lpm_free(struct bl_map *m)
{
    struct lpm_map *t = as_lpm(m);
    bl_map_free(t->index);
    free(t->keys);
    free(t->next_free);
    free(t->live);
    free(t->len_count);
    bl_map_values_free(&t->values);
    free(t);
}

static int lpm_check_values(struct bl_map *m)
{
    return bl_map_values_check(&as_lpm(m)->values);
}

static const struct bl_map_ops lpm_ops = {
    lpm_lookup, lpm_update, lpm_delete, lpm_next_key, NULL, lpm_free, NULL,
};
static const struct bl_map_ops lpm_ops_guarded = {
    lpm_lookup, lpm_update, lpm_delete, lpm_next_key, NULL, lpm_free, lpm_check_values,
};

int bl_lpm_check(const struct bl_map_def *d, char **err)
{
    if (!(d->flags & F_NO_PREALLOC)) {
        bl_set_err(err, "map '%s': lpm_trie maps need flags BPF_F_NO_PREALLOC (1), as the kernel",
                   d->name);
        return -EINVAL;
    }
    if (d->flags & ~F_NO_PREALLOC) {
        bl_set_err(err, "map '%s': unsupported lpm_trie map flags 0x%x", d->name, d->flags);
        return -EINVAL;
    }
    if (d->key_size < 5 || d->key_size > LPM_KEY_MAX) {
        bl_set_err(err, "map '%s': lpm_trie keys are { u32 prefixlen; u8 data[1..256] }: "
                   "5 to 260 bytes, not %u", d->name, d->key_size);
        return -EINVAL;
    }
    if (d->value_size == 0 || d->max_entries == 0) {
        bl_set_err(err, "map '%s': value_size and max_entries must be > 0", d->name);
        return -EINVAL;
    }
    uint64_t per = bl_round8(d->key_size) * 3 + bl_round8(d->value_size) + 24;
    if (d->value_size > BL_MAP_MAX_VALUE_SIZE ||
        (uint64_t)d->max_entries * per > BL_MAP_MAX_BYTES) {
        bl_set_err(err, "map '%s': %u entries of %u+%u bytes exceed the %llu MiB limit per map",
                   d->name, d->max_entries, d->key_size, d->value_size, BL_MAP_MAX_BYTES >> 20);
        return -E2BIG;
    }
    return 0;
}

struct bl_map *bl_lpm_create(const struct bl_map_def *d, char **err)
{
    struct lpm_map *t = calloc(1, sizeof *t);
    int guarded = bl_guard_default();
    int values_rc = -ENOMEM;
    if (t) {
        t->data_size = d->key_size - 4;
        t->max_prefixlen = 8 * t->data_size;
        t->key_stride = bl_round8(d->key_size);
        struct bl_map_def idx = *d;
        idx.type = BPFLUA_MAP_HASH;
        idx.value_size = 4;
        idx.flags = 0;
        t->index = bl_hash_create(&idx, NULL);
        t->keys = calloc(d->max_entries, t->key_stride);
        t->next_free = calloc(d->max_entries, sizeof *t->next_free);
        t->live = calloc(d->max_entries, 1);
        t->len_count = calloc(t->max_prefixlen + 1, sizeof *t->len_count);
        values_rc = bl_map_values_alloc(&t->values, d->value_size, d->max_entries, guarded);
    }
    if (!t || !t->index || !t->keys || !t->next_free || !t->live || !t->len_count ||
        values_rc < 0) {
        if (t) {
            if (values_rc < 0)
                t->values.layout = BL_VALUES_INLINE; /* nothing to free */
            t->map.def = *d;
            lpm_free(&t->map);
        }
        bl_set_err(err, "map '%s': out of memory", d->name);
        return NULL;
    }
    t->map.def = *d;
    t->map.ops = guarded ? &lpm_ops_guarded : &lpm_ops;
    t->map.ncpus = 1;
    for (uint32_t i = 0; i < d->max_entries; i++)
        t->next_free[i] = i + 1 < d->max_entries ? i + 1 : NONE;
    return &t->map;
}
