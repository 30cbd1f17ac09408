/* verdict: accept
 * rule: bpf_for_each_map_elem callback gets map, key, value and context */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 16);
    __type(key, __u32);
    __type(value, __u64);
} values SEC(".maps");

struct acc { __u64 total; };

static long add_value(void *map, __u32 *key, __u64 *value, struct acc *a)
{
    a->total += *value + *key;
    return 0;
}

SEC("xdp")
int sum_values(struct xdp_md *ctx)
{
    struct acc a = { 0 };
    bpf_for_each_map_elem(&values, add_value, &a, 0);
    return a.total > 100 ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
