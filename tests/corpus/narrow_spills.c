/* Numbers kept in stack slots narrower than 8 bytes, as Falco's fillers
 * keep a `volatile` read size and as -mcpu=v3 code spills 32-bit
 * values: the kernel gives back a number's bounds when the first bytes of
 * its slot are read again (a narrow spill), links a spilled number to its
 * register (a check after the spill bounds the copy), and links `w1 = w2`
 * copies of 32-bit numbers. bpflua forgot all three until session 11
 * ("unbounded memory access").
 * unsafe: xdp/volatile_index raw_tracepoint/volatile_len
 */
#include "common.h"

#define BUF 256
struct scratch {
    __u32 slot[16];
    __u32 cur, len;
    char buf[BUF];
};
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __type(key, __u32);
    __type(value, struct scratch);
    __uint(max_entries, 1);
} scratch_map SEC(".maps");

/* a 32-bit index checked, kept in a volatile slot, read back to index */
SEC("xdp/volatile_index")
int volatile_index(struct xdp_md *ctx)
{
    __u32 zero = 0;
    struct scratch *s = bpf_map_lookup_elem(&scratch_map, &zero);
    if (!s)
        return XDP_PASS;
    __u32 i = s->cur;
    if (i >= GOOD(16) BAD(100))
        return XDP_PASS;
    volatile __u32 j = i;
    s->slot[j]++;
    return XDP_PASS;
}

/* a length clamped, kept as a volatile u32, read back as a helper's size */
SEC("raw_tracepoint/volatile_len")
int volatile_len(struct bpf_raw_tracepoint_args *ctx)
{
    __u32 zero = 0;
    struct scratch *s = bpf_map_lookup_elem(&scratch_map, &zero);
    if (!s)
        return 0;
    __u64 len = ctx->args[1];
    if (len > GOOD(BUF) BAD(BUF + 1))
        len = BUF;
    volatile __u32 read_size = len;
    bpf_probe_read_kernel(s->buf, read_size, (void *)ctx->args[0]);
    s->len = read_size;
    return 0;
}

/* a spilled 64-bit offset checked after the spill, read back */
SEC("xdp/spill_then_check")
int spill_then_check(struct xdp_md *ctx)
{
    __u32 zero = 0;
    struct scratch *s = bpf_map_lookup_elem(&scratch_map, &zero);
    if (!s)
        return XDP_PASS;
    volatile __u64 off = s->len;
    if (s->len >= BUF - 8)
        return XDP_PASS;
    __u64 o = off;
    if (o != s->len)
        return XDP_DROP;
    *(__u64 *)&s->buf[o] = bpf_ktime_get_ns();
    return XDP_PASS;
}
