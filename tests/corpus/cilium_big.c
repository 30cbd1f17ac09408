/* A large datapath program in the shape of Cilium's bpf_lxc "from-container"
 * (thousands of instructions, many branches, subprograms): Ethernet, IPv4
 * and IPv6 parsing with variable IPv4 header length, a connection-tracking
 * lookup and creation with TCP flag handling, a service lookup with
 * backend selection and DNAT (checksums fixed, pointers reloaded after the
 * rewrite), an identity found through an LPM trie, a policy lookup with
 * wildcard fallbacks, SNAT port allocation in an unrolled retry loop, drop
 * notifications through perf_event_output, per-reason metrics in a
 * non-inlined subprogram, a tail call to the next stage. The section names
 * no type (iproute2 loaded it as tc).
 * unsafe: from-container (the IPv6 next header is read before the header is bounds-checked)
 */
#include "common.h"

#define DROP_POLICY 133
#define DROP_CT_INVALID 134
#define DROP_NO_SERVICE 135
#define DROP_NAT_NO_PORT 136
#define DROP_INVALID 137
#define CT_EGRESS 0
#define CT_INGRESS 1
#define TCP_FLAG_SYN 0x02
#define TCP_FLAG_RST 0x04
#define TCP_FLAG_FIN 0x01
#define TCP_FLAG_ACK 0x10

struct ct4_key { __u32 daddr, saddr; __u16 dport, sport; __u8 nexthdr, flags; __u16 pad; };
struct ct6_key { __u32 daddr[4], saddr[4]; __u16 dport, sport; __u8 nexthdr, flags; __u16 pad; };
struct ct_entry {
    __u64 rx_packets, rx_bytes, tx_packets, tx_bytes;
    __u32 lifetime;
    __u16 rx_closing : 1, tx_closing : 1, seen_non_syn : 1, node_port : 1, reserved : 12;
    __u16 rev_nat_index;
    __u32 src_sec_id;
    __u32 last_tx_report, last_rx_report;
};
struct lb4_key { __u32 address; __u16 dport; __u16 backend_slot; __u8 proto, scope, pad[2]; };
struct lb4_service { __u32 backend_id; __u16 count, rev_nat_index; __u8 flags, flags2, pad[2]; };
struct lb4_backend { __u32 address; __u16 port; __u8 proto, flags; };
struct ipcache_key { __u32 prefixlen; __u16 pad; __u8 family, pad2; __u32 ip[4]; };
struct remote_info { __u32 sec_label, tunnel_endpoint; __u8 key, pad[3]; };
struct policy_key { __u32 sec_label; __u16 dport; __u8 protocol, egress; };
struct policy_entry { __u16 proxy_port; __u8 deny, wildcard_protocol, wildcard_dport, pad[3]; __u64 packets, bytes; };
struct nat_entry { __u32 to_addr; __u16 to_port, pad; __u64 created; };
struct drop_notify { __u8 type, subtype; __u16 source; __u32 hash, len_orig, len_cap, src_label, dst_label, dst_id, ifindex; };
struct metrics_key { __u8 reason, dir; __u16 pad; };
struct metrics_val { __u64 count, bytes; };

struct { __uint(type, BPF_MAP_TYPE_LRU_HASH); __type(key, struct ct4_key); __type(value, struct ct_entry); __uint(max_entries, 65536); } ct4 SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_LRU_HASH); __type(key, struct ct6_key); __type(value, struct ct_entry); __uint(max_entries, 65536); } ct6 SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_HASH); __type(key, struct lb4_key); __type(value, struct lb4_service); __uint(max_entries, 4096); } lb4_services SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_HASH); __type(key, __u32); __type(value, struct lb4_backend); __uint(max_entries, 4096); } lb4_backends SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_LPM_TRIE); __type(key, struct ipcache_key); __type(value, struct remote_info); __uint(max_entries, 4096); __uint(map_flags, BPF_F_NO_PREALLOC); } ipcache SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_HASH); __type(key, struct policy_key); __type(value, struct policy_entry); __uint(max_entries, 16384); } policy SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_LRU_HASH); __type(key, struct ct4_key); __type(value, struct nat_entry); __uint(max_entries, 65536); } snat4 SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_PERCPU_HASH); __type(key, struct metrics_key); __type(value, struct metrics_val); __uint(max_entries, 1024); } metrics SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY); __uint(key_size, 4); __uint(value_size, 4); } events SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_PROG_ARRAY); __uint(key_size, 4); __uint(value_size, 4); __uint(max_entries, 32); } calls SEC(".maps");

