/* Cilium's socket acceleration and its XDP byte access, as 1.4-1.12
 * shipped them: a sock_ops program adding established IPv4 sockets to a
 * sockhash keyed by the 4-tuple (bpf_sock_hash_update), an sk_msg program
 * redirecting a message to its peer through the same hash
 * (bpf_msg_redirect_hash), and XDP programs reading and writing the packet
 * through Cilium's xdp_load_bytes/xdp_store_bytes: inline assembly that
 * masks the offset, compares the end with data_end and leaves the answer
 * in a register tested after the join (path-sensitive: on the failing path
 * the pointer has no range), metadata in a per-CPU scratch map, a tail call
 * to "2/1", which rewrites the address and fixes the checksum with
 * bpf_csum_diff.
 * unsafe: sk_msg 2/1 (the message read without a bounds check; the store
 *   compares one byte short of what it writes)
 */
#include "common.h"

struct sock_key {
    __u32 sip4, dip4;
    __u8 family, pad1;
    __u16 pad2;
    __u32 pad3;
    __u32 sport, dport;
};
struct elf_map sock_ops_map LEGACY_MAP = {
    BPF_MAP_TYPE_SOCKHASH, sizeof(struct sock_key), 4, 65535, 0, 0, 2, 0, 0 };
struct elf_map scratch LEGACY_MAP = { BPF_MAP_TYPE_PERCPU_ARRAY, 4, 32, 1, 0, 0, 0, 0, 0 };
struct elf_map calls LEGACY_MAP = { BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 32, 0, 0, 0, 0, 0 };

SEC("sockops")
int sockmap_add(struct bpf_sock_ops *ops)
{
    switch (ops->op) {
    case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB:
    case BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB:
        if (ops->family == 2) {
            struct sock_key key = {};
            key.dip4 = ops->remote_ip4;
            key.sip4 = ops->local_ip4;
            key.family = 1;
            key.sport = bpf_htonl(ops->local_port) >> 16;
            key.dport = ops->remote_port >> 16;
            bpf_sock_hash_update(ops, &sock_ops_map, &key, BPF_NOEXIST);
        }
        break;
    }
    return 0;
}

SEC("sk_msg")
int redir_proxy(struct sk_msg_md *msg)
{
    struct sock_key key = {};
    __u64 flags = BPF_F_INGRESS;
    void *data = msg->data, *data_end = msg->data_end;
    if (msg->family != 2)
        return SK_PASS;
    key.dip4 = msg->remote_ip4;
    key.sip4 = msg->local_ip4;
    key.family = 1;
    key.dport = bpf_htonl(msg->local_port) >> 16;
    key.sport = msg->remote_port >> 16;
    if (GOOD(data + 1 <= data_end &&) *(char *)data == 'x')
        flags = 0;
    bpf_msg_redirect_hash(msg, &sock_ops_map, &key, flags);
    return SK_PASS;
}

#define OFF_MAX "0xff"
#ifdef UNSAFE
#define SHORT "-1"
#else
#define SHORT "0"
#endif

/* 0 and the bytes at `off` copied, or -EINVAL when they are not all there */
static __always_inline int xdp_load_bytes(const struct xdp_md *ctx, __u64 off, void *to,
                                          const __u64 len)
{
    void *from;
    int ret;
    asm volatile("r1 = *(u32 *)(%[ctx] +0)\n\t"
                 "r2 = *(u32 *)(%[ctx] +4)\n\t"
                 "%[off] &= " OFF_MAX "\n\t"
                 "r1 += %[off]\n\t"
                 "%[from] = r1\n\t"
                 "r1 += %[len]\n\t"
                 "if r1 > r2 goto +2\n\t"
                 "%[ret] = 0\n\t"
                 "goto +1\n\t"
                 "%[ret] = -22\n\t"
                 : [ret] "=r"(ret), [from] "=r"(from)
                 : [ctx] "r"(ctx), [off] "r"(off), [len] "ri"(len)
                 : "r1", "r2");
    if (!ret)
        __builtin_memcpy(to, from, len);
    return ret;
}

static __always_inline int xdp_store_bytes(const struct xdp_md *ctx, __u64 off, const void *from,
                                           const __u64 len)
{
    void *to;
    int ret;
    asm volatile("r1 = *(u32 *)(%[ctx] +0)\n\t"
                 "r2 = *(u32 *)(%[ctx] +4)\n\t"
                 "%[off] &= " OFF_MAX "\n\t"
                 "r1 += %[off]\n\t"
                 "%[to] = r1\n\t"
                 "r1 += %[len]\n\t"
                 "r1 += " SHORT "\n\t"
                 "if r1 > r2 goto +2\n\t"
                 "%[ret] = 0\n\t"
                 "goto +1\n\t"
                 "%[ret] = -22\n\t"
                 : [ret] "=r"(ret), [to] "=r"(to)
                 : [ctx] "r"(ctx), [off] "r"(off), [len] "ri"(len)
                 : "r1", "r2");
    if (!ret)
        __builtin_memcpy(to, from, len);
    return ret;
}

static __always_inline __u32 *meta(void)
{
    __u32 zero = 0;
    return bpf_map_lookup_elem(&scratch, &zero);
}

SEC("from-netdev")
int from_netdev(struct xdp_md *ctx)
{
    __u16 proto;
    struct iphdr ip4;
    __u32 *m;
    if (xdp_load_bytes(ctx, 12, &proto, sizeof(proto)) < 0)
        return XDP_PASS;
    if (proto != bpf_htons(ETH_P_IP))
        return XDP_PASS;
    if (xdp_load_bytes(ctx, ETH_HLEN, &ip4, sizeof(ip4)) < 0)
        return XDP_DROP;
    m = meta();
    if (!m)
        return XDP_DROP;
    m[0] = ip4.daddr;
    m[1] = ip4.saddr;
    bpf_tail_call(ctx, &calls, 1);
    return XDP_PASS;
}

SEC("2/1")
int nodeport(struct xdp_md *ctx)
{
    __u32 *m = meta();
    __u32 daddr, to;
    __u16 sum;
    if (!m)
        return XDP_DROP;
    daddr = m[0];
    to = daddr ^ 0x01000000;
    if (xdp_store_bytes(ctx, ETH_HLEN + 16, &to, 4) < 0)
        return XDP_DROP;
    if (xdp_load_bytes(ctx, ETH_HLEN + 10, &sum, 2) < 0)
        return XDP_DROP;
    sum = ~bpf_csum_diff(&daddr, 4, &to, 4, (__u16)~sum);
    if (xdp_store_bytes(ctx, ETH_HLEN + 10, &sum, 2) < 0)
        return XDP_DROP;
    return XDP_TX;
}
