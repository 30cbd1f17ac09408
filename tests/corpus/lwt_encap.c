/* lwt_encap.c - samples/bpf's test_lwt_bpf and test_lwt_ip_encap shapes:
 * sections named for what they test ("encap_gre", "len_check"), which name
 * no program type; the encapsulation helper (bpf_lwt_push_encap) exists
 * only in the lwt types, so the verifier's guess ends at lwt_xmit (loaded
 * into the kernel as that); a plain one stays sched_cls.
 * unsafe: encap_gre
 */
#include "common.h"

struct encap_hdr {
    struct iphdr ip;
    __u32 gre;
};

SEC("encap_gre")
int do_encap_gre(struct __sk_buff *skb)
{
    struct encap_hdr h = {};
    h.ip.ihl = 5;
    h.ip.version = 4;
    h.ip.ttl = 64;
    h.ip.protocol = IPPROTO_GRE;
    h.ip.tot_len = bpf_htons(skb->len + sizeof h);
    h.ip.saddr = bpf_htonl(0xac100001);
    h.ip.daddr = bpf_htonl(0xac100002);
    h.gre = bpf_htonl(0x0800);
#ifdef UNSAFE
    int n = skb->len;
    if (bpf_lwt_push_encap(skb, BPF_LWT_ENCAP_IP, &h, n)) /* unbounded size */
        return BPF_DROP;
#else
    if (bpf_lwt_push_encap(skb, BPF_LWT_ENCAP_IP, &h, sizeof h))
        return BPF_DROP;
#endif
    return BPF_LWT_REROUTE;
}

SEC("len_check")
int do_len_check(struct __sk_buff *skb)
{
    return skb->len > 1500 ? BPF_DROP : BPF_OK;
}
