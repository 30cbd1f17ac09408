/* maps.h - runtime map instances with kernel semantics.
 *
 * Memory is fixed at creation (max_entries x sizes); lookups are O(1).
 * Errors are negative errnos as the kernel's bpf(2) returns them:
 * -ENOENT (no such key), -EEXIST (BPF_NOEXIST on a present key), -E2BIG
 * (hash full), -EINVAL (bad flags or index), -ENOMEM.
 *
 * An instance has no locks: runs (and API calls) touching the same object
 * must not overlap in time. The kernel's maps are concurrent; ours serve
 * one run at a time, which is what bpflua_run does.
 */
#ifndef BPFLUA_MAPS_H
#define BPFLUA_MAPS_H

#include <stddef.h>
#include <stdint.h>

#define BL_ANY     0 /* BPF_ANY */
#define BL_NOEXIST 1 /* BPF_NOEXIST */
#define BL_EXIST   2 /* BPF_EXIST */

struct bl_map_def;
struct bl_map;
struct bpflua_object;

/* An object's runtime map instance `map`, created on first use
 * (map_defs.c); NULL with *err on failure. */
struct bl_map *bl_object_map(struct bpflua_object *obj, size_t map, char **err);

/* Checks a definition against the kernel's rules for its type and our
 * size limits: 0, or a negative errno with the reason in *err. */
int bl_map_check_def(const struct bl_map_def *def, char **err);
struct bl_map *bl_map_create(const struct bl_map_def *def, char **err);
void bl_map_free(struct bl_map *m);
const struct bl_map_def *bl_map_def(const struct bl_map *m);

/* Pointer to the value stored for key, or NULL. Stays valid until the
 * element is deleted or evicted (as in the kernel, for the program's run). */
void *bl_map_lookup(struct bl_map *m, const void *key);
/* The same from outside a program (bpf(2) BPF_MAP_LOOKUP_ELEM): does not
 * count as a use for LRU eviction, as in the kernel. */
void *bl_map_lookup_sys(struct bl_map *m, const void *key);
int bl_map_update(struct bl_map *m, const void *key, const void *value, uint64_t flags);
/* A function that does what bl_map_lookup(m, key) does for this map,
 * specialised for it (a hash map's key size a constant), or NULL when the
 * map has none (per-CPU maps, maps of maps, types without one). The JIT
 * calls it directly for a map it knows at the call, as the kernel's
 * verifier has the JIT call (or inline) the map type's lookup instead of
 * the helper. m must be non-NULL; the function takes a non-NULL key. */
typedef void *(*bl_map_prog_lookup_fn)(struct bl_map *m, const void *key);
bl_map_prog_lookup_fn bl_map_prog_lookup(const struct bl_map *m);
int bl_map_delete(struct bl_map *m, const void *key);
int bl_map_next_key(struct bl_map *m, const void *key, void *next_key);
/* Calls fn(map, key, value, ctx) for each element until it returns nonzero;
 * returns the number of elements visited. Deleting the current element
 * from inside fn is safe. */
long bl_map_for_each(struct bl_map *m,
                     int (*fn)(struct bl_map *m, void *key, void *value, void *ctx),
                     void *ctx);
/* Guarded maps (created while bl_guard_default(), core/guard.h): 0, or
 * -EFAULT if something wrote outside a value since the last check (the
 * canaries and slack are restored). 0 for unguarded maps. */
int bl_map_guard_check(struct bl_map *m);
/* Per-CPU maps (percpu_array, percpu_hash, lru_percpu_hash) hold one
 * slot per possible CPU (bl_num_cpus(), libbpf_num_possible_cpus() as the
 * kernel counts them). A program's lookup and update see the slot of the
 * CPU the run is on (bl_run_cpu(), set by bpflua_run; CPU 0 unless told);
 * bl_map_lookup_sys gives CPU 0's slot. A program's update that inserts a
 * new element zeroes the other CPUs' slots, as the kernel does. */
