/* helpers.c - helper functions by kernel id: their prototypes (data the
 * verifier and the compiler read), their implementations, and the registry
 * through which embedders add their own.
 *
 * Conventions follow kernel/bpf/helpers.c: a helper gets R1-R5 and returns
 * R0; errors are negative errnos in R0; map helpers get the runtime
 * `struct bl_map *` in R1 (the loader put it in the map lddw).
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "../core/object.h"
#include "../core/progtype.h"
#include "helper_impl.h"
#include "helpers.h"
#include "maps.h"

/* ---- implementations --------------------------------------------------- */

static struct bl_map *as_map(uint64_t r)
{
    return (struct bl_map *)(uintptr_t)r;
}

static void *as_ptr(uint64_t r)
{
    return (void *)(uintptr_t)r;
}

static uint64_t helper_map_lookup_elem(uint64_t map, uint64_t key, uint64_t r3,
                                       uint64_t r4, uint64_t r5, struct bpflua_run_env *env)
{
    return (uint64_t)(uintptr_t)bl_map_lookup(as_map(map), as_ptr(key));
}

static uint64_t helper_map_update_elem(uint64_t map, uint64_t key, uint64_t value,
                                       uint64_t flags, uint64_t r5, struct bpflua_run_env *env)
{
    return (uint64_t)(int64_t)bl_map_update(as_map(map), as_ptr(key), as_ptr(value), flags);
}

static uint64_t helper_map_delete_elem(uint64_t map, uint64_t key, uint64_t r3,
                                       uint64_t r4, uint64_t r5, struct bpflua_run_env *env)
{
    return (uint64_t)(int64_t)bl_map_delete(as_map(map), as_ptr(key));
}

static uint64_t helper_ktime_get_ns(uint64_t r1, uint64_t r2, uint64_t r3,
                                    uint64_t r4, uint64_t r5, struct bpflua_run_env *env)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t helper_trace_printk(uint64_t fmt, uint64_t fmt_size, uint64_t a1,
                                    uint64_t a2, uint64_t a3, struct bpflua_run_env *env)
{
    const uint64_t args[3] = {a1, a2, a3};
    struct bl_strbuf *trace = env && env->obj ? &env->obj->trace : NULL;
    return (uint64_t)(int64_t)bl_trace_printk(trace, as_ptr(fmt), (uint32_t)fmt_size, args);
}

/* xorshift64*: fast, and good enough for sampling decisions; per thread
 * so concurrent runs do not race on the state. */
static _Thread_local uint64_t prandom_state;

void bl_prandom_seed(uint64_t seed)
{
    prandom_state = seed ? seed : 0x9e3779b97f4a7c15ull;
}

static uint64_t helper_get_prandom_u32(uint64_t r1, uint64_t r2, uint64_t r3,
                                       uint64_t r4, uint64_t r5, struct bpflua_run_env *env)
{
    if (!prandom_state)
        bl_prandom_seed(helper_ktime_get_ns(0, 0, 0, 0, 0, NULL) ^ (uintptr_t)&prandom_state);
    uint64_t x = prandom_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    prandom_state = x;
    return (uint32_t)((x * 0x2545f4914f6cdd1dull) >> 32);
}

static uint64_t helper_get_smp_processor_id(uint64_t r1, uint64_t r2, uint64_t r3,
                                            uint64_t r4, uint64_t r5, struct bpflua_run_env *env)
{
    return bl_run_cpu(); /* the CPU whose per-CPU map slots the run sees */
}

static uint64_t helper_ringbuf_output(uint64_t map, uint64_t data, uint64_t size,
                                      uint64_t flags, uint64_t r5, struct bpflua_run_env *env)
{
    return (uint64_t)(int64_t)bl_ringbuf_output(as_map(map), as_ptr(data), size, flags);
}

struct for_each_call {
    struct bpflua_run_env *env;
    uint64_t callback, ctx;
};

static int for_each_step(struct bl_map *m, void *key, void *value, void *arg)
{
    struct for_each_call *c = arg;
    uint64_t ret = c->env->call(c->env, c->callback, (uintptr_t)m, (uintptr_t)key,
                                (uintptr_t)value, c->ctx, 0);
    return ret != 0 || c->env->fault;
}

static uint64_t helper_for_each_map_elem(uint64_t map, uint64_t callback, uint64_t ctx,
                                         uint64_t flags, uint64_t r5, struct bpflua_run_env *env)
{
    if (flags)
        return (uint64_t)(int64_t)-EINVAL;
    if (!map || !env || !env->call)
        return (uint64_t)(int64_t)-EINVAL;
    struct for_each_call c = {env, callback, ctx};
    return (uint64_t)bl_map_for_each(as_map(map), for_each_step, &c);
}

