/* maps.c - map instances by type, and the public map API of bpflua.h.
 *
 * Each type (map_array.c, map_hash.c, map_lpm.c, map_ringbuf.c) fills a
 * struct bl_map_ops; this file checks definitions, dispatches, and reaches
 * an object's instances through bl_object_map (created on first use).
 *
 * Per-CPU maps: the types store every CPU's slot of an element at a fixed
 * distance (bl_map.cpu_stride) from CPU 0's and know nothing else about
 * CPUs; choosing the run's CPU slot, and the kernel's rule that a
 * program's insert zeroes the other CPUs' slots, are done here once.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <bpf/libbpf.h>

#include "map_impl.h"

/* ---- CPUs ------------------------------------------------------------------ */

#define MAX_CPUS 8192 /* the kernel's NR_CPUS ceiling; beyond it the count is suspect */

static _Thread_local uint32_t run_cpu;

uint32_t bl_num_cpus(void)
{
    static uint32_t n; /* libbpf caches it too; computed once, same value from any thread */
    uint32_t cached = __atomic_load_n(&n, __ATOMIC_RELAXED);
    if (!cached) {
        int c = libbpf_num_possible_cpus();
        cached = c < 1 ? 1 : c > MAX_CPUS ? MAX_CPUS : (uint32_t)c;
        __atomic_store_n(&n, cached, __ATOMIC_RELAXED);
    }
    return cached;
}

void bl_set_run_cpu(uint32_t cpu)
{
    run_cpu = cpu < bl_num_cpus() ? cpu : 0;
}

uint32_t bl_run_cpu(void)
{
    return run_cpu;
}

int bl_map_type_percpu(uint32_t type)
{
    return type == BPFLUA_MAP_PERCPU_ARRAY || type == BPFLUA_MAP_PERCPU_HASH ||
           type == BPFLUA_MAP_LRU_PERCPU_HASH || type == BPFLUA_MAP_PERCPU_CGROUP_STORAGE;
}

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
    case BPFLUA_MAP_PERCPU_HASH:
    case BPFLUA_MAP_LRU_PERCPU_HASH:
        return bl_hash_check(d, err);
    case BPFLUA_MAP_LPM_TRIE:
        return bl_lpm_check(d, err);
    case BPFLUA_MAP_CGROUP_STORAGE:
    case BPFLUA_MAP_PERCPU_CGROUP_STORAGE:
        return bl_cgroup_storage_check(d, err);
    case BPFLUA_MAP_SK_STORAGE:
        return bl_sk_storage_check(d, err);
    case BPFLUA_MAP_RINGBUF:
        return bl_ringbuf_check(d, err);
    case BPFLUA_MAP_PROG_ARRAY:
    case BPFLUA_MAP_PERF_EVENT_ARRAY:
    case BPFLUA_MAP_STACK_TRACE:
    case BPFLUA_MAP_DEVMAP:
    case BPFLUA_MAP_CPUMAP:
    case BPFLUA_MAP_XSKMAP:
    case BPFLUA_MAP_CGROUP_ARRAY:
    case BPFLUA_MAP_SOCKMAP:
        return bl_slots_check(d, err);
    case BPFLUA_MAP_SOCKHASH:
        if (d->value_size != 4 && d->value_size != 8) {
            bl_set_err(err, "map '%s': sockhash values are 4 or 8 bytes (a socket)", d->name);
            return -EINVAL;
        }
        return bl_hash_check(d, err);
    case BPFLUA_MAP_DEVMAP_HASH:
        if (d->key_size != 4 || (d->value_size != 4 && d->value_size != 8)) {
            bl_set_err(err, "map '%s': devmap_hash keys are 4 bytes, values 4 or 8", d->name);
            return -EINVAL;
        }
        return bl_hash_check(d, err);
    case BPFLUA_MAP_QUEUE:
    case BPFLUA_MAP_STACK:
        return bl_queue_check(d, err);
    case BPFLUA_MAP_ARRAY_OF_MAPS:
    case BPFLUA_MAP_HASH_OF_MAPS: {
        /* values are map references (4-byte fds in the kernel); stored as
         * the inner map's address, so the storage's own rules see 8 bytes */
        if (d->value_size != 4) {
            bl_set_err(err, "map '%s': %s values are 4 bytes (a map), not %u", d->name,
                       bl_map_type_name(d->type), d->value_size);
            return -EINVAL;
        }
        struct bl_map_def st = *d;
        st.value_size = 8;
        st.type = d->type == BPFLUA_MAP_ARRAY_OF_MAPS ? BPFLUA_MAP_ARRAY : BPFLUA_MAP_HASH;
        return st.type == BPFLUA_MAP_ARRAY ? bl_array_check(&st, err) : bl_hash_check(&st, err);
    }
    default:
        bl_set_err(err, "map '%s': unsupported map type %u (%s)", d->name, d->type,
                   bl_map_type_name(d->type) ? bl_map_type_name(d->type) : "unknown");
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
    case BPFLUA_MAP_PERCPU_HASH:
    case BPFLUA_MAP_LRU_PERCPU_HASH:
        return bl_hash_create(d, err);
    case BPFLUA_MAP_LPM_TRIE:
        return bl_lpm_create(d, err);
    case BPFLUA_MAP_CGROUP_STORAGE:
    case BPFLUA_MAP_PERCPU_CGROUP_STORAGE:
        return bl_cgroup_storage_create(d, err);
    case BPFLUA_MAP_SK_STORAGE:
        return bl_sk_storage_create(d, err);
    case BPFLUA_MAP_DEVMAP_HASH:
    case BPFLUA_MAP_SOCKHASH:
        return bl_hash_create(d, err);
    case BPFLUA_MAP_QUEUE:
    case BPFLUA_MAP_STACK:
        return bl_queue_create(d, err);
    case BPFLUA_MAP_RINGBUF:
        return bl_ringbuf_create(d, err);
    case BPFLUA_MAP_ARRAY_OF_MAPS:
    case BPFLUA_MAP_HASH_OF_MAPS: {
        struct bl_map_def st = *d;
        st.value_size = 8; /* the inner map's address */
        struct bl_map *m = d->type == BPFLUA_MAP_ARRAY_OF_MAPS ? bl_array_create(&st, err)
                                                               : bl_hash_create(&st, err);
        if (m)
            m->of_maps = 1;
        return m;
    }
    default:
        return bl_slots_create(d, err);
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
    if (!m || !key)
        return NULL;
    unsigned char *v = m->ops->lookup(m, key, 1);
    if (v && m->cpu_stride)
        v += run_cpu * m->cpu_stride;
    else if (v && m->of_maps) { /* a map of maps gives the inner map itself */
        void *inner;
        memcpy(&inner, v, sizeof inner);
        v = inner;
    }
    return v;
}

