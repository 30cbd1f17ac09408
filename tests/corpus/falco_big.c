/* Large syscall fillers in the shape of Falco's (sysdig's) eBPF probe:
 * raw_tracepoint programs that each write an event of many parameters
 * into a per-CPU frame: a header, then per parameter a length slot and the
 * bytes, strings copied with bpf_probe_read_user_str / _kernel_str at an
 * offset kept masked below half the frame, integers at masked offsets,
 * the task walked through bpf_get_current_task and bpf_probe_read_kernel,
 * the event sent with bpf_perf_event_output of a masked length; a
 * dispatcher tail-calls the filler by syscall id. Many parameters per
 * filler make programs of hundreds of instructions with many paths.
 * unsafe: raw_tracepoint/filler/sys_execve_e (one string is copied at an unmasked offset)
 */
#include "common.h"

#define FRAME 16384
#define HALF (FRAME / 2)
#define MASK (HALF - 1)
#define MAX_STR 256
#define NPARAMS 16

struct frame_hdr {
    __u64 ts;
    __u64 tid;
    __u32 len;
    __u16 type;
    __u16 nparams;
};
struct scratch {
    struct frame_hdr hdr;
    __u16 lens[NPARAMS];
    __u32 off;
    __u32 cur;
    char data[FRAME];
};
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __type(key, __u32);
    __type(value, struct scratch);
    __uint(max_entries, 1);
} frame_scratch SEC(".maps");
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
} perf_map SEC(".maps");
struct settings {
    __u32 snaplen, dropping, capture_enabled, tracers;
};
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __type(key, __u32);
    __type(value, struct settings);
    __uint(max_entries, 1);
} settings_map SEC(".maps");

static __always_inline struct scratch *get_frame(void)
{
    __u32 zero = 0;
    return bpf_map_lookup_elem(&frame_scratch, &zero);
}

static __always_inline void begin(struct scratch *s, __u16 type, __u16 nparams)
{
    s->hdr.ts = bpf_ktime_get_ns();
    s->hdr.tid = bpf_get_current_pid_tgid();
    s->hdr.type = type;
    s->hdr.nparams = nparams;
    s->off = 0;
    s->cur = 0;
}

static __always_inline int put_u64(struct scratch *s, __u64 v)
{
    __u32 off = s->off & MASK;
    *(__u64 *)&s->data[off] = v;
    __u32 cur = s->cur;
    if (cur < NPARAMS)
        s->lens[cur] = 8;
    s->cur = cur + 1;
    s->off = off + 8;
    return 0;
}

static __always_inline int put_user_str(struct scratch *s, const void *p, __u32 snaplen)
{
    __u32 off = s->off & MASK;
    long n = bpf_probe_read_user_str(&s->data[off], MAX_STR, p);
    if (n < 0) {
        s->data[off] = 0;
        n = 1;
    }
    if (n > snaplen)
        n = snaplen;
    __u32 cur = s->cur;
    if (cur < NPARAMS)
        s->lens[cur] = (__u16)n;
    s->cur = cur + 1;
    s->off = off + (__u32)n;
    return 0;
}

static __always_inline int put_kernel_str(struct scratch *s, const void *p)
{
    __u32 off = s->off & MASK;
    long n = bpf_probe_read_kernel_str(&s->data[off], 16, p);
    if (n <= 0)
        n = 0;
    __u32 cur = s->cur;
    if (cur < NPARAMS)
        s->lens[cur] = (__u16)n;
    s->cur = cur + 1;
    s->off = off + (__u32)n;
    return 0;
}

static __always_inline int put_user_buf(struct scratch *s, const void *p, __u64 len,
                                        __u32 snaplen)
{
    __u32 off = s->off & MASK;
    __u32 n = len < snaplen ? (__u32)len : snaplen;
    n &= MAX_STR - 1;
    if (n && bpf_probe_read_user(&s->data[off], n, p))
        n = 0;
    __u32 cur = s->cur;
    if (cur < NPARAMS)
        s->lens[cur] = (__u16)n;
    s->cur = cur + 1;
    s->off = off + n;
    return 0;
}

static __always_inline int finish(void *ctx, struct scratch *s)
{
    __u32 len = (s->off & MASK) + sizeof s->hdr + sizeof s->lens;
    s->hdr.len = len;
    if (len > sizeof *s)
        return 0;
    bpf_perf_event_output(ctx, &perf_map, BPF_F_CURRENT_CPU, s, len & (FRAME - 1));
    return 0;
}

static __always_inline __u32 snaplen_now(void)
{
    __u32 zero = 0;
    struct settings *st = bpf_map_lookup_elem(&settings_map, &zero);
    if (!st || !st->capture_enabled)
        return 0;
    return st->snaplen > MAX_STR ? MAX_STR : st->snaplen;
}

SEC("raw_tracepoint/sys_enter")
int sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
    __u32 zero = 0;
    struct settings *st = bpf_map_lookup_elem(&settings_map, &zero);
    if (!st || !st->capture_enabled || st->dropping)
        return 0;
    bpf_tail_call(ctx, &fillers, ctx->args[1] & 511);
    return 0;
}

