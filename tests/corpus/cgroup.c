/* cgroup programs: a socket-creation hook setting the socket's mark and
 * priority (sock_flags), and cgroup_skb ingress/egress counters (the
 * cgroup/skb and cgroup_skb/egress names) returning allow/deny.
 * unsafe: cgroup/sock1 (writes a read-only socket field)
 */
#include "common.h"

struct legacy_map LEGACY_MAP pkt_count = {
    .type = BPF_MAP_TYPE_PERCPU_ARRAY, .key_size = 4, .value_size = 8, .max_entries = 2,
};

SEC("cgroup/sock1")
int mark_sockets(struct bpf_sock *sk)
{
    if (sk->family != 10 /* AF_INET6 */ || sk->type != 2 /* SOCK_DGRAM */)
        return 1;
    sk->mark = 123;
    sk->priority = 5;
    BAD(sk->protocol = 0;)
    return 1;
}

SEC("cgroup/skb")
int count_ingress(struct __sk_buff *skb)
{
    __u32 key = 0;
    __u64 *v = bpf_map_lookup_elem(&pkt_count, &key);
    if (v)
        *v += skb->len;
    return 1;
}

SEC("cgroup_skb/egress")
int count_egress(struct __sk_buff *skb)
{
    __u32 key = 1;
    __u64 *v = bpf_map_lookup_elem(&pkt_count, &key);
    if (v)
        *v += 1;
    return skb->protocol == bpf_htons(ETH_P_IPV6) ? 1 : 3;
}
