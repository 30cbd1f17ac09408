/* helpers_more.c - helpers real programs call (Cilium, samples/bpf) that
 * bpflua gained with the per-type tables probed from the kernel: each
 * program folds the helpers' answers into its verdict, which the
 * interpreter, the JIT and the kernel's test run must agree on
 * (tests/cli/refs.sh). */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

/* loads two bytes, writes them back swapped, reads past the end */
SEC("xdp")
int xdp_bytes(struct xdp_md *ctx)
{
    unsigned char b[2];
    if (bpf_xdp_load_bytes(ctx, 12, b, 2))
        return 100;
    unsigned char s[2] = { b[1], b[0] };
    if (bpf_xdp_store_bytes(ctx, 12, s, 2))
        return 101;
    if (bpf_xdp_load_bytes(ctx, 12, b, 2) || b[0] != s[0])
        return 102;
    long past = bpf_xdp_load_bytes(ctx, 60000, b, 2);
    long huge = bpf_xdp_load_bytes(ctx, 70000, b, 2);
    if (past != -22 || huge != -14) /* -EINVAL, -EFAULT */
        return 103;
    return (s[0] ^ s[1]) % 7; /* b after a failed load: the kernel leaves it, bpflua zeroes it */
}

SEC("tc")
int redirects(struct __sk_buff *skb)
{
    struct bpf_redir_neigh nh = {};
    long a = bpf_redirect_neigh(skb->ifindex, 0, 0, 0);
    long b = bpf_redirect_neigh(skb->ifindex, &nh, sizeof nh, 1);
    long c = bpf_redirect_peer(skb->ifindex, 0);
    long d = bpf_redirect_peer(skb->ifindex, 3);
    struct bpf_xfrm_state xs;
    long e = bpf_skb_get_xfrm_state(skb, 0, &xs, sizeof xs, 0);
    long f = bpf_skb_cgroup_classid(skb);
    __u64 j0 = bpf_jiffies64(), j1 = bpf_jiffies64();
    return (a == TC_ACT_REDIRECT) | (b == TC_ACT_SHOT) << 1 | (c == TC_ACT_REDIRECT) << 2 |
           (d == TC_ACT_SHOT) << 3 | (e == -22) << 4 | (f == 0) << 5 | (j1 >= j0) << 6 |
           (xs.reqid == 0) << 7;
}

char _license[] SEC("license") = "GPL";