bl_map_prog_lookup_fn bl_map_prog_lookup(const struct bl_map *m)
{
    return m && !bl_map_type_percpu(m->def.type) && !m->of_maps ? m->prog_lookup : NULL;
}

void *bl_map_lookup_cpu(struct bl_map *m, const void *key, uint32_t cpu)
{
    if (!m || !key || cpu >= m->ncpus)
        return NULL;
    unsigned char *v = m->ops->lookup(m, key, 0);
    return v ? v + cpu * m->cpu_stride : NULL;
}

/* A per-CPU update: one CPU's slot (cpu >= 0, a program's update: a new
 * element's other slots are zeroed), or every slot from values (cpu < 0:
 * ncpus slots round8(value_size) apart, or one value for all if
 * all_same). The type inserts (with its errors and LRU eviction); the
 * slots are written here. */
static int percpu_update(struct bl_map *m, const void *key, const void *values, uint64_t flags,
                         int cpu, int all_same)
{
    uint32_t vs = m->def.value_size;
    if (flags > BL_EXIST)
        return -EINVAL;
    int fresh = 0;
    unsigned char *base = m->ops->lookup(m, key, 1);
    if (base && flags == BL_NOEXIST)
        return -EEXIST;
    if (!base) {
        int rc = m->ops->update(m, key, values, flags);
        if (rc)
            return rc;
        base = m->ops->lookup(m, key, 0);
        if (!base)
            return -ENOMEM; /* a type that does not keep what it inserted: cannot happen */
        fresh = 1;
    }
    for (uint32_t c = 0; c < m->ncpus; c++) {
        unsigned char *slot = base + c * m->cpu_stride;
        if (cpu < 0)
            memmove(slot, (const unsigned char *)values + (all_same ? 0 : c * bl_round8(vs)), vs);
        else if (c == (uint32_t)cpu)
            memmove(slot, values, vs);
        else if (fresh)
            memset(slot, 0, vs);
    }
    return 0;
}

int bl_map_update_cpus(struct bl_map *m, const void *key, const void *values, uint64_t flags,
                       int all_same)
{
    if (!m || !key || !values)
        return -EINVAL;
    if (!bl_map_type_percpu(m->def.type))
        return m->ops->update(m, key, values, flags);
    return percpu_update(m, key, values, flags, -1, all_same);
}

void *bl_map_lookup_sys(struct bl_map *m, const void *key)
{
    return m && key ? m->ops->lookup(m, key, 0) : NULL;
}

