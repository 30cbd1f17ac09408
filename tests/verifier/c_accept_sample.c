/* verdict: accept
 * rule: scalar helpers (prandom, ktime) and arithmetic on their results */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int sample(struct xdp_md *ctx)
{
    __u32 r = bpf_get_prandom_u32();
    __u64 t = bpf_ktime_get_ns();
    return ((r ^ t) % 100) < 10 ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
