/* map_ringbuf.c - BPF_MAP_TYPE_RINGBUF: variable-size records, oldest first.
 *
 * As the kernel (kernel/bpf/ringbuf.c): max_entries is the data size in
 * bytes, a power of two and a multiple of the 4096-byte page; key and value
 * sizes are 0. Each record takes an 8-byte header plus its data, rounded up
 * to 8 bytes; a record that does not fit in the free space is refused with
 * -EAGAIN. The producer and consumer positions only grow; an offset into
 * the data is position & mask, and a record may wrap around the end.
 *
 * bpf_ringbuf_reserve hands the program a record to fill in place: its
 * length word carries the kernel's busy bit (the consumer stops there)
 * until submit clears it or discard turns it into the discard bit (the
 * consumer skips the record). A reserved record is contiguous, as with the
 * kernel's double mapping: the data area has a second copy's worth of room
 * after the end, where a record that wraps is written; submit copies that
 * tail to the start. Submit finds a record's buffer in the thread's table
 * of outstanding reservations (the verifier proves each is submitted or
 * discarded once, in the run that reserved it).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "map_impl.h"

#define RB_HDR_SIZE 8
#define RB_PAGE_SIZE 4096u
#define RB_NO_WAKEUP 1u    /* BPF_RB_NO_WAKEUP */
#define RB_FORCE_WAKEUP 2u /* BPF_RB_FORCE_WAKEUP */

/* The order of outputs across every ring buffer of the thread: each
 * record's second header word (the kernel's page offset, unused here)
 * holds it, so a drain can give a run's events in emit order even when
 * they went into several buffers (LANGUAGE.md: events "in order"). */
static _Thread_local uint32_t rb_seq;

#define RB_BUSY 0x80000000u    /* length word: reserved, not yet submitted */
#define RB_DISCARD 0x40000000u /* length word: discarded, the consumer skips it */
#define RB_LEN_MASK 0x3fffffffu

/* outstanding reservations of this thread: the record and its buffer */
#define RB_MAX_RESERVED 64
static _Thread_local struct reserved {
    void *sample;
    struct bl_map *map;
} rb_reserved[RB_MAX_RESERVED];

struct ringbuf_map {
    struct bl_map map;
    uint64_t mask;
    uint64_t producer, consumer;
    uint64_t dropped;  /* outputs refused for want of space, since last taken */
    unsigned char *data;  /* mask + 1 bytes, then as many for wrapping records */
};

static struct ringbuf_map *as_ringbuf(struct bl_map *m)
{
    return (struct ringbuf_map *)m;
}

static void copy_in(struct ringbuf_map *r, uint64_t pos, const void *src, size_t n)
{
    size_t off = (size_t)(pos & r->mask), first = r->mask + 1 - off;
    if (n == 0)
        return;
    if (first > n)
        first = n;
    memcpy(r->data + off, src, first);
    memcpy(r->data, (const unsigned char *)src + first, n - first);
}

static void copy_out(struct ringbuf_map *r, uint64_t pos, void *dst, size_t n)
{
    size_t off = (size_t)(pos & r->mask), first = r->mask + 1 - off;
    if (n == 0)
        return;
    if (first > n)
        first = n;
    memcpy(dst, r->data + off, first);
    memcpy((unsigned char *)dst + first, r->data, n - first);
}

int bl_ringbuf_output_impl(struct bl_map *m, const void *data, uint64_t size, uint64_t flags)
{
    struct ringbuf_map *r = as_ringbuf(m);
    if (flags & ~(uint64_t)(RB_NO_WAKEUP | RB_FORCE_WAKEUP))
        return -EINVAL;
    if (size && !data)
        return -EINVAL;
    uint64_t len = bl_round8(RB_HDR_SIZE + size);
    /* as the kernel: the producer stays at most size - 1 bytes ahead of
     * the consumer, so a buffer never holds a full size of records */
    if (size > UINT32_MAX / 4 || len > r->mask - (r->producer - r->consumer)) {
        r->dropped++;
        return -EAGAIN;
    }
    /* positions are multiples of 8 and the size of 4096s: a header never
     * wraps; the data wraps only at the end of the area */
    uint32_t hdr[2] = {(uint32_t)size, ++rb_seq};
    size_t off = (size_t)(r->producer & r->mask);
    memcpy(r->data + off, hdr, sizeof hdr);
    if (off + RB_HDR_SIZE + size > r->mask + 1)
        copy_in(r, r->producer + RB_HDR_SIZE, data, (size_t)size);
    else if (size == 8)
        memcpy(r->data + off + RB_HDR_SIZE, data, 8); /* integer events: one store */
    else if (size)
        memcpy(r->data + off + RB_HDR_SIZE, data, (size_t)size);
    r->producer += len;
    return 0;
}