#define IP_CSUM_OFF (ETH_HLEN + offsetof(struct iphdr, check))
#define IP_DST_OFF (ETH_HLEN + offsetof(struct iphdr, daddr))
#define IP_SRC_OFF (ETH_HLEN + offsetof(struct iphdr, saddr))

static __attribute__((noinline)) int update_metrics(__u32 bytes, __u32 reason, __u32 dir)
{
    struct metrics_key k = { .reason = (__u8)reason, .dir = (__u8)dir };
    struct metrics_val *v = bpf_map_lookup_elem(&metrics, &k);
    if (v) {
        v->count += 1;
        v->bytes += bytes;
    } else {
        struct metrics_val n = { 1, bytes };
        bpf_map_update_elem(&metrics, &k, &n, BPF_ANY);
    }
    return 0;
}

static __attribute__((noinline)) int send_drop_notify(struct __sk_buff *skb, __u32 src, __u32 dst,
                                                       __u32 reason)
{
    struct drop_notify n = {
        .type = 1, .subtype = (__u8)reason, .source = 7, .hash = bpf_get_hash_recalc(skb),
        .len_orig = skb->len, .len_cap = skb->len < 128 ? skb->len : 128, .src_label = src,
        .dst_label = dst, .dst_id = 0, .ifindex = skb->ifindex,
    };
    __u64 cap = n.len_cap;
    bpf_perf_event_output(skb, &events, BPF_F_CURRENT_CPU | (cap << 32), &n, sizeof n);
    update_metrics(skb->len, reason, CT_EGRESS);
    return TC_ACT_SHOT;
}

static __always_inline __u32 lookup_identity4(__u32 addr)
{
    struct ipcache_key k = { .prefixlen = 32 + 32, .family = 2 };
    k.ip[0] = addr;
    struct remote_info *info = bpf_map_lookup_elem(&ipcache, &k);
    return info ? info->sec_label : 2; /* WORLD */
}

static __always_inline __u32 lookup_identity6(const __u32 *addr)
{
    struct ipcache_key k = { .prefixlen = 32 + 128, .family = 10 };
    k.ip[0] = addr[0];
    k.ip[1] = addr[1];
    k.ip[2] = addr[2];
    k.ip[3] = addr[3];
    struct remote_info *info = bpf_map_lookup_elem(&ipcache, &k);
    return info ? info->sec_label : 2;
}

/* policy: exact, then any port, then any protocol */
static __always_inline int policy_can_egress(__u32 identity, __u16 dport, __u8 proto,
                                             __u32 bytes, __u16 *proxy)
{
    struct policy_key k = { .sec_label = identity, .dport = dport, .protocol = proto, .egress = 1 };
    struct policy_entry *p = bpf_map_lookup_elem(&policy, &k);
    if (!p) {
        k.dport = 0;
        p = bpf_map_lookup_elem(&policy, &k);
    }
    if (!p) {
        k.protocol = 0;
        p = bpf_map_lookup_elem(&policy, &k);
    }
    if (!p) {
        k.sec_label = 0;
        p = bpf_map_lookup_elem(&policy, &k);
    }
    if (!p)
        return -DROP_POLICY;
    __sync_fetch_and_add(&p->packets, 1);
    __sync_fetch_and_add(&p->bytes, bytes);
    if (p->deny)
        return -DROP_POLICY;
    *proxy = p->proxy_port;
    return 0;
}

