/* verdict: accept
 * rule: hash map lookup, null check, update with initialised key and value */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 64);
    __type(key, __u32);
    __type(value, __u64);
} counts SEC(".maps");

SEC("xdp")
int count_proto(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    if ((void *)(eth + 1) > end)
        return XDP_PASS;
    __u32 key = eth->h_proto;
    __u64 *v = bpf_map_lookup_elem(&counts, &key);
    if (v) {
        *v += 1;
    } else {
        __u64 one = 1;
        bpf_map_update_elem(&counts, &key, &one, BPF_ANY);
    }
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
