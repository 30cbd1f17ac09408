/* sock_ops programs reading the socket and the segment behind the
 * callback, as the kernel's tcp_rtt / tcp_hdr_options selftests and
 * tools built on them do: ctx->sk (a full socket, or NULL: the program
 * tests it) given to bpf_sk_storage_get and bpf_tcp_sock to keep each
 * connection's smoothed RTT and delivery counters, the TCP header of the
 * segment between skb_data and skb_data_end parsed in the header-option
 * callback (read only), one byte of skb_tcp_flags and the u64 counters;
 * and an sk_msg program keeping each socket's message bytes in the same
 * storage through msg->sk (never NULL there; bpflua refused the field
 * until session 10).
 * unsafe: sockops/rtt sockops/hdr sockops/flags sk_msg
 */
#include "common.h"

struct conn {
    __u32 srtt, delivered, segs;
    __u32 syn_seen;
    __u64 acked;
};
struct {
    __uint(type, BPF_MAP_TYPE_SK_STORAGE);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, int);
    __type(value, struct conn);
} conns SEC(".maps");

SEC("sockops/rtt")
int track_rtt(struct bpf_sock_ops *ops)
{
    if (ops->op == BPF_SOCK_OPS_TCP_CONNECT_CB) {
        bpf_sock_ops_cb_flags_set(ops, BPF_SOCK_OPS_RTT_CB_FLAG);
        return 1;
    }
    if (ops->op != BPF_SOCK_OPS_RTT_CB)
        return 1;
    struct bpf_sock *sk = ops->sk;
    GOOD(if (!sk) return 1;)
    struct conn *c = bpf_sk_storage_get(&conns, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
    if (!c)
        return 1;
    struct bpf_tcp_sock *tp = bpf_tcp_sock(sk);
    if (!tp)
        return 1;
    c->srtt = tp->srtt_us >> 3;
    c->delivered = tp->delivered;
    c->segs = tp->segs_out;
    c->acked = ops->bytes_acked;
    return 1;
}

SEC("sockops/hdr")
int parse_hdr(struct bpf_sock_ops *ops)
{
    if (ops->op != BPF_SOCK_OPS_PARSE_HDR_OPT_CB)
        return 1;
    struct tcphdr *th = (void *)(long)ops->skb_data;
    void *end = (void *)(long)ops->skb_data_end;
    GOOD(if ((void *)(th + 1) > end) return 1;)
    BAD(if ((void *)th + 12 > end) return 1;) /* doff and the flags are byte 12 and 13 */
    struct bpf_sock *sk = ops->sk;
    if (!sk || !th->syn)
        return 1;
    struct conn *c = bpf_sk_storage_get(&conns, sk, 0, 0);
    if (c)
        c->syn_seen = th->doff;
    return 1;
}

SEC("sockops/flags")
int count_flags(struct bpf_sock_ops *ops)
{
    __u8 flags = *(volatile __u8 *)&ops->skb_tcp_flags;
    struct tcphdr *th = (void *)(long)ops->skb_data;
    if ((void *)(th + 1) > (void *)(long)ops->skb_data_end)
        return 1;
    BAD(th->window = 0;) /* the segment is read only here */
    return (flags & 0x10) && ops->bytes_received > 0;
}

SEC("sk_msg")
int msg_bytes(struct sk_msg_md *msg)
{
    struct bpf_sock *sk = msg->sk;
    struct conn *c = bpf_sk_storage_get(&conns, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
    if (!c)
        return SK_PASS;
    c->acked += msg->size;
    BAD(sk->mark = 1;) /* the socket is read only here */
    return sk->family == 2 /* AF_INET */ ? SK_PASS : SK_DROP;
}
