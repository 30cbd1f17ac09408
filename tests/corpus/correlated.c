/* Length checks written as numbers, the shape of PREVAIL's
 * correlated_branch samples: a helper checks data_end - data against the
 * header size and returns the header or NULL, and the caller tests two
 * values of the header's type. bpflua links data_end - data to the packet
 * (as PREVAIL does); the kernel learns bounds only from pointer compares.
 * kernel-rejects: xdp (no packet range from a length compared with a number)
 * unsafe: xdp (the length checked is 12, one byte short of h_proto's end)
 */
#include "common.h"

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __type(key, __u32);
    __type(value, __u64);
    __uint(max_entries, 1);
} seen SEC(".maps");

static __always_inline void *header_or_null(struct xdp_md *ctx, long need)
{
    void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
    if (end - data < need)
        return 0;
    return data;
}

SEC("xdp")
int two_types(struct xdp_md *ctx)
{
    __u32 key = 0;
    __u64 *n = bpf_map_lookup_elem(&seen, &key);
    struct ethhdr *eth = header_or_null(ctx, sizeof *eth BAD(- 2));
    if (!eth || !n)
        return XDP_PASS;
    if (eth->h_proto == bpf_htons(ETH_P_IP) || eth->h_proto == bpf_htons(ETH_P_ARP))
        *n += 1;
    return XDP_PASS;
}
