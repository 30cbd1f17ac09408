/* Lengths a helper returns, given on as sizes: the kernel bounds the
 * result of bpf_probe_read_*_str and bpf_get_stack by their size argument
 * (do_refine_retval_range: [-MAX_ERRNO, size]), and tools rely on it: a
 * Falco-style filler sends the path it copied with the length the copy
 * returned, a stack sampler (bcc's profile / offcputime shape) sends the
 * frames bpf_get_stack wrote, a kernel string copied into a per-CPU frame
 * is followed by another at the returned offset. bpflua took such a
 * result as unbounded until this file.
 * unsafe: raw_tracepoint/sys_enter kprobe/finish_task_switch tracepoint/sched/sched_process_exec
 */
#include "common.h"

#define FRAME 1024
struct frame {
    char buf[FRAME];
};
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __type(key, __u32);
    __type(value, struct frame);
    __uint(max_entries, 1);
} frames SEC(".maps");
struct {
    __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
    __uint(key_size, 4);
    __uint(value_size, 4);
} events SEC(".maps");

SEC("raw_tracepoint/sys_enter")
int path_event(struct bpf_raw_tracepoint_args *ctx)
{
    __u32 zero = 0;
    struct frame *f = bpf_map_lookup_elem(&frames, &zero);
    if (!f)
        return 0;
    struct x86_regs *regs = (void *)ctx->args[0];
    const char *path = 0;
    bpf_probe_read_kernel(&path, sizeof path, &regs->si);
    long n = bpf_probe_read_user_str(f->buf, 256, path);
    if (n <= 0)
        return 0;
    GOOD(bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, f->buf, n);)
    BAD(bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, f->buf + FRAME - 128, n);)
    return 0;
}

SEC("kprobe/finish_task_switch")
int stack_event(struct pt_regs *ctx)
{
    __u32 zero = 0;
    struct frame *f = bpf_map_lookup_elem(&frames, &zero);
    if (!f)
        return 0;
    long n = bpf_get_stack(ctx, f->buf, 127 * 8, BPF_F_USER_STACK);
    if (n < 8)
        return 0;
    GOOD(bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, f->buf, n);)
    BAD(bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, f->buf + 64, n);)
    return 0;
}

struct exec_args {
    __u64 common; /* not readable by programs */
    __u32 filename_loc;
    int pid, old_pid;
};

SEC("tracepoint/sched/sched_process_exec")
int comm_and_path(struct exec_args *ctx)
{
    __u32 zero = 0;
    struct frame *f = bpf_map_lookup_elem(&frames, &zero);
    if (!f)
        return 0;
    char *name = (char *)ctx + (ctx->filename_loc & 0xffff);
    long a = bpf_probe_read_kernel_str(f->buf, 256, name);
    if (a < 0)
        return 0;
    /* the second string goes where the first ended */
    long b = bpf_probe_read_kernel_str(f->buf + a, GOOD(256) BAD(FRAME - 255), name);
    if (b < 0)
        return 0;
    return bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, f->buf, a + b) == 0;
}
