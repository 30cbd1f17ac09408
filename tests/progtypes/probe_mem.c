/* probe_mem.c - a kprobe reading kernel memory through its arguments, as
 * tracing programs do: a u64 at the first argument's address, a string at
 * the second's. `bpflua run --ctx REGS --mem ADDR=FILE` gives the sandbox
 * that memory (tests/cli/helpers_more.sh); without it the reads fail with
 * -EFAULT, as an unmapped address does in the kernel. */
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>

SEC("kprobe/do_sys_openat2")
int rd(struct pt_regs *ctx)
{
    __u64 v = 0;
    char s[16];
    long a = bpf_probe_read_kernel(&v, sizeof v, (void *)ctx->rdi);
    long n = bpf_probe_read_kernel_str(s, sizeof s, (void *)ctx->rsi);
    if (a)
        return a == -14 ? 1 : 2;
    if (n < 0)
        return n == -14 ? 3 : 4;
    return (int)(v & 0xff) * 100 + (int)n * 10 + (s[0] == 'b');
}

char _license[] SEC("license") = "GPL";