void *bl_ringbuf_reserve_impl(struct bl_map *m, uint64_t size, uint64_t flags)
{
    struct ringbuf_map *r = as_ringbuf(m);
    struct reserved *slot = NULL;
    for (size_t i = 0; i < RB_MAX_RESERVED && !slot; i++)
        if (!rb_reserved[i].sample)
            slot = &rb_reserved[i];
    if (flags || size > UINT32_MAX / 4 || !slot)
        return NULL;
    uint64_t len = bl_round8(RB_HDR_SIZE + size);
    if (len > r->mask - (r->producer - r->consumer)) {
        r->dropped++;
        return NULL;
    }
    size_t off = (size_t)(r->producer & r->mask);
    uint32_t hdr[2] = {(uint32_t)size | RB_BUSY, ++rb_seq};
    memcpy(r->data + off, hdr, sizeof hdr);
    r->producer += len;
    slot->sample = r->data + off + RB_HDR_SIZE;
    slot->map = m;
    return slot->sample;
}

void bl_ringbuf_commit(void *sample, int discard)
{
    struct reserved *slot = NULL;
    for (size_t i = 0; i < RB_MAX_RESERVED && !slot; i++)
        if (rb_reserved[i].sample == sample)
            slot = &rb_reserved[i];
    if (!slot)
        return; /* not a reserved record (the verifier's proof says it is) */
    struct ringbuf_map *r = as_ringbuf(slot->map);
    unsigned char *h = (unsigned char *)sample - RB_HDR_SIZE;
    uint32_t hdr[2];
    memcpy(hdr, h, sizeof hdr);
    size_t len = hdr[0] & RB_LEN_MASK, end = (size_t)(h - r->data) + RB_HDR_SIZE + len;
    if (!discard && end > r->mask + 1) /* the wrapped tail goes to the start */
        memcpy(r->data, r->data + r->mask + 1, end - (r->mask + 1));
    hdr[0] = (uint32_t)len | (discard ? RB_DISCARD : 0);
    memcpy(h, hdr, sizeof hdr);
    slot->sample = NULL;
}

/* A run that stopped early (--max-insns, an engine error) never reached
 * its submit or discard: drop what it still holds, or its busy records
 * would hide every later record of their buffers from the consumer. */
void bl_ringbuf_release_outstanding(void)
{
    for (size_t i = 0; i < RB_MAX_RESERVED; i++)
        if (rb_reserved[i].sample)
            bl_ringbuf_commit(rb_reserved[i].sample, 1);
}

/* Moves past discarded and zero-length records; 1 if a submitted record
 * waits (its header in hdr), 0 if none or the next is still reserved. */
static int next_record(struct ringbuf_map *r, uint32_t hdr[2])
{
    while (r->consumer != r->producer) {
        memcpy(hdr, r->data + (r->consumer & r->mask), 2 * sizeof *hdr);
        if (hdr[0] & RB_BUSY)
            return 0;
        if (hdr[0] && !(hdr[0] & RB_DISCARD))
            return 1;
        r->consumer += bl_round8(RB_HDR_SIZE + (hdr[0] & RB_LEN_MASK));
    }
    return 0;
}

int bl_ringbuf_pop_impl(struct bl_map *m, void *buf, size_t cap)
{
    struct ringbuf_map *r = as_ringbuf(m);
    uint32_t hdr[2] = {0, 0};
    /* zero-length and discarded records carry nothing: skip them */
    if (!next_record(r, hdr))
        return 0;
    if (hdr[0] > cap || (hdr[0] && !buf))
        return -ENOSPC;
    copy_out(r, r->consumer + RB_HDR_SIZE, buf, hdr[0]);
    r->consumer += bl_round8(RB_HDR_SIZE + hdr[0]);
    return (int)hdr[0];
}

