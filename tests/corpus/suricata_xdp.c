/* XDP filters in the shape of Suricata's xdp_filter and xdp_lb: VLAN
 * tags walked with a 64-bit offset, IPv4 and IPv6 flows looked up in
 * per-CPU hashes (bypassed flows counted and dropped), GRE decapsulated
 * to the inner IPv4 header, a CPU chosen by a hash computed byte by byte
 * over the addresses kept on the stack, modulo a count read from a map,
 * then checked against the available CPUs and redirected through a
 * cpumap; a global bypass switch in an array.
 * unsafe: xdp_lb
 */
#include "common.h"

#define INITVAL 15485863
struct vlan_hdr { __u16 tci, proto; };
struct flowv4_keys { __u32 src, dst; union { __u32 ports; __u16 port16[2]; }; __u8 ip_proto:1; __u16 vlan0:15; __u16 vlan1; };
struct flowv6_keys { __u32 src[4], dst[4]; union { __u32 ports; __u16 port16[2]; }; __u8 ip_proto:1; __u16 vlan0:15; __u16 vlan1; };
struct pair { __u64 packets, bytes; };

struct legacy_map LEGACY_MAP flow_table_v4 = {
    .type = BPF_MAP_TYPE_PERCPU_HASH, .key_size = sizeof(struct flowv4_keys), .value_size = sizeof(struct pair), .max_entries = 32768,
};
struct legacy_map LEGACY_MAP flow_table_v6 = {
    .type = BPF_MAP_TYPE_PERCPU_HASH, .key_size = sizeof(struct flowv6_keys), .value_size = sizeof(struct pair), .max_entries = 32768,
};
struct legacy_map LEGACY_MAP cpu_map = {
    .type = BPF_MAP_TYPE_CPUMAP, .key_size = 4, .value_size = 4, .max_entries = 64,
};
struct legacy_map LEGACY_MAP cpus_available = {
    .type = BPF_MAP_TYPE_ARRAY, .key_size = 4, .value_size = 4, .max_entries = 64,
};
struct legacy_map LEGACY_MAP cpus_count = {
    .type = BPF_MAP_TYPE_ARRAY, .key_size = 4, .value_size = 4, .max_entries = 1,
};
struct legacy_map LEGACY_MAP global_bypass = {
    .type = BPF_MAP_TYPE_PERCPU_ARRAY, .key_size = 4, .value_size = 8, .max_entries = 1,
};

#define get16bits(d) ((((__u32)(((const __u8 *)(d))[1])) << 8) + (__u32)(((const __u8 *)(d))[0]))
static __always_inline __u32 fast_hash(const char *data, int len, __u32 hash)
{
    __u32 tmp;
    int rem = len & 3;
    len >>= 2;
#pragma unroll
    for (int i = 0; i < 4; i++) {
        if (i >= len)
            break;
        hash += get16bits(data);
        tmp = (get16bits(data + 2) << 11) ^ hash;
        hash = (hash << 16) ^ tmp;
        data += 4;
        hash += hash >> 11;
    }
    if (rem == 1) {
        hash += *data;
        hash ^= hash << 10;
        hash += hash >> 1;
    }
    hash ^= hash << 3;
    hash += hash >> 5;
    hash ^= hash << 4;
    hash += hash >> 17;
    return hash;
}

static __always_inline int to_cpu(__u32 cpu_hash, __u8 proto)
{
    __u32 key0 = 0;
    __u32 *cpu_max = bpf_map_lookup_elem(&cpus_count, &key0);
    if (!cpu_max || !*cpu_max)
        return XDP_PASS;
    cpu_hash = fast_hash((char *)&cpu_hash, 4, INITVAL + proto);
    __u32 cpu_dest = cpu_hash % *cpu_max;
    __u32 *cpu_selected = bpf_map_lookup_elem(&cpus_available, &cpu_dest);
    if (!cpu_selected)
        return XDP_ABORTED;
    return bpf_redirect_map(&cpu_map, *cpu_selected, 0);
}

static __always_inline int filter_ipv4(void *data, __u64 nh_off, void *data_end, __u16 vlan0, __u16 vlan1)
{
    struct iphdr *iph = data + nh_off;
    struct flowv4_keys tuple = {};
    if ((void *)(iph + 1) > data_end)
        return XDP_PASS;
    if (iph->ihl != 5)
        return XDP_PASS;
    tuple.ip_proto = iph->protocol == IPPROTO_TCP;
    if (iph->protocol == IPPROTO_TCP) {
        struct tcphdr *th = data + nh_off + sizeof(*iph);
        if ((void *)(th + 1) > data_end)
            return XDP_PASS;
        tuple.port16[0] = th->source;
        tuple.port16[1] = th->dest;
    } else if (iph->protocol == IPPROTO_UDP) {
        struct udphdr *uh = data + nh_off + sizeof(*iph);
        if ((void *)(uh + 1) > data_end)
            return XDP_PASS;
        tuple.port16[0] = uh->source;
        tuple.port16[1] = uh->dest;
    } else {
        return XDP_PASS;
    }
    tuple.src = iph->saddr;
    tuple.dst = iph->daddr;
    tuple.vlan0 = vlan0;
    tuple.vlan1 = vlan1;
    struct pair *value = bpf_map_lookup_elem(&flow_table_v4, &tuple);
    if (value) {
        value->packets++;
        value->bytes += data_end - data;
        return XDP_DROP;
    }
    return to_cpu(tuple.src + tuple.dst, iph->protocol);
}

