/* A tc datapath in the shape of Cilium's iproute2-era objects (bpf_lxc,
 * bpf_netdev, bpf_overlay): maps as struct bpf_elf_map in the `maps`
 * section with ids and pinning scopes (one map of maps naming its template
 * by inner_id), programs in sections that name no type ("from-container",
 * "2/1", "2/3", "1/0x1010") reached by tail calls through a prog_array,
 * the packet rewritten with skb_store_bytes and l3/l4 checksum fixes,
 * state passed in skb->cb, a per-endpoint policy found through the map of
 * maps, the hash recomputed, a redirect at the end.
 * unsafe: 2/3 (the policy entry of the inner map is used without a NULL check)
 */
#include "common.h"

#define PIN_GLOBAL 2
#define ID_POLICY_INNER 7
struct ct_key {
    __u32 saddr, daddr;
    __u16 sport, dport;
    __u8 proto, pad[3];
};
struct ct_entry {
    __u64 packets, bytes;
    __u32 rev_nat, flags;
};
struct policy {
    __u32 allow, proxy_port;
};

struct elf_map LEGACY_MAP cilium_calls = {
    .type = BPF_MAP_TYPE_PROG_ARRAY, .size_key = 4, .size_value = 4, .max_elem = 32,
    .id = 1, .pinning = PIN_GLOBAL,
};
struct elf_map LEGACY_MAP cilium_ct4 = {
    .type = BPF_MAP_TYPE_HASH, .size_key = sizeof(struct ct_key),
    .size_value = sizeof(struct ct_entry), .max_elem = 1024, .id = 2, .pinning = PIN_GLOBAL,
};
struct elf_map LEGACY_MAP cilium_policy_tmpl = {
    .type = BPF_MAP_TYPE_HASH, .size_key = 4, .size_value = sizeof(struct policy),
    .max_elem = 256, .id = ID_POLICY_INNER,
};
struct elf_map LEGACY_MAP cilium_policy = {
    .type = BPF_MAP_TYPE_ARRAY_OF_MAPS, .size_key = 4, .size_value = 4, .max_elem = 16,
    .id = 9, .pinning = PIN_GLOBAL, .inner_id = ID_POLICY_INNER,
};
struct elf_map LEGACY_MAP cilium_metrics = {
    .type = BPF_MAP_TYPE_PERCPU_HASH, .size_key = 8, .size_value = 16, .max_elem = 1024,
    .id = 11,
};

#define CB_SRC_LABEL 0
#define CB_IFINDEX 1
#define TAIL_CT 1
#define TAIL_POLICY 3
#define IP_CSUM_OFF (ETH_HLEN + offsetof(struct iphdr, check))
#define TCP_CSUM_OFF (ETH_HLEN + sizeof(struct iphdr) + offsetof(struct tcphdr, check))
#define DADDR_OFF (ETH_HLEN + offsetof(struct iphdr, daddr))

static __always_inline void account(__u32 reason, __u32 dir, __u64 bytes)
{
    __u64 key = ((__u64)reason << 8) | dir;
    __u64 *m = bpf_map_lookup_elem(&cilium_metrics, &key);
    if (m) {
        m[0] += 1;
        m[1] += bytes;
    } else {
        __u64 init[2] = { 1, bytes };
        bpf_map_update_elem(&cilium_metrics, &key, init, BPF_ANY);
    }
}

SEC("from-container")
int handle_xgress(struct __sk_buff *skb)
{
    void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
    struct ethhdr *eth = data;
    if ((void *)(eth + 1) > end)
        return TC_ACT_OK;
    skb->cb[CB_SRC_LABEL] = 0;
    skb->cb[CB_IFINDEX] = skb->ifindex;
    if (eth->h_proto == bpf_htons(ETH_P_IP)) {
        account(1, 0, skb->len);
        bpf_tail_call(skb, &cilium_calls, TAIL_CT);
    }
    account(2, 0, skb->len);
    return TC_ACT_OK;
}

