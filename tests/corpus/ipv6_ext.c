/* IPv6 parsing as Cilium's datapath and Suricata's filters do it: the
 * extension headers (hop-by-hop, routing, destination options) skipped in
 * an unrolled walk, each advancing the offset by (hdrlen + 1) * 8 after its
 * own bounds check, then the transport header at that offset; and a UDP
 * payload byte found through the UDP length, which the program masks and
 * byte-swaps in one go (clang masks the big-endian field with 0xff07 and
 * swaps after: the kernel's verifier follows known bits through the swap,
 * bpflua made the result any 16-bit number, too large a packet offset,
 * until session 10).
 * unsafe: xdp tc
 */
#include "common.h"

struct ext {
    __u8 nexthdr, hdrlen;
};

static __always_inline int l4_off(void *data, void *end, __u8 *proto)
{
    struct ipv6hdr *ip6 = data + ETH_HLEN;
    if ((void *)(ip6 + 1) > end)
        return -1;
    __u8 nh = ip6->nexthdr;
    int off = ETH_HLEN + sizeof(*ip6);
#pragma unroll
    for (int i = 0; i < 4; i++) {
        struct ext *e = data + off;
        if (nh != IPPROTO_HOPOPTS && nh != IPPROTO_ROUTING && nh != IPPROTO_DSTOPTS)
            break;
        if ((void *)(e + 1) > end)
            return -1;
        nh = e->nexthdr;
        off += (e->hdrlen + 1) << 3;
    }
    *proto = nh;
    return off;
}

SEC("xdp")
int syn_filter6(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
    __u8 proto;
    int off = l4_off(data, end, &proto);
    if (off < 0 || proto != IPPROTO_TCP)
        return XDP_PASS;
    struct tcphdr *th = data + off;
    GOOD(if ((void *)(th + 1) > end) return XDP_PASS;)
    BAD(if ((void *)th + 8 > end) return XDP_PASS;) /* the flags are byte 13 */
    return th->dest == bpf_htons(80) && th->syn ? XDP_DROP : XDP_PASS;
}

SEC("tc")
int udp_last6(struct __sk_buff *skb)
{
    void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
    __u8 proto;
    int off = l4_off(data, end, &proto);
    if (off < 0 || proto != IPPROTO_UDP)
        return TC_ACT_OK;
    struct udphdr *uh = data + off;
    if ((void *)(uh + 1) > end)
        return TC_ACT_OK;
    __u8 *last = (void *)uh + (bpf_ntohs(uh->len) & 0x7ff);
    GOOD(if ((void *)(last + 1) > end) return TC_ACT_OK;)
    BAD(if ((void *)last > end) return TC_ACT_OK;) /* one byte short */
    return *last == 0 ? TC_ACT_SHOT : TC_ACT_OK;
}
