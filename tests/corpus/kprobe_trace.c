/* Tracing programs of the tracex / offwaketime kind: a kprobe on a syscall
 * reading its arguments from pt_regs, bpf_probe_read_kernel of a struct
 * field, a histogram in a hash map, bpf_trace_printk with its format in
 * .rodata, and a kretprobe reading the return value.
 * unsafe: kprobe/__x64_sys_write (reads pt_regs past its end)
 */
#include "common.h"

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __type(key, __u32);
    __type(value, __u64);
    __uint(max_entries, 64);
} sizes SEC(".maps");

static __always_inline __u32 log2l(__u64 v)
{
    __u32 r = 0;
#pragma unroll
    for (int i = 32; i > 0; i /= 2)
        if (v >> i) {
            v >>= i;
            r += i;
        }
    return r;
}

SEC("kprobe/__x64_sys_write")
int trace_write(struct x86_regs *ctx)
{
    struct x86_regs *regs = (struct x86_regs *)ctx->di;
    unsigned long count = 0;
    bpf_probe_read_kernel(&count, sizeof count, &regs->dx);
    BAD(count += *(unsigned long *)((char *)ctx + 168);)
    __u32 slot = log2l(count);
    __u64 one = 1, *n = bpf_map_lookup_elem(&sizes, &slot);
    if (n)
        __sync_fetch_and_add(n, 1);
    else
        bpf_map_update_elem(&sizes, &slot, &one, BPF_NOEXIST);
    return 0;
}

SEC("kretprobe/__x64_sys_write")
int trace_write_ret(struct x86_regs *ctx)
{
    static const char fmt[] = "write returned %ld\n";
    long rc = ctx->ax;
    if (rc < 0)
        bpf_trace_printk(fmt, sizeof fmt, rc);
    return 0;
}
