/* Maps of maps, both ways real objects declare them: a BTF-defined
 * array_of_maps with an inner array (libbpf's __array), and a legacy hash
 * of maps whose inner template is named by inner_map_idx (test_map_in_map).
 * unsafe: xdp (the inner map is used without a NULL check)
 */
#include "common.h"

struct inner {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __type(key, __u32);
    __type(value, __u64);
    __uint(max_entries, 4);
} inner0 SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
    __uint(max_entries, 2);
    __type(key, __u32);
    __array(values, struct inner);
} outer SEC(".maps") = { .values = { &inner0 } };

SEC("xdp")
int xdp_inner(struct xdp_md *ctx)
{
    __u32 k = 0, slot = ctx->rx_queue_index & 3;
    void *m = bpf_map_lookup_elem(&outer, &k);
    GOOD(if (!m) return XDP_PASS;)
    __u64 *v = bpf_map_lookup_elem(m, &slot);
    if (v)
        *v += 1;
    return XDP_PASS;
}
