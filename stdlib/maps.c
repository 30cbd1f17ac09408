/* maps.c - map instances by type, and the public map API of bpflua.h.
 *
 * Each type (map_array.c, map_hash.c, map_ringbuf.c) fills a struct
 * bl_map_ops; this file checks definitions, dispatches, and reaches an
 * object's instances through bl_object_map (created on first use).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "map_impl.h"

#define HUGE_PAGE (2ul << 20)

static size_t area_span(size_t size)
{
    return (size + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
}

void *bl_map_area_alloc(size_t size)
{
    if (size < HUGE_PAGE)
        return calloc(1, size ? size : 1);
    size_t span = area_span(size);
    /* over-map by one huge page, then trim both ends to the boundary */
    unsigned char *raw = mmap(NULL, span + HUGE_PAGE, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED)
        return NULL;
    uintptr_t start = ((uintptr_t)raw + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
    size_t head = start - (uintptr_t)raw;
    if (head)
        munmap(raw, head);
    if (HUGE_PAGE - head)
        munmap((unsigned char *)start + span, HUGE_PAGE - head);
    madvise((void *)start, span, MADV_HUGEPAGE); /* a hint: fine if refused */
    return (void *)start;
}

void bl_map_area_free(void *area, size_t size)
{
    if (!area)
        return;
    if (size < HUGE_PAGE)
        free(area);
    else
        munmap(area, area_span(size));
}

int bl_map_check_def(const struct bl_map_def *d, char **err)
{
    if (!d) {
        bl_set_err(err, "no map definition");
        return -EINVAL;
    }
    switch (d->type) {
    case BPFLUA_MAP_ARRAY:
    case BPFLUA_MAP_PERCPU_ARRAY:
        return bl_array_check(d, err);
    case BPFLUA_MAP_HASH:
    case BPFLUA_MAP_LRU_HASH:
        return bl_hash_check(d, err);
    case BPFLUA_MAP_RINGBUF:
        return bl_ringbuf_check(d, err);
    default:
        bl_set_err(err, "map '%s': unsupported map type %u (hash 1, array 2, percpu_array 6, "
                   "lru_hash 9, ringbuf 27)", d->name, d->type);
        return -EINVAL;
    }
}

struct bl_map *bl_map_create(const struct bl_map_def *d, char **err)
{
    if (bl_map_check_def(d, err))
        return NULL;
    switch (d->type) {
    case BPFLUA_MAP_ARRAY:
    case BPFLUA_MAP_PERCPU_ARRAY:
        return bl_array_create(d, err);
    case BPFLUA_MAP_HASH:
    case BPFLUA_MAP_LRU_HASH:
        return bl_hash_create(d, err);
    default:
        return bl_ringbuf_create(d, err);
    }
}

void bl_map_free(struct bl_map *m)
{
    if (m)
        m->ops->free(m);
}

const struct bl_map_def *bl_map_def(const struct bl_map *m)
{
    return m ? &m->def : NULL;
}

void *bl_map_lookup(struct bl_map *m, const void *key)
{
    return m && key ? m->ops->lookup(m, key, 1) : NULL;
}

void *bl_map_lookup_sys(struct bl_map *m, const void *key)
{
    return m && key ? m->ops->lookup(m, key, 0) : NULL;
}

int bl_map_update(struct bl_map *m, const void *key, const void *value, uint64_t flags)
{
    if (!m || !key || !value)
        return -EINVAL;
    return m->ops->update(m, key, value, flags);
}

int bl_map_delete(struct bl_map *m, const void *key)
{
    if (!m || !key)
        return -EINVAL;
    return m->ops->delete(m, key);
}

int bl_map_next_key(struct bl_map *m, const void *key, void *next_key)
{
    if (!m || !next_key)
        return -EINVAL;
    return m->ops->next_key(m, key, next_key);
}

long bl_map_for_each(struct bl_map *m, bl_map_visit_fn fn, void *ctx)
{
    if (!m || !fn)
        return -EINVAL;
    return m->ops->for_each(m, fn, ctx);
}