static uint64_t helper_loop(uint64_t nr_loops, uint64_t callback, uint64_t ctx,
                            uint64_t flags, uint64_t r5, struct bpflua_run_env *env)
{
    /* the helper's nr_loops is a u32, as the kernel's bpf_loop: the upper
     * half is ignored (the kernel's inlined form compares all 64 bits) */
    uint32_t n = (uint32_t)nr_loops;
    if (flags)
        return (uint64_t)(int64_t)-EINVAL;
    if (n > BL_MAX_LOOPS)
        return (uint64_t)(int64_t)-E2BIG;
    if (!env || !env->call)
        return (uint64_t)(int64_t)-EINVAL;
    uint32_t i;
    for (i = 0; i < n; i++) {
        uint64_t ret = env->call(env, callback, i, ctx, 0, 0, 0);
        if (ret != 0 || env->fault)
            return (uint64_t)i + 1;
    }
    return i;
}

/* ---- prototypes ---------------------------------------------------------- */

#define A(x) BPFLUA_ARG_##x

static const struct bpflua_helper builtin_helpers[] = {
    {BL_HELPER_MAP_LOOKUP_ELEM, "map_lookup_elem", helper_map_lookup_elem,
     BPFLUA_RET_PTR_TO_MAP_VALUE_OR_NULL, {A(CONST_MAP_PTR), A(PTR_TO_MAP_KEY)}},
    {BL_HELPER_MAP_UPDATE_ELEM, "map_update_elem", helper_map_update_elem,
     BPFLUA_RET_INTEGER,
     {A(CONST_MAP_PTR), A(PTR_TO_MAP_KEY), A(PTR_TO_MAP_VALUE), A(ANYTHING)}},
    {BL_HELPER_MAP_DELETE_ELEM, "map_delete_elem", helper_map_delete_elem,
     BPFLUA_RET_INTEGER, {A(CONST_MAP_PTR), A(PTR_TO_MAP_KEY)}},
    {BL_HELPER_KTIME_GET_NS, "ktime_get_ns", helper_ktime_get_ns, BPFLUA_RET_INTEGER, {0}},
    {BL_HELPER_TRACE_PRINTK, "trace_printk", helper_trace_printk, BPFLUA_RET_INTEGER,
     {A(PTR_TO_MEM), A(CONST_SIZE), A(ANYTHING), A(ANYTHING), A(ANYTHING)}},
    {BL_HELPER_GET_PRANDOM_U32, "get_prandom_u32", helper_get_prandom_u32,
     BPFLUA_RET_INTEGER, {0}},
    {BL_HELPER_GET_SMP_PROCESSOR_ID, "get_smp_processor_id", helper_get_smp_processor_id,
     BPFLUA_RET_INTEGER, {0}},
    {BL_HELPER_RINGBUF_OUTPUT, "ringbuf_output", helper_ringbuf_output, BPFLUA_RET_INTEGER,
     {A(CONST_MAP_PTR), A(PTR_TO_MEM), A(CONST_SIZE_OR_ZERO), A(ANYTHING)}},
    {BL_HELPER_FOR_EACH_MAP_ELEM, "for_each_map_elem", helper_for_each_map_elem,
     BPFLUA_RET_INTEGER,
     {A(CONST_MAP_PTR), A(PTR_TO_FUNC), A(PTR_TO_STACK_OR_NULL), A(ANYTHING)}},
    {BL_HELPER_LOOP, "loop", helper_loop, BPFLUA_RET_INTEGER,
     {A(ANYTHING), A(PTR_TO_FUNC), A(PTR_TO_STACK_OR_NULL), A(ANYTHING)}},
    /* helpers_maps.c */
    {BL_HELPER_TAIL_CALL, "tail_call", bl_helper_tail_call, BPFLUA_RET_VOID,
     {A(PTR_TO_CTX), A(CONST_MAP_PTR), A(ANYTHING)}},
    {BL_HELPER_PERF_EVENT_OUTPUT, "perf_event_output", bl_helper_perf_event_output,
     BPFLUA_RET_INTEGER,
     {A(PTR_TO_CTX), A(CONST_MAP_PTR), A(ANYTHING), A(PTR_TO_MEM), A(CONST_SIZE_OR_ZERO)}},
    {BL_HELPER_REDIRECT_MAP, "redirect_map", bl_helper_redirect_map, BPFLUA_RET_INTEGER,
     {A(CONST_MAP_PTR), A(ANYTHING), A(ANYTHING)}},
    {BL_HELPER_GET_STACKID, "get_stackid", bl_helper_get_stackid, BPFLUA_RET_INTEGER,
     {A(PTR_TO_CTX), A(CONST_MAP_PTR), A(ANYTHING)}},
    {BL_HELPER_MAP_PUSH_ELEM, "map_push_elem", bl_helper_map_push_elem, BPFLUA_RET_INTEGER,
     {A(CONST_MAP_PTR), A(PTR_TO_MAP_VALUE), A(ANYTHING)}},
    {BL_HELPER_MAP_POP_ELEM, "map_pop_elem", bl_helper_map_pop_elem, BPFLUA_RET_INTEGER,
     {A(CONST_MAP_PTR), A(PTR_TO_UNINIT_MAP_VALUE)}},
    {BL_HELPER_MAP_PEEK_ELEM, "map_peek_elem", bl_helper_map_peek_elem, BPFLUA_RET_INTEGER,
     {A(CONST_MAP_PTR), A(PTR_TO_UNINIT_MAP_VALUE)}},
    /* never NULL (the verifier knows; flags must be 0) */
    {BL_HELPER_GET_LOCAL_STORAGE, "get_local_storage", bl_helper_get_local_storage,
     BPFLUA_RET_PTR_TO_MAP_VALUE_OR_NULL, {A(CONST_MAP_PTR), A(ANYTHING)}},
    {BL_HELPER_SK_STORAGE_GET, "sk_storage_get", bl_helper_sk_storage_get,
     BPFLUA_RET_PTR_TO_MAP_VALUE_OR_NULL,
     {A(CONST_MAP_PTR), A(PTR_TO_SOCK_COMMON), A(PTR_TO_MAP_VALUE_OR_NULL), A(ANYTHING)}},
    {BL_HELPER_SK_STORAGE_DELETE, "sk_storage_delete", bl_helper_sk_storage_delete,
     BPFLUA_RET_INTEGER, {A(CONST_MAP_PTR), A(PTR_TO_SOCK_COMMON)}},
    /* helpers_trace.c */
    {BL_HELPER_GET_CURRENT_PID_TGID, "get_current_pid_tgid", bl_helper_get_current_pid_tgid,
     BPFLUA_RET_INTEGER, {0}},
    {BL_HELPER_GET_CURRENT_UID_GID, "get_current_uid_gid", bl_helper_get_current_uid_gid,
     BPFLUA_RET_INTEGER, {0}},
    {BL_HELPER_GET_CURRENT_COMM, "get_current_comm", bl_helper_get_current_comm,
     BPFLUA_RET_INTEGER, {A(PTR_TO_UNINIT_MEM), A(CONST_SIZE)}},
    {BL_HELPER_PROBE_READ, "probe_read", bl_helper_probe_read, BPFLUA_RET_INTEGER,
     {A(PTR_TO_UNINIT_MEM), A(CONST_SIZE_OR_ZERO), A(ANYTHING)}},
    {BL_HELPER_PROBE_READ_USER, "probe_read_user", bl_helper_probe_read, BPFLUA_RET_INTEGER,
     {A(PTR_TO_UNINIT_MEM), A(CONST_SIZE_OR_ZERO), A(ANYTHING)}},
    {BL_HELPER_PROBE_READ_KERNEL, "probe_read_kernel", bl_helper_probe_read, BPFLUA_RET_INTEGER,
     {A(PTR_TO_UNINIT_MEM), A(CONST_SIZE_OR_ZERO), A(ANYTHING)}},
    {BL_HELPER_PROBE_READ_STR, "probe_read_str", bl_helper_probe_read_str, BPFLUA_RET_INTEGER,
     {A(PTR_TO_UNINIT_MEM), A(CONST_SIZE_OR_ZERO), A(ANYTHING)}},
    {BL_HELPER_PROBE_READ_USER_STR, "probe_read_user_str", bl_helper_probe_read_str,
     BPFLUA_RET_INTEGER, {A(PTR_TO_UNINIT_MEM), A(CONST_SIZE_OR_ZERO), A(ANYTHING)}},
    {BL_HELPER_PROBE_READ_KERNEL_STR, "probe_read_kernel_str", bl_helper_probe_read_str,
     BPFLUA_RET_INTEGER, {A(PTR_TO_UNINIT_MEM), A(CONST_SIZE_OR_ZERO), A(ANYTHING)}},
    {BL_HELPER_KTIME_GET_BOOT_NS, "ktime_get_boot_ns", bl_helper_ktime_get_boot_ns,
     BPFLUA_RET_INTEGER, {0}},
    {BL_HELPER_KTIME_GET_COARSE_NS, "ktime_get_coarse_ns", bl_helper_ktime_get_coarse_ns,
     BPFLUA_RET_INTEGER, {0}},
    {BL_HELPER_GET_NUMA_NODE_ID, "get_numa_node_id", bl_helper_get_numa_node_id,
     BPFLUA_RET_INTEGER, {0}},
    {BL_HELPER_CSUM_DIFF, "csum_diff", bl_helper_csum_diff, BPFLUA_RET_INTEGER,
     {A(PTR_TO_MEM_OR_NULL), A(CONST_SIZE_OR_ZERO), A(PTR_TO_MEM_OR_NULL), A(CONST_SIZE_OR_ZERO),
      A(ANYTHING)}},
    {22, "perf_event_read", bl_helper_perf_event_read, BPFLUA_RET_INTEGER,
     {A(CONST_MAP_PTR), A(ANYTHING)}},
    {55, "perf_event_read_value", bl_helper_perf_event_read_value, BPFLUA_RET_INTEGER,
     {A(CONST_MAP_PTR), A(ANYTHING), A(PTR_TO_UNINIT_MEM), A(CONST_SIZE)}},
    {67, "get_stack", bl_helper_get_stack, BPFLUA_RET_INTEGER,
     {A(PTR_TO_CTX), A(PTR_TO_UNINIT_MEM), A(CONST_SIZE_OR_ZERO), A(ANYTHING)}},
    {36, "probe_write_user", bl_helper_probe_write_user, BPFLUA_RET_INTEGER,
     {A(ANYTHING), A(PTR_TO_MEM), A(CONST_SIZE)}},
    {35, "get_current_task", bl_helper_zero, BPFLUA_RET_INTEGER, {0}},
    {80, "get_current_cgroup_id", bl_helper_zero, BPFLUA_RET_INTEGER, {0}},
    {173, "get_func_ip", bl_helper_zero, BPFLUA_RET_INTEGER, {A(PTR_TO_CTX)}},
    {174, "get_attach_cookie", bl_helper_zero, BPFLUA_RET_INTEGER, {A(PTR_TO_CTX)}},
    {208, "ktime_get_tai_ns", bl_helper_ktime_get_tai_ns, BPFLUA_RET_INTEGER, {0}},
    {BL_HELPER_RINGBUF_QUERY, "ringbuf_query", bl_helper_ringbuf_query, BPFLUA_RET_INTEGER,
     {A(CONST_MAP_PTR), A(ANYTHING)}},
    /* helpers_pkt.c: packet contexts (the types that may call them: core descriptors) */
    {26, "skb_load_bytes", bl_helper_skb_load_bytes, BPFLUA_RET_INTEGER,
     {A(PTR_TO_CTX), A(ANYTHING), A(PTR_TO_UNINIT_MEM), A(CONST_SIZE)}},
    {9, "skb_store_bytes", bl_helper_skb_store_bytes, BPFLUA_RET_INTEGER,
     {A(PTR_TO_CTX), A(ANYTHING), A(PTR_TO_MEM), A(CONST_SIZE), A(ANYTHING)}},
    {10, "l3_csum_replace", bl_helper_l3_csum_replace, BPFLUA_RET_INTEGER,
     {A(PTR_TO_CTX), A(ANYTHING), A(ANYTHING), A(ANYTHING), A(ANYTHING)}},
    {11, "l4_csum_replace", bl_helper_l4_csum_replace, BPFLUA_RET_INTEGER,
     {A(PTR_TO_CTX), A(ANYTHING), A(ANYTHING), A(ANYTHING), A(ANYTHING)}},
    {40, "csum_update", bl_helper_csum_update, BPFLUA_RET_INTEGER,
     {A(PTR_TO_CTX), A(ANYTHING)}},
    {23, "redirect", bl_helper_redirect, BPFLUA_RET_INTEGER, {A(ANYTHING), A(ANYTHING)}},
    {13, "clone_redirect", bl_helper_clone_redirect, BPFLUA_RET_INTEGER,
     {A(PTR_TO_CTX), A(ANYTHING), A(ANYTHING)}},
    {188, "xdp_get_buff_len", bl_helper_xdp_get_buff_len, BPFLUA_RET_INTEGER,
     {A(PTR_TO_CTX)}},
    {46, "get_socket_cookie", bl_helper_get_socket_cookie, BPFLUA_RET_INTEGER,
     {A(PTR_TO_CTX)}},
    {47, "get_socket_uid", bl_helper_get_socket_uid, BPFLUA_RET_INTEGER, {A(PTR_TO_CTX)}},
    {17, "get_cgroup_classid", bl_helper_zero, BPFLUA_RET_INTEGER, {A(PTR_TO_CTX)}},
    {24, "get_route_realm", bl_helper_zero, BPFLUA_RET_INTEGER, {A(PTR_TO_CTX)}},
    {69, "fib_lookup", bl_helper_fib_lookup, BPFLUA_RET_INTEGER,
     {A(PTR_TO_CTX), A(PTR_TO_MEM), A(CONST_SIZE), A(ANYTHING)}},
    /* helpers_refs.c: results the verifier tracks as references */
    {BL_HELPER_RINGBUF_RESERVE, "ringbuf_reserve", bl_helper_ringbuf_reserve,
     BPFLUA_RET_PTR_TO_ALLOC_MEM_OR_NULL,
     {A(CONST_MAP_PTR), A(CONST_ALLOC_SIZE_OR_ZERO), A(ANYTHING)}},
    {BL_HELPER_RINGBUF_SUBMIT, "ringbuf_submit", bl_helper_ringbuf_submit, BPFLUA_RET_VOID,
     {A(PTR_TO_ALLOC_MEM_RELEASE), A(ANYTHING)}},
    {BL_HELPER_RINGBUF_DISCARD, "ringbuf_discard", bl_helper_ringbuf_discard, BPFLUA_RET_VOID,
     {A(PTR_TO_ALLOC_MEM_RELEASE), A(ANYTHING)}},
    {BL_HELPER_SPIN_LOCK, "spin_lock", bl_helper_spin_lock, BPFLUA_RET_VOID,
     {A(PTR_TO_SPIN_LOCK)}},
    {BL_HELPER_SPIN_UNLOCK, "spin_unlock", bl_helper_spin_unlock, BPFLUA_RET_VOID,
     {A(PTR_TO_SPIN_LOCK)}},
    {BL_HELPER_SK_LOOKUP_TCP, "sk_lookup_tcp", bl_helper_sk_lookup,
     BPFLUA_RET_PTR_TO_SOCKET_OR_NULL,
     {A(PTR_TO_CTX), A(PTR_TO_MEM), A(CONST_SIZE), A(ANYTHING), A(ANYTHING)}},
    {BL_HELPER_SK_LOOKUP_UDP, "sk_lookup_udp", bl_helper_sk_lookup,
     BPFLUA_RET_PTR_TO_SOCKET_OR_NULL,
     {A(PTR_TO_CTX), A(PTR_TO_MEM), A(CONST_SIZE), A(ANYTHING), A(ANYTHING)}},
    {BL_HELPER_SKC_LOOKUP_TCP, "skc_lookup_tcp", bl_helper_sk_lookup,
     BPFLUA_RET_PTR_TO_SOCK_COMMON_OR_NULL,
     {A(PTR_TO_CTX), A(PTR_TO_MEM), A(CONST_SIZE), A(ANYTHING), A(ANYTHING)}},
    {BL_HELPER_SK_RELEASE, "sk_release", bl_helper_sk_release, BPFLUA_RET_INTEGER,
     {A(PTR_TO_SOCK_RELEASE)}},
    {189, "xdp_load_bytes", bl_helper_xdp_load_bytes, BPFLUA_RET_INTEGER,
     {A(PTR_TO_CTX), A(ANYTHING), A(PTR_TO_UNINIT_MEM), A(CONST_SIZE)}},
    {190, "xdp_store_bytes", bl_helper_xdp_store_bytes, BPFLUA_RET_INTEGER,
     {A(PTR_TO_CTX), A(ANYTHING), A(PTR_TO_MEM), A(CONST_SIZE)}},
    {152, "redirect_neigh", bl_helper_redirect_neigh, BPFLUA_RET_INTEGER,
     {A(ANYTHING), A(PTR_TO_MEM_OR_NULL), A(CONST_SIZE_OR_ZERO), A(ANYTHING)}},
    {155, "redirect_peer", bl_helper_redirect_peer, BPFLUA_RET_INTEGER,
     {A(ANYTHING), A(ANYTHING)}},
    {66, "skb_get_xfrm_state", bl_helper_skb_get_xfrm_state, BPFLUA_RET_INTEGER,
     {A(PTR_TO_CTX), A(ANYTHING), A(PTR_TO_UNINIT_MEM), A(CONST_SIZE), A(ANYTHING)}},
    {118, "jiffies64", bl_helper_jiffies64, BPFLUA_RET_INTEGER, {0}},
    {151, "skb_cgroup_classid", bl_helper_zero, BPFLUA_RET_INTEGER, {A(PTR_TO_CTX)}},
    {83, "skb_ancestor_cgroup_id", bl_helper_zero, BPFLUA_RET_INTEGER,
     {A(PTR_TO_CTX), A(ANYTHING)}},
    {123, "get_current_ancestor_cgroup_id", bl_helper_zero, BPFLUA_RET_INTEGER,
     {A(ANYTHING)}},
    /* helpers_sandbox.c: objects the sandbox does not have */
    {44, "xdp_adjust_head", bl_helper_xdp_adjust_head, BPFLUA_RET_INTEGER,
     {A(PTR_TO_CTX), A(ANYTHING)}},
    {65, "xdp_adjust_tail", bl_helper_xdp_adjust_tail, BPFLUA_RET_INTEGER,
     {A(PTR_TO_CTX), A(ANYTHING)}},
    {54, "xdp_adjust_meta", bl_helper_xdp_adjust_meta, BPFLUA_RET_INTEGER,
     {A(PTR_TO_CTX), A(ANYTHING)}},
    {39, "skb_pull_data", bl_helper_skb_pull_data, BPFLUA_RET_INTEGER,
     {A(PTR_TO_CTX), A(ANYTHING)}},
    {68, "skb_load_bytes_relative", bl_helper_skb_load_bytes_relative, BPFLUA_RET_INTEGER,
     {A(PTR_TO_CTX), A(ANYTHING), A(PTR_TO_UNINIT_MEM), A(CONST_SIZE), A(ANYTHING)}},
    {18, "skb_vlan_push", bl_helper_unsupported, BPFLUA_RET_INTEGER,
     {A(PTR_TO_CTX), A(ANYTHING), A(ANYTHING)}},
    {19, "skb_vlan_pop", bl_helper_unsupported, BPFLUA_RET_INTEGER, {A(PTR_TO_CTX)}},
    {31, "skb_change_proto", bl_helper_unsupported, BPFLUA_RET_INTEGER,
     {A(PTR_TO_CTX), A(ANYTHING), A(ANYTHING)}},
    {32, "skb_change_type", bl_helper_unsupported, BPFLUA_RET_INTEGER,
     {A(PTR_TO_CTX), A(ANYTHING)}},
    {38, "skb_change_tail", bl_helper_unsupported, BPFLUA_RET_INTEGER,
     {A(PTR_TO_CTX), A(ANYTHING), A(ANYTHING)}},
    {43, "skb_change_head", bl_helper_unsupported, BPFLUA_RET_INTEGER,
     {A(PTR_TO_CTX), A(ANYTHING), A(ANYTHING)}},
    {50, "skb_adjust_room", bl_helper_unsupported, BPFLUA_RET_INTEGER,
     {A(PTR_TO_CTX), A(ANYTHING), A(ANYTHING), A(ANYTHING)}},
    {20, "skb_get_tunnel_key", bl_helper_skb_get_tunnel, BPFLUA_RET_INTEGER,
     {A(PTR_TO_CTX), A(PTR_TO_UNINIT_MEM), A(CONST_SIZE), A(ANYTHING)}},
    {21, "skb_set_tunnel_key", bl_helper_unsupported, BPFLUA_RET_INTEGER,
     {A(PTR_TO_CTX), A(PTR_TO_MEM), A(CONST_SIZE), A(ANYTHING)}},
    {29, "skb_get_tunnel_opt", bl_helper_skb_get_tunnel, BPFLUA_RET_INTEGER,
     {A(PTR_TO_CTX), A(PTR_TO_UNINIT_MEM), A(CONST_SIZE)}},
    {30, "skb_set_tunnel_opt", bl_helper_unsupported, BPFLUA_RET_INTEGER,
     {A(PTR_TO_CTX), A(PTR_TO_MEM), A(CONST_SIZE)}},
    /* helpers_net.c */
    {34, "get_hash_recalc", bl_helper_get_hash_recalc, BPFLUA_RET_INTEGER, {A(PTR_TO_CTX)}},
    {41, "set_hash_invalid", bl_helper_set_hash_invalid, BPFLUA_RET_INTEGER, {A(PTR_TO_CTX)}},
    {48, "set_hash", bl_helper_set_hash, BPFLUA_RET_INTEGER, {A(PTR_TO_CTX), A(ANYTHING)}},
    {135, "csum_level", bl_helper_csum_level, BPFLUA_RET_INTEGER, {A(PTR_TO_CTX), A(ANYTHING)}},
    {163, "check_mtu", bl_helper_check_mtu, BPFLUA_RET_INTEGER,
     {A(PTR_TO_CTX), A(ANYTHING), A(PTR_TO_INT), A(ANYTHING), A(ANYTHING)}},
    /* helpers_str.c */
    {165, "snprintf", bl_helper_snprintf, BPFLUA_RET_INTEGER,
     {A(PTR_TO_UNINIT_MEM_OR_NULL), A(CONST_SIZE_OR_ZERO), A(PTR_TO_CONST_STR),
      A(PTR_TO_MEM_OR_NULL), A(CONST_SIZE_OR_ZERO)}},
    {177, "trace_vprintk", bl_helper_trace_vprintk, BPFLUA_RET_INTEGER,
     {A(PTR_TO_MEM), A(CONST_SIZE), A(PTR_TO_MEM_OR_NULL), A(CONST_SIZE_OR_ZERO)}},
    {182, "strncmp", bl_helper_strncmp, BPFLUA_RET_INTEGER,
     {A(PTR_TO_MEM), A(CONST_SIZE), A(PTR_TO_CONST_STR)}},
    {105, "strtol", bl_helper_strtol, BPFLUA_RET_INTEGER,
     {A(PTR_TO_MEM), A(CONST_SIZE), A(ANYTHING), A(PTR_TO_LONG)}},
    {106, "strtoul", bl_helper_strtoul, BPFLUA_RET_INTEGER,
     {A(PTR_TO_MEM), A(CONST_SIZE), A(ANYTHING), A(PTR_TO_LONG)}},
    {120, "get_ns_current_pid_tgid", bl_helper_get_ns_current_pid_tgid, BPFLUA_RET_INTEGER,
     {A(ANYTHING), A(ANYTHING), A(PTR_TO_UNINIT_MEM), A(CONST_SIZE)}},
    {195, "map_lookup_percpu_elem", bl_helper_map_lookup_percpu_elem,
     BPFLUA_RET_PTR_TO_MAP_VALUE_OR_NULL, {A(CONST_MAP_PTR), A(PTR_TO_MAP_KEY), A(ANYTHING)}},
    /* sockets: skb->sk is the test run's socket of no protocol (engine/run.c:
     * a full socket, no TCP, not listening); lookups find nothing */
    {95, "sk_fullsock", bl_helper_sk_fullsock, BPFLUA_RET_PTR_TO_FULLSOCK_OR_NULL,
     {A(PTR_TO_SOCK_COMMON)}},
    {96, "tcp_sock", bl_helper_zero, BPFLUA_RET_PTR_TO_TCP_SOCK_OR_NULL, {A(PTR_TO_SOCK_COMMON)}},
    {98, "get_listener_sock", bl_helper_zero, BPFLUA_RET_PTR_TO_LISTENER_OR_NULL,
     {A(PTR_TO_SOCK_COMMON)}},
    {128, "sk_cgroup_id", bl_helper_zero, BPFLUA_RET_INTEGER, {A(PTR_TO_SOCK_COMMON)}},
    {129, "sk_ancestor_cgroup_id", bl_helper_zero, BPFLUA_RET_INTEGER,
     {A(PTR_TO_SOCK_COMMON), A(ANYTHING)}},
    {100, "tcp_check_syncookie", bl_helper_unsupported, BPFLUA_RET_INTEGER,
     {A(PTR_TO_SOCK_COMMON), A(PTR_TO_MEM), A(CONST_SIZE), A(PTR_TO_MEM), A(CONST_SIZE)}},
    {110, "tcp_gen_syncookie", bl_helper_unsupported, BPFLUA_RET_INTEGER,
     {A(PTR_TO_SOCK_COMMON), A(PTR_TO_MEM), A(CONST_SIZE), A(PTR_TO_MEM), A(CONST_SIZE)}},
    {124, "sk_assign", bl_helper_unsupported, BPFLUA_RET_INTEGER,
     {A(PTR_TO_CTX), A(PTR_TO_SOCK_COMMON_OR_NULL), A(ANYTHING)}},
    /* cgroup types' return value: the sandbox does not run them */
    {186, "get_retval", bl_helper_zero, BPFLUA_RET_INTEGER, {0}},
    {187, "set_retval", bl_helper_zero, BPFLUA_RET_INTEGER, {A(ANYTHING)}},
    /* objects the sandbox does not have (helpers_sandbox.c's convention) */
    {109, "send_signal", bl_helper_unsupported, BPFLUA_RET_INTEGER, {A(ANYTHING)}},
    {117, "send_signal_thread", bl_helper_unsupported, BPFLUA_RET_INTEGER, {A(ANYTHING)}},
    {64, "bind", bl_helper_unsupported, BPFLUA_RET_INTEGER,
     {A(PTR_TO_CTX), A(PTR_TO_MEM), A(CONST_SIZE)}},
    {73, "lwt_push_encap", bl_helper_unsupported, BPFLUA_RET_INTEGER,
     {A(PTR_TO_CTX), A(ANYTHING), A(PTR_TO_MEM), A(CONST_SIZE)}},
    {90, "msg_push_data", bl_helper_unsupported, BPFLUA_RET_INTEGER,
     {A(PTR_TO_CTX), A(ANYTHING), A(ANYTHING), A(ANYTHING)}},
    {91, "msg_pop_data", bl_helper_unsupported, BPFLUA_RET_INTEGER,
     {A(PTR_TO_CTX), A(ANYTHING), A(ANYTHING), A(ANYTHING)}},
    {79, "skb_cgroup_id", bl_helper_zero, BPFLUA_RET_INTEGER, {A(PTR_TO_CTX)}},
    {97, "skb_ecn_set_ce", bl_helper_zero, BPFLUA_RET_INTEGER, {A(PTR_TO_CTX)}},
    {58, "override_return", bl_helper_zero, BPFLUA_RET_INTEGER, {A(PTR_TO_CTX), A(ANYTHING)}},
    {33, "skb_under_cgroup", bl_helper_skb_under_cgroup, BPFLUA_RET_INTEGER,
     {A(PTR_TO_CTX), A(CONST_MAP_PTR), A(ANYTHING)}},
    {37, "current_task_under_cgroup", bl_helper_current_task_under_cgroup, BPFLUA_RET_INTEGER,
     {A(CONST_MAP_PTR), A(ANYTHING)}},
    {52, "sk_redirect_map", bl_helper_sk_drop, BPFLUA_RET_INTEGER,
     {A(PTR_TO_CTX), A(CONST_MAP_PTR), A(ANYTHING), A(ANYTHING)}},
    {60, "msg_redirect_map", bl_helper_sk_drop, BPFLUA_RET_INTEGER,
     {A(PTR_TO_CTX), A(CONST_MAP_PTR), A(ANYTHING), A(ANYTHING)}},
    {72, "sk_redirect_hash", bl_helper_sk_drop, BPFLUA_RET_INTEGER,
     {A(PTR_TO_CTX), A(CONST_MAP_PTR), A(PTR_TO_MAP_KEY), A(ANYTHING)}},
    {71, "msg_redirect_hash", bl_helper_sk_drop, BPFLUA_RET_INTEGER,
     {A(PTR_TO_CTX), A(CONST_MAP_PTR), A(PTR_TO_MAP_KEY), A(ANYTHING)}},
    {53, "sock_map_update", bl_helper_unsupported, BPFLUA_RET_INTEGER,
     {A(PTR_TO_CTX), A(CONST_MAP_PTR), A(PTR_TO_MAP_KEY), A(ANYTHING)}},
    {70, "sock_hash_update", bl_helper_unsupported, BPFLUA_RET_INTEGER,
     {A(PTR_TO_CTX), A(CONST_MAP_PTR), A(PTR_TO_MAP_KEY), A(ANYTHING)}},
    /* socket options, sk_msg and forwarding helpers real objects call
     * (sock_ops, sk_msg, Cilium's tc): verified with the kernel's
     * prototypes; the sandbox has no socket or neighbour to act on */
    {49, "setsockopt", bl_helper_unsupported, BPFLUA_RET_INTEGER,
     {A(PTR_TO_CTX), A(ANYTHING), A(ANYTHING), A(PTR_TO_MEM), A(CONST_SIZE)}},
    {57, "getsockopt", bl_helper_getsockopt, BPFLUA_RET_INTEGER,
     {A(PTR_TO_CTX), A(ANYTHING), A(ANYTHING), A(PTR_TO_UNINIT_MEM), A(CONST_SIZE)}},
    {59, "sock_ops_cb_flags_set", bl_helper_unsupported, BPFLUA_RET_INTEGER,
     {A(PTR_TO_CTX), A(ANYTHING)}},
    {61, "msg_apply_bytes", bl_helper_zero, BPFLUA_RET_INTEGER, {A(PTR_TO_CTX), A(ANYTHING)}},
    {62, "msg_cork_bytes", bl_helper_zero, BPFLUA_RET_INTEGER, {A(PTR_TO_CTX), A(ANYTHING)}},
    {63, "msg_pull_data", bl_helper_unsupported, BPFLUA_RET_INTEGER,
     {A(PTR_TO_CTX), A(ANYTHING), A(ANYTHING), A(ANYTHING)}},
    {122, "get_netns_cookie", bl_helper_zero, BPFLUA_RET_INTEGER, {A(PTR_TO_CTX)}},
    /* perf_event's counter values: no event behind a sandbox run, so a
     * zeroed buffer and an error, as get_stack (same argument places) */
    {56, "perf_prog_read_value", bl_helper_get_stack, BPFLUA_RET_INTEGER,
     {A(PTR_TO_CTX), A(PTR_TO_UNINIT_MEM), A(CONST_SIZE)}},
};

