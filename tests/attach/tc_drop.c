/* tc_drop.c - a tc filter for tests/cli/attach_tc.sh.
 * Drops (TC_ACT_SHOT) IPv4 UDP packets to port 9999 and counts: counts[0]
 * the drops, counts[1] every packet it saw. Each drop also sends an event
 * (the source address as the wire has it, as a u64) to ring buffer "events". */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <linux/in.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 2);
    __type(key, __u32);
    __type(value, __u64);
} counts SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 4096);
} events SEC(".maps");

/* bpflua's marker of integer events (a subprogram's signature carries it
 * into BTF): `bpflua attach` then shows them as integers */
typedef __u64 __bpflua_event__events;

static __attribute__((noinline)) int emit(__bpflua_event__events *v)
{
    return bpf_ringbuf_output(&events, v, sizeof *v, 0);
}

static void bump(__u32 k)
{
    __u64 *v = bpf_map_lookup_elem(&counts, &k);
    if (v)
        __sync_fetch_and_add(v, 1);
}

SEC("tc")
int tc_drop_udp(struct __sk_buff *skb)
{
    void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
    bump(1);
    struct ethhdr *eth = data;
    if ((void *)(eth + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
        return TC_ACT_OK;
    struct iphdr *ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > end || ip->protocol != IPPROTO_UDP || ip->ihl != 5)
        return TC_ACT_OK;
    struct udphdr *udp = (void *)(ip + 1);
    if ((void *)(udp + 1) > end || udp->dest != bpf_htons(9999))
        return TC_ACT_OK;
    bump(0);
    __bpflua_event__events src = ip->saddr;
    emit(&src);
    return TC_ACT_SHOT;
}

char LICENSE[] SEC("license") = "GPL";
