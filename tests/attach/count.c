/* count.c - a counting XDP filter for tests/cli/attach.sh.
 * counts[0]: IPv4 UDP packets to port 9999; counts[1]: every packet.
 * Everything passes. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 2);
    __type(key, __u32);
    __type(value, __u64);
} counts SEC(".maps");

static __always_inline int is_udp_9999(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    if ((void *)(eth + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
        return 0;
    struct iphdr *ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > end || ip->protocol != IPPROTO_UDP || ip->ihl != 5)
        return 0;
    struct udphdr *udp = (void *)(ip + 1);
    if ((void *)(udp + 1) > end)
        return 0;
    return udp->dest == bpf_htons(9999);
}

SEC("xdp")
int count_udp(struct xdp_md *ctx)
{
    __u32 k = 1;
    __u64 *v = bpf_map_lookup_elem(&counts, &k);
    if (v)
        __sync_fetch_and_add(v, 1);
    if (is_udp_9999(ctx)) {
        k = 0;
        v = bpf_map_lookup_elem(&counts, &k);
        if (v)
            __sync_fetch_and_add(v, 1);
    }
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