#undef A

#define N_BUILTIN (sizeof builtin_helpers / sizeof builtin_helpers[0])

int bl_helper_changes_pkt_data(uint32_t id)
{
    /* the kernel's bpf_helper_changes_pkt_data, for the helpers we have */
    static const uint32_t ids[] = {9,  10, 11, 13, 18, 19, 31, 38, 39, 43,
                                   44, 50, 54, 63, 65, 73, 90, 91};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
        if (ids[i] == id)
            return 1;
    return 0;
}

/* ---- the registry of embedder helpers ------------------------------------ */

/* Fixed size: registration happens at start-up, a handful at most. Slots
 * are never freed, so pointers from bl_helper_find stay valid. */
#define BL_MAX_CUSTOM_HELPERS 64

static struct custom_helper {
    struct bpflua_helper proto;
    char name[BL_NAME_MAX];
} custom_helpers[BL_MAX_CUSTOM_HELPERS];
static size_t n_custom_helpers;

/* the built-ins by kernel id, indexed once: the verifier's static passes
 * and each call it checks look a prototype up (the first entry of an id
 * wins, as a scan of the table would find it) */
static const struct bpflua_helper *builtin_by_id[BL_KERNEL_HELPER_IDS];
static pthread_once_t builtin_indexed = PTHREAD_ONCE_INIT;

