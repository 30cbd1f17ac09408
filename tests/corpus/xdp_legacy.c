/* An old-style XDP object (samples/bpf, prototype-kernel): the program in
 * its own section "xdp_prog" with no global symbol requirement, maps in the
 * legacy `maps` section, a per-CPU counter, a devmap redirect and a header
 * pop with bpf_xdp_adjust_head followed by a fresh bounds check.
 * unsafe: xdp_prog (the packet is read after adjust_head through the old pointer)
 */
#include "common.h"

struct legacy_map LEGACY_MAP rxcnt = {
    .type = BPF_MAP_TYPE_PERCPU_ARRAY, .key_size = 4, .value_size = 8, .max_entries = 64,
};
struct legacy_map LEGACY_MAP tx_port = {
    .type = BPF_MAP_TYPE_DEVMAP, .key_size = 4, .value_size = 4, .max_entries = 8,
};

SEC("xdp_prog")
int xdp_pop_vlan(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
    unsigned char *p = data;
    if (data + 18 > end)
        return XDP_DROP;
    __u32 key = p[12] & 63;
    long *v = bpf_map_lookup_elem(&rxcnt, &key);
    if (v)
        *v += 1;
    if (p[12] != 0x81 || p[13] != 0)
        return bpf_redirect_map(&tx_port, 0, 0);
    unsigned char mac[12];
    __builtin_memcpy(mac, p, 12);
    if (bpf_xdp_adjust_head(ctx, 4))
        return XDP_ABORTED;
#ifdef UNSAFE
    __builtin_memcpy(p + 4, mac, 12);
#else
    data = (void *)(long)ctx->data;
    end = (void *)(long)ctx->data_end;
    if (data + 12 > end)
        return XDP_ABORTED;
    __builtin_memcpy(data, mac, 12);
#endif
    return bpf_redirect_map(&tx_port, 1, XDP_PASS);
}
