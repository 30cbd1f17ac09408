/* Several programs in one object: two in section "xdp", one in "xdp/tx",
 * sharing a global .text function (called through a relocation against
 * its own symbol) and a static one. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

static __attribute__((noinline)) int twice(int x)
{
    return x * 2;
}

__attribute__((noinline)) int add_one(int x)
{
    return (int)((unsigned)twice(x) >> 1) + 1;
}

SEC("xdp")
int prog_a(struct xdp_md *ctx)
{
    return add_one(1); /* 2: XDP_PASS */
}

SEC("xdp")
int prog_b(struct xdp_md *ctx)
{
    return twice(1) - 1; /* 1: XDP_DROP */
}

SEC("xdp/tx")
int prog_c(struct xdp_md *ctx)
{
    return add_one(2); /* 3: XDP_TX */
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