static void index_builtins(void)
{
    for (size_t i = N_BUILTIN; i-- > 0;)
        if (builtin_helpers[i].id < BL_KERNEL_HELPER_IDS)
            builtin_by_id[builtin_helpers[i].id] = &builtin_helpers[i];
}

static const struct bpflua_helper *find_builtin(uint32_t id)
{
    if (id < BL_KERNEL_HELPER_IDS) {
        pthread_once(&builtin_indexed, index_builtins);
        return builtin_by_id[id];
    }
    for (size_t i = 0; i < N_BUILTIN; i++)
        if (builtin_helpers[i].id == id)
            return &builtin_helpers[i];
    return NULL;
}

static int valid_arg(enum bpflua_arg_type a)
{
    return a >= BPFLUA_ARG_NONE && a <= BPFLUA_ARG_PTR_TO_MEM_OR_NULL;
}

int bpflua_register_helper(const struct bpflua_helper *h)
{
    if (!h || h->id == 0 || !h->fn || !h->name || !h->name[0] ||
        strlen(h->name) >= BL_NAME_MAX)
        return -EINVAL;
    if (h->ret < BPFLUA_RET_INTEGER || h->ret > BPFLUA_RET_PTR_TO_MAP_VALUE_OR_NULL)
        return -EINVAL;
    for (int i = 0; i < 5; i++)
        if (!valid_arg(h->args[i]))
            return -EINVAL;
    if (find_builtin(h->id))
        return -EEXIST;
    struct custom_helper *slot = NULL;
    for (size_t i = 0; i < n_custom_helpers; i++)
        if (custom_helpers[i].proto.id == h->id)
            slot = &custom_helpers[i];
    if (!slot) {
        if (n_custom_helpers == BL_MAX_CUSTOM_HELPERS)
            return -ENOSPC;
        slot = &custom_helpers[n_custom_helpers++];
    }
    slot->proto = *h;
    memcpy(slot->name, h->name, strlen(h->name) + 1);
    slot->proto.name = slot->name;
    return 0;
}

const struct bpflua_helper *bl_helper_find(uint32_t id)
{
    const struct bpflua_helper *h = find_builtin(id);
    for (size_t i = 0; !h && i < n_custom_helpers; i++)
        if (custom_helpers[i].proto.id == id)
            h = &custom_helpers[i].proto;
    return h;
}

const struct bpflua_helper *bl_helper_at(size_t index)
{
    if (index < N_BUILTIN)
        return &builtin_helpers[index];
    index -= N_BUILTIN;
    return index < n_custom_helpers ? &custom_helpers[index].proto : NULL;
}
