/* Loops clang does not unroll, as newer Cilium and Falco's modern probe
 * keep them (Linux 5.3+ verifies bounded loops by walking every
 * iteration): an option walk over the TCP header with a data-dependent
 * stride, and a scan with a variable bound. bpflua rejects each with its
 * back-edge hint (loops are bpf_loop there); the kernel accepts them.
 * back-edge: xdp tc
 */
#include "common.h"

SEC("xdp")
int tcp_options(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
    __u8 *opt = data + ETH_HLEN + sizeof(struct iphdr) + sizeof(struct tcphdr);
    int mss = 0;
    for (int i = 0; i < 10; i++) {
        if ((void *)(opt + 4) > end)
            break;
        if (opt[0] == 0)
            break;
        if (opt[0] == 1) {
            opt++;
            continue;
        }
        if (opt[0] == 2)
            mss = (opt[2] << 8) | opt[3];
        if (opt[1] < 2)
            break;
        opt += opt[1] & 15;
    }
    return mss > 1400 ? XDP_DROP : XDP_PASS;
}

SEC("tc")
int count_zeros(struct __sk_buff *skb)
{
    __u8 *d = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
    __u32 n = skb->cb[0] & 63, zeros = 0;
    for (__u32 i = 0; i < n; i++) {
        if (d + i + 1 > end)
            break;
        zeros += d[i] == 0;
    }
    return zeros;
}
