/* Per-CPU maps and an LPM trie as a C program declares them: counts
 * packets per CPU, bytes per first byte per CPU, and routes on the IPv4
 * address in bytes 1..4 by longest prefix (10/8 passes, 10.1/16 drops,
 * no route: XDP_TX). The routes are inserted by the program itself. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __type(key, __u32);
    __type(value, __u64);
    __uint(max_entries, 2);
} pkts SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
    __type(key, __u32);
    __type(value, __u64);
    __uint(max_entries, 8);
} bytes SEC(".maps");

struct v4_prefix {
    __u32 prefixlen;
    __u8 addr[4];
};

struct {
    __uint(type, BPF_MAP_TYPE_LPM_TRIE);
    __type(key, struct v4_prefix);
    __type(value, __u32);
    __uint(max_entries, 16);
    __uint(map_flags, BPF_F_NO_PREALLOC);
} routes SEC(".maps");

static void add_route(__u32 len, __u8 a, __u8 b, __u32 verdict)
{
    struct v4_prefix k = { len, { a, b, 0, 0 } };
    bpf_map_update_elem(&routes, &k, &verdict, BPF_NOEXIST);
}

SEC("xdp")
int route(struct xdp_md *ctx)
{
    unsigned char *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
    if (data + 5 > end)
        return XDP_ABORTED;
    __u32 zero = 0, first = data[0];
    __u64 *n = bpf_map_lookup_elem(&pkts, &zero);
    if (n)
        *n += 1;
    __u64 len = (__u64)(end - data);
    __u64 *b = bpf_map_lookup_elem(&bytes, &first);
    if (b)
        *b += len;
    else
        bpf_map_update_elem(&bytes, &first, &len, BPF_ANY);
    add_route(8, 10, 0, XDP_PASS);
    add_route(16, 10, 1, XDP_DROP);
    struct v4_prefix q = { 32, { data[1], data[2], data[3], data[4] } };
    __u32 *verdict = bpf_map_lookup_elem(&routes, &q);
    return verdict ? *verdict : XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
