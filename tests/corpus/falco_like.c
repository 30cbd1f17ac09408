/* A syscall probe in the shape of Falco's older eBPF driver: raw
 * tracepoints on sys_enter and a filler reached by tail call, a per-CPU
 * frame buffer written at offsets kept masked below half its size,
 * bpf_probe_read_user_str of a user string and the returned length added
 * to the offset only when positive, bpf_get_current_task and a read
 * through it, the event sent with bpf_perf_event_output from the map value.
 * unsafe: raw_tracepoint/filler/sys_open_e (the offset is not masked before the string is copied)
 */
#include "common.h"

#define BUF 8192
#define HALF (BUF / 2)
struct frame {
    __u32 off, nparams;
    __u64 ts;
    char data[BUF];
};
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __type(key, __u32);
    __type(value, struct frame);
    __uint(max_entries, 1);
} frames SEC(".maps");
struct {
    __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
    __uint(key_size, 4);
    __uint(value_size, 4);
    __uint(max_entries, 512);
} fillers SEC(".maps");
struct {
    __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
    __uint(key_size, 4);
    __uint(value_size, 4);
} perf SEC(".maps");

SEC("raw_tracepoint/sys_enter")
int sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
    __u32 zero = 0;
    struct frame *f = bpf_map_lookup_elem(&frames, &zero);
    if (!f)
        return 0;
    f->off = 0;
    f->nparams = 0;
    f->ts = bpf_ktime_get_ns();
    bpf_tail_call(ctx, &fillers, ctx->args[1] & 511);
    return 0;
}

static __always_inline int put_str(struct frame *f, const void *user)
{
    __u32 off = f->off;
    GOOD(off &= HALF - 1;)
    long n = bpf_probe_read_user_str(&f->data[off], HALF, user);
    if (n <= 0)
        return -1;
    f->off = off + n;
    f->nparams++;
    return 0;
}

SEC("raw_tracepoint/filler/sys_open_e")
int sys_open_e(struct bpf_raw_tracepoint_args *ctx)
{
    __u32 zero = 0;
    struct frame *f = bpf_map_lookup_elem(&frames, &zero);
    if (!f)
        return 0;
    struct task_struct *task = (void *)bpf_get_current_task();
    __u64 parent = 0;
    bpf_probe_read_kernel(&parent, sizeof parent, (char *)task + 64);
    if (put_str(f, (const void *)ctx->args[0]))
        return 0;
    __u32 len = f->off & (HALF - 1);
    bpf_perf_event_output(ctx, &perf, BPF_F_CURRENT_CPU, f, len + 16);
    return parent != 0;
}
