/* verdict: reject
 * error: invalid mem access 'map_value_or_null'
 * rule: a hash map lookup used without a null check */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 16);
    __type(key, __u32);
    __type(value, __u64);
} h SEC(".maps");

SEC("xdp")
int no_null_check(struct xdp_md *ctx)
{
    __u32 key = ctx->ingress_ifindex;
    __u64 *v = bpf_map_lookup_elem(&h, &key);
    return *v ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
