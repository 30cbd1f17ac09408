/* helper_impl.h - helper bodies defined outside helpers.c, whose table
 * names them. Internal to stdlib/. */
#ifndef BPFLUA_HELPER_IMPL_H
#define BPFLUA_HELPER_IMPL_H

#include <stdint.h>

#include "helpers.h"

#define BL_HELPER_FN(name) \
    uint64_t bl_helper_##name(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5, \
                              struct bpflua_run_env *env)

/* helpers_maps.c */
BL_HELPER_FN(tail_call);
BL_HELPER_FN(perf_event_output);
BL_HELPER_FN(redirect_map);
BL_HELPER_FN(get_stackid);
BL_HELPER_FN(map_push_elem);
BL_HELPER_FN(get_local_storage);
BL_HELPER_FN(sk_storage_get);
BL_HELPER_FN(sk_storage_delete);
BL_HELPER_FN(map_pop_elem);
BL_HELPER_FN(map_peek_elem);
/* helpers_trace.c */
BL_HELPER_FN(get_current_pid_tgid);
BL_HELPER_FN(get_current_uid_gid);
BL_HELPER_FN(get_current_comm);
BL_HELPER_FN(probe_read);
BL_HELPER_FN(probe_read_str);
BL_HELPER_FN(ktime_get_boot_ns);
BL_HELPER_FN(ktime_get_coarse_ns);
BL_HELPER_FN(jiffies64);
BL_HELPER_FN(get_numa_node_id);
BL_HELPER_FN(csum_diff);
BL_HELPER_FN(perf_event_read);
BL_HELPER_FN(perf_event_read_value);
BL_HELPER_FN(get_stack);
BL_HELPER_FN(probe_write_user);
BL_HELPER_FN(ktime_get_tai_ns);
BL_HELPER_FN(ringbuf_query);
/* helpers_pkt.c */
BL_HELPER_FN(skb_load_bytes);
BL_HELPER_FN(skb_store_bytes);
BL_HELPER_FN(l3_csum_replace);
BL_HELPER_FN(l4_csum_replace);
BL_HELPER_FN(csum_update);
BL_HELPER_FN(redirect);
BL_HELPER_FN(clone_redirect);
BL_HELPER_FN(xdp_get_buff_len);
BL_HELPER_FN(get_socket_cookie);
BL_HELPER_FN(get_socket_uid);
BL_HELPER_FN(zero);
BL_HELPER_FN(fib_lookup);
BL_HELPER_FN(xdp_load_bytes);
BL_HELPER_FN(xdp_store_bytes);
BL_HELPER_FN(redirect_neigh);
BL_HELPER_FN(redirect_peer);
BL_HELPER_FN(skb_get_xfrm_state);
/* helpers_refs.c */
BL_HELPER_FN(ringbuf_reserve);
BL_HELPER_FN(ringbuf_submit);
BL_HELPER_FN(ringbuf_discard);
BL_HELPER_FN(spin_lock);
BL_HELPER_FN(spin_unlock);
BL_HELPER_FN(sk_lookup);
BL_HELPER_FN(sk_release);
/* helpers_sandbox.c */
BL_HELPER_FN(unsupported);
BL_HELPER_FN(sk_drop);
BL_HELPER_FN(getsockopt);
BL_HELPER_FN(skb_get_tunnel);
BL_HELPER_FN(skb_pull_data);
BL_HELPER_FN(skb_load_bytes_relative);
BL_HELPER_FN(skb_under_cgroup);
BL_HELPER_FN(current_task_under_cgroup);
BL_HELPER_FN(xdp_adjust_head);
BL_HELPER_FN(xdp_adjust_tail);
BL_HELPER_FN(xdp_adjust_meta);
BL_HELPER_FN(sk_fullsock);

/* helpers_net.c */
BL_HELPER_FN(get_hash_recalc);
BL_HELPER_FN(set_hash);
BL_HELPER_FN(set_hash_invalid);
BL_HELPER_FN(csum_level);
BL_HELPER_FN(check_mtu);
/* helpers_str.c */
BL_HELPER_FN(snprintf);
BL_HELPER_FN(trace_vprintk);
BL_HELPER_FN(strncmp);
BL_HELPER_FN(strtol);
BL_HELPER_FN(strtoul);
BL_HELPER_FN(get_ns_current_pid_tgid);
BL_HELPER_FN(map_lookup_percpu_elem);

#endif