static __always_inline int filter_ipv6(void *data, __u64 nh_off, void *data_end, __u16 vlan0, __u16 vlan1)
{
    struct ipv6hdr *ip6h = data + nh_off;
    struct flowv6_keys tuple = {};
    if ((void *)(ip6h + 1) > data_end)
        return XDP_PASS;
    if (ip6h->nexthdr != IPPROTO_TCP && ip6h->nexthdr != IPPROTO_UDP)
        return XDP_PASS;
    struct udphdr *uh = data + nh_off + sizeof(*ip6h);
    if ((void *)(uh + 1) > data_end)
        return XDP_PASS;
    tuple.ip_proto = ip6h->nexthdr == IPPROTO_TCP;
    tuple.port16[0] = uh->source;
    tuple.port16[1] = uh->dest;
    __builtin_memcpy(tuple.src, ip6h->saddr.s6_addr32, sizeof(tuple.src));
    __builtin_memcpy(tuple.dst, ip6h->daddr.s6_addr32, sizeof(tuple.dst));
    tuple.vlan0 = vlan0;
    tuple.vlan1 = vlan1;
    struct pair *value = bpf_map_lookup_elem(&flow_table_v6, &tuple);
    if (value) {
        __sync_fetch_and_add(&value->packets, 1);
        __sync_fetch_and_add(&value->bytes, data_end - data);
        return XDP_DROP;
    }
    return to_cpu(tuple.src[0] + tuple.dst[0] + tuple.src[3] + tuple.dst[3], ip6h->nexthdr);
}

static __always_inline int filter_gre(void *data, __u64 nh_off, void *data_end, __u16 vlan0, __u16 vlan1)
{
    struct iphdr *iph = data + nh_off;
    if ((void *)(iph + 1) > data_end)
        return XDP_PASS;
    __u64 off = nh_off + sizeof(*iph);
    __u16 *gre = data + off;
    if ((void *)(gre + 2) > data_end)
        return XDP_PASS;
    __u16 flags = gre[0], proto = gre[1];
    if (flags & bpf_htons(0x4007))
        return XDP_PASS;
    off += 4;
    if (flags & bpf_htons(0x8000))
        off += 4;
    if (flags & bpf_htons(0x2000))
        off += 4;
    if (flags & bpf_htons(0x1000))
        off += 4;
    if (proto != bpf_htons(ETH_P_IP))
        return XDP_PASS;
    return filter_ipv4(data, off, data_end, vlan0, vlan1);
}

SEC("xdp")
int xdp_hashfilter(struct xdp_md *ctx)
{
    void *data_end = (void *)(long)ctx->data_end;
    void *data = (void *)(long)ctx->data;
    struct ethhdr *eth = data;
    __u16 vlan0 = 0, vlan1 = 0;
    __u64 nh_off = sizeof(*eth);
    __u32 key0 = 0;
    __u64 *bypass = bpf_map_lookup_elem(&global_bypass, &key0);
    if (bypass && *bypass)
        return XDP_PASS;
    if (data + nh_off > data_end)
        return XDP_PASS;
    __u16 h_proto = eth->h_proto;
    if (h_proto == bpf_htons(ETH_P_8021Q) || h_proto == bpf_htons(ETH_P_8021AD)) {
        struct vlan_hdr *vhdr = data + nh_off;
        nh_off += sizeof(*vhdr);
        if (data + nh_off > data_end)
            return XDP_PASS;
        h_proto = vhdr->proto;
        vlan0 = vhdr->tci & 0x0fff;
    }
    if (h_proto == bpf_htons(ETH_P_8021Q) || h_proto == bpf_htons(ETH_P_8021AD)) {
        struct vlan_hdr *vhdr = data + nh_off;
        nh_off += sizeof(*vhdr);
        if (data + nh_off > data_end)
            return XDP_PASS;
        h_proto = vhdr->proto;
        vlan1 = vhdr->tci & 0x0fff;
    }
    if (h_proto == bpf_htons(ETH_P_IP)) {
        struct iphdr *iph = data + nh_off;
        if ((void *)(iph + 1) <= data_end && iph->protocol == IPPROTO_GRE)
            return filter_gre(data, nh_off, data_end, vlan0, vlan1);
        return filter_ipv4(data, nh_off, data_end, vlan0, vlan1);
    }
    if (h_proto == bpf_htons(ETH_P_IPV6))
        return filter_ipv6(data, nh_off, data_end, vlan0, vlan1);
    return XDP_PASS;
}

/* the load balancer alone: a hash of both addresses picks the CPU */
SEC("xdp_lb")
int xdp_loadfilter(struct xdp_md *ctx)
{
    void *data_end = (void *)(long)ctx->data_end;
    void *data = (void *)(long)ctx->data;
    struct ethhdr *eth = data;
    __u64 nh_off = sizeof(*eth);
    if (data + nh_off > data_end)
        return XDP_PASS;
    if (eth->h_proto == bpf_htons(ETH_P_IP)) {
        struct iphdr *iph = data + nh_off;
        if ((void *)(iph + 1) > data_end)
            return XDP_PASS;
        __u32 xsum = iph->saddr + iph->daddr;
        return to_cpu(xsum, iph->protocol);
    }
    if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
        struct ipv6hdr *ip6h = data + nh_off;
        if ((void *)(ip6h + 1) GOOD(>) BAD(>=) data_end + BAD(1) GOOD(0))
            return XDP_PASS;
        __u32 xsum = 0;
#pragma unroll
        for (int i = 0; i < 4; i++)
            xsum += ip6h->saddr.s6_addr32[i] + ip6h->daddr.s6_addr32[i];
        BAD(xsum += *((__u8 *)(ip6h + 1));)
        return to_cpu(xsum, ip6h->nexthdr);
    }
    return XDP_PASS;
}
