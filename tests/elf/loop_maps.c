/* An XDP program with an array map, a hash map, a bpf_loop callback and a
 * BPF-to-BPF call: counts packets by length class. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __type(key, __u32);
    __type(value, __u64);
    __uint(max_entries, 4);
} counts SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __type(key, __s32);
    __type(value, __s64);
    __uint(max_entries, 16);
} seen SEC(".maps");

struct loop_ctx {
    __u64 sum;
};

static long add_index(__u64 index, void *data)
{
    struct loop_ctx *c = data;
    c->sum += index;
    return 0;
}

static __attribute__((noinline)) int classify(int len)
{
    if (len < 64)
        return 0;
    if (len < 512)
        return 1;
    return 2;
}

SEC("xdp")
int count_len(struct xdp_md *ctx)
{
    struct loop_ctx c = { 0 };
    __u32 key = classify((int)(ctx->data_end - ctx->data));
    __u64 *v = bpf_map_lookup_elem(&counts, &key);
    if (v)
        *v += 1;
    bpf_loop(10, add_index, &c, 0);
    __s32 k = -1;
    __s64 val = (__s64)c.sum;
    bpf_map_update_elem(&seen, &k, &val, BPF_ANY);
    return c.sum == 45 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
