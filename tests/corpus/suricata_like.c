/* AF_PACKET socket filters in the shapes Suricata ships (sections
 * "filter" and "loadbalancer", which name no type): bypass a flow found in
 * a per-CPU hash (counting it), drop by VLAN id read from the skb's
 * vlan_tci field, and return a symmetric hash of the addresses as the
 * fanout's choice (LD_ABS reads).
 * unsafe: loadbalancer (copies a length the program never bounded)
 */
#include "common.h"

unsigned long long load_word(void *skb, unsigned long long off) asm("llvm.bpf.load.word");
unsigned long long load_half(void *skb, unsigned long long off) asm("llvm.bpf.load.half");

struct pair {
    __u64 packets, bytes;
};
struct flowv4 {
    __u32 src, dst;
    __u16 port16[2];
    __u8 proto, vlan_idx, pad[2];
};
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
    __type(key, struct flowv4);
    __type(value, struct pair);
    __uint(max_entries, 32768);
} flow_table_v4 SEC(".maps");

SEC("filter")
int bypass(struct __sk_buff *skb)
{
    struct flowv4 key = {};
    if (skb->protocol != bpf_htons(ETH_P_IP))
        return -1;
    key.src = load_word(skb, ETH_HLEN + 12);
    key.dst = load_word(skb, ETH_HLEN + 16);
    key.proto = load_half(skb, ETH_HLEN + 8) & 0xff;
    key.vlan_idx = skb->vlan_present ? 1 : 0;
    struct pair *v = bpf_map_lookup_elem(&flow_table_v4, &key);
    if (v) {
        v->packets++;
        v->bytes += skb->len;
        return 0;
    }
    if (skb->vlan_present && (skb->vlan_tci & 0x0fff) == 2)
        return 0;
    return -1;
}

SEC("loadbalancer")
int lb(struct __sk_buff *skb)
{
    __u32 words[4];
    if (skb->protocol == bpf_htons(ETH_P_IP))
        return load_word(skb, ETH_HLEN + 12) + load_word(skb, ETH_HLEN + 16);
    if (skb->protocol != bpf_htons(ETH_P_IPV6))
        return 0;
    if (bpf_skb_load_bytes(skb, ETH_HLEN + 8, words, GOOD(16) BAD(skb->len)) < 0)
        return 0;
    return words[0] ^ words[1] ^ words[2] ^ words[3];
}
