/* bpf_tail_call through a prog_array, with the kernel's limit of 33 tail
 * calls a run; a queue, a perf_event_array record and bpf_redirect_map
 * on a devmap. The sandbox and the kernel must agree on every count. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
    __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
    __uint(key_size, 4);
    __uint(value_size, 4);
    __uint(max_entries, 4);
} jmp SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __type(key, __u32);
    __type(value, __u64);
    __uint(max_entries, 8);
} out SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
    __uint(key_size, 4);
    __uint(value_size, 4);
} events SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_DEVMAP);
    __uint(key_size, 4);
    __uint(value_size, 4);
    __uint(max_entries, 4);
} ports SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_QUEUE);
    __uint(value_size, 8);
    __uint(max_entries, 4);
} fifo SEC(".maps");

static __always_inline void bump(__u32 k, __u64 by)
{
    __u64 *v = bpf_map_lookup_elem(&out, &k);
    if (v)
        *v += by;
}

SEC("xdp")
int entry(struct xdp_md *ctx)
{
    bump(0, 1);
    bpf_tail_call(ctx, &jmp, 0);     /* an empty slot: goes on */
    bpf_tail_call(ctx, &jmp, 9);     /* past max_entries: goes on */
    bpf_tail_call(ctx, &jmp, 1);
    bump(7, 1000);                   /* only if that failed */
    return XDP_PASS;
}

SEC("xdp")
int again(struct xdp_md *ctx)
{
    __u64 *n, v;
    __u32 one = 1;
    bump(1, 1);
    n = bpf_map_lookup_elem(&out, &one);
    v = n ? *n : 0;
    bpf_map_push_elem(&fifo, &v, BPF_EXIST);  /* keeps the last 4 */
    bpf_tail_call(ctx, &jmp, 1);     /* itself, until the limit */
    struct { __u32 a, b; } rec = { 0xabcd, (__u32)v };
    long rc = bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &rec, sizeof rec);
    bump(2, (__u64)rc + 100);
    __u64 first = 0;
    bump(3, bpf_map_pop_elem(&fifo, &first) == 0 ? first : 999);
    bump(4, bpf_map_peek_elem(&fifo, &first) == 0 ? first : 999);
    bump(5, (__u64)bpf_redirect_map(&ports, 1, XDP_DROP));
    return bpf_redirect_map(&ports, 2, XDP_DROP);
}

char LICENSE[] SEC("license") = "GPL";
