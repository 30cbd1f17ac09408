/* The shapes of PREVAIL's own test objects (vbpf/ebpf-samples build/),
 * written anew: a tail call whose result is returned (libbpf declares
 * bpf_tail_call as returning long; PREVAIL accepts reading it, the kernel
 * does not: R0 is unreadable after the call), its target in "xdp_prog/0",
 * a socket-buffer program reading the packet again after a helper that
 * moves it (fresh pointers), an array update with key -1 (fails at run
 * time, safe), and a stack array indexed by one byte of a random number.
 * unsafe: xdp_prog classifier/realloc xdp/expose
 * kernel-rejects: xdp_prog (R0 read after bpf_tail_call)
 * kernel-differs: xdp/expose (a privileged kernel lets a pointer be stored in a map value; bpflua never does)
 */
#include "common.h"

struct {
    __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
    __uint(key_size, 4);
    __uint(value_size, 4);
    __uint(max_entries, 4);
} jumps SEC(".maps");
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __type(key, __u32);
    __type(value, __u64);
    __uint(max_entries, 4);
} slots SEC(".maps");

SEC("xdp_prog")
int tail_result(struct xdp_md *ctx)
{
    GOOD(long err = bpf_tail_call(ctx, &jumps, 0);)
    BAD(long err = bpf_tail_call(ctx, &slots, 0);) /* not a prog_array */
    return err < 0 ? XDP_PASS : XDP_ABORTED;
}

SEC("xdp_prog/0")
int tail_target(struct xdp_md *ctx)
{
    return XDP_DROP;
}

SEC("classifier/realloc")
int grow_head(struct __sk_buff *skb)
{
    void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
    __u32 *w = data;
    if ((void *)(w + 1) > end)
        return TC_ACT_OK;
    *w += 1;
    if (bpf_skb_change_head(skb, 4, 0))
        return TC_ACT_SHOT;
    GOOD(data = (void *)(long)skb->data; end = (void *)(long)skb->data_end;)
    GOOD(w = data;)
    GOOD(if ((void *)(w + 2) > end) return TC_ACT_OK;)
    w[1] += 1; /* BAD: through the pointer from before the move */
    return TC_ACT_OK;
}

SEC("xdp/expose")
int store_value(struct xdp_md *ctx)
{
    int key = -1; /* an array has no such slot: the update fails, safely */
    __u64 v = 7;
    bpf_map_update_elem(&slots, &key, &v, BPF_ANY);
    __u32 k = 1;
    __u64 *slot = bpf_map_lookup_elem(&slots, &k);
    if (!slot)
        return XDP_PASS;
    GOOD(*slot = ctx->data_end - ctx->data;)
    BAD(*slot = (__u64)(long)ctx;) /* a kernel address into user-visible memory */
    return XDP_PASS;
}

SEC("xdp/stack_index")
int stack_index(struct xdp_md *ctx)
{
    unsigned char table[256];
    for (int i = 0; i < 256; i += 8)
        *(__u64 *)&table[i] = 0x0101010101010101ull * (i & 3);
    __u32 r = bpf_get_prandom_u32();
    return table[r & 0xff] ? XDP_PASS : XDP_DROP;
}