int bl_map_update(struct bl_map *m, const void *key, const void *value, uint64_t flags)
{
    if (!m || !key || !value)
        return -EINVAL;
    if (m->cpu_stride)
        return percpu_update(m, key, value, flags, (int)run_cpu, 0);
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

struct cpu_visit {
    bl_map_visit_fn fn;
    void *ctx;
};

/* for_each on a per-CPU map hands the callback the run's CPU slot */
static int visit_run_cpu(struct bl_map *m, void *key, void *value, void *arg)
{
    struct cpu_visit *v = arg;
    return v->fn(m, key, (unsigned char *)value + run_cpu * m->cpu_stride, v->ctx);
}

long bl_map_for_each(struct bl_map *m, bl_map_visit_fn fn, void *ctx)
{
    if (!m || !fn)
        return -EINVAL;
    if (!m->ops->for_each)
        return -EOPNOTSUPP;
    if (m->cpu_stride) {
        struct cpu_visit v = {fn, ctx};
        return m->ops->for_each(m, visit_run_cpu, &v);
    }
    return m->ops->for_each(m, fn, ctx);
}

int bl_ringbuf_output(struct bl_map *m, const void *data, uint64_t size, uint64_t flags)
{
    if (!m || m->def.type != BPFLUA_MAP_RINGBUF)
        return -EINVAL;
    return bl_ringbuf_output_impl(m, data, size, flags);
}

void *bl_ringbuf_reserve(struct bl_map *m, uint64_t size, uint64_t flags)
{
    if (!m || m->def.type != BPFLUA_MAP_RINGBUF)
        return NULL;
    return bl_ringbuf_reserve_impl(m, size, flags);
}

int bl_ringbuf_pop(struct bl_map *m, void *buf, size_t cap)
{
    if (m && m->def.type == BPFLUA_MAP_PERF_EVENT_ARRAY)
        return bl_perf_pop_impl(m, buf, cap, NULL);
    if (!m || m->def.type != BPFLUA_MAP_RINGBUF)
        return -EINVAL;
    return bl_ringbuf_pop_impl(m, buf, cap);
}

int bl_ringbuf_next_seq(struct bl_map *m, uint32_t *seq)
{
    if (!m || m->def.type != BPFLUA_MAP_RINGBUF)
        return 0;
    return bl_ringbuf_next_seq_impl(m, seq);
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

int bl_perf_output(struct bl_map *m, uint64_t flags, const void *data, uint64_t size)
{
    if (!m || m->def.type != BPFLUA_MAP_PERF_EVENT_ARRAY || (size && !data))
        return -EINVAL;
    return bl_perf_output_impl(m, flags, data, size);
}

int bl_perf_pop(struct bl_map *m, void *buf, size_t cap, uint32_t *cpu)
{
    if (!m || m->def.type != BPFLUA_MAP_PERF_EVENT_ARRAY)
        return -EINVAL;
    return bl_perf_pop_impl(m, buf, cap, cpu);
}

static int is_queue(const struct bl_map *m)
{
    return m && (m->def.type == BPFLUA_MAP_QUEUE || m->def.type == BPFLUA_MAP_STACK);
}

int bl_map_push(struct bl_map *m, const void *value, uint64_t flags)
{
    return is_queue(m) && value ? bl_queue_push_impl(m, value, flags) : -EINVAL;
}

int bl_map_pop(struct bl_map *m, void *value)
{
    return is_queue(m) && value ? bl_queue_take_impl(m, value, 1) : -EINVAL;
}

int bl_map_peek(struct bl_map *m, void *value)
{
    return is_queue(m) && value ? bl_queue_take_impl(m, value, 0) : -EINVAL;
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
    out->inner_map = d->inner_map;
    return 0;
}

/* maps of maps from outside: a value is the index of one of the object's
 * maps, stored as that map's instance (what a program's lookup returns) */
static int of_maps_lookup(bpflua_object *obj, struct bl_map *m, const void *key, void *value)
{
    const void *v = bl_map_lookup_sys(m, key);
    if (!v)
        return -ENOENT;
    struct bl_map *inner;
    memcpy(&inner, v, sizeof inner);
    for (uint32_t i = 0; inner && i < obj->n_maps; i++)
        if (obj->map_rt[i] == inner) {
            memcpy(value, &i, 4);
            return 0;
        }
    return -ENOENT;
}

static int of_maps_update(bpflua_object *obj, struct bl_map *m, const void *key,
                          const void *value, uint64_t flags)
{
    uint32_t idx;
    memcpy(&idx, value, 4);
    const struct bl_map_def *t = &obj->maps[m->def.inner_map - 1];
    if (idx >= obj->n_maps)
        return -EBADF; /* not a map: the kernel's answer to a bad fd */
    const struct bl_map_def *d = &obj->maps[idx];
    /* the kernel's bpf_map_meta_equal (max_entries may differ only with
     * BPF_F_INNER_MAP on the template) */
    if (d->type != t->type || d->key_size != t->key_size || d->value_size != t->value_size ||
        d->flags != t->flags || (!(t->flags & 0x1000u) && d->max_entries != t->max_entries))
        return -EINVAL;
    struct bl_map *inner = bl_object_map(obj, idx, NULL);
    if (!inner)
        return -ENOMEM;
    return m->ops->update(m, key, &inner, flags);
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
    if (m->of_maps)
        return of_maps_lookup(obj, m, key, value);
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
    if (m && bl_map_type_percpu(m->def.type))
        return bl_map_update_cpus(m, key, value, flags, 1);
    if (m && m->of_maps)
        return key && value ? of_maps_update(obj, m, key, value, flags) : -EINVAL;
    return m ? bl_map_update(m, key, value, flags) : rc;
}

int bpflua_num_possible_cpus(void)
{
    return (int)bl_num_cpus();
}

/* The instance of a per-CPU map, or NULL with the reason in *rc. */
static struct bl_map *percpu_map(bpflua_object *obj, size_t map, int *rc)
{
    struct bl_map *m = object_map(obj, map, rc);
    if (m && !bl_map_type_percpu(m->def.type)) {
        *rc = -EINVAL;
        return NULL;
    }
    return m;
}

int bpflua_map_lookup_percpu(bpflua_object *obj, size_t map, const void *key, void *values)
{
    int rc = 0;
    struct bl_map *m = percpu_map(obj, map, &rc);
    if (!m)
        return rc;
    if (!key || !values)
        return -EINVAL;
    size_t stride = bl_round8(m->def.value_size);
    for (uint32_t c = 0; c < m->ncpus; c++) {
        const void *v = bl_map_lookup_cpu(m, key, c);
        if (!v)
            return -ENOENT;
        memcpy((unsigned char *)values + c * stride, v, m->def.value_size);
        memset((unsigned char *)values + c * stride + m->def.value_size, 0,
               stride - m->def.value_size);
    }
    return 0;
}

int bpflua_map_update_percpu(bpflua_object *obj, size_t map, const void *key,
                             const void *values, uint64_t flags)
{
    int rc = 0;
    struct bl_map *m = percpu_map(obj, map, &rc);
    return m ? bl_map_update_cpus(m, key, values, flags, 0) : rc;
}

int bpflua_map_lookup_cpu(bpflua_object *obj, size_t map, const void *key, uint32_t cpu,
                          void *value)
{
    int rc = 0;
    struct bl_map *m = object_map(obj, map, &rc);
    if (!m)
        return rc;
    if (!key || !value || cpu >= m->ncpus)
        return -EINVAL;
    if (m->def.type == BPFLUA_MAP_RINGBUF)
        return -EOPNOTSUPP;
    if (m->of_maps)
        return cpu ? -EINVAL : of_maps_lookup(obj, m, key, value);
    const void *v = bl_map_lookup_cpu(m, key, cpu);
    if (!v)
        return -ENOENT;
    memcpy(value, v, m->def.value_size);
    return 0;
}

int bpflua_map_update_cpu(bpflua_object *obj, size_t map, const void *key, uint32_t cpu,
                          const void *value, uint64_t flags)
{
    int rc = 0;
    struct bl_map *m = percpu_map(obj, map, &rc);
    if (!m)
        return rc;
    if (!key || !value || cpu >= m->ncpus)
        return -EINVAL;
    return percpu_update(m, key, value, flags, (int)cpu, 0);
}

int bpflua_map_delete(bpflua_object *obj, size_t map, const void *key)
{
    int rc = 0;
    struct bl_map *m = object_map(obj, map, &rc);
    if (m && key && m->def.type == BPFLUA_MAP_ARRAY_OF_MAPS) {
        /* the kernel empties the slot (fd arrays): -ENOENT if it was */
        const void *v = bl_map_lookup_sys(m, key);
        struct bl_map *inner = NULL;
        if (!v)
            return -E2BIG;
        memcpy(&inner, v, sizeof inner);
        if (!inner)
            return -ENOENT;
        inner = NULL;
        return m->ops->update(m, key, &inner, BL_ANY);
    }
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

int bpflua_map_pop(bpflua_object *obj, size_t map, void *value)
{
    int rc = 0;
    struct bl_map *m = object_map(obj, map, &rc);
    return m ? bl_map_pop(m, value) : rc;
}
