/* A perf_event program as sampleip / trace_event write it: the sampled
 * instruction pointer from the context's regs, the sample period, a
 * per-CPU hash of IPs.
 * unsafe: perf_event (stores into the context)
 */
#include "common.h"

/* struct bpf_perf_event_data on x86-64 */
struct perf_data {
    struct x86_regs regs;
    __u64 sample_period;
    __u64 addr;
};

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
    __type(key, __u64);
    __type(value, __u32);
    __uint(max_entries, 4096);
} ips SEC(".maps");

SEC("perf_event")
int sample_ip(struct perf_data *ctx)
{
    __u64 ip = ctx->regs.ip;
    __u32 one = 1, *n;
    if (ctx->sample_period > 1000000)
        return 0;
    BAD(ctx->sample_period = 0;)
    n = bpf_map_lookup_elem(&ips, &ip);
    if (n)
        *n += 1;
    else
        bpf_map_update_elem(&ips, &ip, &one, BPF_NOEXIST);
    return 0;
}
