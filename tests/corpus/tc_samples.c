/* tc programs in the shapes of samples/bpf (tc_l2_redirect, tcbpf1,
 * xdp2skb_meta, test_cgrp2_tc) and prototype-kernel (xdp_vlan01's
 * tc_vlan_push, tc_bench01_redirect): sections that name no type (the tc
 * command was told), legacy maps, the metadata an XDP program left read
 * through data_meta, a VLAN tag pushed, tunnel metadata set before a
 * redirect to the tunnel device, a clone sent elsewhere, a cgroup test.
 * unsafe: tc_mark (the metadata is read without checking it against data)
 */
#include "common.h"

struct legacy_map LEGACY_MAP tun_iface = {
    .type = BPF_MAP_TYPE_ARRAY, .key_size = 4, .value_size = 4, .max_entries = 1,
};
struct legacy_map LEGACY_MAP cgroup_of = {
    .type = BPF_MAP_TYPE_CGROUP_ARRAY, .key_size = 4, .value_size = 4, .max_entries = 1,
};
struct legacy_map LEGACY_MAP egress_ifindex = {
    .type = BPF_MAP_TYPE_ARRAY, .key_size = 4, .value_size = 4, .max_entries = 1,
};

SEC("tc_mark")
int meta_to_mark(struct __sk_buff *skb)
{
    void *data = (void *)(long)skb->data, *meta = (void *)(long)skb->data_meta;
    __u32 *mark = meta;
    GOOD(if ((void *)(mark + 1) > data) { skb->mark = 41; return TC_ACT_OK; })
    skb->mark = *mark;
    return TC_ACT_OK;
}

SEC("tc_vlan_push")
int vlan_push(struct __sk_buff *skb)
{
    bpf_skb_vlan_push(skb, bpf_htons(ETH_P_8021Q), 4011);
    if (skb->vlan_present && skb->vlan_tci == 4012)
        bpf_skb_vlan_pop(skb);
    return TC_ACT_OK;
}

SEC("l2_to_iptun_ingress_redirect")
int to_tunnel(struct __sk_buff *skb)
{
    void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
    struct ethhdr *eth = data;
    struct iphdr *ip = data + sizeof *eth;
    if ((void *)(ip + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
        return TC_ACT_OK;
    if ((ip->daddr & bpf_htonl(0xffffff00)) != bpf_htonl(0x0a0a0100))
        return TC_ACT_OK;
    __u32 zero = 0, *ifindex = bpf_map_lookup_elem(&tun_iface, &zero);
    if (!ifindex)
        return TC_ACT_OK;
    struct bpf_tunnel_key key = { .remote_ipv4 = 0x0a000002, .tunnel_id = 7, .tunnel_ttl = 64 };
    if (bpf_skb_set_tunnel_key(skb, &key, sizeof key.remote_ipv4 + 12, 0) < 0)
        return TC_ACT_SHOT;
    return bpf_redirect(*ifindex, 0);
}

SEC("drop_non_tun_vip")
int drop_plain(struct __sk_buff *skb)
{
    struct bpf_tunnel_key key;
    if (bpf_skb_get_tunnel_key(skb, &key, sizeof key, 0) < 0)
        return TC_ACT_SHOT;
    char opt[8];
    if (bpf_skb_get_tunnel_opt(skb, opt, sizeof opt) > 0 && opt[0] == 1)
        bpf_skb_set_tunnel_opt(skb, opt, sizeof opt);
    return key.tunnel_id == 7 ? TC_ACT_OK : TC_ACT_SHOT;
}

SEC("clone_redirect_xmit")
int clone_out(struct __sk_buff *skb)
{
    void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
    if (data + 14 > end)
        return TC_ACT_OK;
    __u8 proto;
    if (bpf_skb_load_bytes(skb, ETH_HLEN + offsetof(struct iphdr, protocol), &proto, 1) < 0)
        return TC_ACT_OK;
    if (proto == IPPROTO_TCP) {
        __u16 zero_csum = 0;
        bpf_skb_store_bytes(skb, ETH_HLEN + 20 + offsetof(struct tcphdr, check), &zero_csum,
                            sizeof zero_csum, BPF_F_RECOMPUTE_CSUM);
        bpf_csum_update(skb, 0x1234);
    }
    bpf_clone_redirect(skb, skb->ifindex + 1, 0);
    return TC_ACT_OK;
}

SEC("filter")
int in_cgroup(struct __sk_buff *skb)
{
    if (skb->protocol != bpf_htons(ETH_P_IPV6))
        return TC_ACT_OK;
    if (bpf_skb_under_cgroup(skb, &cgroup_of, 0) == 1)
        return TC_ACT_SHOT;
    return TC_ACT_OK;
}

SEC("ingress_redirect")
int redirect_all(struct __sk_buff *skb)
{
    __u32 zero = 0, *to = bpf_map_lookup_elem(&egress_ifindex, &zero);
    if (!to || !*to)
        return TC_ACT_OK;
    bpf_skb_change_proto(skb, skb->protocol, 0);
    return bpf_redirect(*to, 0);
}
