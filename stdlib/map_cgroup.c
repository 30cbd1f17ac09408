/* map_cgroup.c - BPF_MAP_TYPE_CGROUP_STORAGE and PERCPU_CGROUP_STORAGE.
 *
 * In the kernel such a map holds one value per cgroup a program of it is
 * attached to, and bpf_get_local_storage() gives the program the value of
 * the cgroup it runs for (kernel/bpf/local_storage.c). The sandbox runs
 * every program in one cgroup, whose id is 0 (bpf_get_current_cgroup_id's
 * answer there), so the map is one value (one per CPU for the per-CPU
 * type), zeroed at creation as a fresh cgroup's storage is: an array of
 * one element under the kernel's key, struct bpf_cgroup_storage_key
 * { u64 cgroup_inode_id; u32 attach_type } (16 bytes with its padding) or
 * the bare u64 id. The
 * attach type is not compared (one storage per cgroup).
 *
 * Syscall-side rules as the kernel's: lookup and update find only the
 * existing storage (another cgroup id: -ENOENT); update takes BPF_ANY or
 * BPF_EXIST (BPF_NOEXIST: -EINVAL); delete is -EINVAL; max_entries is 0.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "map_impl.h"

#define CGROUP_STORAGE_MAX_VALUE 4096          /* PAGE_SIZE */
#define PERCPU_CGROUP_STORAGE_MAX_VALUE 32768  /* PCPU_MIN_UNIT_SIZE */

struct cgroup_map {
    struct bl_map map;
    struct bl_map *values; /* an array (per-CPU array) of one element */
};

static struct cgroup_map *as_cgroup(struct bl_map *m)
{
    return (struct cgroup_map *)m;
}

static int is_ours(const void *key)
{
    uint64_t id;
    memcpy(&id, key, sizeof id);
    return id == 0;
}

static void *cgroup_lookup(struct bl_map *m, const void *key, int touch)
{
    static const uint32_t zero;
    struct bl_map *v = as_cgroup(m)->values;
    return is_ours(key) ? v->ops->lookup(v, &zero, touch) : NULL;
}

static int cgroup_update(struct bl_map *m, const void *key, const void *value, uint64_t flags)
{
    static const uint32_t zero;
    if (flags > BL_EXIST || flags == BL_NOEXIST)
        return -EINVAL;
    if (!is_ours(key))
        return -ENOENT;
    struct bl_map *v = as_cgroup(m)->values;
    return v->ops->update(v, &zero, value, BL_ANY);
}

static int cgroup_delete(struct bl_map *m, const void *key)
{
    return -EINVAL;
}

static int cgroup_next_key(struct bl_map *m, const void *key, void *next_key)
{
    if (key && is_ours(key))
        return -ENOENT;
    memset(next_key, 0, m->def.key_size);
    return 0;
}

static void cgroup_free(struct bl_map *m)
{
    bl_map_free(as_cgroup(m)->values);
    free(m);
}

static int cgroup_check(struct bl_map *m)
{
    struct bl_map *v = as_cgroup(m)->values;
    return v->ops->check ? v->ops->check(v) : 0;
}

static const struct bl_map_ops cgroup_ops = {
    cgroup_lookup, cgroup_update, cgroup_delete, cgroup_next_key, NULL, cgroup_free, cgroup_check,
};

int bl_cgroup_storage_check(const struct bl_map_def *d, char **err)
{
    const char *name = bl_map_type_name(d->type);
    uint32_t max = d->type == BPFLUA_MAP_PERCPU_CGROUP_STORAGE ? PERCPU_CGROUP_STORAGE_MAX_VALUE
                                                               : CGROUP_STORAGE_MAX_VALUE;
    if (d->key_size != 16 && d->key_size != 8) {
        bl_set_err(err, "map '%s': %s keys are a struct bpf_cgroup_storage_key (16 bytes) or a "
                   "cgroup id (8), not %u bytes", d->name, name, d->key_size);
        return -EINVAL;
    }
    if (d->value_size == 0 || d->value_size > max) {
        bl_set_err(err, "map '%s': %s values are 1 to %u bytes, not %u", d->name, name, max,
                   d->value_size);
        return -EINVAL;
    }
    if (d->max_entries) {
        bl_set_err(err, "map '%s': %s has max_entries 0 (one value per cgroup), not %u", d->name,
                   name, d->max_entries);
        return -EINVAL;
    }
    if (d->flags) {
        bl_set_err(err, "map '%s': unsupported %s map flags 0x%x", d->name, name, d->flags);
        return -EINVAL;
    }
    return 0;
}

struct bl_map *bl_cgroup_storage_create(const struct bl_map_def *d, char **err)
{
    struct cgroup_map *c = calloc(1, sizeof *c);
    if (!c) {
        bl_set_err(err, "map '%s': out of memory", d->name);
        return NULL;
    }
    struct bl_map_def one = *d;
    one.type = d->type == BPFLUA_MAP_PERCPU_CGROUP_STORAGE ? BPFLUA_MAP_PERCPU_ARRAY
                                                           : BPFLUA_MAP_ARRAY;
    one.key_size = 4;
    one.max_entries = 1;
    if (!(c->values = bl_array_create(&one, err))) {
        free(c);
        return NULL;
    }
    c->map.def = *d;
    c->map.ops = &cgroup_ops;
    c->map.ncpus = c->values->ncpus;
    c->map.cpu_stride = c->values->cpu_stride;
    return &c->map;
}