SEC("2/1")
int tail_ct4(struct __sk_buff *skb)
{
    void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
    struct iphdr *ip = data + ETH_HLEN;
    if ((void *)(ip + 1) > end)
        return TC_ACT_SHOT;
    struct ct_key k = { .saddr = ip->saddr, .daddr = ip->daddr, .proto = ip->protocol };
    if (ip->protocol == IPPROTO_TCP || ip->protocol == IPPROTO_UDP) {
        __u16 ports[2];
        if (bpf_skb_load_bytes(skb, ETH_HLEN + ip->ihl * 4, ports, sizeof ports) < 0)
            return TC_ACT_SHOT;
        k.sport = ports[0];
        k.dport = ports[1];
    }
    struct ct_entry *ct = bpf_map_lookup_elem(&cilium_ct4, &k);
    if (ct) {
        __sync_fetch_and_add(&ct->packets, 1);
        __sync_fetch_and_add(&ct->bytes, skb->len);
        skb->cb[CB_SRC_LABEL] = ct->rev_nat;
    } else {
        struct ct_entry fresh = { .packets = 1, .bytes = skb->len };
        bpf_map_update_elem(&cilium_ct4, &k, &fresh, BPF_NOEXIST);
    }
    bpf_tail_call(skb, &cilium_calls, TAIL_POLICY);
    return TC_ACT_SHOT;
}

SEC("2/3")
int tail_policy(struct __sk_buff *skb)
{
    __u32 ep = skb->cb[CB_IFINDEX] & 15, label = skb->cb[CB_SRC_LABEL];
    void *inner = bpf_map_lookup_elem(&cilium_policy, &ep);
    if (!inner)
        return TC_ACT_SHOT;
    struct policy *p = bpf_map_lookup_elem(inner, &label);
    GOOD(if (!p) return TC_ACT_SHOT;)
    if (!p->allow)
        return TC_ACT_SHOT;
    if (p->proxy_port) {
        /* rewrite the destination to the proxy: both checksums fixed */
        __u32 old, new_ip = bpf_htonl(0x7f000001);
        if (bpf_skb_load_bytes(skb, DADDR_OFF, &old, 4) < 0)
            return TC_ACT_SHOT;
        bpf_l4_csum_replace(skb, TCP_CSUM_OFF, old, new_ip, BPF_F_PSEUDO_HDR | 4);
        bpf_l3_csum_replace(skb, IP_CSUM_OFF, old, new_ip, 4);
        if (bpf_skb_store_bytes(skb, DADDR_OFF, &new_ip, 4, 0) < 0)
            return TC_ACT_SHOT;
        bpf_set_hash_invalid(skb);
        skb->mark = p->proxy_port;
    }
    __u32 h = bpf_get_hash_recalc(skb);
    bpf_set_hash(skb, h | 1);
    return bpf_redirect(skb->cb[CB_IFINDEX], 0);
}

/* the endpoint's ARP/ND responder ("1/0x1010" in Cilium: a tail call slot
 * number as the section name): the reply built in place, sent back out */
SEC("1/0x1010")
int handle_arp(struct __sk_buff *skb)
{
    void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
    unsigned char *p = data;
    if (data + 42 > end)
        return TC_ACT_OK;
    if (p[12] != 0x08 || p[13] != 0x06 || p[21] != 1)
        return TC_ACT_OK;
    unsigned char mac[6], ip[4], tip[4];
    __builtin_memcpy(mac, p + 6, 6);
    __builtin_memcpy(ip, p + 28, 4);
    __builtin_memcpy(tip, p + 38, 4);
    __builtin_memcpy(p, mac, 6);
    p[21] = 2;
    __builtin_memcpy(p + 32, mac, 6);
    __builtin_memcpy(p + 38, ip, 4);
    __builtin_memcpy(p + 28, tip, 4);
    bpf_skb_change_type(skb, 0 /* PACKET_HOST */);
    return bpf_redirect(skb->ifindex, 0);
}
