/* Variable offsets as parsers compute them: the IPv4 header length from
 * IHL (32-bit ALU, 4-bit mask), a payload index bounded by a compare
 * against a constant, a map value indexed by a masked packet byte, and a
 * 32-bit subtraction clamped before use.
 * unsafe: xdp_varoff (the map value index is masked too wide)
 */
#include "common.h"

struct val {
    __u8 bytes[64];
    __u32 hits;
};
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __type(key, __u32);
    __type(value, struct val);
    __uint(max_entries, 1);
} tbl SEC(".maps");

SEC("xdp_varoff")
int varoff(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
    struct iphdr *ip = data + ETH_HLEN;
    if ((void *)(ip + 1) > end)
        return XDP_PASS;
    __u32 hlen = ip->ihl * 4;
    if (hlen < sizeof *ip)
        return XDP_DROP;
    struct udphdr *udp = (void *)ip + hlen;
    if ((void *)(udp + 1) > end)
        return XDP_PASS;
    __u32 zero = 0;
    struct val *v = bpf_map_lookup_elem(&tbl, &zero);
    if (!v)
        return XDP_PASS;
    __u8 *payload = (void *)(udp + 1);
    if ((void *)(payload + 1) > end)
        return XDP_PASS;
    v->bytes[*payload & (63 BAD(+ 64))] += 1;
    __u32 room = (__u32)(end - (void *)payload);
    if (room > 32)
        room = 32;
    v->hits += room;
    return XDP_PASS;
}
