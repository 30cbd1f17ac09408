/* map_slots.c - maps of numbered slots that name kernel objects:
 * prog_array (programs for bpf_tail_call), perf_event_array (perf events
 * for bpf_perf_event_output), devmap, cpumap and xskmap (devices, CPUs and
 * AF_XDP sockets for bpf_redirect_map) and stack_trace (stacks by
 * bpf_get_stackid's id).
 *
 * In the kernel a slot holds an object found by a file descriptor; in the
 * sandbox it holds the value bytes as given (a prog_array slot the index
 * of a program of the same object, a devmap slot an ifindex, a cpumap slot
 * a queue size, ...), and a slot is filled or empty. Errnos are the
 * kernel's per type (kernel/bpf/arraymap.c fd arrays, devmap.c, cpumap.c,
 * xskmap.c, stackmap.c); cgroup_array (cgroups for bpf_skb_under_cgroup)
 * and sockmap (sockets for bpf_sk_redirect_map) behave as fd arrays do. perf_event_array slots 0 to n_cpus-1 start filled,
 * as after libbpf's perf_buffer__new: the sandbox's reader is always
 * there, and records go to a queue the command and the Lua module drain
 * (bl_ringbuf_pop). next_key walks every index, filled or not, as the
 * kernel's arrays do; stack_trace walks the filled ids.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "map_impl.h"

#define PERF_QUEUE_BYTES (1u << 20) /* records waiting for the reader */

struct slots_map {
    struct bl_map map;
    uint8_t *live;
    struct bl_map_values values;
    struct bl_map *records;   /* perf_event_array: a ring buffer of [u32 cpu][data] */
};

static struct slots_map *as_slots(struct bl_map *m)
{
    return (struct slots_map *)m;
}

static uint32_t key_index(const void *key)
{
    uint32_t i;
    memcpy(&i, key, 4);
    return i;
}

static int fd_array(uint32_t type)
{
    return type == BPFLUA_MAP_PROG_ARRAY || type == BPFLUA_MAP_PERF_EVENT_ARRAY ||
           type == BPFLUA_MAP_CGROUP_ARRAY || type == BPFLUA_MAP_SOCKMAP;
}

static void *slots_lookup(struct bl_map *m, const void *key, int touch)
{
    struct slots_map *s = as_slots(m);
    uint32_t i = key_index(key);
    return i < m->def.max_entries && s->live[i] ? bl_map_value(&s->values, i) : NULL;
}

static int slots_update(struct bl_map *m, const void *key, const void *value, uint64_t flags)
{
    struct slots_map *s = as_slots(m);
    uint32_t i = key_index(key), type = m->def.type;
    if (type == BPFLUA_MAP_STACK_TRACE)
        return -EINVAL; /* only bpf_get_stackid fills it */
    if (fd_array(type) ? flags != BL_ANY : flags > BL_EXIST)
        return -EINVAL;
    if (i >= m->def.max_entries)
        return -E2BIG;
    if (type == BPFLUA_MAP_XSKMAP) {
        if (s->live[i] && flags == BL_NOEXIST)
            return -EEXIST;
        if (!s->live[i] && flags == BL_EXIST)
            return -ENOENT;
    } else if (flags == BL_NOEXIST) {
        return -EEXIST; /* devmap, cpumap: every index exists */
    }
    memmove(bl_map_value(&s->values, i), value, m->def.value_size);
    s->live[i] = 1;
    /* a cpumap entry of queue size 0 is no entry (cpumap.c) */
    if (type == BPFLUA_MAP_CPUMAP) {
        uint32_t qsize;
        memcpy(&qsize, value, 4);
        s->live[i] = qsize != 0;
    }
    return 0;
}

static int slots_delete(struct bl_map *m, const void *key)
{
    struct slots_map *s = as_slots(m);
    uint32_t i = key_index(key);
    if (i >= m->def.max_entries)
        return fd_array(m->def.type) ? -E2BIG : -EINVAL;
    int was = s->live[i];
    s->live[i] = 0;
    if (!was && (fd_array(m->def.type) || m->def.type == BPFLUA_MAP_STACK_TRACE))
        return -ENOENT;
    return 0;
}

static int slots_next_key(struct bl_map *m, const void *key, void *next_key)
{
    struct slots_map *s = as_slots(m);
    uint32_t max = m->def.max_entries, i = key ? key_index(key) : UINT32_MAX, next;
    if (m->def.type == BPFLUA_MAP_STACK_TRACE) {
        next = i >= max ? 0 : i + 1;
        while (next < max && !s->live[next])
            next++;
        if (next >= max)
            return -ENOENT;
    } else if (i >= max) {
        next = 0;
    } else if (i == max - 1) {
        return -ENOENT;
    } else {
        next = i + 1;
    }
    memcpy(next_key, &next, 4);
    return 0;
}

static void slots_free(struct bl_map *m)
{
    struct slots_map *s = as_slots(m);
    free(s->live);
    bl_map_values_free(&s->values);
    bl_map_free(s->records);
    free(s);
}

static int slots_check(struct bl_map *m)
{
    return bl_map_values_check(&as_slots(m)->values);
}

static const struct bl_map_ops slots_ops = {
    slots_lookup, slots_update, slots_delete, slots_next_key, NULL, slots_free, NULL,
};
static const struct bl_map_ops slots_ops_guarded = {
    slots_lookup, slots_update, slots_delete, slots_next_key, NULL, slots_free, slots_check,
};

