/* A plain XDP program: no maps, no calls. Drops frames whose first byte
 * is 0xff, passes the rest. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int first_byte(struct xdp_md *ctx)
{
    unsigned char *data = (unsigned char *)(long)ctx->data;
    unsigned char *end = (unsigned char *)(long)ctx->data_end;
    if (data + 1 > end)
        return XDP_ABORTED;
    return data[0] == 0xff ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
