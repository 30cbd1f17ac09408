/* map_queue.c - BPF_MAP_TYPE_QUEUE (first in, first out) and STACK (last
 * in, first out), as kernel/bpf/queue_stack_maps.c: no keys (key_size 0),
 * max_entries values; push with BPF_EXIST into a full map drops the
 * oldest value, without it -E2BIG; pop and peek of an empty map -ENOENT
 * with the value zeroed.
 * From bpf(2), update is push, lookup is peek and lookup-and-delete is
 * pop; delete and next_key are -EINVAL. Programs use bpf_map_push_elem,
 * bpf_map_pop_elem and bpf_map_peek_elem (stdlib/helpers.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "map_impl.h"

struct queue_map {
    struct bl_map map;
    uint32_t head, count;     /* oldest value at head; values in a circle */
    struct bl_map_values values;
};

static struct queue_map *as_queue(struct bl_map *m)
{
    return (struct queue_map *)m;
}

/* the value pop or peek takes: the oldest (queue) or the newest (stack) */
static uint32_t front(struct queue_map *q)
{
    uint32_t n = q->map.def.max_entries;
    if (q->map.def.type == BPFLUA_MAP_QUEUE)
        return q->head;
    return (uint32_t)(((uint64_t)q->head + q->count - 1) % n);
}

int bl_queue_push_impl(struct bl_map *m, const void *value, uint64_t flags)
{
    struct queue_map *q = as_queue(m);
    uint32_t n = m->def.max_entries;
    if (flags & ~(uint64_t)BL_EXIST)
        return -EINVAL;
    if (q->count == n) {
        if (flags != BL_EXIST)
            return -E2BIG;
        q->head = (q->head + 1) % n; /* the oldest goes */
        q->count--;
    }
    uint32_t at = (uint32_t)(((uint64_t)q->head + q->count) % n);
    memmove(bl_map_value(&q->values, at), value, m->def.value_size);
    q->count++;
    return 0;
}

int bl_queue_take_impl(struct bl_map *m, void *value, int remove)
{
    struct queue_map *q = as_queue(m);
    if (!q->count) {
        memset(value, 0, m->def.value_size); /* as the kernel: a zeroed value */
        return -ENOENT;
    }
    uint32_t at = front(q);
    memmove(value, bl_map_value(&q->values, at), m->def.value_size);
    if (remove) {
        if (m->def.type == BPFLUA_MAP_QUEUE)
            q->head = (q->head + 1) % m->def.max_entries;
        q->count--;
    }
    return 0;
}

/* bpf(2) lookup is peek: the value is in the map's storage */
static void *queue_lookup(struct bl_map *m, const void *key, int touch)
{
    struct queue_map *q = as_queue(m);
    return q->count ? bl_map_value(&q->values, front(q)) : NULL;
}

static int queue_update(struct bl_map *m, const void *key, const void *value, uint64_t flags)
{
    return bl_queue_push_impl(m, value, flags);
}

static int queue_delete(struct bl_map *m, const void *key)
{
    return -EINVAL;
}

static int queue_next_key(struct bl_map *m, const void *key, void *next_key)
{
    return -EINVAL;
}

static void queue_free(struct bl_map *m)
{
    bl_map_values_free(&as_queue(m)->values);
    free(m);
}

static int queue_check(struct bl_map *m)
{
    return bl_map_values_check(&as_queue(m)->values);
}

static const struct bl_map_ops queue_ops = {
    queue_lookup, queue_update, queue_delete, queue_next_key, NULL, queue_free, NULL,
};
static const struct bl_map_ops queue_ops_guarded = {
    queue_lookup, queue_update, queue_delete, queue_next_key, NULL, queue_free, queue_check,
};

int bl_queue_check(const struct bl_map_def *d, char **err)
{
    if (d->key_size != 0 || d->value_size == 0 || d->max_entries == 0) {
        bl_set_err(err, "map '%s': %s maps have no key (key_size 0), and values and "
                   "max_entries > 0", d->name, bl_map_type_name(d->type));
        return -EINVAL;
    }
    if (d->flags) {
        bl_set_err(err, "map '%s': unsupported %s map flags 0x%x", d->name,
                   bl_map_type_name(d->type), d->flags);
        return -EINVAL;
    }
    if (d->value_size > BL_MAP_MAX_VALUE_SIZE ||
        (uint64_t)d->max_entries * bl_round8(d->value_size) > BL_MAP_MAX_BYTES) {
        bl_set_err(err, "map '%s': %u entries of %u bytes exceed the %llu MiB limit per map",
                   d->name, d->max_entries, d->value_size, BL_MAP_MAX_BYTES >> 20);
        return -E2BIG;
    }
    return 0;
}

struct bl_map *bl_queue_create(const struct bl_map_def *d, char **err)
{
    struct queue_map *q = calloc(1, sizeof *q);
    int guarded = bl_guard_default();
    if (!q || bl_map_values_alloc(&q->values, d->value_size, d->max_entries, guarded) < 0) {
        free(q);
        bl_set_err(err, "map '%s': out of memory", d->name);
        return NULL;
    }
    q->map.def = *d;
    q->map.ops = guarded ? &queue_ops_guarded : &queue_ops;
    q->map.ncpus = 1;
    return &q->map;
}