SEC("raw_tracepoint/filler/sys_execve_e")
int sys_execve_e(struct bpf_raw_tracepoint_args *ctx)
{
    struct scratch *s = get_frame();
    if (!s)
        return 0;
    __u32 snap = snaplen_now();
    __u64 *regs = (__u64 *)ctx->args[0];
    __u64 filename = 0, argv = 0, envp = 0;
    bpf_probe_read_kernel(&filename, 8, &regs[14]);
    bpf_probe_read_kernel(&argv, 8, &regs[13]);
    bpf_probe_read_kernel(&envp, 8, &regs[12]);
    begin(s, 293, 8);
    put_user_str(s, (void *)filename, snap);
#pragma unroll
    for (int i = 0; i < 4; i++) {
        __u64 arg = 0;
        if (bpf_probe_read_user(&arg, 8, (void *)(argv + 8 * i)) || !arg)
            break;
        put_user_str(s, (void *)arg, snap);
    }
    __u64 env0 = 0;
    bpf_probe_read_user(&env0, 8, (void *)envp);
    GOOD(put_user_str(s, (void *)env0, snap);)
    BAD(long n = bpf_probe_read_user_str(&s->data[s->off], MAX_STR, (void *)env0); s->off += n > 0 ? n : 0;)
    struct task_struct *task = (void *)bpf_get_current_task();
    __u64 parent = 0, pid = 0;
    bpf_probe_read_kernel(&parent, 8, (char *)task + 0x598);
    bpf_probe_read_kernel(&pid, 4, (char *)parent + 0x590);
    put_u64(s, pid);
    put_kernel_str(s, (char *)task + 0x738);
    return finish(ctx, s);
}

SEC("raw_tracepoint/filler/sys_write_x")
int sys_write_x(struct bpf_raw_tracepoint_args *ctx)
{
    struct scratch *s = get_frame();
    if (!s)
        return 0;
    __u32 snap = snaplen_now();
    __u64 *regs = (__u64 *)ctx->args[0];
    __u64 fd = 0, buf = 0, count = 0;
    bpf_probe_read_kernel(&fd, 8, &regs[14]);
    bpf_probe_read_kernel(&buf, 8, &regs[13]);
    bpf_probe_read_kernel(&count, 8, &regs[12]);
    __s64 res = (__s64)ctx->args[1];
    begin(s, 9, 4);
    put_u64(s, (__u64)res);
    put_u64(s, fd);
    put_user_buf(s, (void *)buf, res > 0 ? (__u64)res : 0, snap);
    put_u64(s, count);
    return finish(ctx, s);
}

SEC("raw_tracepoint/filler/sys_connect_x")
int sys_connect_x(struct bpf_raw_tracepoint_args *ctx)
{
    struct scratch *s = get_frame();
    if (!s)
        return 0;
    __u64 *regs = (__u64 *)ctx->args[0];
    __u64 fd = 0, uaddr = 0, alen = 0;
    bpf_probe_read_kernel(&fd, 8, &regs[14]);
    bpf_probe_read_kernel(&uaddr, 8, &regs[13]);
    bpf_probe_read_kernel(&alen, 8, &regs[12]);
    begin(s, 23, 3);
    put_u64(s, ctx->args[1]);
    put_u64(s, fd);
    unsigned char sa[28] = {};
    if (alen > sizeof sa)
        alen = sizeof sa;
    if (bpf_probe_read_user(sa, sizeof sa, (void *)uaddr) == 0) {
        __u16 family = *(__u16 *)sa;
        __u32 off = s->off & MASK;
        if (family == 2) {
            s->data[off] = 2;
            *(__u32 *)&s->data[(off + 1) & MASK] = *(__u32 *)&sa[4];
            *(__u16 *)&s->data[(off + 5) & MASK] = *(__u16 *)&sa[2];
            s->off = off + 7;
        } else if (family == 10) {
            s->data[off] = 10;
            __builtin_memcpy(&s->data[(off + 1) & MASK], &sa[8], 16);
            *(__u16 *)&s->data[(off + 17) & MASK] = *(__u16 *)&sa[2];
            s->off = off + 19;
        } else {
            s->data[off] = 0;
            s->off = off + 1;
        }
        __u32 cur = s->cur;
        if (cur < NPARAMS)
            s->lens[cur] = family == 2 ? 7 : family == 10 ? 19 : 1;
        s->cur = cur + 1;
    }
    return finish(ctx, s);
}

SEC("raw_tracepoint/sched_switch")
int sched_switch(struct bpf_raw_tracepoint_args *ctx)
{
    struct scratch *s = get_frame();
    if (!s)
        return 0;
    begin(s, 300, 3);
    put_u64(s, bpf_get_smp_processor_id());
    put_kernel_str(s, (char *)ctx->args[1] + 0x738);
    put_kernel_str(s, (char *)ctx->args[2] + 0x738);
    return finish(ctx, s);
}
