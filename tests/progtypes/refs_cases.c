/* refs_cases.c - one program per case, chosen with -DCASE_<name>: what
 * the kernel's reference tracking and bpf_spin_lock rules accept (OK_*)
 * and refuse (BAD_*). tests/cli/refs.sh builds each case alone and checks
 * that the kernel and bpflua both give the verdict the name says. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 4096);
} rb SEC(".maps");

struct locked { __u64 n; struct bpf_spin_lock lock; __u32 m; };
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, struct locked);
} lk SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u64);
} plain SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
    __uint(max_entries, 1);
    __uint(key_size, 4);
    __uint(value_size, 4);
} jt SEC(".maps");

#define NOINLINE static __attribute__((noinline))

static __always_inline struct locked *get_lk(void)
{
    __u32 k = 0;
    return bpf_map_lookup_elem(&lk, &k);
}

static __always_inline struct bpf_sock *lookup(struct __sk_buff *skb)
{
    struct bpf_sock_tuple t = {};
    t.ipv4.daddr = skb->len;
    return bpf_sk_lookup_tcp(skb, &t, sizeof t.ipv4, BPF_F_CURRENT_NETNS, 0);
}

#if defined(CASE_OK_SUB_RELEASE)
NOINLINE int finish(__u64 *e, __u64 v)
{
    *e = v;
    bpf_ringbuf_submit(e, 0);
    return 0;
}
SEC("xdp") int f(struct xdp_md *ctx)
{
    __u64 *e = bpf_ringbuf_reserve(&rb, 8, 0);
    if (!e)
        return 1;
    return finish(e, ctx->ingress_ifindex) + 2;
}
#elif defined(CASE_OK_SPILLED)
SEC("xdp") int f(struct xdp_md *ctx)
{
    __u64 *e[2];
    e[ctx->ingress_ifindex & 1] = bpf_ringbuf_reserve(&rb, 16, 0);
    e[0] = e[ctx->ingress_ifindex & 1];
    asm volatile("" ::: "memory");
    if (!e[0])
        return 1;
    e[0][1] = 7;
    bpf_ringbuf_discard(e[0], 0);
    return 2;
}
#elif defined(CASE_OK_SK_BRANCHES)
SEC("tc") int f(struct __sk_buff *skb)
{
    struct bpf_sock *sk = lookup(skb);
    if (!sk)
        return 0;
    if (sk->family == 2) {
        bpf_sk_release(sk);
        return 1;
    }
    bpf_sk_release(sk);
    return 2;
}
#elif defined(CASE_OK_LOCK_TWO_PATHS)
SEC("tc") int f(struct __sk_buff *skb)
{
    struct locked *v = get_lk();
    if (!v)
        return 0;
    bpf_spin_lock(&v->lock);
    if (skb->len > 100)
        v->n++;
    else
        v->m = 1;
    bpf_spin_unlock(&v->lock);
    return 1;
}
#elif defined(CASE_BAD_TAIL_IN_CALLBACK)
struct cb_ctx { struct xdp_md *ctx; };
NOINLINE int cb(__u32 i, struct cb_ctx *c)
{
    bpf_tail_call(c->ctx, &jt, 0);
    return 1;
}
SEC("xdp") int f(struct xdp_md *ctx)
{
    struct cb_ctx c = { ctx };
    bpf_loop(4, cb, &c, 0);
    return 2;
}
#elif defined(CASE_BAD_LEAK)
SEC("xdp") int f(struct xdp_md *ctx)
{
    __u64 *e = bpf_ringbuf_reserve(&rb, 8, 0);
    if (!e)
        return 1;
    *e = 1;
    return 2;
}
#elif defined(CASE_BAD_LEAK_ONE_PATH)
SEC("xdp") int f(struct xdp_md *ctx)
{
    __u64 *e = bpf_ringbuf_reserve(&rb, 8, 0);
    if (!e)
        return 1;
    *e = 1;
    if (ctx->ingress_ifindex == 3)
        return 3;
    bpf_ringbuf_submit(e, 0);
    return 2;
}
#elif defined(CASE_BAD_DOUBLE_SUBMIT)
SEC("xdp") int f(struct xdp_md *ctx)
{
    __u64 *e = bpf_ringbuf_reserve(&rb, 8, 0);
    if (!e)
        return 1;
    bpf_ringbuf_submit(e, 0);
    bpf_ringbuf_discard(e, 0);
    return 2;
}
#elif defined(CASE_BAD_USE_AFTER_SUBMIT)
SEC("xdp") int f(struct xdp_md *ctx)
{
    __u64 *e = bpf_ringbuf_reserve(&rb, 8, 0);
    if (!e)
        return 1;
    bpf_ringbuf_submit(e, 0);
    *(volatile __u64 *)e = 5;
    return 2;
}
#elif defined(CASE_BAD_NO_NULL_CHECK)
SEC("xdp") int f(struct xdp_md *ctx)
{
    __u64 *e = bpf_ringbuf_reserve(&rb, 8, 0);
    *e = 1;
    bpf_ringbuf_submit(e, 0);
    return 2;
}
#elif defined(CASE_BAD_PAST_RECORD)
SEC("xdp") int f(struct xdp_md *ctx)
{
    __u32 *e = bpf_ringbuf_reserve(&rb, 8, 0);
    if (!e)
        return 1;
    e[2] = 1;
    bpf_ringbuf_submit(e, 0);
    return 2;
}
#elif defined(CASE_BAD_VARIABLE_SIZE)
SEC("xdp") int f(struct xdp_md *ctx)
{
    __u64 *e = bpf_ringbuf_reserve(&rb, (ctx->ingress_ifindex & 7) + 8, 0);
    if (!e)
        return 1;
    bpf_ringbuf_submit(e, 0);
    return 2;
}
#elif defined(CASE_BAD_SUBMIT_OFFSET)
SEC("xdp") int f(struct xdp_md *ctx)
{
    __u64 *e = bpf_ringbuf_reserve(&rb, 16, 0);
    if (!e)
        return 1;
    bpf_ringbuf_submit(e + 1, 0);
    return 2;
}
#elif defined(CASE_BAD_SK_LEAK)
SEC("tc") int f(struct __sk_buff *skb)
{
    struct bpf_sock *sk = lookup(skb);
    return sk ? sk->state : 0;
}
#elif defined(CASE_BAD_SK_WRITE)
SEC("tc") int f(struct __sk_buff *skb)
{
    struct bpf_sock *sk = lookup(skb);
    if (!sk)
        return 0;
    sk->mark = 1;
    bpf_sk_release(sk);
    return 1;
}
#elif defined(CASE_BAD_SK_NO_NULL_CHECK)
SEC("tc") int f(struct __sk_buff *skb)
{
    struct bpf_sock *sk = lookup(skb);
    int s = sk->state;
    if (sk)
        bpf_sk_release(sk);
    return s;
}
#elif defined(CASE_BAD_SK_RELEASE_TWICE)
SEC("tc") int f(struct __sk_buff *skb)
{
    struct bpf_sock *sk = lookup(skb);
    if (!sk)
        return 0;
    bpf_sk_release(sk);
    bpf_sk_release(sk);
    return 1;
}
#elif defined(CASE_BAD_LOCK_NO_UNLOCK)
SEC("tc") int f(struct __sk_buff *skb)
{
    struct locked *v = get_lk();
    if (!v)
        return 0;
    bpf_spin_lock(&v->lock);
    v->n++;
    return 1;
}
#elif defined(CASE_BAD_LOCK_CALL)
SEC("tc") int f(struct __sk_buff *skb)
{
    struct locked *v = get_lk();
    if (!v)
        return 0;
    bpf_spin_lock(&v->lock);
    v->n = bpf_ktime_get_ns();
    bpf_spin_unlock(&v->lock);
    return 1;
}
#elif defined(CASE_BAD_UNLOCK_ONLY)
SEC("tc") int f(struct __sk_buff *skb)
{
    struct locked *v = get_lk();
    if (!v)
        return 0;
    bpf_spin_unlock(&v->lock);
    return 1;
}
#elif defined(CASE_BAD_LOCK_TWICE)
SEC("tc") int f(struct __sk_buff *skb)
{
    struct locked *v = get_lk();
    if (!v)
        return 0;
    bpf_spin_lock(&v->lock);
    bpf_spin_lock(&v->lock);
    bpf_spin_unlock(&v->lock);
    return 1;
}
#elif defined(CASE_BAD_LOCK_READ)
SEC("tc") int f(struct __sk_buff *skb)
{
    struct locked *v = get_lk();
    if (!v)
        return 0;
    return *(volatile __u32 *)&v->lock;
}
#elif defined(CASE_BAD_LOCK_NO_BTF_LOCK)
SEC("tc") int f(struct __sk_buff *skb)
{
    __u32 k = 0;
    __u64 *v = bpf_map_lookup_elem(&plain, &k);
    if (!v)
        return 0;
    bpf_spin_lock((struct bpf_spin_lock *)v);
    bpf_spin_unlock((struct bpf_spin_lock *)v);
    return 1;
}
#elif defined(CASE_BAD_LOCK_WRONG_OFFSET)
SEC("tc") int f(struct __sk_buff *skb)
{
    struct locked *v = get_lk();
    if (!v)
        return 0;
    bpf_spin_lock((struct bpf_spin_lock *)&v->m);
    bpf_spin_unlock((struct bpf_spin_lock *)&v->m);
    return 1;
}
#elif defined(CASE_BAD_UNLOCK_OTHER)
SEC("tc") int f(struct __sk_buff *skb)
{
    struct locked *v = get_lk(), *w;
    if (!v)
        return 0;
    __u32 k = 1;
    w = bpf_map_lookup_elem(&lk, &k);
    if (!w)
        return 0;
    bpf_spin_lock(&v->lock);
    bpf_spin_unlock(&w->lock);
    return 1;
}
#elif defined(CASE_BAD_TAIL_WITH_REF)
SEC("xdp") int f(struct xdp_md *ctx)
{
    __u64 *e = bpf_ringbuf_reserve(&rb, 8, 0);
    if (!e)
        return 1;
    bpf_tail_call(ctx, &jt, 0);
    bpf_ringbuf_discard(e, 0);
    return 2;
}
#elif defined(CASE_BAD_CALLBACK_LEAK)
NOINLINE int cb(__u32 i, void *ctx)
{
    bpf_ringbuf_reserve(&rb, 8, 0);
    return 0;
}
SEC("xdp") int f(struct xdp_md *ctx)
{
    bpf_loop(4, cb, 0, 0);
    return 2;
}
#elif defined(CASE_BAD_TAIL_DEEP_STACK)
NOINLINE int jump(struct xdp_md *ctx)
{
    bpf_tail_call(ctx, &jt, 0);
    return 1;
}
SEC("xdp") int f(struct xdp_md *ctx)
{
    volatile char buf[300];
    buf[3] = 0;
    buf[ctx->ingress_ifindex & 255] = 1;
    return jump(ctx) + buf[3];
}
#elif defined(CASE_OK_TAIL_SHALLOW_STACK)
NOINLINE int jump(struct xdp_md *ctx)
{
    bpf_tail_call(ctx, &jt, 0);
    return 1;
}
SEC("xdp") int f(struct xdp_md *ctx)
{
    volatile char buf[200];
    buf[3] = 0;
    buf[ctx->ingress_ifindex & 127] = 1;
    return jump(ctx) + buf[3];
}
#elif defined(CASE_OK_RINGBUF_IN_MAP) || defined(CASE_BAD_RINGBUF_LOOKUP)
/* a ring buffer as the inner map of an array of maps (PREVAIL's
 * ringbuf_in_map.c shape): reserve on the inner map is fine; a lookup in a
 * ring buffer, as that sample does, is not */
struct inner_rb {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 4096);
} inner SEC(".maps");
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
    __uint(max_entries, 1);
    __type(key, __u32);
    __array(values, struct inner_rb);
} outer SEC(".maps") = { .values = { &inner } };
SEC("xdp") int f(struct xdp_md *ctx)
{
    __u32 k = 0;
    void *rbm = bpf_map_lookup_elem(&outer, &k);
    if (!rbm)
        return 1;
#if defined(CASE_OK_RINGBUF_IN_MAP)
    __u32 *e = bpf_ringbuf_reserve(rbm, 4, 0);
    if (!e)
        return 3;
    *e = ctx->ingress_ifindex;
    bpf_ringbuf_submit(e, 0);
    return 2;
#else
    return bpf_map_lookup_elem(rbm, &k) ? 2 : 3;
#endif
}
#else
#error "no CASE_"
#endif

char _license[] SEC("license") = "GPL";
