/* Packets that may be read and not written: cgroup_skb firewalls reading
 * the IPv4 and TCP headers directly (data/data_end, the network header
 * first: a cgroup hook sees no Ethernet header) to deny a port, lwt_in and
 * lwt_out programs counting by protocol from the header. The kernel lets
 * these types read the packet and refuses every store into it ("cannot
 * write into packet"), as it refuses a helper writing into it; bpflua
 * accepted such stores until this file.
 * unsafe: cgroup_skb/ingress lwt_in lwt_out
 */
#include "common.h"

struct legacy_map LEGACY_MAP denied = {
    .type = BPF_MAP_TYPE_HASH, .key_size = 2, .value_size = 8, .max_entries = 64,
};
struct legacy_map LEGACY_MAP by_proto = {
    .type = BPF_MAP_TYPE_PERCPU_ARRAY, .key_size = 4, .value_size = 8, .max_entries = 256,
};

SEC("cgroup_skb/ingress")
int deny_port(struct __sk_buff *skb)
{
    void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
    struct iphdr *ip = data;
    if ((void *)(ip + 1) > end || ip->protocol != IPPROTO_TCP)
        return 1;
    struct tcphdr *th = (void *)ip + ip->ihl * 4;
    if ((void *)(th + 1) > end)
        return 1;
    __u16 port = th->dest;
    __u64 *hits = bpf_map_lookup_elem(&denied, &port);
    if (!hits)
        return 1;
    *hits += 1;
    BAD(th->rst = 1;) /* a cgroup hook may not rewrite the segment */
    return 0;
}

SEC("cgroup_skb/egress")
int mark_tos(struct __sk_buff *skb)
{
    void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
    struct iphdr *ip = data;
    if ((void *)(ip + 1) > end)
        return 1;
    /* the skb's own fields are the way to change what goes out */
    skb->priority = ip->tos >> 5;
    return 1;
}

static __always_inline int count(struct __sk_buff *skb)
{
    void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
    struct iphdr *ip = data;
    if ((void *)(ip + 1) > end)
        return 0;
    __u32 key = ip->protocol;
    __u64 *n = bpf_map_lookup_elem(&by_proto, &key);
    if (n)
        *n += 1;
    return 1;
}

SEC("lwt_in")
int lwt_count_in(struct __sk_buff *skb)
{
    BAD(__u8 *p = (void *)(long)skb->data;
        if ((void *)(p + 20) <= (void *)(long)skb->data_end) p[8] -= 1;) /* TTL */
    return count(skb) ? BPF_OK : BPF_DROP;
}

SEC("lwt_out")
int lwt_count_out(struct __sk_buff *skb)
{
    __u32 word = 0;
    void *dst = &word;
    BAD(dst = (void *)(long)skb->data; /* a helper may not write the packet either */
        if (dst + 4 > (void *)(long)skb->data_end) return BPF_OK;)
    bpf_skb_load_bytes(skb, 0, dst, 4);
    return count(skb) || word ? BPF_OK : BPF_DROP;
}
