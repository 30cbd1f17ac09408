/* drop.c - a dropping XDP filter for tests/cli/attach.sh.
 * Drops IPv4 UDP packets to port 9999 and counts them per source address
 * (hash map "drops", key: the source IPv4 address as the wire has it). */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 64);
    __type(key, __u32);
    __type(value, __u64);
} drops SEC(".maps");

SEC("xdp")
int drop_udp(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    if ((void *)(eth + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
        return XDP_PASS;
    struct iphdr *ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > end || ip->protocol != IPPROTO_UDP || ip->ihl != 5)
        return XDP_PASS;
    struct udphdr *udp = (void *)(ip + 1);
    if ((void *)(udp + 1) > end || udp->dest != bpf_htons(9999))
        return XDP_PASS;
    __u32 src = ip->saddr;
    __u64 one = 1, *v = bpf_map_lookup_elem(&drops, &src);
    if (v)
        __sync_fetch_and_add(v, 1);
    else
        bpf_map_update_elem(&drops, &src, &one, BPF_NOEXIST);
    return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
