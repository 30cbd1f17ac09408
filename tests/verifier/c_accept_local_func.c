/* verdict: accept
 * rule: BPF-to-BPF calls of non-inlined static functions */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

static __attribute__((noinline)) int classify(__u32 len)
{
    if (len < 64)
        return XDP_DROP;
    if (len > 1500)
        return XDP_ABORTED;
    return XDP_PASS;
}

static __attribute__((noinline)) int twice(__u32 len)
{
    return classify(len) + classify(len + 1) - classify(len);
}

SEC("xdp")
int local_calls(struct xdp_md *ctx)
{
    return twice(ctx->data_end - ctx->data);
}

char LICENSE[] SEC("license") = "GPL";
