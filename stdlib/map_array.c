/* map_array.c - BPF_MAP_TYPE_ARRAY and PERCPU_ARRAY.
 *
 * A percpu_array holds max_entries values per CPU, CPU by CPU: CPU c's
 * slot of element i is CPU 0's plus c * max_entries values (maps.c picks
 * the slot).
 * All max_entries values exist from creation, zeroed; the key is a u32
 * index. Kernel semantics (kernel/bpf/arraymap.c): update out of range is
 * -E2BIG, BPF_NOEXIST is -EEXIST (every element exists), delete is
 * -EINVAL, next_key of a missing or out-of-range key is index 0.
 * Values are 8-byte aligned, round8(value_size) apart (map_values.c; in
 * guarded mode further apart, behind guard pages and canaries).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "map_impl.h"

struct array_map {
    struct bl_map map;
    size_t elem_size;    /* value_size rounded up to 8, as the kernel; more when guarded */
    unsigned char *values;
    struct bl_map_values store; /* owns values */
};

static struct array_map *as_array(struct bl_map *m)
{
    return (struct array_map *)m;
}

static uint32_t key_index(const void *key)
{
    uint32_t index;
    memcpy(&index, key, sizeof index);
    return index;
}

static void *array_lookup(struct bl_map *m, const void *key, int touch)
{
    struct array_map *a = as_array(m);
    uint32_t index = key_index(key);
    if (index >= m->def.max_entries)
        return NULL;
    return a->values + (size_t)index * a->elem_size;
}

static int array_update(struct bl_map *m, const void *key, const void *value, uint64_t flags)
{
    if (flags > BL_EXIST)
        return -EINVAL;
    uint32_t index = key_index(key);
    if (index >= m->def.max_entries)
        return -E2BIG;
    if (flags == BL_NOEXIST)
        return -EEXIST;
    memmove(array_lookup(m, key, 0), value, m->def.value_size);
    return 0;
}

static int array_delete(struct bl_map *m, const void *key)
{
    return -EINVAL;
}

static int array_next_key(struct bl_map *m, const void *key, void *next_key)
{
    uint32_t index = key ? key_index(key) : UINT32_MAX;
    uint32_t next;
    if (index >= m->def.max_entries)
        next = 0;
    else if (index == m->def.max_entries - 1)
        return -ENOENT;
    else
        next = index + 1;
    memcpy(next_key, &next, sizeof next);
    return 0;
}

static long array_for_each(struct bl_map *m, bl_map_visit_fn fn, void *ctx)
{
    long visited = 0;
    for (uint32_t i = 0; i < m->def.max_entries; i++) {
        uint32_t key = i; /* a copy: the callback may not change our index */
        visited++;
        if (fn(m, &key, array_lookup(m, &key, 1), ctx))
            break;
    }
    return visited;
}

static void array_free(struct bl_map *m)
{
    bl_map_values_free(&as_array(m)->store);
    free(m);
}

static int array_check(struct bl_map *m)
{
    return bl_map_values_check(&as_array(m)->store);
}

static const struct bl_map_ops array_ops = {
    array_lookup, array_update, array_delete, array_next_key, array_for_each, array_free, NULL,
};
static const struct bl_map_ops array_ops_guarded = {
    array_lookup, array_update, array_delete, array_next_key, array_for_each, array_free,
    array_check,
};

int bl_array_check(const struct bl_map_def *d, char **err)
{
    if (d->key_size != 4) {
        bl_set_err(err, "map '%s': array keys are 4 bytes (u32), not %u", d->name, d->key_size);
        return -EINVAL;
    }
    if (d->value_size == 0 || d->max_entries == 0) {
        bl_set_err(err, "map '%s': value_size and max_entries must be > 0", d->name);
        return -EINVAL;
    }
    if (d->flags) {
        bl_set_err(err, "map '%s': unsupported array map flags 0x%x", d->name, d->flags);
        return -EINVAL;
    }
    /* the kernel's per-CPU allocator unit (PCPU_MIN_UNIT_SIZE) */
    if (d->type == BPFLUA_MAP_PERCPU_ARRAY && d->value_size > 32768) {
        bl_set_err(err, "map '%s': percpu_array values are at most 32768 bytes", d->name);
        return -E2BIG;
    }
    uint64_t ncpus = d->type == BPFLUA_MAP_PERCPU_ARRAY ? bl_num_cpus() : 1;
    if (d->value_size > BL_MAP_MAX_VALUE_SIZE ||
        (uint64_t)d->max_entries * bl_round8(d->value_size) * ncpus > BL_MAP_MAX_BYTES) {
        bl_set_err(err, "map '%s': %u entries of %u bytes exceed the %llu MiB limit per map",
                   d->name, d->max_entries, d->value_size, BL_MAP_MAX_BYTES >> 20);
        return -E2BIG;
    }
    return 0;
}

struct bl_map *bl_array_create(const struct bl_map_def *d, char **err)
{
    struct array_map *a = calloc(1, sizeof *a);
    int guarded = bl_guard_default();
    uint32_t ncpus = d->type == BPFLUA_MAP_PERCPU_ARRAY ? bl_num_cpus() : 1;
    if (!a || bl_map_values_alloc(&a->store, d->value_size, d->max_entries * ncpus, guarded) < 0) {
        free(a);
        bl_set_err(err, "map '%s': out of memory", d->name);
        return NULL;
    }
    a->values = a->store.base;
    a->elem_size = a->store.stride;
    a->map.def = *d;
    a->map.ops = guarded ? &array_ops_guarded : &array_ops;
    a->map.ncpus = ncpus;
    a->map.cpu_stride = ncpus > 1 ? (size_t)d->max_entries * a->elem_size : 0;
    return &a->map;
}
