/* tc programs in the tcbpf1 / tc_l2_redirect shape: rewrite the IPv4 TOS
 * with skb_store_bytes and fix the checksum with l3_csum_replace, redirect
 * and clone_redirect, and direct packet access with data/data_end (old
 * "classifier" section, and named sections "redirect_xmit").
 * unsafe: classifier (writes the packet without a bounds check)
 */
#include "common.h"

#define TOS_OFF (ETH_HLEN + __builtin_offsetof(struct iphdr, tos))
#define CSUM_OFF (ETH_HLEN + __builtin_offsetof(struct iphdr, check))

SEC("classifier")
int set_tos(struct __sk_buff *skb)
{
    void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
    struct iphdr *ip = data + ETH_HLEN;
    GOOD(if ((void *)(ip + 1) > end) return TC_ACT_OK;)
    __u8 old = ip->tos, tos = 0x10;
    ip->ttl--;
    bpf_l3_csum_replace(skb, CSUM_OFF, bpf_htons(old), bpf_htons(tos), 2);
    bpf_skb_store_bytes(skb, TOS_OFF, &tos, sizeof tos, 0);
    skb->mark = 0x42;
    skb->tc_index = 1;
    return TC_ACT_OK;
}

SEC("redirect_xmit")
int redirect_out(struct __sk_buff *skb)
{
    if (skb->cb[0] == 1)
        return bpf_clone_redirect(skb, skb->ifindex + 1, 0) ? TC_ACT_SHOT : TC_ACT_OK;
    return bpf_redirect(skb->ifindex + 1, 0);
}
