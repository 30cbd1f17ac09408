/* Bounds the way PREVAIL's samples and Spectre-style code compute them: an
 * index read from the packet checked against the array's length before it
 * indexes a map value (dependent read), a length from a map value clamped
 * and given to bpf_probe_read_kernel as ARG_CONST_SIZE_OR_ZERO, and
 * bpf_csum_diff over a stack buffer with its size in a register.
 * unsafe: xdp (the index check is off by one)
 */
#include "common.h"

struct arr {
    __u32 n;
    __u32 items[16];
};
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __type(key, __u32);
    __type(value, struct arr);
    __uint(max_entries, 1);
} arrays SEC(".maps");

SEC("xdp")
int dependent(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
    __u8 *p = data;
    if ((void *)(p + 4) > end)
        return XDP_PASS;
    __u32 zero = 0;
    struct arr *a = bpf_map_lookup_elem(&arrays, &zero);
    if (!a)
        return XDP_PASS;
    __u32 idx = p[0];
    if (idx GOOD(>=) BAD(>) 16)
        return XDP_DROP;
    __u32 v = a->items[idx];
    __u32 buf[8] = {};
    __u32 words = p[1] & 7;
    __s64 cs = bpf_csum_diff(0, 0, buf, (words + 1) * 4, 0);
    return (v + cs) & 1 ? XDP_PASS : XDP_DROP;
}

SEC("kprobe/do_nanosleep")
int copy_len(void *ctx)
{
    __u32 zero = 0;
    struct arr *a = bpf_map_lookup_elem(&arrays, &zero);
    char buf[64];
    if (!a)
        return 0;
    __u32 n = a->n;
    if (n > sizeof buf)
        n = sizeof buf;
    bpf_probe_read_kernel(buf, n, (void *)ctx);
    return n ? buf[0] : 0;
}
