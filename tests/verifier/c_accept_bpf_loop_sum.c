/* verdict: accept
 * rule: bpf_loop callback reads the packet through pointers in its context,
 * with the variable offset masked below MAX_PACKET_OFF */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct loop_ctx {
    void *data;
    void *end;
    __u64 sum;
};

static long add_byte(__u64 i, void *arg)
{
    struct loop_ctx *c = arg;
    unsigned char *p = (unsigned char *)c->data + (i & 0x3fff);
    if ((void *)(p + 1) > c->end)
        return 1;
    c->sum += *p;
    return 0;
}

SEC("xdp")
int loop_sum(struct xdp_md *ctx)
{
    struct loop_ctx c = {
        .data = (void *)(long)ctx->data,
        .end = (void *)(long)ctx->data_end,
        .sum = 0,
    };
    bpf_loop(1500, add_byte, &c, 0);
    return c.sum & 1 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
