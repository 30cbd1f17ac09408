/* sk_views.c - the socket behind a packet, in the shapes of samples/bpf's
 * hbm (cgroup_skb egress: skb->sk, bpf_sk_fullsock, bpf_tcp_sock, the
 * congestion window and RTT, ECN marking) and Cilium's socket lookups
 * (bpf_sk_lookup_tcp, bpf_get_listener_sock, bpf_sk_assign,
 * bpf_sk_cgroup_id in hbm). The kernel's test run gives every packet a socket of
 * no protocol (a full one, no TCP, not listening), as bpflua's sandbox
 * does: tests/cli/helpers_more.sh runs sock_fields and compares.
 * unsafe: cgroup_skb/egress tc/fields tc/lookup tc/release
 */
#include "common.h"

struct rates {
    __u64 bytes, marked;
    __u32 cwnd, srtt;
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct rates);
} hbm_state SEC(".maps");

SEC("cgroup_skb/egress")
int hbm_out(struct __sk_buff *skb)
{
    __u32 k = 0;
    struct rates *r = bpf_map_lookup_elem(&hbm_state, &k);
    if (!r)
        return 1;
    __sync_fetch_and_add(&r->bytes, skb->len);
    struct bpf_sock *sk = skb->sk;
    if (!sk)
        return 1;
    sk = bpf_sk_fullsock(sk);
    if (!sk)
        return 1;
    if (bpf_sk_cgroup_id(sk) == 1 || bpf_sk_ancestor_cgroup_id(sk, 1) == 1)
        r->marked = 0;
    if (sk->protocol != IPPROTO_TCP)
        return 1;
    struct bpf_tcp_sock *tp = bpf_tcp_sock(sk);
#ifdef UNSAFE
    r->cwnd = tp->snd_cwnd; /* tcp_sock may be NULL */
#endif
    if (!tp)
        return 1;
    r->cwnd = tp->snd_cwnd;
    r->srtt = tp->srtt_us >> 3;
    if (tp->bytes_acked > (1u << 20) && tp->ecn_flags) {
        bpf_skb_ecn_set_ce(skb);
        r->marked++;
        return 3;
    }
    return 1;
}

/* every field of the test run's socket, folded into the verdict */
SEC("tc/fields")
int sock_fields(struct __sk_buff *skb)
{
    struct bpf_sock *sk = skb->sk;
    if (!sk)
        return 1;
    int v = 0;
    v |= (sk->family == 2) << 1;
    __u32 addr[2] = {};
    bpf_skb_load_bytes(skb, ETH_HLEN + 12, addr, sizeof addr); /* saddr, daddr */
    v |= (sk->src_ip4 == addr[0] && sk->dst_ip4 == addr[1]) << 2;
    v |= (sk->state == 7) << 4;          /* BPF_TCP_CLOSE */
    v |= (sk->rx_queue_mapping == -1) << 5;
    v |= (sk->src_port == 0 && sk->dst_port == 0 && sk->bound_dev_if == 0) << 6;
    struct bpf_sock *full = bpf_sk_fullsock(sk);
    v |= (full != 0) << 7;
    if (full) {
        /* a sock_common has no type, protocol, mark or priority: a full one does */
        v |= (full->type == 0 && full->protocol == 0 && full->mark == 0 &&
              full->priority == 0) << 3;
        v |= (bpf_tcp_sock(full) == 0) << 8;
        v |= (bpf_get_listener_sock(full) == 0) << 9;
#ifdef UNSAFE
        v |= *(&full->rx_queue_mapping + 1); /* past the struct */
#endif
    }
    return v;
}

SEC("tc/lookup")
int lookup(struct __sk_buff *skb)
{
    struct bpf_sock_tuple t = {};
    t.ipv4.daddr = bpf_htonl(0x0a000001);
    t.ipv4.dport = bpf_htons(80);
    struct bpf_sock *sk = bpf_sk_lookup_tcp(skb, &t, sizeof t.ipv4, BPF_F_CURRENT_NETNS, 0);
    if (!sk)
        return TC_ACT_OK;
    struct bpf_sock *l = bpf_get_listener_sock(sk);
    int v = l ? (int)l->src_port : 0;
    long rc = bpf_sk_assign(skb, sk, 0);
    bpf_sk_release(sk);
#ifdef UNSAFE
    if (l)
        bpf_sk_release(l); /* a listener is no reference */
#endif
    return rc ? TC_ACT_SHOT : v;
}

SEC("tc/release")
int release(struct __sk_buff *skb)
{
    struct bpf_sock_tuple t = {};
    struct bpf_sock *sk = bpf_sk_lookup_tcp(skb, &t, sizeof t.ipv4, BPF_F_CURRENT_NETNS, 0);
    if (!sk)
        return TC_ACT_OK;
    struct bpf_sock *full = bpf_sk_fullsock(sk);
    struct bpf_tcp_sock *tp = full ? bpf_tcp_sock(full) : 0;
    __u32 cwnd = tp ? tp->snd_cwnd : 0;
    __u64 cg = bpf_get_socket_cookie(skb);
    bpf_sk_release(sk);
#ifdef UNSAFE
    if (tp)
        cwnd += tp->snd_cwnd; /* released with the socket it views */
#endif
    return (int)(cwnd + cg) & 1;
}
