/* refs.c - helpers whose results the verifier tracks as references, as
 * real programs use them: a ring buffer record reserved, filled in place
 * and submitted or discarded; a socket lookup and its release; a map
 * value's bpf_spin_lock; a tail call from a subprogram and from a bpf_loop
 * callback. The kernel loads every program; runs give the kernel's
 * results (the sandbox's socket lookups find nothing, as the kernel's on a
 * test run's made-up tuple). */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>

struct event {
    __u32 len;
    __u32 first;
    __u64 seq;
};

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 4096);
} events SEC(".maps");

struct counter {
    struct bpf_spin_lock lock;
    __u32 packets;
    __u64 bytes;
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct counter);
} counters SEC(".maps");

/* reserve, fill in place, submit; a packet starting with 0xff is discarded */
SEC("xdp")
int rb_reserve(struct xdp_md *ctx)
{
    unsigned char *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
    struct event *e = bpf_ringbuf_reserve(&events, sizeof *e, 0);
    if (!e)
        return XDP_ABORTED;
    e->len = end - data;
    e->first = data + 1 <= end ? data[0] : 0;
    e->seq = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
    if (e->first == 0xff) {
        bpf_ringbuf_discard(e, 0);
        return XDP_DROP;
    }
    bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
    return XDP_PASS;
}

/* two records at once, released in the other order */
SEC("xdp")
int rb_two(struct xdp_md *ctx)
{
    __u64 *a = bpf_ringbuf_reserve(&events, 8, 0);
    if (!a)
        return XDP_ABORTED;
    __u64 *b = bpf_ringbuf_reserve(&events, 8, 0);
    if (!b) {
        bpf_ringbuf_discard(a, 0);
        return XDP_ABORTED;
    }
    *a = 1;
    *b = 2;
    bpf_ringbuf_submit(b, 0);
    bpf_ringbuf_submit(a, 0);
    return XDP_PASS;
}

/* a TCP/IPv4 packet's tuple looked up; the socket's state read, released */
SEC("tc")
int sk_tcp(struct __sk_buff *skb)
{
    void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
    struct ethhdr *eth = data;
    struct iphdr *ip = data + sizeof *eth;
    if ((void *)(ip + 1) > end || eth->h_proto != __builtin_bswap16(ETH_P_IP))
        return 0;
    struct bpf_sock_tuple t = {};
    t.ipv4.saddr = ip->saddr;
    t.ipv4.daddr = ip->daddr;
    t.ipv4.sport = 1;
    t.ipv4.dport = 2;
    struct bpf_sock *sk = ip->protocol == IPPROTO_TCP
        ? bpf_sk_lookup_tcp(skb, &t, sizeof t.ipv4, BPF_F_CURRENT_NETNS, 0)
        : bpf_sk_lookup_udp(skb, &t, sizeof t.ipv4, BPF_F_CURRENT_NETNS, 0);
    if (!sk)
        return 1;
    int ret = sk->state == 10 ? 2 : 3;
    bpf_sk_release(sk);
    return ret;
}

SEC("tc")
int skc_tcp(struct __sk_buff *skb)
{
    struct bpf_sock_tuple t = {};
    t.ipv4.daddr = skb->len;
    struct bpf_sock *sk = bpf_skc_lookup_tcp(skb, &t, sizeof t.ipv4, BPF_F_CURRENT_NETNS, 0);
    if (sk) {
        __u32 port = sk->dst_port;
        bpf_sk_release(sk);
        return port ? 5 : 6;
    }
    return 4;
}

/* counted under the element's lock */
SEC("tc")
int locked(struct __sk_buff *skb)
{
    __u32 k = 0, n;
    struct counter *c = bpf_map_lookup_elem(&counters, &k);
    if (!c)
        return 0;
    bpf_spin_lock(&c->lock);
    c->packets++;
    c->bytes += skb->len;
    n = c->packets;
    bpf_spin_unlock(&c->lock);
    return n;
}

struct {
    __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
    __uint(max_entries, 2);
    __uint(key_size, 4);
    __uint(value_size, 4);
} jumps SEC(".maps");

SEC("xdp")
int tail_target(struct xdp_md *ctx)
{
    return XDP_TX;
}

static __attribute__((noinline)) int jump_from_sub(struct xdp_md *ctx, __u32 slot)
{
    bpf_tail_call(ctx, &jumps, slot);
    return XDP_DROP; /* the slot was empty */
}

/* slot 0 holds tail_target (set by the test), slot 1 nothing */
SEC("xdp")
int tail_in_sub(struct xdp_md *ctx)
{
    unsigned char *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
    __u32 slot = data + 1 <= end ? data[0] & 1 : 1;
    return jump_from_sub(ctx, slot) + 1;
}
