/* verdict: reject
 * error: back-edge
 * kernel: differs: the kernel accepts bounded C loops; bpflua wants bpf_loop
 * rule: a plain C loop compiles to a back-edge */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int plain_loop(struct xdp_md *ctx)
{
    __u32 x = ctx->ingress_ifindex, acc = 0;
#pragma clang loop unroll(disable)
    for (int i = 0; i < 16; i++)
        acc += (x >> i) & 1;
    return acc > 4 ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