static __always_inline int ct_update(struct ct_entry *e, __u8 tcp_flags, __u32 bytes, int dir)
{
    if (dir == CT_EGRESS) {
        __sync_fetch_and_add(&e->tx_packets, 1);
        __sync_fetch_and_add(&e->tx_bytes, bytes);
    } else {
        __sync_fetch_and_add(&e->rx_packets, 1);
        __sync_fetch_and_add(&e->rx_bytes, bytes);
    }
    if (tcp_flags & (TCP_FLAG_RST | TCP_FLAG_FIN)) {
        if (dir == CT_EGRESS)
            e->tx_closing = 1;
        else
            e->rx_closing = 1;
        e->lifetime = 10;
        return 2;
    }
    if (!(tcp_flags & TCP_FLAG_SYN))
        e->seen_non_syn = 1;
    e->lifetime = e->seen_non_syn ? 21600 : 60;
    if (e->rx_closing && e->tx_closing)
        return 3;
    return 1;
}

static __always_inline int do_snat4(struct __sk_buff *skb, struct ct4_key *tuple, __u32 nat_addr)
{
    struct nat_entry *e = bpf_map_lookup_elem(&snat4, tuple);
    if (e)
        return e->to_port;
    struct nat_entry fresh = { .to_addr = nat_addr, .created = bpf_ktime_get_ns() };
    struct ct4_key rev = *tuple;
    rev.saddr = tuple->daddr;
    rev.daddr = nat_addr;
    rev.dport = tuple->sport;
#pragma unroll
    for (int i = 0; i < 8; i++) {
        __u16 port = 32768 + (bpf_get_prandom_u32() & 0x7fff);
        rev.sport = bpf_htons(port);
        fresh.to_port = rev.sport;
        if (bpf_map_update_elem(&snat4, &rev, &fresh, BPF_NOEXIST) == 0) {
            bpf_map_update_elem(&snat4, tuple, &fresh, BPF_ANY);
            return rev.sport;
        }
    }
    return -DROP_NAT_NO_PORT;
}

