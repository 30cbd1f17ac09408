/* BPF-to-BPF calls as libbpf-era programs write them: a static noinline
 * function taking a packet pointer and the end, a global (non-static)
 * function with a BTF signature taking the context (the kernel verifies it
 * once, on its own), and a subprogram filling its caller's stack buffer.
 * unsafe: (none: the twin's global function reads its pointer argument
 *   without a NULL check; bpflua verifies it in its only caller's context,
 *   where the pointer is a stack address, and accepts)
 * kernel-differs: tc (the kernel verifies a global function alone, from its
 *   BTF signature, where the pointer may be NULL)
 */
#include "common.h"

static __noinline int ip_proto(void *data, void *end)
{
    struct iphdr *ip = data + ETH_HLEN;
    if ((void *)(ip + 1) > end)
        return -1;
    return ip->protocol;
}

static __noinline void fill(__u8 *buf, int n)
{
    for (int i = 0; i < 8; i++)
        buf[i] = n + i;
}

__noinline int port_allowed(struct __sk_buff *skb, __u32 *port)
{
    GOOD(if (!port) return 0;)
    return *port == 80 || skb->len < 100;
}

__noinline int global_len(struct __sk_buff *skb)
{
    return skb ? skb->len : 0;
}

SEC("tc")
int classify(struct __sk_buff *skb)
{
    void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
    __u8 buf[8];
    __u32 port = skb->cb[0];
    fill(buf, skb->len & 7);
    if (ip_proto(data, end) != IPPROTO_TCP)
        return TC_ACT_OK;
    if (!port_allowed(skb, &port))
        return TC_ACT_SHOT;
    return buf[3] + global_len(skb) > 1000 ? TC_ACT_SHOT : TC_ACT_OK;
}
