/* A legacy hash of maps: the inner template is the first definition, the
 * outer names it by index (inner_map_idx), as samples/bpf did before BTF.
 */
#include "common.h"

struct legacy_map_inner LEGACY_MAP port_a = {
    .type = BPF_MAP_TYPE_HASH, .key_size = 4, .value_size = 4, .max_entries = 16,
};
struct legacy_map_inner LEGACY_MAP outer_hash = {
    .type = BPF_MAP_TYPE_HASH_OF_MAPS, .key_size = 4, .value_size = 4, .max_entries = 4,
    .inner_map_idx = 0,
};

SEC("kprobe/__x64_sys_connect")
int on_connect(void *ctx)
{
    __u32 k = 1, port = 80;
    void *inner = bpf_map_lookup_elem(&outer_hash, &k);
    if (!inner)
        return 0;
    __u32 *v = bpf_map_lookup_elem(inner, &port);
    return v ? *v : 0;
}
