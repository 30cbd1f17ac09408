/* map_values.c - maps with initial slots in their definition, as libbpf
 * reads them: an array of maps whose `.values` name two inner hash maps,
 * and a prog_array whose slot 0 names a program. The sandbox places them
 * when it creates the maps; the kernel engine gives the kernel fds
 * (tests/cli/kernel_objects.sh: same verdicts and contents in every engine). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct inner {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __u64);
};
struct inner even SEC(".maps"), odd SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
    __uint(max_entries, 2);
    __type(key, __u32);
    __array(values, struct inner);
} by_parity SEC(".maps") = { .values = { [0] = &even, [1] = &odd } };

SEC("xdp")
int count(struct xdp_md *ctx)
{
    unsigned char *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
    if (data + 1 > end)
        return XDP_ABORTED;
    __u32 slot = data[0] & 1, k = data[0];
    void *m = bpf_map_lookup_elem(&by_parity, &slot);
    if (!m)
        return XDP_DROP;
    __u64 one = 1, *n = bpf_map_lookup_elem(m, &k);
    if (n)
        __sync_fetch_and_add(n, 1);
    else
        bpf_map_update_elem(m, &k, &one, BPF_ANY);
    return XDP_PASS;
}

SEC("xdp")
int target(struct xdp_md *ctx)
{
    return XDP_TX;
}

struct {
    __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
    __uint(max_entries, 2);
    __type(key, __u32);
    __array(values, int (void *));
} jumps SEC(".maps") = { .values = { [0] = (void *)&target } };

SEC("xdp")
int jump(struct xdp_md *ctx)
{
    unsigned char *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
    __u32 slot = data + 1 <= end ? data[0] & 1 : 1;
    bpf_tail_call(ctx, &jumps, slot);
    return XDP_DROP; /* slot 1 is empty */
}

char _license[] SEC("license") = "GPL";
