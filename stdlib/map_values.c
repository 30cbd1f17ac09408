/* map_values.c - value storage of array and hash maps, guarded in test builds.
 *
 * Unguarded (release builds, BPFLUA_GUARD=0): one zeroed area, value i at
 * i * round8(value_size), exactly as before; hash maps keep their values
 * inline in their element pool and do not use this file at all.
 *
 * Guarded (bl_guard_default() when the map is created: sanitizer builds,
 * BPFLUA_GUARD=1), values live apart from any map metadata, so a write past
 * a value can only reach a guard page or a canary, never a hash chain or an
 * LRU link:
 *
 *   PAGES   small maps (at most BL_VALUES_GUARD_PAGES pages, guards
 *           included): each value in its own page run, its 8-byte rounding
 *           ending at a PROT_NONE page (core/guard.h, BL_GUARD_END). A write
 *           past round8(value_size) faults at once; the bytes between
 *           value_size and its rounding are a canary; a write below the
 *           value lands in the run's slack, which bl_guard_check() watches.
 *   CANARY  larger maps: one region ending at a guard page, value i at
 *           i * (round8(value_size) + 8); the bytes from value_size to the
 *           next value (8 to 15) are a canary.
 *
 * bl_map_guard_check() (called after each guarded bpflua_run) compares
 * every canary and the slack, restores them and reports -EFAULT if any
 * changed. Canaries are poisoned for AddressSanitizer, so C code that
 * overruns a value (a helper, the interpreter) is reported by ASan at once.
 */
#include <errno.h>
#include <string.h>

#include "map_impl.h"

#define CANARY 0xcb
#define CANARY_EXTRA 8 /* CANARY layout: bytes added after each rounded value */

/* Reads and writes the poisoned canaries (ASan would report our own
 * accesses otherwise). A byte loop: the sanitizer intercepts memcmp. */
BL_NO_ASAN static int tail_fix(volatile unsigned char *t, size_t n)
{
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        if (t[i] != CANARY) {
            bad = 1;
            t[i] = CANARY;
        }
    }
    return bad;
}

int bl_map_values_alloc(struct bl_map_values *v, uint32_t value_size, uint32_t n, int guarded)
{
    memset(v, 0, sizeof *v);
    v->g.reg = -1;
    v->value_size = value_size;
    v->n = n;
    size_t rounded = bl_round8(value_size);
    if (!guarded) {
        v->layout = BL_VALUES_PLAIN;
        v->stride = rounded;
        v->base = bl_map_area_alloc((size_t)n * rounded);
        return v->base ? 0 : -ENOMEM;
    }
    size_t page = bl_guard_page_size();
    size_t per_elem = (rounded + page - 1) / page + 1; /* pages, with the guard */
    int rc = -ENOMEM;
    if ((uint64_t)n * per_elem <= BL_VALUES_GUARD_PAGES) {
        rc = bl_guard_alloc(&v->g, rounded, n, BL_GUARD_END);
        /* on failure (out of mappings: vm.max_map_count) fall back */
        if (rc == 0) {
            v->layout = BL_VALUES_PAGES;
            v->stride = v->g.stride;
            v->tail = rounded - value_size;
        }
    }
    if (rc < 0) {
        v->stride = rounded + CANARY_EXTRA;
        rc = bl_guard_alloc(&v->g, (size_t)n * v->stride, 1, BL_GUARD_END);
        if (rc < 0)
            return rc;
        v->layout = BL_VALUES_CANARY;
        v->tail = v->stride - value_size;
    }
    v->base = v->g.mem;
    for (uint32_t i = 0; i < n && v->tail; i++) {
        unsigned char *tail = v->base + (size_t)i * v->stride + value_size;
        memset(tail, CANARY, v->tail);
        BL_POISON(tail, v->tail);
    }
    return 0;
}

void bl_map_values_free(struct bl_map_values *v)
{
    if (v->layout == BL_VALUES_PLAIN)
        bl_map_area_free(v->base, (size_t)v->n * v->stride);
    else if (v->layout != BL_VALUES_INLINE && v->g.map) {
        BL_UNPOISON(v->g.map, v->g.map_len); /* the shadow outlives the mapping */
        bl_guard_free(&v->g);
    }
    v->base = NULL;
}

int bl_map_values_check(struct bl_map_values *v)
{
    if (v->layout != BL_VALUES_PAGES && v->layout != BL_VALUES_CANARY)
        return 0;
    int bad = bl_guard_check(&v->g) < 0;
    for (uint32_t i = 0; i < v->n && v->tail; i++)
        bad |= tail_fix(v->base + (size_t)i * v->stride + v->value_size, v->tail);
    return bad ? -EFAULT : 0;
}

int bl_map_guard_check(struct bl_map *m)
{
    return m && m->ops->check ? m->ops->check(m) : 0;
}