static __always_inline int handle_ipv4(struct __sk_buff *skb, __u32 src_identity)
{
    void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
    struct iphdr *ip = data + ETH_HLEN;
    if ((void *)(ip + 1) > end)
        return -DROP_INVALID;
    __u32 ihl = ip->ihl * 4;
    if (ihl < sizeof *ip)
        return -DROP_INVALID;
    struct ct4_key tuple = { .daddr = ip->daddr, .saddr = ip->saddr, .nexthdr = ip->protocol };
    __u8 tcp_flags = 0;
    void *l4 = (void *)ip + ihl;
    if (ip->protocol == IPPROTO_TCP) {
        struct tcphdr *th = l4;
        if ((void *)(th + 1) > end)
            return -DROP_INVALID;
        tuple.dport = th->dest;
        tuple.sport = th->source;
        tcp_flags = ((__u8 *)th)[13];
    } else if (ip->protocol == IPPROTO_UDP) {
        struct udphdr *uh = l4;
        if ((void *)(uh + 1) > end)
            return -DROP_INVALID;
        tuple.dport = uh->dest;
        tuple.sport = uh->source;
    } else if (ip->protocol == IPPROTO_ICMP) {
        __u8 *icmp = l4;
        if ((void *)(icmp + 8) > end)
            return -DROP_INVALID;
        if (icmp[0] == 8 || icmp[0] == 0)
            tuple.sport = *(__u16 *)(icmp + 4);
    }
    __u32 dst_identity = lookup_identity4(tuple.daddr);
    __u32 len = skb->len;

    /* service translation */
    struct lb4_key svc_key = { .address = tuple.daddr, .dport = tuple.dport, .proto = tuple.nexthdr };
    struct lb4_service *svc = bpf_map_lookup_elem(&lb4_services, &svc_key);
    if (!svc) {
        svc_key.dport = 0;
        svc = bpf_map_lookup_elem(&lb4_services, &svc_key);
    }
    if (svc) {
        if (svc->count == 0)
            return -DROP_NO_SERVICE;
        __u32 hash = bpf_get_hash_recalc(skb);
        svc_key.backend_slot = (__u16)(hash % svc->count) + 1;
        struct lb4_service *slot = bpf_map_lookup_elem(&lb4_services, &svc_key);
        if (!slot)
            return -DROP_NO_SERVICE;
        __u32 bid = slot->backend_id;
        struct lb4_backend *be = bpf_map_lookup_elem(&lb4_backends, &bid);
        if (!be)
            return -DROP_NO_SERVICE;
        __u32 old_addr = tuple.daddr, new_addr = be->address;
        __u16 old_port = tuple.dport, new_port = be->port;
        if (bpf_l3_csum_replace(skb, IP_CSUM_OFF, old_addr, new_addr, 4) < 0)
            return -DROP_INVALID;
        if (tuple.nexthdr == IPPROTO_TCP || tuple.nexthdr == IPPROTO_UDP) {
            __u32 csum_off = ETH_HLEN + ihl + (tuple.nexthdr == IPPROTO_TCP ? 16 : 6);
            __u32 port_off = ETH_HLEN + ihl + 2;
            if (csum_off > 200 || port_off > 200)
                return -DROP_INVALID;
            bpf_l4_csum_replace(skb, csum_off, old_addr, new_addr, BPF_F_PSEUDO_HDR | 4);
            if (new_port && new_port != old_port) {
                bpf_l4_csum_replace(skb, csum_off, old_port, new_port, 2);
                if (bpf_skb_store_bytes(skb, port_off, &new_port, 2, 0) < 0)
                    return -DROP_INVALID;
                tuple.dport = new_port;
            }
        }
        if (bpf_skb_store_bytes(skb, IP_DST_OFF, &new_addr, 4, 0) < 0)
            return -DROP_INVALID;
        tuple.daddr = new_addr;
        dst_identity = lookup_identity4(new_addr);
        /* the packet moved: fresh pointers before any further direct read */
        data = (void *)(long)skb->data;
        end = (void *)(long)skb->data_end;
        ip = data + ETH_HLEN;
        if ((void *)(ip + 1) > end)
            return -DROP_INVALID;
        skb->cb[4] = ip->ttl;
    }

    /* connection tracking */
    struct ct_entry *ct = bpf_map_lookup_elem(&ct4, &tuple);
    int ct_state = 0;
    if (ct) {
        ct_state = ct_update(ct, tcp_flags, len, CT_EGRESS);
    } else {
        struct ct4_key rev = tuple;
        rev.daddr = tuple.saddr;
        rev.saddr = tuple.daddr;
        rev.dport = tuple.sport;
        rev.sport = tuple.dport;
        struct ct_entry *rct = bpf_map_lookup_elem(&ct4, &rev);
        if (rct) {
            ct_state = ct_update(rct, tcp_flags, len, CT_INGRESS) + 8;
        } else {
            if (tuple.nexthdr == IPPROTO_TCP && !(tcp_flags & TCP_FLAG_SYN))
                return -DROP_CT_INVALID;
            __u16 proxy = 0;
            int ret = policy_can_egress(dst_identity, bpf_ntohs(tuple.dport), tuple.nexthdr, len,
                                        &proxy);
            if (ret < 0)
                return ret;
            struct ct_entry fresh = {}; /* padding too: the map takes all of it */
            fresh.tx_packets = 1;
            fresh.tx_bytes = len;
            fresh.lifetime = 60;
            fresh.src_sec_id = src_identity;
            fresh.rev_nat_index = svc ? svc->rev_nat_index : 0;
            bpf_map_update_elem(&ct4, &tuple, &fresh, BPF_ANY);
            if (proxy)
                skb->mark = 0x0200 | ((__u32)proxy << 16);
        }
    }
    if (dst_identity == 2) { /* to the world: masquerade */
        int port = do_snat4(skb, &tuple, 0x0a000001);
        if (port < 0)
            return port;
        __u32 old = tuple.saddr, nat = 0x0a000001;
        bpf_l3_csum_replace(skb, IP_CSUM_OFF, old, nat, 4);
        if (bpf_skb_store_bytes(skb, IP_SRC_OFF, &nat, 4, 0) < 0)
            return -DROP_INVALID;
    }
    skb->cb[0] = dst_identity;
    skb->cb[1] = ct_state;
    return 0;
}

