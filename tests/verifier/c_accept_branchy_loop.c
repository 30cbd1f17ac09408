/* verdict: accept
 * rule: the seed's case, a 1000-iteration loop with a branchy body as
 * bpf_loop: the callback is verified once */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct state { __u64 a, b; };

static long step(__u64 i, void *arg)
{
    struct state *s = arg;
    if (i & 1)
        s->a += i;
    else
        s->b ^= i;
    if (i % 3 == 0)
        s->a = s->a * 3 + 1;
    else if (i % 5 == 0)
        s->b += s->a;
    if (s->a > s->b)
        s->a -= s->b;
    return 0;
}

SEC("xdp")
int branchy(struct xdp_md *ctx)
{
    struct state s = { ctx->ingress_ifindex, ctx->rx_queue_index };
    bpf_loop(1000, step, &s, 0);
    return (s.a ^ s.b) & 1 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
