/* XDP programs in the shapes of samples/bpf and prototype-kernel (xdp2skb
 * _meta's xdp_mark, xdp_adjust_tail, xdp_fwd, xdpsock, xdp_redirect_cpu,
 * xdp_tcpdump, xdp_vlan01): legacy maps, section names that start with
 * "xdp" and go on, metadata written in front of the packet after
 * bpf_xdp_adjust_meta, the packet cut with bpf_xdp_adjust_tail, a FIB
 * lookup filling MAC addresses, AF_XDP and CPU redirects, the packet's
 * first bytes sent to user space with bpf_perf_event_output, a VLAN id
 * rewritten in place.
 * unsafe: xdp_mark xdp_vlan_change
 */
#include "common.h"

struct legacy_map LEGACY_MAP xsks = {
    .type = BPF_MAP_TYPE_XSKMAP, .key_size = 4, .value_size = 4, .max_entries = 64,
};
struct legacy_map LEGACY_MAP cpu_map = {
    .type = BPF_MAP_TYPE_CPUMAP, .key_size = 4, .value_size = 4, .max_entries = 64,
};
struct legacy_map LEGACY_MAP cpus_available = {
    .type = BPF_MAP_TYPE_ARRAY, .key_size = 4, .value_size = 4, .max_entries = 64,
};
struct legacy_map LEGACY_MAP tx_ports = {
    .type = BPF_MAP_TYPE_DEVMAP, .key_size = 4, .value_size = 4, .max_entries = 64,
};
struct legacy_map LEGACY_MAP perf_ring = {
    .type = BPF_MAP_TYPE_PERF_EVENT_ARRAY, .key_size = 4, .value_size = 4, .max_entries = 64,
};

SEC("xdp_mark")
int mark_meta(struct xdp_md *ctx)
{
    if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(__u32)) < 0)
        return XDP_ABORTED;
    void *data = (void *)(long)ctx->data, *meta = (void *)(long)ctx->data_meta;
    __u32 *m = meta;
    GOOD(if ((void *)(m + 1) > data) return XDP_ABORTED;)
    BAD(if ((void *)m > data) return XDP_ABORTED;)
    *m = 42;
    return XDP_PASS;
}

SEC("xdp_icmp")
int cut_tail(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
    if (data + 14 + 20 + 8 > end)
        return XDP_PASS;
    int len = end - data;
    if (len > 98 && bpf_xdp_adjust_tail(ctx, 98 - len) == 0) {
        data = (void *)(long)ctx->data;
        end = (void *)(long)ctx->data_end;
        if (data + 14 > end)
            return XDP_ABORTED;
        unsigned char *eth = data, tmp[6];
        __builtin_memcpy(tmp, eth, 6);
        __builtin_memcpy(eth, eth + 6, 6);
        __builtin_memcpy(eth + 6, tmp, 6);
        return XDP_TX;
    }
    return XDP_PASS;
}

SEC("xdp_fwd")
int forward(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    struct iphdr *ip = data + sizeof *eth;
    if ((void *)(ip + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP) || ip->ttl <= 1)
        return XDP_PASS;
    struct bpf_fib_lookup fib;
    __builtin_memset(&fib, 0, sizeof fib); /* padding too: the helper reads it all */
    fib.family = 2;
    fib.tos = ip->tos;
    fib.l4_protocol = ip->protocol;
    fib.tot_len = bpf_ntohs(ip->tot_len);
    fib.ipv4_src = ip->saddr;
    fib.ipv4_dst = ip->daddr;
    fib.ifindex = ctx->ingress_ifindex;
    if (bpf_fib_lookup(ctx, &fib, sizeof fib, 0) != BPF_FIB_LKUP_RET_SUCCESS)
        return XDP_PASS;
    if (!bpf_map_lookup_elem(&tx_ports, &fib.ifindex))
        return XDP_PASS;
    __u32 sum = ip->check + bpf_htons(0x0100);
    ip->check = (__u16)(sum + (sum >= 0xffff));
    ip->ttl--;
    __builtin_memcpy(eth->h_dest, fib.dmac, 6);
    __builtin_memcpy(eth->h_source, fib.smac, 6);
    return bpf_redirect_map(&tx_ports, fib.ifindex, 0);
}

SEC("xdp_sock")
int to_socket(struct xdp_md *ctx)
{
    return bpf_redirect_map(&xsks, ctx->rx_queue_index, XDP_PASS);
}

SEC("xdp_cpu_map2_round_robin")
int to_cpu(struct xdp_md *ctx)
{
    __u32 idx = bpf_get_prandom_u32() & 63;
    __u32 *cpu = bpf_map_lookup_elem(&cpus_available, &idx);
    if (!cpu)
        return XDP_ABORTED;
    return bpf_redirect_map(&cpu_map, *cpu, 0);
}

SEC("xdp_tcpdump_to_perf_ring")
int dump(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
    if (data < end) {
        struct { __u16 cookie, len; } hdr = { 0xdead, (__u16)(end - data) };
        __u64 flags = BPF_F_CURRENT_CPU | ((__u64)hdr.len << 32);
        bpf_perf_event_output(ctx, &perf_ring, flags, &hdr, sizeof hdr);
    }
    return XDP_PASS;
}

SEC("xdp_vlan_change")
int vlan_change(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    __u16 *tci = data + sizeof *eth;
    GOOD(if ((void *)(tci + 2) > end) return XDP_PASS;)
    BAD(if ((void *)(tci + 1) > end) return XDP_PASS;)
    if (eth->h_proto != bpf_htons(ETH_P_8021Q))
        return XDP_PASS;
    if ((bpf_ntohs(tci[0]) & 0x0fff) == 4011)
        tci[0] = bpf_htons((bpf_ntohs(tci[0]) & 0xf000) | 4012);
    return tci[1] == bpf_htons(ETH_P_ARP) ? XDP_DROP : XDP_PASS;
}
