/* events_drain.c - after each run, the records of the object's own ring
 * buffers and perf_event_arrays go into its event log (core/events.c),
 * with their drop counts. */
#include <errno.h>
#include <stdlib.h>

#include "events.h"
#include "maps.h"
#include "object.h"

#define DRAIN_BUF_MIN 4096u

/* pops map i's oldest record into the log; 0 when empty, 1 when taken */
static int pop_one(bpflua_object *obj, uint32_t i, struct bl_map *m, int keep)
{
    struct bl_event_log *l = &obj->events;
    for (;;) {
        if (l->buf_cap < DRAIN_BUF_MIN) {
            unsigned char *b = realloc(l->buf, DRAIN_BUF_MIN);
            if (!b)
                return -ENOMEM;
            l->buf = b;
            l->buf_cap = DRAIN_BUF_MIN;
        }
        int n = bl_ringbuf_pop(m, l->buf, l->buf_cap);
        if (n == 0)
            return 0;
        if (n == -ENOSPC) {
            /* a record larger than the scratch buffer: grow (at most to
             * the ring's size, which bounds any record) */
            size_t cap = l->buf_cap * 2;
            uint64_t most = obj->maps[i].type == BPFLUA_MAP_RINGBUF ? obj->maps[i].max_entries
                                                                   : 1u << 20; /* a perf record */
            if (cap > most * 2)
                return -EIO;
            unsigned char *b = realloc(l->buf, cap);
            if (!b)
                return -ENOMEM;
            l->buf = b;
            l->buf_cap = cap;
            continue;
        }
        if (n < 0)
            return n;
        int rc = bl_events_add(obj, i, l->buf, (uint32_t)n, keep);
        return rc < 0 ? rc : 1;
    }
}

static int drain_one(bpflua_object *obj, uint32_t i, struct bl_map *m, int keep)
{
    int rc;
    while ((rc = pop_one(obj, i, m, keep)) > 0) {
    }
    return rc;
}

/* the ring buffers' records in emit order: always the one with the
 * oldest output sequence number next (numbers compared modulo 2^32) */
static int drain_rings_in_order(bpflua_object *obj, int keep)
{
    for (;;) {
        uint32_t best = 0, best_seq = 0;
        int found = 0;
        for (uint32_t i = 0; i < obj->n_maps; i++) {
            struct bl_map *m = obj->map_rt[i];
            uint32_t seq;
            if (!m || obj->maps[i].type != BPFLUA_MAP_RINGBUF || !bl_ringbuf_next_seq(m, &seq))
                continue;
            if (!found || (int32_t)(seq - best_seq) < 0) {
                best = i;
                best_seq = seq;
                found = 1;
            }
        }
        if (!found)
            return 0;
        int rc = pop_one(obj, best, obj->map_rt[best], keep);
        if (rc < 0)
            return rc;
    }
}

/* A compiled program counts its own refused emits in the drops map
 * (every CPU's slot, one u64 per ring buffer): take them, leaving zeros. */
static uint64_t take_counted_drops(bpflua_object *obj, int d)
{
    struct bl_map *m = obj->map_rt[d];
    uint64_t n = 0;
    if (!m)
        return 0;
    for (uint32_t k = 0; k < obj->maps[d].max_entries; k++)
        for (uint32_t cpu = 0; cpu < bl_num_cpus(); cpu++) {
            uint64_t *v = bl_map_lookup_cpu(m, &k, cpu);
            if (v) {
                n += *v;
                *v = 0;
            }
        }
    return n;
}

int bl_events_drain(bpflua_object *obj, int keep)
{
    if (!obj->map_rt)
        return 0;
    /* the program's own count when it keeps one; else the buffers' */
    int d = bl_object_drops_map(obj);
    if (d >= 0)
        obj->events.dropped += take_counted_drops(obj, d);
    for (uint32_t i = 0; i < obj->n_maps; i++) {
        struct bl_map *m = obj->map_rt[i];
        if (!m || (obj->maps[i].type != BPFLUA_MAP_RINGBUF &&
                   obj->maps[i].type != BPFLUA_MAP_PERF_EVENT_ARRAY))
            continue;
        uint64_t refused = bl_ringbuf_take_dropped(m);
        if (d < 0)
            obj->events.dropped += refused;
        if (!keep && obj->maps[i].type == BPFLUA_MAP_RINGBUF) {
            /* runs after the first: only counted (perf records below, one
             * by one: bl_events_add counts them when keep is 0) */
            obj->events.unshown += bl_ringbuf_discard(m);
            continue;
        }
        if (obj->maps[i].type == BPFLUA_MAP_RINGBUF)
            continue; /* below, all buffers together */
        int rc = drain_one(obj, i, m, keep);
        if (rc < 0)
            return rc;
    }
    return keep ? drain_rings_in_order(obj, keep) : 0;
}
