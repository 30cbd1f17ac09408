/* mapview.c - map access that follows the object: once an object has been
 * loaded into the kernel (the kernel engine ran it), its maps live there
 * and are read and written through their file descriptors; before that,
 * bpflua's own map instances hold the data. For per-CPU maps, a value
 * read is CPU 0's slot and a value written goes to every CPU's slot, in
 * either place (the kernel's bpf(2) takes all slots at once).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "bl_lua.h"
#include "kernel.h"

static int percpu_type(uint32_t type)
{
    return type == BPFLUA_MAP_PERCPU_ARRAY || type == BPFLUA_MAP_PERCPU_HASH ||
           type == BPFLUA_MAP_LRU_PERCPU_HASH;
}

/* the kernel's fd of map, or -1 while bpflua's instance holds it; *spec filled */
static int kernel_fd(bpflua_object *obj, size_t map, struct bpflua_map_spec *spec)
{
    if (bpflua_map_spec(obj, map, spec) < 0)
        return -1;
    return bl_kernel_map_fd(obj, map);
}

/* a zeroed buffer for every CPU's slot of one value (free it) */
static unsigned char *slots_buf(const struct bpflua_map_spec *spec, size_t *stride)
{
    *stride = ((size_t)spec->value_size + 7) & ~(size_t)7;
    return calloc((size_t)bpflua_num_possible_cpus(), *stride ? *stride : 1);
}

static int neg_errno(int rc)
{
    if (rc >= 0)
        return rc;
    return rc == -1 ? (errno ? -errno : -EIO) : rc;
}

int bl_obj_map_lookup_percpu(bpflua_object *obj, size_t map, const void *key, void *values)
{
    struct bpflua_map_spec spec;
    int fd = kernel_fd(obj, map, &spec);
    if (fd < 0 || !percpu_type(spec.type))
        return bpflua_map_lookup_percpu(obj, map, key, values);
    return neg_errno(bpf_map_lookup_elem(fd, key, values));
}

int bl_obj_map_lookup(bpflua_object *obj, size_t map, const void *key, void *value)
{
    struct bpflua_map_spec spec;
    int fd = kernel_fd(obj, map, &spec);
    if (fd < 0)
        return bpflua_map_lookup(obj, map, key, value);
    if (!percpu_type(spec.type))
        return neg_errno(bpf_map_lookup_elem(fd, key, value));
    size_t stride;
    unsigned char *slots = slots_buf(&spec, &stride);
    if (!slots)
        return -ENOMEM;
    int rc = neg_errno(bpf_map_lookup_elem(fd, key, slots));
    if (rc == 0)
        memcpy(value, slots, spec.value_size);
    free(slots);
    return rc;
}

int bl_obj_map_update(bpflua_object *obj, size_t map, const void *key, const void *value,
                      uint64_t flags)
{
    struct bpflua_map_spec spec;
    int fd = kernel_fd(obj, map, &spec);
    if (fd < 0)
        return bpflua_map_update(obj, map, key, value, flags);
    if (!percpu_type(spec.type))
        return neg_errno(bpf_map_update_elem(fd, key, value, flags));
    size_t stride;
    unsigned char *slots = slots_buf(&spec, &stride);
    if (!slots)
        return -ENOMEM;
    for (int c = 0; c < bpflua_num_possible_cpus(); c++)
        memcpy(slots + (size_t)c * stride, value, spec.value_size);
    int rc = neg_errno(bpf_map_update_elem(fd, key, slots, flags));
    free(slots);
    return rc;
}

int bl_obj_map_delete(bpflua_object *obj, size_t map, const void *key)
{
    struct bpflua_map_spec spec;
    int fd = kernel_fd(obj, map, &spec);
    if (fd < 0)
        return bpflua_map_delete(obj, map, key);
    return neg_errno(bpf_map_delete_elem(fd, key));
}

int bl_obj_map_next_key(bpflua_object *obj, size_t map, const void *key, void *next_key)
{
    struct bpflua_map_spec spec;
    int fd = kernel_fd(obj, map, &spec);
    if (fd < 0)
        return bpflua_map_next_key(obj, map, key, next_key);
    return neg_errno(bpf_map_get_next_key(fd, key, next_key));
}