int bl_ringbuf_next_seq_impl(struct bl_map *m, uint32_t *seq)
{
    uint32_t hdr[2] = {0, 0};
    if (!next_record(as_ringbuf(m), hdr))
        return 0;
    *seq = hdr[1];
    return 1;
}

uint64_t bl_ringbuf_discard_impl(struct bl_map *m)
{
    struct ringbuf_map *r = as_ringbuf(m);
    uint64_t n = 0;
    while (r->consumer != r->producer) {
        uint32_t hdr[2];
        memcpy(hdr, r->data + (r->consumer & r->mask), sizeof hdr);
        n += hdr[0] != 0 && !(hdr[0] & (RB_BUSY | RB_DISCARD));
        r->consumer += bl_round8(RB_HDR_SIZE + (hdr[0] & RB_LEN_MASK));
    }
    return n;
}

uint64_t bl_ringbuf_take_dropped_impl(struct bl_map *m)
{
    struct ringbuf_map *r = as_ringbuf(m);
    uint64_t n = r->dropped;
    r->dropped = 0;
    return n;
}

uint64_t bl_ringbuf_query(struct bl_map *m, uint64_t flags)
{
    if (!m || m->def.type != BPFLUA_MAP_RINGBUF)
        return 0;
    struct ringbuf_map *r = as_ringbuf(m);
    switch (flags) {
    case 0: return r->producer - r->consumer;
    case 1: return r->mask + 1;
    case 2: return r->consumer;
    case 3: return r->producer;
    default: return 0;
    }
}

/* A ring buffer has no keys: the element operations are refused. */
static void *ringbuf_lookup(struct bl_map *m, const void *key, int touch)
{
    return NULL;
}

static int ringbuf_update(struct bl_map *m, const void *key, const void *value, uint64_t f)
{
    return -EOPNOTSUPP;
}

static int ringbuf_delete(struct bl_map *m, const void *key)
{
    return -EOPNOTSUPP;
}

static int ringbuf_next_key(struct bl_map *m, const void *key, void *next_key)
{
    return -EOPNOTSUPP;
}

static long ringbuf_for_each(struct bl_map *m, bl_map_visit_fn fn, void *ctx)
{
    return -EINVAL;
}

static void ringbuf_free(struct bl_map *m)
{
    /* a reservation left in a freed buffer must not match a later one */
    for (size_t i = 0; i < RB_MAX_RESERVED; i++)
        if (rb_reserved[i].map == m)
            rb_reserved[i].sample = NULL, rb_reserved[i].map = NULL;
    free(as_ringbuf(m)->data);
    free(m);
}

static const struct bl_map_ops ringbuf_ops = {
    ringbuf_lookup, ringbuf_update, ringbuf_delete, ringbuf_next_key, ringbuf_for_each,
    ringbuf_free, NULL,
};

int bl_ringbuf_check(const struct bl_map_def *d, char **err)
{
    uint32_t n = d->max_entries;
    if (d->key_size || d->value_size) {
        bl_set_err(err, "map '%s': a ringbuf has key_size and value_size 0", d->name);
        return -EINVAL;
    }
    if (n < RB_PAGE_SIZE || (n & (n - 1)) || d->flags) {
        bl_set_err(err, "map '%s': ringbuf size %u must be a power of 2 of at least %u "
                   "bytes, flags 0", d->name, n, RB_PAGE_SIZE);
        return -EINVAL;
    }
    if (n > BL_MAP_MAX_BYTES) {
        bl_set_err(err, "map '%s': ringbuf size %u exceeds the %llu MiB limit per map",
                   d->name, n, BL_MAP_MAX_BYTES >> 20);
        return -E2BIG;
    }
    return 0;
}

struct bl_map *bl_ringbuf_create(const struct bl_map_def *d, char **err)
{
    struct ringbuf_map *r = calloc(1, sizeof *r);
    if (r)
        r->data = calloc(1, 2 * (size_t)d->max_entries);
    if (!r || !r->data) {
        free(r);
        bl_set_err(err, "map '%s': out of memory", d->name);
        return NULL;
    }
    r->map.def = *d;
    r->map.ops = &ringbuf_ops;
    r->mask = d->max_entries - 1;
    return &r->map;
}
