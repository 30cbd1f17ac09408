/* An XDP filter in the shape of prototype-kernel's xdp_ddos01_blacklist:
 * legacy maps, an Ethernet parser that returns the L3 offset through a
 * pointer (the offset is 14 or 18 depending on a VLAN tag, and each
 * later read is checked against data_end again), a port filter in a
 * global function compiled on its own in .text and called (with the
 * packet pointer and a protocol as arguments), the counter map chosen by
 * protocol among two maps, verdict statistics.
 * `verify --section .text` verifies the .text function in its caller.
 * unsafe: xdp_prog (the port is read before the TCP header is bounds-checked)
 */
#include "common.h"

struct legacy_map LEGACY_MAP blacklist = {
    .type = BPF_MAP_TYPE_PERCPU_HASH, .key_size = 4, .value_size = 8, .max_entries = 100000,
    .map_flags = BPF_F_NO_PREALLOC,
};
struct legacy_map LEGACY_MAP verdict_cnt = {
    .type = BPF_MAP_TYPE_PERCPU_ARRAY, .key_size = 4, .value_size = 8, .max_entries = 4,
};
struct legacy_map LEGACY_MAP port_blacklist = {
    .type = BPF_MAP_TYPE_PERCPU_ARRAY, .key_size = 4, .value_size = 4, .max_entries = 65536,
};
struct legacy_map LEGACY_MAP drops_tcp = {
    .type = BPF_MAP_TYPE_PERCPU_ARRAY, .key_size = 4, .value_size = 8, .max_entries = 65536,
};
struct legacy_map LEGACY_MAP drops_udp = {
    .type = BPF_MAP_TYPE_PERCPU_ARRAY, .key_size = 4, .value_size = 8, .max_entries = 65536,
};

__attribute__((noinline)) int filter_port(struct xdp_md *ctx, __u32 proto, void *l4)
{
    void *end = (void *)(long)ctx->data_end;
    __u32 port, bit;
    void *counters;
    if (proto == IPPROTO_UDP) {
        struct udphdr *u = l4;
        if ((void *)(u + 1) > end)
            return XDP_ABORTED;
        port = bpf_ntohs(u->dest);
        bit = 1;
        counters = &drops_udp;
    } else if (proto == IPPROTO_TCP) {
        struct tcphdr *t = l4;
        GOOD(if ((void *)(t + 1) > end) return XDP_ABORTED;)
        port = bpf_ntohs(t->dest);
        bit = 0;
        counters = &drops_tcp;
    } else {
        return XDP_PASS;
    }
    __u32 *flags = bpf_map_lookup_elem(&port_blacklist, &port);
    if (!flags || !(*flags & (1u << bit)))
        return XDP_PASS;
    __u64 *n = bpf_map_lookup_elem(counters, &port);
    if (n)
        *n += 1;
    return XDP_DROP;
}

static __always_inline int parse_eth(void *data, void *end, __u16 *proto, __u64 *l3)
{
    struct ethhdr *eth = data;
    __u64 off = sizeof *eth;
    if (data + off > end)
        return 0;
    __u16 type = eth->h_proto;
    if (bpf_ntohs(type) < ETH_P_802_3_MIN)
        return 0;
    if (type == bpf_htons(ETH_P_8021Q) || type == bpf_htons(ETH_P_8021AD)) {
        __u16 *vlan = data + off;
        off += 4;
        if (data + off > end)
            return 0;
        type = vlan[1];
    }
    *proto = bpf_ntohs(type);
    *l3 = off;
    return 1;
}

static __always_inline void count_verdict(__u32 action)
{
    if (action >= 4)
        return;
    __u64 *v = bpf_map_lookup_elem(&verdict_cnt, &action);
    if (v)
        *v += 1;
}

SEC("xdp_prog")
int xdp_blacklist(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
    __u16 proto = 0;
    __u64 l3 = 0;
    __u32 action = XDP_PASS;
    if (!parse_eth(data, end, &proto, &l3))
        return XDP_PASS;
    if (proto == ETH_P_IP) {
        struct iphdr *ip = data + l3;
        if ((void *)(ip + 1) > end) {
            action = XDP_ABORTED;
        } else {
            __u32 src = ip->saddr;
            __u64 *hits = bpf_map_lookup_elem(&blacklist, &src);
            if (hits) {
                *hits += 1;
                action = XDP_DROP;
            } else {
                action = filter_port(ctx, ip->protocol, ip + 1);
            }
        }
    }
    count_verdict(action);
    return action;
}
