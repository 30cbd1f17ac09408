/* trace_ringbuf.c - a kprobe filling a ring buffer record in place, as
 * modern tracing probes do: the pid, the comm, and a string read with
 * bpf_probe_read_kernel_str straight into the record (tests/cli/helpers_more.sh
 * gives the string with --mem). */
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
struct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 4096); } rb SEC(".maps");
struct ev { __u32 pid; char comm[16]; char path[32]; };
SEC("kprobe/do_sys_openat2")
int open_ev(struct pt_regs *ctx)
{
    struct ev *e = bpf_ringbuf_reserve(&rb, sizeof *e, 0);
    if (!e) return 0;
    e->pid = bpf_get_current_pid_tgid() >> 32;
    bpf_get_current_comm(e->comm, sizeof e->comm);
    long n = bpf_probe_read_kernel_str(e->path, sizeof e->path, (void *)ctx->rsi);
    if (n < 0) { bpf_ringbuf_discard(e, 0); return 1; }
    bpf_ringbuf_submit(e, 0);
    return 2;
}
char _license[] SEC("license") = "GPL";