uint32_t bl_num_cpus(void);
void bl_set_run_cpu(uint32_t cpu);
uint32_t bl_run_cpu(void);
/* CPU cpu's slot of key's value (any map: non-percpu maps have one slot,
 * CPU 0's), or NULL if key is absent or cpu out of range. */
void *bl_map_lookup_cpu(struct bl_map *m, const void *key, uint32_t cpu);
/* bpf(2)'s per-CPU update: values holds bl_num_cpus() slots, each
 * round8(value_size) bytes apart (the kernel's layout). all_same: values
 * is one value written to every CPU's slot. Non-percpu maps: one value. */
int bl_map_update_cpus(struct bl_map *m, const void *key, const void *values, uint64_t flags,
                       int all_same);
/* Ring buffer. output: 0, -EAGAIN when the record does not fit (as the
 * kernel), -EINVAL for flags other than BPF_RB_NO_WAKEUP/FORCE_WAKEUP.
 * pop: the oldest record's size (0 if empty; zero-length records are
 * skipped), -ENOSPC if cap is too small (the record stays). */
int bl_ringbuf_output(struct bl_map *m, const void *data, uint64_t size, uint64_t flags);
int bl_ringbuf_pop(struct bl_map *m, void *buf, size_t cap);
/* 1 and the oldest record's output sequence number (a count of outputs
 * into every ring buffer of the thread) when one waits, else 0: a drain
 * of several buffers takes their records in emit order. */
int bl_ringbuf_next_seq(struct bl_map *m, uint32_t *seq);
/* bpf_ringbuf_reserve: a record of size bytes to fill in place, or NULL
 * (no room, flags not 0, not a ring buffer); commit: submit it (discard 0)
 * or drop it. Records stay unread until every earlier one is committed. */
void *bl_ringbuf_reserve(struct bl_map *m, uint64_t size, uint64_t flags);
/* sk_storage (map_sk_storage.c): socket sk's value (made from init, or
 * zeroed, when flags has BPF_SK_STORAGE_GET_F_CREATE), or NULL; delete
 * (-ENOENT when sk has none); clear: the run's sockets are gone. */
void *bl_sk_storage_get(struct bl_map *m, uint64_t sk, const void *init, uint64_t flags);
int bl_sk_storage_delete(struct bl_map *m, uint64_t sk);
void bl_sk_storage_clear(struct bl_map *m);
void bl_ringbuf_commit(void *sample, int discard);
/* Discards every record this thread reserved and has not committed (after
 * a run that stopped before its submit/discard). */
void bl_ringbuf_release_outstanding(void);
/* Outputs refused (-EAGAIN) since the last call; resets the count. */
uint64_t bl_ringbuf_take_dropped(struct bl_map *m);
/* Empties the buffer; returns how many (nonempty) records it held. */
uint64_t bl_ringbuf_discard(struct bl_map *m);
/* bpf_ringbuf_query: flags 0 bytes waiting, 1 the size, 2 the consumer's
 * position, 3 the producer's; 0 for other flags or maps */
uint64_t bl_ringbuf_query(struct bl_map *m, uint64_t flags);
/* perf_event_array: bpf_perf_event_output's record into the slot named by
 * flags (an index, or BPF_F_CURRENT_CPU: the run's CPU); 0, -E2BIG (index
 * past max_entries), -ENOENT (no event open there), -ENOSPC (the reader's
 * queue is full), -EINVAL (other flags). pop: the oldest record's size
 * and its CPU (0 if none), as bl_ringbuf_pop. */
int bl_perf_output(struct bl_map *m, uint64_t flags, const void *data, uint64_t size);
int bl_perf_pop(struct bl_map *m, void *buf, size_t cap, uint32_t *cpu);
/* queue and stack maps: push (flags 0 or BPF_EXIST: drop the oldest when
 * full), pop and peek (-ENOENT when empty). -EINVAL for other maps. */
int bl_map_push(struct bl_map *m, const void *value, uint64_t flags);
int bl_map_pop(struct bl_map *m, void *value);
int bl_map_peek(struct bl_map *m, void *value);

#endif
