/* perf_events.c - bpf_perf_event_output as samples/bpf and Falco's older
 * probes use it: records on the current CPU's slot, one per run, read by
 * the command as events in every engine (the kernel engine through a perf
 * buffer; tests/cli/kernel_objects.sh). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
    __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
    __uint(key_size, 4);
    __uint(value_size, 4);
} perf SEC(".maps");

struct rec { __u32 len; __u16 proto; __u8 first, pad; };

SEC("xdp")
int out(struct xdp_md *ctx)
{
    unsigned char *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
    struct rec r = { .len = end - data };
    if (data + 14 <= end) {
        r.proto = data[12] << 8 | data[13];
        r.first = data[0];
    }
    if (bpf_perf_event_output(ctx, &perf, BPF_F_CURRENT_CPU, &r, sizeof r) < 0)
        return XDP_ABORTED;
    __u64 n = r.len;
    bpf_perf_event_output(ctx, &perf, BPF_F_CURRENT_CPU, &n, 5);
    return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
