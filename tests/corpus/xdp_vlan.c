/* XDP counters in the shapes of samples/bpf's xdp1/xdp2 and
 * prototype-kernel's benchmarks: VLAN tags skipped in an unrolled loop
 * with a 64-bit header offset, IPv4/IPv6 protocol counted per CPU,
 * MACs swapped for XDP_TX, a drop pattern from a config map, TTL
 * decremented with an incremental checksum, rx queue statistics.
 * unsafe: xdp1 xdp_tx xdp_rxq
 */
#include "common.h"

struct vlan_hdr {
    __be16 h_vlan_TCI;
    __be16 h_vlan_encapsulated_proto;
};
struct legacy_map LEGACY_MAP rxcnt = {
    .type = BPF_MAP_TYPE_PERCPU_ARRAY, .key_size = 4, .value_size = 8, .max_entries = 256,
};
struct legacy_map LEGACY_MAP cfg = {
    .type = BPF_MAP_TYPE_ARRAY, .key_size = 4, .value_size = 8, .max_entries = 4,
};
struct rxq_rec {
    __u64 processed, issue;
};
struct legacy_map LEGACY_MAP rxq_stats = {
    .type = BPF_MAP_TYPE_PERCPU_ARRAY, .key_size = 4, .value_size = sizeof(struct rxq_rec),
    .max_entries = 64,
};

static __always_inline int parse_ipv4(void *data, __u64 nh_off, void *data_end)
{
    struct iphdr *iph = data + nh_off;
    if ((void *)(iph + 1) > data_end)
        return 0;
    return BAD(*(__u32 *)(iph + 1) ^) iph->protocol;
}
static __always_inline int parse_ipv6(void *data, __u64 nh_off, void *data_end)
{
    struct ipv6hdr *ip6h = data + nh_off;
    if ((void *)(ip6h + 1) > data_end)
        return 0;
    return ip6h->nexthdr;
}

static __always_inline __u16 parse_l2(void *data, void *data_end, __u64 *off)
{
    struct ethhdr *eth = data;
    __u64 nh_off = sizeof(*eth);
    if (data + nh_off > data_end)
        return 0;
    __u16 h_proto = eth->h_proto;
#pragma unroll
    for (int i = 0; i < 2; i++) {
        if (h_proto == bpf_htons(ETH_P_8021Q) || h_proto == bpf_htons(ETH_P_8021AD)) {
            struct vlan_hdr *vhdr = data + nh_off;
            nh_off += sizeof(struct vlan_hdr);
            if (data + nh_off > data_end)
                return 0;
            h_proto = vhdr->h_vlan_encapsulated_proto;
        }
    }
    *off = nh_off;
    return h_proto;
}

SEC("xdp1")
int xdp_prog1(struct xdp_md *ctx)
{
    void *data_end = (void *)(long)ctx->data_end;
    void *data = (void *)(long)ctx->data;
    __u64 nh_off = 0;
    __u32 ipproto;
    __u16 h_proto = parse_l2(data, data_end, &nh_off);
    if (!h_proto)
        return XDP_DROP;
    if (h_proto == bpf_htons(ETH_P_IP))
        ipproto = parse_ipv4(data, nh_off, data_end);
    else if (h_proto == bpf_htons(ETH_P_IPV6))
        ipproto = parse_ipv6(data, nh_off, data_end);
    else
        ipproto = 0;
    __u64 *value = bpf_map_lookup_elem(&rxcnt, &ipproto);
    if (value)
        *value += 1;
    return XDP_DROP;
}

static __always_inline void swap_src_dst_mac(void *data)
{
    unsigned short *p = data;
    unsigned short dst[3];
    dst[0] = p[0];
    dst[1] = p[1];
    dst[2] = p[2];
    p[0] = p[3];
    p[1] = p[4];
    p[2] = p[5];
    p[3] = dst[0];
    p[4] = dst[1];
    p[5] = dst[2];
}

SEC("xdp_tx")
int xdp_prog2(struct xdp_md *ctx)
{
    void *data_end = (void *)(long)ctx->data_end;
    void *data = (void *)(long)ctx->data;
    __u64 nh_off = 0;
    __u32 ipproto = 0;
    __u16 h_proto = parse_l2(data, data_end, &nh_off);
    if (h_proto == bpf_htons(ETH_P_IP))
        ipproto = parse_ipv4(data, nh_off, data_end);
    else if (h_proto == bpf_htons(ETH_P_IPV6))
        ipproto = parse_ipv6(data, nh_off, data_end);
    __u64 *value = bpf_map_lookup_elem(&rxcnt, &ipproto);
    if (value)
        *value += 1;
    if (ipproto == IPPROTO_UDP && data + ETH_HLEN <= data_end) {
        swap_src_dst_mac(data);
        return XDP_TX;
    }
    return XDP_PASS;
}

SEC("xdp_drop_pattern")
int drop_pattern(struct xdp_md *ctx)
{
    __u32 k0 = 0, k1 = 1;
    __u64 *pattern = bpf_map_lookup_elem(&cfg, &k0);
    __u64 *cnt = bpf_map_lookup_elem(&cfg, &k1);
    if (!pattern || !cnt)
        return XDP_ABORTED;
    __u64 c = __sync_fetch_and_add(cnt, 1);
    if (*pattern && (c % *pattern) == 0)
        return XDP_DROP;
    return XDP_PASS;
}

SEC("xdp_ttl")
int ttl_dec(struct xdp_md *ctx)
{
    void *data_end = (void *)(long)ctx->data_end;
    void *data = (void *)(long)ctx->data;
    struct ethhdr *eth = data;
    struct iphdr *iph = data + sizeof(*eth);
    if ((void *)(iph + 1) > data_end)
        return XDP_PASS;
    if (eth->h_proto != bpf_htons(ETH_P_IP))
        return XDP_PASS;
    if (iph->ttl <= 1)
        return XDP_DROP;
    __u32 check = iph->check;
    check += bpf_htons(0x0100);
    iph->check = (__u16)(check + (check >= 0xFFFF));
    iph->ttl--;
    return XDP_PASS;
}

#define MAX_RXQ 64
SEC("xdp_rxq")
int rxq_info(struct xdp_md *ctx)
{
    __u32 key = ctx->rx_queue_index, k0 = 0;
    __u64 *opt = bpf_map_lookup_elem(&cfg, &k0);
    if (!opt)
        return XDP_ABORTED;
    GOOD(if (key >= MAX_RXQ) return XDP_ABORTED;)
    struct rxq_rec *rec = bpf_map_lookup_elem(&rxq_stats, &key);
    BAD(rec = (void *)rec + (key & 7) * 8;)
    if (!rec)
        return XDP_ABORTED;
    rec->processed++;
    if (ctx->ingress_ifindex == 0)
        rec->issue++;
    void *data_end = (void *)(long)ctx->data_end;
    void *data = (void *)(long)ctx->data;
    if ((*opt & 1) && data + ETH_HLEN <= data_end) {
        swap_src_dst_mac(data);
        return XDP_TX;
    }
    return XDP_PASS;
}