int bl_slots_check(const struct bl_map_def *d, char **err)
{
    uint32_t type = d->type, vs = d->value_size;
    const char *name = bl_map_type_name(type);
    if (d->key_size != 4) {
        bl_set_err(err, "map '%s': %s keys are 4 bytes (u32), not %u", d->name, name, d->key_size);
        return -EINVAL;
    }
    int value_ok = type == BPFLUA_MAP_STACK_TRACE ? vs && vs % 8 == 0 && vs <= 8 * 127
                 : type == BPFLUA_MAP_DEVMAP || type == BPFLUA_MAP_CPUMAP ||
                   type == BPFLUA_MAP_SOCKMAP ? vs == 4 || vs == 8
                 : vs == 4;
    if (!value_ok) {
        bl_set_err(err, "map '%s': %s values cannot be %u bytes (%s)", d->name, name, vs,
                   type == BPFLUA_MAP_STACK_TRACE ? "8 per frame, at most 127 frames"
                   : type == BPFLUA_MAP_DEVMAP || type == BPFLUA_MAP_CPUMAP ? "4 or 8" : "4");
        return -EINVAL;
    }
    /* perf_event_array: 0 entries means one per CPU, as libbpf makes it */
    if (d->max_entries == 0 && type != BPFLUA_MAP_PERF_EVENT_ARRAY) {
        bl_set_err(err, "map '%s': max_entries must be > 0", d->name);
        return -EINVAL;
    }
    if (d->flags) {
        bl_set_err(err, "map '%s': unsupported %s map flags 0x%x", d->name, name, d->flags);
        return -EINVAL;
    }
    if ((uint64_t)d->max_entries * (bl_round8(vs) + 1) > BL_MAP_MAX_BYTES) {
        bl_set_err(err, "map '%s': %u entries of %u bytes exceed the %llu MiB limit per map",
                   d->name, d->max_entries, vs, BL_MAP_MAX_BYTES >> 20);
        return -E2BIG;
    }
    return 0;
}

struct bl_map *bl_slots_create(const struct bl_map_def *d, char **err)
{
    struct slots_map *s = calloc(1, sizeof *s);
    struct bl_map_def def = *d;
    int guarded = bl_guard_default();
    if (def.type == BPFLUA_MAP_PERF_EVENT_ARRAY && !def.max_entries)
        def.max_entries = bl_num_cpus();
    int rc = -ENOMEM;
    if (s) {
        s->live = calloc(def.max_entries, 1);
        rc = bl_map_values_alloc(&s->values, def.value_size, def.max_entries, guarded);
        if (def.type == BPFLUA_MAP_PERF_EVENT_ARRAY) {
            struct bl_map_def q = def;
            q.type = BPFLUA_MAP_RINGBUF;
            q.key_size = q.value_size = 0;
            q.max_entries = PERF_QUEUE_BYTES;
            s->records = bl_ringbuf_create(&q, NULL);
        }
    }
    if (!s || !s->live || rc < 0 || (def.type == BPFLUA_MAP_PERF_EVENT_ARRAY && !s->records)) {
        if (s) {
            free(s->live);
            if (rc == 0)
                bl_map_values_free(&s->values);
            bl_map_free(s->records);
            free(s);
        }
        bl_set_err(err, "map '%s': out of memory", d->name);
        return NULL;
    }
    s->map.def = def;
    s->map.ops = guarded ? &slots_ops_guarded : &slots_ops;
    s->map.ncpus = 1;
    if (def.type == BPFLUA_MAP_PERF_EVENT_ARRAY)
        for (uint32_t i = 0; i < def.max_entries && i < bl_num_cpus(); i++) {
            s->live[i] = 1;
            memcpy(bl_map_value(&s->values, i), &i, 4);
        }
    return &s->map;
}

int bl_perf_output_impl(struct bl_map *m, uint64_t flags, const void *data, uint64_t size)
{
    struct slots_map *s = as_slots(m);
    uint64_t index = flags & 0xffffffffull;
    if (flags & ~0xffffffffull)
        return -EINVAL; /* BPF_F_CTXLEN_MASK (appending the packet): not supported here */
    if (index == 0xffffffffull) /* BPF_F_CURRENT_CPU */
        index = bl_run_cpu();
    if (index >= m->def.max_entries)
        return -E2BIG;
    if (!s->live[index])
        return -ENOENT;
    if (size > PERF_QUEUE_BYTES - 16)
        return -E2BIG;
    /* a reader gets the kernel's raw sample: its size rounded so that the
     * size word and the data fill whole 8-byte units, zero-padded */
    uint64_t padded = ((size + 4 + 7) & ~(uint64_t)7) - 4;
    unsigned char *rec = calloc(1, padded + 4);
    if (!rec)
        return -ENOMEM;
    uint32_t cpu = (uint32_t)index;
    memcpy(rec, &cpu, 4);
    if (size)
        memcpy(rec + 4, data, size);
    /* a full queue loses the record, as a full perf buffer does */
    int rc = bl_ringbuf_output(s->records, rec, padded + 4, 0);
    free(rec);
    return rc == -EAGAIN ? -ENOSPC : rc;
}

int bl_perf_pop_impl(struct bl_map *m, void *buf, size_t cap, uint32_t *cpu)
{
    struct slots_map *s = as_slots(m);
    if (cap > PERF_QUEUE_BYTES)
        cap = PERF_QUEUE_BYTES;
    unsigned char *rec = malloc(cap + 4);
    if (!rec)
        return -ENOMEM;
    int n = bl_ringbuf_pop(s->records, rec, cap + 4);
    if (n >= 4) {
        if (cpu)
            memcpy(cpu, rec, 4);
        if (n > 4)
            memcpy(buf, rec + 4, (size_t)n - 4);
        n -= 4;
    }
    free(rec);
    return n;
}
