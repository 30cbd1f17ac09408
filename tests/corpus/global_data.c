/* Global data as libbpf maps it: a `const volatile` configuration in
 * .rodata, counters in .data and .bss, a string table in .rodata.str1.1
 * used as bpf_trace_printk's format, an array in .data indexed by a masked
 * packet byte.
 * unsafe: xdp (stores into .rodata, which libbpf freezes)
 */
#include "common.h"

const volatile __u32 drop_port = 53;
const volatile __u8 verbose = 0;
__u64 seen = 1;
__u64 dropped;
__u32 by_ttl[64] = { 1 };

SEC("xdp")
int xdp_cfg(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
    struct iphdr *ip = data + ETH_HLEN;
    struct udphdr *udp = (void *)(ip + 1);
    __sync_fetch_and_add(&seen, 1);
    if ((void *)(udp + 1) > end)
        return XDP_PASS;
    by_ttl[ip->ttl & 63]++;
    BAD(*(volatile __u32 *)&drop_port = 1;)
    if (udp->dest == bpf_htons(drop_port)) {
        dropped++;
        if (verbose)
            bpf_printk("drop %u\n", ip->saddr);
        return XDP_DROP;
    }
    return XDP_PASS;
}
