/* mapview.c - map access that follows the object: once an object has been
 * loaded into the kernel (the kernel engine ran it), its maps live there
 * and are read and written through their file descriptors; before that,
 * bpflua's own map instances hold the data. Per-CPU maps always use
 * bpflua's instances (the kernel's hold one value per CPU).
 */
#include <errno.h>

#include <bpf/bpf.h>

#include "bl_lua.h"
#include "kernel.h"

static int kernel_fd(bpflua_object *obj, size_t map)
{
    struct bpflua_map_spec spec;
    if (bpflua_map_spec(obj, map, &spec) < 0 || spec.type == BPFLUA_MAP_PERCPU_ARRAY)
        return -1;
    return bl_kernel_map_fd(obj, map);
}

static int neg_errno(int rc)
{
    if (rc >= 0)
        return rc;
    return rc == -1 ? (errno ? -errno : -EIO) : rc;
}

int bl_obj_map_lookup(bpflua_object *obj, size_t map, const void *key, void *value)
{
    int fd = kernel_fd(obj, map);
    if (fd < 0)
        return bpflua_map_lookup(obj, map, key, value);
    return neg_errno(bpf_map_lookup_elem(fd, key, value));
}

int bl_obj_map_update(bpflua_object *obj, size_t map, const void *key, const void *value,
                      uint64_t flags)
{
    int fd = kernel_fd(obj, map);
    if (fd < 0)
        return bpflua_map_update(obj, map, key, value, flags);
    return neg_errno(bpf_map_update_elem(fd, key, value, flags));
}

int bl_obj_map_delete(bpflua_object *obj, size_t map, const void *key)
{
    int fd = kernel_fd(obj, map);
    if (fd < 0)
        return bpflua_map_delete(obj, map, key);
    return neg_errno(bpf_map_delete_elem(fd, key));
}

int bl_obj_map_next_key(bpflua_object *obj, size_t map, const void *key, void *next_key)
{
    int fd = kernel_fd(obj, map);
    if (fd < 0)
        return bpflua_map_next_key(obj, map, key, next_key);
    return neg_errno(bpf_map_get_next_key(fd, key, next_key));
}
