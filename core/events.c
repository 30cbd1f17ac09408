/* events.c - the event log: ring buffer records a run sent to user space.
 *
 * The engines fill it (engine/events_drain.c drains bpflua's own ring
 * buffers after each run; the kernel engine reads the kernel's through
 * libbpf), so a run sees the buffer's whole capacity, as one run in the
 * kernel with a reader behind it would. The first run's records are kept
 * in order; the rest are counted.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "object.h"

int bl_events_add(bpflua_object *obj, uint32_t map, const void *data, uint32_t size, int keep)
{
    struct bl_event_log *l = &obj->events;
    if (!keep) {
        l->unshown++;
        return 0;
    }
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        struct bl_event *ev = realloc(l->ev, cap * sizeof *ev);
        if (!ev)
            return -ENOMEM;
        l->ev = ev;
        l->cap = cap;
    }
    unsigned char *copy = malloc(size ? size : 1);
    if (!copy)
        return -ENOMEM;
    if (size)
        memcpy(copy, data, size);
    l->ev[l->n++] = (struct bl_event){ map, size, copy };
    return 0;
}

int bpflua_map_is_internal(const char *name)
{
    return name && strncmp(name, BL_INTERNAL_MAP_PREFIX, sizeof BL_INTERNAL_MAP_PREFIX - 1) == 0;
}

int bl_map_is_drops(const char *name, uint32_t type, uint32_t key_size, uint32_t value_size)
{
    return type == BPFLUA_MAP_PERCPU_ARRAY && key_size == 4 && value_size == 8 && name &&
           strcmp(name, BL_DROPS_MAP) == 0;
}

int bl_object_drops_map(const bpflua_object *obj)
{
    for (uint32_t i = 0; i < obj->n_maps; i++) {
        const struct bl_map_def *d = &obj->maps[i];
        if (bl_map_is_drops(d->name, d->type, d->key_size, d->value_size))
            return (int)i;
    }
    return -1;
}

int bl_object_has_ringbuf(const bpflua_object *obj)
{
    for (uint32_t i = 0; i < obj->n_maps; i++)
        if (obj->maps[i].type == BPFLUA_MAP_RINGBUF ||
            obj->maps[i].type == BPFLUA_MAP_PERF_EVENT_ARRAY)
            return 1;
    return 0;
}

void bpflua_events_clear(bpflua_object *obj)
{
    if (!obj)
        return;
    struct bl_event_log *l = &obj->events;
    for (size_t i = 0; i < l->n; i++)
        free(l->ev[i].data);
    l->n = 0;
    l->unshown = 0;
    l->dropped = 0;
}

void bl_events_free(bpflua_object *obj)
{
    bpflua_events_clear(obj);
    free(obj->events.ev);
    free(obj->events.buf);
    memset(&obj->events, 0, sizeof obj->events);
}

size_t bpflua_event_count(const bpflua_object *obj)
{
    return obj ? obj->events.n : 0;
}

int bpflua_event_get(const bpflua_object *obj, size_t i, struct bpflua_event *out)
{
    if (!obj || !out || i >= obj->events.n)
        return -EINVAL;
    const struct bl_event *e = &obj->events.ev[i];
    *out = (struct bpflua_event){ e->map, e->size, e->data };
    return 0;
}

uint64_t bpflua_events_unshown(const bpflua_object *obj)
{
    return obj ? obj->events.unshown : 0;
}

uint64_t bpflua_events_dropped(const bpflua_object *obj)
{
    return obj ? obj->events.dropped : 0;
}
