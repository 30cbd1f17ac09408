/* helpers_maps.c - the helpers that act on the special map types:
 * bpf_tail_call (prog_array), bpf_perf_event_output (perf_event_array),
 * bpf_redirect_map (devmap, devmap_hash, cpumap, xskmap), bpf_get_stackid
 * (stack_trace), bpf_map_push/pop/peek_elem (queue, stack) and
 * bpf_get_local_storage (cgroup_storage, percpu_cgroup_storage),
 * bpf_sk_storage_get/delete (sk_storage).
 * Their prototypes are in helpers.c's table.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../core/object.h"
#include "helper_impl.h"
#include "maps.h"

#define MAX_TAIL_CALLS 33 /* MAX_TAIL_CALL_CNT */

/* The program at prog_array[index] replaces the running one: recorded in
 * env, the engine ends the run (env->fault) and the runner starts that
 * program on the same context. A missing slot, a slot naming no program,
 * or the 34th tail call of a run fail, and the program goes on, as in
 * the kernel. */
uint64_t bl_helper_tail_call(uint64_t ctx, uint64_t map, uint64_t index, uint64_t r4,
                             uint64_t r5, struct bpflua_run_env *env)
{
    struct bl_map *m = (struct bl_map *)(uintptr_t)map;
    uint32_t key = (uint32_t)index;
    if (!env || !env->obj || bl_map_def(m)->type != BPFLUA_MAP_PROG_ARRAY ||
        env->tail_calls >= MAX_TAIL_CALLS)
        return (uint64_t)(int64_t)-ENOENT;
    const uint32_t *prog = bl_map_lookup_sys(m, &key);
    if (!prog || *prog >= env->obj->n_progs)
        return (uint64_t)(int64_t)-ENOENT;
    env->tail_calls++;
    env->tail_prog = *prog + 1;
    env->fault = 1;
    return 0;
}

/* The packet types (the kernel's bpf_skb_event_output / bpf_xdp_event_output)
 * may append the first (flags >> 32) bytes of the packet to the record: OVS
 * and Cilium send headers with their events this way. The sandbox's context
 * structs of those types start with the packet's data and data_end
 * (env->packet_ctx). */
uint64_t bl_helper_perf_event_output(uint64_t ctx, uint64_t map, uint64_t flags, uint64_t data,
                                     uint64_t size, struct bpflua_run_env *env)
{
    uint64_t ctx_len = flags >> 32;
    if (!ctx_len || !env || !env->packet_ctx || !ctx)
        return (uint64_t)(int64_t)bl_perf_output((struct bl_map *)(uintptr_t)map, flags,
                                                 (const void *)(uintptr_t)data, size);
    if (ctx_len > 0xfffff) /* BPF_F_CTXLEN_MASK: 20 bits */
        return (uint64_t)(int64_t)-EINVAL;
    const uint64_t *pkt = (const uint64_t *)(uintptr_t)ctx; /* data, data_end */
    if (pkt[1] < pkt[0] || ctx_len > pkt[1] - pkt[0])
        return (uint64_t)(int64_t)-EFAULT;
    unsigned char *rec = malloc(size + ctx_len);
    if (!rec)
        return (uint64_t)(int64_t)-ENOMEM;
    if (size)
        memcpy(rec, (const void *)(uintptr_t)data, size);
    memcpy(rec + size, (const void *)(uintptr_t)pkt[0], ctx_len);
    int rc = bl_perf_output((struct bl_map *)(uintptr_t)map, flags & 0xffffffffull, rec,
                            size + ctx_len);
    free(rec);
    return (uint64_t)(int64_t)rc;
}

#define XDP_ACTION_MASK 3ull      /* XDP_ABORTED, DROP, PASS, TX: the fallback */
#define F_BROADCAST (1ull << 3)   /* BPF_F_BROADCAST */
#define F_EXCLUDE_INGRESS (1ull << 4)
#define XDP_REDIRECT 4

