/* sk_storage.c - state kept in a socket (BPF_MAP_TYPE_SK_STORAGE), in the
 * shapes of the kernel selftests: a cgroup_skb egress hook counting each
 * socket's packets (skb->sk, bpf_sk_fullsock, bpf_sk_storage_get with
 * BPF_SK_STORAGE_GET_F_CREATE), a tc program starting a socket's record
 * from a stack value and deleting it (bpf_sk_storage_delete), and a
 * cgroup/connect4 hook tagging the socket it connects (socket_cookie's
 * ctx->sk) and a socket-creation hook stamping the socket it is given as
 * its context (cgroup_sock's bpf_sk_storage_get takes the context). The
 * kernel's test run gives each run a socket of its own, whose storage goes
 * with it, as the sandbox's: tests/cli/local_storage.sh runs the first two
 * in the interpreter, the JIT and the kernel.
 * unsafe: cgroup_skb/egress tc cgroup/connect4 cgroup/sock_create
 */
#include "common.h"

struct sock_stats {
    __u64 pkts, bytes;
};

struct {
    __uint(type, BPF_MAP_TYPE_SK_STORAGE);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, int);
    __type(value, struct sock_stats);
} sk_stats SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_SK_STORAGE);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, int);
    __type(value, __u32);
} sk_tag SEC(".maps");

/* a socket's first packet passes, its later ones do not */
SEC("cgroup_skb/egress")
int count_sock(struct __sk_buff *skb)
{
    struct bpf_sock *sk = skb->sk;
    GOOD(if (!sk) return 1;)
    sk = bpf_sk_fullsock(sk);
    if (!sk)
        return 1;
    struct sock_stats *s = bpf_sk_storage_get(&sk_stats, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
    GOOD(if (!s) return 1;)
    s->pkts++;
    s->bytes += skb->len;
    return s->pkts == 1;
}

/* a record started from a stack value (bytes = 1000), then deleted: a
 * second get without F_CREATE finds nothing. 2 + the deleted record's
 * verdict: 3 when every step went as the kernel's */
SEC("tc")
int tag_and_forget(struct __sk_buff *skb)
{
    struct bpf_sock *sk = skb->sk;
    if (!sk)
        return 0;
    sk = bpf_sk_fullsock(sk);
    if (!sk)
        return 0;
    struct sock_stats init = { .pkts = 0, .bytes = 1000 };
#ifdef UNSAFE
    __u32 small = 0; /* 4 bytes where the map's values are 16 */
    struct sock_stats *s = bpf_sk_storage_get(&sk_stats, sk, &small, BPF_SK_STORAGE_GET_F_CREATE);
#else
    struct sock_stats *s = bpf_sk_storage_get(&sk_stats, sk, &init, BPF_SK_STORAGE_GET_F_CREATE);
#endif
    if (!s || s->bytes != 1000)
        return 0;
    if (bpf_sk_storage_delete(&sk_stats, sk) != 0)
        return 1;
    return bpf_sk_storage_get(&sk_stats, sk, 0, 0) ? 2 : 3;
}

SEC("cgroup/connect4")
int tag_connect(struct bpf_sock_addr *ctx)
{
    struct bpf_sock *sk = ctx->sk;
    __u32 *tag = bpf_sk_storage_get(&sk_tag, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
    GOOD(if (tag))
        *tag = ctx->user_port; /* the twin: NULL when the socket has no room */
    return 1;
}

struct {
    __uint(type, BPF_MAP_TYPE_SK_STORAGE);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, int);
    __type(value, __u64);
} created SEC(".maps");

SEC("cgroup/sock_create")
int stamp_socket(struct bpf_sock *sk)
{
    __u64 *t = bpf_sk_storage_get(&created, BAD((char *)) sk BAD(+ 8), 0,
                                  BPF_SK_STORAGE_GET_F_CREATE);
    if (t)
        *t = bpf_ktime_get_ns();
    return 1;
}
