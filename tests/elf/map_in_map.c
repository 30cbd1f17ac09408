/* An array of maps as libbpf declares it: the inner map template from
 * `__array(values, ...)`. The program adds 1 to inner[1] of the map in
 * outer[0] (XDP_PASS), or returns XDP_DROP when the slot is empty. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct inner_map {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __type(key, __u32);
    __type(value, __u64);
    __uint(max_entries, 4);
} counters SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
    __uint(max_entries, 2);
    __type(key, __u32);
    __array(values, struct inner_map);
} outer SEC(".maps");

SEC("xdp")
int via_outer(struct xdp_md *ctx)
{
    __u32 zero = 0, one = 1;
    void *inner = bpf_map_lookup_elem(&outer, &zero);
    if (!inner)
        return XDP_DROP;
    __u64 *v = bpf_map_lookup_elem(inner, &one);
    if (!v)
        return XDP_DROP;
    *v += 1;
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