uint64_t bl_helper_redirect_map(uint64_t map, uint64_t key, uint64_t flags, uint64_t r4,
                                uint64_t r5, struct bpflua_run_env *env)
{
    struct bl_map *m = (struct bl_map *)(uintptr_t)map;
    uint32_t type = bl_map_def(m)->type;
    int devmap = type == BPFLUA_MAP_DEVMAP || type == BPFLUA_MAP_DEVMAP_HASH;
    uint64_t allowed = XDP_ACTION_MASK | (devmap ? F_BROADCAST | F_EXCLUDE_INGRESS : 0);
    if (flags & ~allowed)
        return 0; /* XDP_ABORTED */
    uint32_t k = (uint32_t)key;
    const void *target = bl_map_lookup_sys(m, &k);
    if (!target && !(flags & F_BROADCAST))
        return flags & XDP_ACTION_MASK;
    if (env)
        env->redirect_key = (uint64_t)k + 1;
    return XDP_REDIRECT;
}

#define STACK_FLAGS 0x7ffull /* skip count, BPF_F_USER_STACK, FAST_STACK_CMP, REUSE_STACKID */

/* The sandbox has no kernel or user stack to walk: -EFAULT, what the
 * kernel returns when it finds no frames. */
uint64_t bl_helper_get_stackid(uint64_t ctx, uint64_t map, uint64_t flags, uint64_t r4,
                               uint64_t r5, struct bpflua_run_env *env)
{
    return (uint64_t)(int64_t)(flags & ~STACK_FLAGS ? -EINVAL : -EFAULT);
}

uint64_t bl_helper_map_push_elem(uint64_t map, uint64_t value, uint64_t flags, uint64_t r4,
                                 uint64_t r5, struct bpflua_run_env *env)
{
    return (uint64_t)(int64_t)bl_map_push((struct bl_map *)(uintptr_t)map,
                                          (const void *)(uintptr_t)value, flags);
}

uint64_t bl_helper_map_pop_elem(uint64_t map, uint64_t value, uint64_t r3, uint64_t r4,
                                uint64_t r5, struct bpflua_run_env *env)
{
    return (uint64_t)(int64_t)bl_map_pop((struct bl_map *)(uintptr_t)map,
                                         (void *)(uintptr_t)value);
}

uint64_t bl_helper_map_peek_elem(uint64_t map, uint64_t value, uint64_t r3, uint64_t r4,
                                 uint64_t r5, struct bpflua_run_env *env)
{
    return (uint64_t)(int64_t)bl_map_peek((struct bl_map *)(uintptr_t)map,
                                          (void *)(uintptr_t)value);
}

/* The storage of the cgroup the program runs for: the sandbox's one
 * cgroup, id 0 (map_cgroup.c); for the per-CPU type, the run's CPU's copy.
 * The verifier checked the map's type and that flags are 0, and types the
 * result as never NULL, as the kernel's is: a map created for the object
 * always has that storage. */
uint64_t bl_helper_get_local_storage(uint64_t map, uint64_t flags, uint64_t r3, uint64_t r4,
                                     uint64_t r5, struct bpflua_run_env *env)
{
    static const uint64_t key[2]; /* cgroup id 0 (struct bpf_cgroup_storage_key) */
    return (uint64_t)(uintptr_t)bl_map_lookup((struct bl_map *)(uintptr_t)map, key);
}

/* sk's value in an sk_storage map (map_sk_storage.c): the sandbox's
 * sockets are the run's (skb->sk), and their storage goes with the run */
uint64_t bl_helper_sk_storage_get(uint64_t map, uint64_t sk, uint64_t value, uint64_t flags,
                                  uint64_t r5, struct bpflua_run_env *env)
{
    return (uint64_t)(uintptr_t)bl_sk_storage_get((struct bl_map *)(uintptr_t)map, sk,
                                                  (const void *)(uintptr_t)value, flags);
}

uint64_t bl_helper_sk_storage_delete(uint64_t map, uint64_t sk, uint64_t r3, uint64_t r4,
                                     uint64_t r5, struct bpflua_run_env *env)
{
    return (uint64_t)(int64_t)bl_sk_storage_delete((struct bl_map *)(uintptr_t)map, sk);
}
