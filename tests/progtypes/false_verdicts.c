/* false_verdicts.c - programs the kernel loads that bpflua's verifier once
 * rejected: a subprogram writing its caller's stack through a pointer, a
 * bounded variable-offset stack write, bpf_trace_printk with unwritten
 * unused arguments. Each must verify, and run alike in every engine. */
#include <linux/bpf.h>
#define SEC(x) __attribute__((section(x), used))

static long (*bpf_trace_printk)(const char *fmt, unsigned int size, ...) = (void *)6;

/* void: returns without setting R0 (the call's R0 is never read) */
static __attribute__((noinline)) void fill(unsigned long *out, unsigned long v)
{
    out[0] = v;
    out[1] = v + 1;
}

SEC("xdp")
int caller_stack(struct xdp_md *ctx)
{
    unsigned long y[2];
    fill(y, ctx->ingress_ifindex);
    return (y[0] + y[1]) & 3;
}

SEC("xdp")
int var_offset_write(struct xdp_md *ctx)
{
    unsigned char buf[16] = {0};
    unsigned char *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
    if (data + 1 > end)
        return 1;
    unsigned int i = data[0];
    buf[i & 15] = 9;
    return buf[2] == 9 ? 2 : 3;
}

SEC("xdp")
int printk_args(struct xdp_md *ctx)
{
    char fmt[] = "n=%d\n";
    bpf_trace_printk(fmt, sizeof fmt, 42);
    return 2;
}

/* the format reads an argument the program never wrote: the kernel prints
 * whatever R4 held, the sandbox 0 */
SEC("xdp")
int printk_unwritten(struct xdp_md *ctx)
{
    char fmt[] = "a=%d b=%d\n";
    bpf_trace_printk(fmt, sizeof fmt, 42);
    return 2;
}

char _license[] SEC("license") = "GPL";
