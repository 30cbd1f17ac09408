/* attach_events.c - the events of an attached program, read live from the
 * kernel's ring buffers (libbpf's ring_buffer over every RINGBUF map of the
 * attachment) and handed to a callback one by one, in the order each buffer
 * holds them.
 *
 * The layout of each buffer's events (record fields, integer) comes from
 * the bpflua object the program came from, matched by map name; without one
 * (or for a map it does not know) events are raw bytes.
 */
#include "attach_events.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "object.h"

struct ev_source {
    struct bl_event_reader *r;
    const char *name;
    struct bpflua_map_spec spec;
    int has_spec;
    uint64_t received;
    uint32_t drop_slot;  /* its key in the drops map: ring buffers in map order */
};

struct bl_event_reader {
    struct ring_buffer *rb;
    struct ev_source *src;
    size_t n;
    const bpflua_object *layouts;
    bl_event_fn fn;
    void *ud;
    const struct bl_attach_map_info *drops; /* bpflua-compiled programs' count, or NULL */
};

static int on_sample(void *ctx, void *data, size_t size)
{
    struct ev_source *s = ctx;
    struct bl_vlayout l;
    s->received++;
    if (s->has_spec) {
        bl_event_layout(s->r->layouts, &s->spec, (uint32_t)size, &l);
    } else {
        memset(&l, 0, sizeof l);
        l.kind = BL_V_BYTES;
        l.size = (uint32_t)size;
    }
    return s->r->fn(s->r->ud, s->name, &l, data);
}

struct bl_event_reader *bl_event_reader_new(const struct bl_attachment *a,
                                            const bpflua_object *layouts, bl_event_fn fn,
                                            void *ud, char **err)
{
    struct bl_event_reader *r = calloc(1, sizeof *r);
    size_t nmaps = bl_attachment_map_count(a);
    if (r)
        r->src = calloc(nmaps ? nmaps : 1, sizeof *r->src);
    if (!r || !r->src) {
        free(r);
        bl_set_err(err, "out of memory");
        return NULL;
    }
    r->layouts = layouts;
    r->fn = fn;
    r->ud = ud;
    for (size_t i = 0; i < nmaps; i++) {
        const struct bl_attach_map_info *m = bl_attachment_map(a, i);
        if (bl_map_is_drops(m->name, m->type, m->key_size, m->value_size))
            r->drops = m;
        if (m->type != BPFLUA_MAP_RINGBUF)
            continue;
        struct ev_source *s = &r->src[r->n];
        s->drop_slot = (uint32_t)r->n++;
        s->r = r;
        s->name = m->name;
        int mi = layouts ? bpflua_map_find(layouts, m->name) : -1;
        s->has_spec = mi >= 0 && bpflua_map_spec(layouts, (size_t)mi, &s->spec) == 0 &&
                      s->spec.type == BPFLUA_MAP_RINGBUF;
        int rc = 0;
        if (!r->rb) {
            r->rb = ring_buffer__new(m->fd, on_sample, s, NULL);
            rc = r->rb ? 0 : -errno;
        } else {
            rc = ring_buffer__add(r->rb, m->fd, on_sample, s);
        }
        if (rc < 0) {
            bl_set_err(err, "cannot read ring buffer '%s': %s", m->name, strerror(-rc));
            bl_event_reader_free(r);
            return NULL;
        }
    }
    return r;
}

int bl_event_reader_poll(struct bl_event_reader *r, int timeout_ms)
{
    if (!r || !r->rb)
        return 0;
    int n = timeout_ms > 0 ? ring_buffer__poll(r->rb, timeout_ms) : ring_buffer__consume(r->rb);
    return n == -EINTR ? 0 : n;
}

size_t bl_event_reader_count(const struct bl_event_reader *r)
{
    return r ? r->n : 0;
}

const char *bl_event_reader_name(const struct bl_event_reader *r, size_t i)
{
    return r && i < r->n ? r->src[i].name : NULL;
}

uint64_t bl_event_reader_received(const struct bl_event_reader *r, size_t i)
{
    return r && i < r->n ? r->src[i].received : 0;
}

int bl_event_reader_dropped(const struct bl_event_reader *r, size_t i, uint64_t *n)
{
    *n = 0;
    if (!r || i >= r->n || !r->drops || r->src[i].drop_slot >= r->drops->max_entries)
        return 0;
    const struct bl_attach_map_info *d = r->drops;
    uint32_t ncpu = d->n_cpus ? d->n_cpus : 1, stride = d->value_stride ? d->value_stride : 8;
    unsigned char *v = calloc(ncpu, stride);
    if (!v)
        return -ENOMEM;
    int rc = bpf_map_lookup_elem(d->fd, &r->src[i].drop_slot, v) < 0 ? -errno : 1;
    for (uint32_t c = 0; rc > 0 && c < ncpu; c++) {
        uint64_t x;
        memcpy(&x, v + (size_t)c * stride, sizeof x);
        *n += x;
    }
    free(v);
    return rc;
}

void bl_event_reader_free(struct bl_event_reader *r)
{
    if (!r)
        return;
    ring_buffer__free(r->rb);
    free(r->src);
    free(r);
}
