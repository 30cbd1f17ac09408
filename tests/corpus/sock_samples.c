/* Socket filters in the shapes of samples/bpf's sockex1 and sockex2 (and
 * Suricata's bypass filter): LD_ABS reads of the protocol, a flow
 * dissector walking IPv4, GRE and IPv6 with a header offset kept in a
 * register (LD_IND), a hash map updated from the flow.
 * unsafe: socket2
 */
#include "common.h"

unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");
unsigned long long load_half(void *skb, unsigned long long off) asm("llvm.bpf.load.half");
unsigned long long load_word(void *skb, unsigned long long off) asm("llvm.bpf.load.word");

struct legacy_map LEGACY_MAP my_map = {
    .type = BPF_MAP_TYPE_ARRAY, .key_size = 4, .value_size = 8, .max_entries = 256,
};
struct pair {
    long packets, bytes;
};
struct legacy_map LEGACY_MAP hash_map = {
    .type = BPF_MAP_TYPE_HASH, .key_size = 4, .value_size = sizeof(struct pair),
    .max_entries = 1024,
};

SEC("socket1")
int bpf_prog1(struct __sk_buff *skb)
{
    int index = load_byte(skb, ETH_HLEN + offsetof(struct iphdr, protocol));
    long *value;
    if (skb->pkt_type != 4 /* PACKET_OUTGOING */)
        return 0;
    value = bpf_map_lookup_elem(&my_map, &index);
    if (value)
        __sync_fetch_and_add(value, skb->len);
    return 0;
}

struct flow_keys {
    __be32 src, dst;
    union {
        __be32 ports;
        __be16 port16[2];
    };
    __u32 ip_proto;
};
struct gre_hdr {
    __be16 flags, proto;
};
#define GRE_CSUM 0x8000
#define GRE_KEY 0x2000
#define GRE_SEQ 0x1000

static __always_inline int ip_is_fragment(struct __sk_buff *ctx, __u64 nhoff)
{
    return load_half(ctx, nhoff + offsetof(struct iphdr, frag_off)) & (0x2000 | 0x1FFF);
}
static __always_inline __u32 ipv6_addr_hash(struct __sk_buff *ctx, __u64 off)
{
    __u64 w0 = load_word(ctx, off), w1 = load_word(ctx, off + 4);
    __u64 w2 = load_word(ctx, off + 8), w3 = load_word(ctx, off + 12);
    return (__u32)(w0 ^ w1 ^ w2 ^ w3);
}
static __always_inline __u64 parse_ip(struct __sk_buff *skb, __u64 nhoff, __u64 *ip_proto,
                                      struct flow_keys *flow)
{
    __u64 verlen;
    if (ip_is_fragment(skb, nhoff))
        *ip_proto = 0;
    else
        *ip_proto = load_byte(skb, nhoff + offsetof(struct iphdr, protocol));
    if (*ip_proto != IPPROTO_GRE) {
        flow->src = load_word(skb, nhoff + offsetof(struct iphdr, saddr));
        flow->dst = load_word(skb, nhoff + offsetof(struct iphdr, daddr));
    }
    verlen = load_byte(skb, nhoff + 0);
    if (verlen == 0x45)
        nhoff += 20;
    else
        nhoff += (verlen & 0xF) << 2;
    return nhoff;
}
static __always_inline __u64 parse_ipv6(struct __sk_buff *skb, __u64 nhoff, __u64 *ip_proto,
                                        struct flow_keys *flow)
{
    *ip_proto = load_byte(skb, nhoff + offsetof(struct ipv6hdr, nexthdr));
    flow->src = ipv6_addr_hash(skb, nhoff + offsetof(struct ipv6hdr, saddr));
    flow->dst = ipv6_addr_hash(skb, nhoff + offsetof(struct ipv6hdr, daddr));
    nhoff += sizeof(struct ipv6hdr);
    return nhoff;
}

static __always_inline int flow_dissector(struct __sk_buff *skb, struct flow_keys *flow)
{
    __u64 nhoff = ETH_HLEN;
    __u64 ip_proto;
    __u64 proto = load_half(skb, 12);
    int poff;
    if (proto == ETH_P_8021AD) {
        proto = load_half(skb, nhoff + 2);
        nhoff += 4;
    }
    if (proto == ETH_P_8021Q) {
        proto = load_half(skb, nhoff + 2);
        nhoff += 4;
    }
    if (proto == ETH_P_IP)
        nhoff = parse_ip(skb, nhoff, &ip_proto, flow);
    else if (proto == ETH_P_IPV6)
        nhoff = parse_ipv6(skb, nhoff, &ip_proto, flow);
    else
        return 0;
    switch (ip_proto) {
    case IPPROTO_GRE: {
        struct gre_hdr gre;
        gre.flags = load_half(skb, nhoff + offsetof(struct gre_hdr, flags));
        gre.proto = load_half(skb, nhoff + offsetof(struct gre_hdr, proto));
        if (gre.flags & (0x4000 | 0x0007))
            break;
        nhoff += 4;
        if (gre.flags & GRE_CSUM)
            nhoff += 4;
        if (gre.flags & GRE_KEY)
            nhoff += 4;
        if (gre.flags & GRE_SEQ)
            nhoff += 4;
        if (gre.proto == ETH_P_8021Q) {
            gre.proto = load_half(skb, nhoff + offsetof(struct ethhdr, h_proto));
            nhoff += ETH_HLEN;
        }
        if (gre.proto == ETH_P_IP)
            nhoff = parse_ip(skb, nhoff, &ip_proto, flow);
        else if (gre.proto == ETH_P_IPV6)
            nhoff = parse_ipv6(skb, nhoff, &ip_proto, flow);
        else
            return 0;
        break;
    }
    case IPPROTO_IPIP:
        nhoff = parse_ip(skb, nhoff, &ip_proto, flow);
        break;
    case IPPROTO_IPV6:
        nhoff = parse_ipv6(skb, nhoff, &ip_proto, flow);
        break;
    default:
        break;
    }
    flow->ip_proto = ip_proto;
    poff = ip_proto == IPPROTO_TCP || ip_proto == IPPROTO_UDP ? 0 : -1;
    if (poff >= 0) {
        nhoff += poff;
        flow->ports = load_word(skb, nhoff);
    }
    return 1;
}

SEC("socket2")
int bpf_prog2(struct __sk_buff *skb)
{
    struct flow_keys flow = {};
    struct pair *value;
    __u32 key;
    if (!flow_dissector(skb, &flow))
        return 0;
    key = flow.dst;
    value = bpf_map_lookup_elem(&hash_map, &key);
    BAD(value->bytes++;)
    if (value) {
        __sync_fetch_and_add(&value->packets, 1);
        __sync_fetch_and_add(&value->bytes, skb->len);
    } else {
        struct pair val = {1, skb->len};
        bpf_map_update_elem(&hash_map, &key, &val, BPF_ANY);
    }
    return 0;
}
