/* verdict: accept
 * rule: ringbuf_output of an initialised struct on the stack */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 4096);
} events SEC(".maps");

struct event { __u32 ifindex; __u32 len; __u64 ts; };

SEC("xdp")
int emit(struct xdp_md *ctx)
{
    struct event e = {
        .ifindex = ctx->ingress_ifindex,
        .len = ctx->data_end - ctx->data,
        .ts = bpf_ktime_get_ns(),
    };
    bpf_ringbuf_output(&events, &e, sizeof e, 0);
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
