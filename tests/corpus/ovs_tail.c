/* A datapath split into tail calls the way OVS's eBPF datapath is: sections
 * named "tail-N" and "ingress"/"egress" (no type in the name: the loader
 * knew they were tc), a large per-CPU scratch struct holding the parsed
 * key, headers copied with bpf_skb_load_bytes, an action list walked with
 * an unrolled loop, actions ending in redirect.
 * unsafe: tail-1 (an action index from the map indexes the list unchecked)
 */
#include "common.h"

#define MAX_ACTIONS 8
struct flow_key {
    __u8 eth_dst[6], eth_src[6];
    __u16 eth_type;
    __u32 ip_src, ip_dst;
    __u8 ip_proto, pad[3];
};
struct action {
    __u32 type, arg;
};
struct scratch {
    struct flow_key key;
    __u32 n_actions, next;
    struct action actions[MAX_ACTIONS];
};
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __type(key, __u32);
    __type(value, struct scratch);
    __uint(max_entries, 1);
} percpu_scratch SEC(".maps");
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __type(key, struct flow_key);
    __type(value, struct action);
    __uint(max_entries, 4096);
} flow_table SEC(".maps");
struct {
    __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
    __uint(key_size, 4);
    __uint(value_size, 4);
    __uint(max_entries, 64);
} tailcalls SEC(".maps");

SEC("ingress")
int dp_ingress(struct __sk_buff *skb)
{
    __u32 zero = 0;
    struct scratch *s = bpf_map_lookup_elem(&percpu_scratch, &zero);
    if (!s)
        return TC_ACT_OK;
    if (bpf_skb_load_bytes(skb, 0, &s->key, 14) < 0)
        return TC_ACT_OK;
    if (s->key.eth_type == bpf_htons(ETH_P_IP)) {
        struct iphdr ip;
        if (bpf_skb_load_bytes(skb, ETH_HLEN, &ip, sizeof ip) < 0)
            return TC_ACT_SHOT;
        s->key.ip_src = ip.saddr;
        s->key.ip_dst = ip.daddr;
        s->key.ip_proto = ip.protocol;
    }
    struct action *a = bpf_map_lookup_elem(&flow_table, &s->key);
    s->n_actions = 0;
    s->next = 0;
    if (a) {
        s->actions[0] = *a;
        s->n_actions = 1;
    }
    bpf_tail_call(skb, &tailcalls, 1);
    return TC_ACT_OK;
}

SEC("tail-1")
int dp_actions(struct __sk_buff *skb)
{
    __u32 zero = 0;
    struct scratch *s = bpf_map_lookup_elem(&percpu_scratch, &zero);
    if (!s)
        return TC_ACT_OK;
    __u32 ifindex = 0;
#pragma unroll
    for (int i = 0; i < MAX_ACTIONS; i++) {
        if (i >= s->n_actions)
            break;
        struct action *a = &s->actions[i];
        if (a->type == 1)
            ifindex = a->arg;
        else if (a->type == 2)
            skb->mark = a->arg;
    }
    __u32 next = s->next;
    BAD(s->actions[next].type = 0;)
    GOOD(if (next < MAX_ACTIONS) s->actions[next].type = 0;)
    return ifindex ? bpf_redirect(ifindex, 0) : TC_ACT_OK;
}

SEC("egress")
int dp_egress(struct __sk_buff *skb)
{
    return skb->mark == 0x99 ? TC_ACT_SHOT : TC_ACT_OK;
}
