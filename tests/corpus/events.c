/* Events as newer tools send them: bpf_ringbuf_output of a stack record,
 * a bpf_loop callback summing the first bytes of the packet through a
 * context struct on the stack, bpf_for_each_map_elem over a hash.
 * unsafe: xdp (the callback reads its context struct past its end)
 */
#include "common.h"

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 4096);
} rb SEC(".maps");
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __type(key, __u32);
    __type(value, __u64);
    __uint(max_entries, 16);
} totals SEC(".maps");

struct sum_ctx {
    void *data, *end;
    __u64 sum;
};

static long add_byte(__u32 i, struct sum_ctx *c)
{
    __u8 *p = c->data + (i & 63);
    if ((void *)(p + 1) > c->end)
        return 1;
    c->sum += *p BAD(+ *((__u8 *)c + sizeof *c));
    return 0;
}

static long add_total(void *map, __u32 *key, __u64 *val, __u64 *acc)
{
    *acc += *val;
    return 0;
}

SEC("xdp")
int xdp_events(struct xdp_md *ctx)
{
    struct sum_ctx c = { (void *)(long)ctx->data, (void *)(long)ctx->data_end, 0 };
    __u64 acc = 0;
    bpf_loop(64, add_byte, &c, 0);
    bpf_for_each_map_elem(&totals, add_total, &acc, 0);
    struct {
        __u64 sum, acc;
    } rec = { c.sum, acc };
    bpf_ringbuf_output(&rb, &rec, sizeof rec, 0);
    return XDP_PASS;
}
