/* verdict: reject
 * error: unbounded memory access
 * rule: a map value indexed by an unchecked packet-derived value */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, unsigned char[64]);
} table SEC(".maps");

SEC("xdp")
int unchecked(struct xdp_md *ctx)
{
    __u32 key = 0, i = ctx->ingress_ifindex;
    unsigned char *v = bpf_map_lookup_elem(&table, &key);
    if (!v)
        return XDP_PASS;
    return v[i] ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
