/* Tracepoint programs as syscall_tp / xdp_monitor write them: the event's
 * record declared by hand (the common 8 bytes, then the fields), values
 * copied into a struct on the stack and sent with bpf_perf_event_output to
 * a perf_event_array, a counter per error code.
 * unsafe: tracepoint/syscalls/sys_enter_openat (the perf output is told to copy more than the stack record)
 */
#include "common.h"

struct sys_enter_openat_args {
    __u64 common;
    __s32 nr;
    __u32 pad;
    __u64 dfd;
    const char *filename;
    __u64 flags, mode;
};
struct xdp_redirect_args {
    __u64 common;
    __s32 prog_id;
    __u32 act;
    __s32 ifindex, err, to_ifindex;
    __u32 map_id;
    __s32 map_index;
};
struct event {
    __u32 pid;
    __u32 flags;
    char comm[16];
};
struct {
    __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
    __uint(key_size, 4);
    __uint(value_size, 4);
} events SEC(".maps");
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __type(key, __u32);
    __type(value, __u64);
    __uint(max_entries, 2);
} redirect_err SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_openat")
int enter_openat(struct sys_enter_openat_args *ctx)
{
    struct event e = {};
    e.pid = bpf_get_current_pid_tgid() >> 32;
    e.flags = (__u32)ctx->flags;
    bpf_get_current_comm(e.comm, sizeof e.comm);
    bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &e, sizeof e BAD(+ 8));
    return 0;
}

SEC("tracepoint/xdp/xdp_redirect_err")
int redirect_error(struct xdp_redirect_args *ctx)
{
    __u32 key = ctx->err < 0;
    __u64 *n = bpf_map_lookup_elem(&redirect_err, &key);
    if (n)
        *n += 1;
    return 0;
}
