/* An XDP filter parsing Ethernet / IPv4 / UDP through a helper that
 * returns the header or NULL after a length check (the correlated-branch
 * shape of vendor samples), counting per protocol in a libbpf map.
 * unsafe: xdp (the UDP length is read past the checked 4 bytes)
 */
#include "common.h"

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __type(key, __u32);
    __type(value, __u64);
    __uint(max_entries, 256);
} proto_count SEC(".maps");

static __always_inline void *header_at(void *data, void *end, long off, long len)
{
    if (data + off + len > end)
        return 0;
    return data + off;
}

SEC("xdp")
int xdp_count(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = header_at(data, end, 0, sizeof *eth);
    if (!eth)
        return XDP_PASS;
    if (eth->h_proto != bpf_htons(ETH_P_IP))
        return XDP_PASS;
    struct iphdr *ip = header_at(data, end, sizeof *eth, sizeof *ip);
    if (!ip)
        return XDP_PASS;
    __u32 key = ip->protocol;
    __u64 *n = bpf_map_lookup_elem(&proto_count, &key);
    if (n)
        __sync_fetch_and_add(n, 1);
    if (ip->protocol == IPPROTO_UDP) {
        struct udphdr *udp = header_at(data, end, sizeof *eth + sizeof *ip, sizeof *udp BAD(- 4));
        if (udp && udp->dest == bpf_htons(9) && udp->len != 0)
            return XDP_DROP;
    }
    return XDP_PASS;
}
