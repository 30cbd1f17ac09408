/* Load-balancer shapes of Cilium's datapath, built as Cilium builds
 * (-mcpu=v3: 32-bit subregisters): sections "from-netdev" and "2/1" (no
 * type in the name), an IPv4 DNAT rewriting the destination with
 * l3/l4_csum_replace (BPF_F_PSEUDO_HDR), a service lookup with a 32-bit
 * backend index reduced modulo the count, state carried in skb->cb[],
 * bpf_fib_lookup on a stack struct, csum_diff, a tail call.
 * cflags: -mcpu=v3
 * unsafe: 2/1 (the backend slot is indexed by the unreduced 32-bit index)
 */
#include "common.h"

struct svc_key {
    __u32 addr;
    __u16 port, slot;
};
struct svc_val {
    __u32 count;
    __u32 backends[16];
};
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __type(key, struct svc_key);
    __type(value, struct svc_val);
    __uint(max_entries, 1024);
} services SEC(".maps");
struct {
    __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
    __uint(key_size, 4);
    __uint(value_size, 4);
    __uint(max_entries, 32);
} calls SEC(".maps");

#define IP_DST_OFF (ETH_HLEN + __builtin_offsetof(struct iphdr, daddr))
#define IP_CSUM_OFF (ETH_HLEN + __builtin_offsetof(struct iphdr, check))
#define TCP_CSUM_OFF (ETH_HLEN + sizeof(struct iphdr) + __builtin_offsetof(struct tcphdr, check))

SEC("from-netdev")
int from_netdev(struct __sk_buff *skb)
{
    void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
    struct ethhdr *eth = data;
    struct iphdr *ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
        return TC_ACT_OK;
    skb->cb[0] = ip->daddr;
    skb->cb[1] = ip->protocol;
    struct bpf_fib_lookup fib = {};
    fib.family = 2;
    fib.ipv4_src = ip->saddr;
    fib.ipv4_dst = ip->daddr;
    fib.ifindex = skb->ingress_ifindex;
    if (bpf_fib_lookup(skb, &fib, sizeof fib, 0) == BPF_FIB_LKUP_RET_SUCCESS)
        skb->cb[2] = fib.ifindex;
    bpf_tail_call(skb, &calls, 1);
    return TC_ACT_OK;
}

SEC("2/1")
int lb4(struct __sk_buff *skb)
{
    struct svc_key key = { .addr = skb->cb[0], .port = 80 };
    struct svc_val *svc = bpf_map_lookup_elem(&services, &key);
    if (!svc || svc->count == 0 || skb->cb[1] != IPPROTO_TCP)
        return TC_ACT_OK;
    __u32 idx = bpf_get_prandom_u32();
    GOOD(idx %= svc->count; if (idx >= 16) return TC_ACT_SHOT;)
    __u32 old = skb->cb[0], new = svc->backends[idx];
    __s64 diff = bpf_csum_diff(&old, 4, &new, 4, 0);
    bpf_l4_csum_replace(skb, TCP_CSUM_OFF, old, new, BPF_F_PSEUDO_HDR | 4);
    bpf_l3_csum_replace(skb, IP_CSUM_OFF, old, new, 4);
    bpf_skb_store_bytes(skb, IP_DST_OFF, &new, 4, 0);
    skb->mark = (__u32)diff;
    return TC_ACT_OK;
}
