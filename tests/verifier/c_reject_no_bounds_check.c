/* verdict: reject
 * error: invalid access to packet
 * rule: a packet read with no comparison against data_end */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int no_check(struct xdp_md *ctx)
{
    unsigned char *p = (unsigned char *)(long)ctx->data;
    return p[12] == 0x86 ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
