/* Register pressure as big real programs have it: packet pointers, a map
 * value pointer and the context live across helper calls, so clang spills
 * them to the stack and fills them back; a 32-bit and a 64-bit scalar
 * spilled and refilled; a stack buffer written in part and read back
 * only where written.
 * unsafe: tc (reads a stack byte that no path wrote)
 * kernel-differs: tc (the kernel lets root read unwritten stack; bpflua never does, README)
 */
#include "common.h"

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __type(key, __u32);
    __type(value, __u64);
    __uint(max_entries, 128);
} last SEC(".maps");

SEC("tc")
int spills(struct __sk_buff *skb)
{
    void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
    struct ethhdr *eth = data;
    struct iphdr *ip = data + sizeof *eth;
    if ((void *)(ip + 1) > end)
        return TC_ACT_OK;
    __u32 key = ip->saddr;
    __u64 now = bpf_ktime_get_ns();
    __u64 *prev = bpf_map_lookup_elem(&last, &key);
    __u32 rnd = bpf_get_prandom_u32();
    char note[16];
    note[0] = eth->h_dest[0];
    note[1] = ip->ttl;
    if (prev && now - *prev < 1000)
        return TC_ACT_SHOT;
    bpf_map_update_elem(&last, &key, &now, BPF_ANY);
    __u64 t2 = bpf_ktime_get_ns();
    if (ip->protocol == IPPROTO_TCP && eth->h_proto == bpf_htons(ETH_P_IP))
        skb->mark = rnd + (__u32)(t2 - now) + note[1] BAD(+ note[ip->tos & 15]);
    return note[0] & 1;
}