int bl_ringbuf_output(struct bl_map *m, const void *data, uint64_t size, uint64_t flags)
{
    if (!m || m->def.type != BPFLUA_MAP_RINGBUF)
        return -EINVAL;
    return bl_ringbuf_output_impl(m, data, size, flags);
}

int bl_ringbuf_pop(struct bl_map *m, void *buf, size_t cap)
{
    if (!m || m->def.type != BPFLUA_MAP_RINGBUF)
        return -EINVAL;
    return bl_ringbuf_pop_impl(m, buf, cap);
}

uint64_t bl_ringbuf_discard(struct bl_map *m)
{
    if (!m || m->def.type != BPFLUA_MAP_RINGBUF)
        return 0;
    return bl_ringbuf_discard_impl(m);
}

uint64_t bl_ringbuf_take_dropped(struct bl_map *m)
{
    if (!m || m->def.type != BPFLUA_MAP_RINGBUF)
        return 0;
    return bl_ringbuf_take_dropped_impl(m);
}

/* ---- the public API: maps of an object ---------------------------------- */

/* The instance of map `map`, or NULL with the reason in *rc. */
static struct bl_map *object_map(bpflua_object *obj, size_t map, int *rc)
{
    if (!obj || map >= obj->n_maps) {
        *rc = -EINVAL;
        return NULL;
    }
    struct bl_map *m = bl_object_map(obj, map, NULL);
    if (!m) {
        int check = bl_map_check_def(&obj->maps[map], NULL);
        *rc = check ? check : -ENOMEM;
    }
    return m;
}

size_t bpflua_map_count(const bpflua_object *obj)
{
    return obj ? obj->n_maps : 0;
}

int bpflua_map_find(const bpflua_object *obj, const char *name)
{
    for (uint32_t i = 0; obj && name && i < obj->n_maps; i++)
        if (strcmp(obj->maps[i].name, name) == 0)
            return (int)i;
    return -1;
}

int bpflua_map_spec(const bpflua_object *obj, size_t map, struct bpflua_map_spec *out)
{
    if (!obj || map >= obj->n_maps || !out)
        return -EINVAL;
    const struct bl_map_def *d = &obj->maps[map];
    out->name = d->name;
    out->type = d->type;
    out->key_size = d->key_size;
    out->value_size = d->value_size;
    out->max_entries = d->max_entries;
    out->flags = d->flags;
    out->key_signed = d->key_signed;
    out->value_signed = d->value_signed;
    out->key_record = d->key_record;
    out->value_record = d->value_record;
    out->event_type = d->event_type;
    return 0;
}

int bpflua_map_lookup(bpflua_object *obj, size_t map, const void *key, void *value)
{
    int rc = 0;
    struct bl_map *m = object_map(obj, map, &rc);
    if (!m)
        return rc;
    if (!key || !value)
        return -EINVAL;
    if (m->def.type == BPFLUA_MAP_RINGBUF)
        return -EOPNOTSUPP;
    const void *v = bl_map_lookup_sys(m, key);
    if (!v)
        return -ENOENT;
    memcpy(value, v, m->def.value_size);
    return 0;
}

int bpflua_map_update(bpflua_object *obj, size_t map, const void *key, const void *value,
                      uint64_t flags)
{
    int rc = 0;
    struct bl_map *m = object_map(obj, map, &rc);
    return m ? bl_map_update(m, key, value, flags) : rc;
}

int bpflua_map_delete(bpflua_object *obj, size_t map, const void *key)
{
    int rc = 0;
    struct bl_map *m = object_map(obj, map, &rc);
    return m ? bl_map_delete(m, key) : rc;
}

int bpflua_map_next_key(bpflua_object *obj, size_t map, const void *key, void *next_key)
{
    int rc = 0;
    struct bl_map *m = object_map(obj, map, &rc);
    return m ? bl_map_next_key(m, key, next_key) : rc;
}

int bpflua_ringbuf_pop(bpflua_object *obj, size_t map, void *buf, size_t cap)
{
    int rc = 0;
    struct bl_map *m = object_map(obj, map, &rc);
    return m ? bl_ringbuf_pop(m, buf, cap) : rc;
}
