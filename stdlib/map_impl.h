/* map_impl.h - what each map type provides to the dispatch in maps.c.
 * Internal to stdlib/. */
#ifndef BPFLUA_MAP_IMPL_H
#define BPFLUA_MAP_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "../core/guard.h"
#include "../core/object.h"
#include "maps.h"

/* Upper bound on one map's memory, so a typo in max_entries is a clear
 * error instead of an out-of-memory run. */
#define BL_MAP_MAX_BYTES (256ull << 20)
#define BL_MAP_MAX_KEY_SIZE (1u << 20) /* the kernel (6.x) accepts keys beyond the stack size */
#define BL_MAP_MAX_VALUE_SIZE (1u << 20)

typedef int (*bl_map_visit_fn)(struct bl_map *m, void *key, void *value, void *ctx);

struct bl_map_ops {
    /* touch: a program's lookup (marks the element used, for LRU); the
     * syscall-side lookup does not, as in the kernel */
    void *(*lookup)(struct bl_map *m, const void *key, int touch);
    int (*update)(struct bl_map *m, const void *key, const void *value, uint64_t flags);
    int (*delete)(struct bl_map *m, const void *key);
    int (*next_key)(struct bl_map *m, const void *key, void *next_key);
    long (*for_each)(struct bl_map *m, bl_map_visit_fn fn, void *ctx);
    void (*free)(struct bl_map *m);
    /* guarded storage only (else NULL): 0, or -EFAULT if something wrote
     * outside a value (bl_map_guard_check) */
    int (*check)(struct bl_map *m);
};

/* The common head of every map instance. Per-CPU maps (ncpus > 1, or
 * any percpu type) keep CPU c's slot of an element at the slot ops->lookup
 * returns (CPU 0's) plus c * cpu_stride; maps.c picks the slot of the CPU
 * a run is on (bl_run_cpu), so the types only ever deal with CPU 0's. */
struct bl_map {
    struct bl_map_def def;
    const struct bl_map_ops *ops;
    uint32_t ncpus;      /* slots per element: 1, or bl_num_cpus() for percpu types */
    size_t cpu_stride;   /* bytes from one CPU's slot of an element to the next's */
    uint8_t of_maps;     /* array/hash_of_maps: a value is a struct bl_map * (8 bytes) */
    /* a program's lookup with the type's fast path for this map's key
     * size (ops->lookup with touch = 1), or NULL: see bl_map_prog_lookup */
    bl_map_prog_lookup_fn prog_lookup;
};

/* 1 for the per-CPU map types */
int bl_map_type_percpu(uint32_t type);

static inline size_t bl_round8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

/* Zeroed memory for a map's elements (maps.c). Large areas are mmap'd on
 * 2 MiB boundaries with transparent huge pages requested: random lookups
 * in a big map otherwise pay a TLB miss on top of each cache miss. Free
 * with the same size. */
void *bl_map_area_alloc(size_t size);
void bl_map_area_free(void *area, size_t size);

/* Value storage (map_values.c): value i at base + i * stride. */
enum bl_values_layout {
    BL_VALUES_PLAIN,  /* one area, stride round8(value_size) */
    BL_VALUES_INLINE, /* inside a hash map's element pool (not owned) */
    BL_VALUES_PAGES,  /* guarded: each value's rounding ends at a guard page */
    BL_VALUES_CANARY, /* guarded: one region, an 8-15 byte canary after each value */
};
struct bl_map_values {
    unsigned char *base;
    size_t stride;
    size_t tail;          /* canary bytes after each value (guarded layouts) */
    uint32_t value_size, n;
    enum bl_values_layout layout;
    struct bl_guard g;
};
/* Per-value guard pages up to this many pages (guards included) per map:
 * 512 values of up to a page; larger maps get the CANARY layout. */
#define BL_VALUES_GUARD_PAGES 1024u

static inline unsigned char *bl_map_value(const struct bl_map_values *v, uint32_t i)
{
    return v->base + (size_t)i * v->stride;
}
/* n zeroed values, PLAIN, or guarded (PAGES or CANARY). 0 or -ENOMEM. */
int bl_map_values_alloc(struct bl_map_values *v, uint32_t value_size, uint32_t n, int guarded);
void bl_map_values_free(struct bl_map_values *v);
/* Guarded layouts: 0, or -EFAULT if a canary or slack byte changed (all
 * restored). Other layouts: 0. */
int bl_map_values_check(struct bl_map_values *v);

/* map_array.c, map_hash.c, map_ringbuf.c: check the definition (0 or a
 * negative errno with *err set), and create an instance. */
int bl_array_check(const struct bl_map_def *d, char **err);
struct bl_map *bl_array_create(const struct bl_map_def *d, char **err);
int bl_hash_check(const struct bl_map_def *d, char **err);
struct bl_map *bl_hash_create(const struct bl_map_def *d, char **err);
int bl_slots_check(const struct bl_map_def *d, char **err);
struct bl_map *bl_slots_create(const struct bl_map_def *d, char **err);
int bl_perf_output_impl(struct bl_map *m, uint64_t flags, const void *data, uint64_t size);
int bl_perf_pop_impl(struct bl_map *m, void *buf, size_t cap, uint32_t *cpu);
int bl_queue_check(const struct bl_map_def *d, char **err);
struct bl_map *bl_queue_create(const struct bl_map_def *d, char **err);
int bl_queue_push_impl(struct bl_map *m, const void *value, uint64_t flags);
int bl_queue_take_impl(struct bl_map *m, void *value, int remove);
int bl_cgroup_storage_check(const struct bl_map_def *d, char **err);
struct bl_map *bl_cgroup_storage_create(const struct bl_map_def *d, char **err);
int bl_sk_storage_check(const struct bl_map_def *d, char **err);
struct bl_map *bl_sk_storage_create(const struct bl_map_def *d, char **err);
int bl_lpm_check(const struct bl_map_def *d, char **err);
struct bl_map *bl_lpm_create(const struct bl_map_def *d, char **err);
int bl_ringbuf_check(const struct bl_map_def *d, char **err);
struct bl_map *bl_ringbuf_create(const struct bl_map_def *d, char **err);
int bl_ringbuf_output_impl(struct bl_map *m, const void *data, uint64_t size, uint64_t flags);
int bl_ringbuf_pop_impl(struct bl_map *m, void *buf, size_t cap);
void *bl_ringbuf_reserve_impl(struct bl_map *m, uint64_t size, uint64_t flags);
uint64_t bl_ringbuf_take_dropped_impl(struct bl_map *m);
uint64_t bl_ringbuf_discard_impl(struct bl_map *m);
int bl_ringbuf_next_seq_impl(struct bl_map *m, uint32_t *seq);

#endif