static __always_inline int handle_ipv6(struct __sk_buff *skb, __u32 src_identity)
{
    void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
    struct ipv6hdr *ip6 = data + ETH_HLEN;
    GOOD(if ((void *)(ip6 + 1) > end) return -DROP_INVALID;)
    BAD(if ((void *)ip6 + 4 > end) return -DROP_INVALID;)
    struct ct6_key tuple = { .nexthdr = ip6->nexthdr };
    __builtin_memcpy(tuple.daddr, &ip6->daddr, 16);
    __builtin_memcpy(tuple.saddr, &ip6->saddr, 16);
    __u8 nh = ip6->nexthdr;
    void *l4 = ip6 + 1;
    /* one extension header (hop-by-hop or destination options) skipped */
    if (nh == 0 || nh == 60) {
        __u8 *ext = l4;
        if ((void *)(ext + 8) > end)
            return -DROP_INVALID;
        nh = ext[0];
        __u32 extlen = (ext[1] + 1) * 8;
        if (extlen > 64)
            return -DROP_INVALID;
        l4 = (void *)ext + extlen;
        tuple.nexthdr = nh;
    }
    __u8 tcp_flags = 0;
    if (nh == IPPROTO_TCP) {
        struct tcphdr *th = l4;
        if ((void *)(th + 1) > end)
            return -DROP_INVALID;
        tuple.dport = th->dest;
        tuple.sport = th->source;
        tcp_flags = ((__u8 *)th)[13];
    } else if (nh == IPPROTO_UDP) {
        struct udphdr *uh = l4;
        if ((void *)(uh + 1) > end)
            return -DROP_INVALID;
        tuple.dport = uh->dest;
        tuple.sport = uh->source;
    }
    __u32 dst_identity = lookup_identity6(tuple.daddr);
    __u32 len = skb->len;
    struct ct_entry *ct = bpf_map_lookup_elem(&ct6, &tuple);
    if (ct) {
        skb->cb[1] = ct_update(ct, tcp_flags, len, CT_EGRESS);
    } else {
        if (nh == IPPROTO_TCP && !(tcp_flags & TCP_FLAG_SYN))
            return -DROP_CT_INVALID;
        __u16 proxy = 0;
        int ret = policy_can_egress(dst_identity, bpf_ntohs(tuple.dport), nh, len, &proxy);
        if (ret < 0)
            return ret;
        struct ct_entry fresh = {};
        fresh.tx_packets = 1;
        fresh.tx_bytes = len;
        fresh.lifetime = 60;
        fresh.src_sec_id = src_identity;
        bpf_map_update_elem(&ct6, &tuple, &fresh, BPF_ANY);
    }
    skb->cb[0] = dst_identity;
    return 0;
}

SEC("from-container")
int handle_xgress(struct __sk_buff *skb)
{
    void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
    struct ethhdr *eth = data;
    if ((void *)(eth + 1) > end)
        return send_drop_notify(skb, 0, 0, DROP_INVALID);
    __u32 src_identity = skb->cb[2] ? skb->cb[2] : 5;
    __u16 proto = eth->h_proto;
    int ret;
    if (proto == bpf_htons(ETH_P_IP))
        ret = handle_ipv4(skb, src_identity);
    else if (proto == bpf_htons(ETH_P_IPV6))
        ret = handle_ipv6(skb, src_identity);
    else if (proto == bpf_htons(ETH_P_ARP))
        ret = 0;
    else
        ret = -DROP_INVALID;
    if (ret < 0)
        return send_drop_notify(skb, src_identity, skb->cb[0], -ret);
    update_metrics(skb->len, 0, CT_EGRESS);
    bpf_tail_call(skb, &calls, 7);
    return TC_ACT_OK;
}
