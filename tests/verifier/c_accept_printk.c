/* verdict: accept
 * rule: trace_printk with its format on the stack and three arguments */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int say(struct xdp_md *ctx)
{
    char fmt[] = "if %u q %u cpu %u\n";
    bpf_trace_printk(fmt, sizeof fmt, ctx->ingress_ifindex, ctx->rx_queue_index,
                     bpf_get_smp_processor_id());
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
