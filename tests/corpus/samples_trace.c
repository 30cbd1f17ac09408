/* kprobes in the shapes of the kernel's samples/bpf tracing programs
 * (tracex2..7, offwaketime, test_probe_write_user, test_current_task_under
 * _cgroup, spintest), legacy `maps` throughout: a latency histogram indexed
 * by a log2 computed without loops, syscall handlers reached by tail calls
 * from sections named "kprobe/<nr>", a stack id as a hash key, a hardware
 * counter read, a cgroup test, a write into user memory and an injected
 * error (the last two need a kernel configured for them: this one refuses
 * both, PREVAIL and such kernels accept).
 * unsafe: kretprobe/blk_account_io_done (the histogram slot's value is used without a NULL check)
 * kernel-rejects: kprobe/sys_connect kprobe/open_ctree (probe_write_user and override_return: refused by this kernel's lockdown/config)
 */
#include "common.h"

#define SLOTS 64
struct legacy_map LEGACY_MAP start_ts = {
    .type = BPF_MAP_TYPE_HASH, .key_size = 8, .value_size = 8, .max_entries = 4096,
};
struct legacy_map LEGACY_MAP lat_hist = {
    .type = BPF_MAP_TYPE_PERCPU_ARRAY, .key_size = 4, .value_size = 8, .max_entries = SLOTS,
};
struct legacy_map LEGACY_MAP syscall_progs = {
    .type = BPF_MAP_TYPE_PROG_ARRAY, .key_size = 4, .value_size = 4, .max_entries = 64,
};
struct legacy_map LEGACY_MAP stackmap = {
    .type = BPF_MAP_TYPE_STACK_TRACE, .key_size = 4, .value_size = 8 * 127, .max_entries = 1024,
};
struct wake_key {
    char waker[16], target[16];
    __u32 wstack, tstack;
};
struct legacy_map LEGACY_MAP wakes = {
    .type = BPF_MAP_TYPE_HASH, .key_size = sizeof(struct wake_key), .value_size = 8,
    .max_entries = 1024,
};
struct legacy_map LEGACY_MAP counters = {
    .type = BPF_MAP_TYPE_PERF_EVENT_ARRAY, .key_size = 4, .value_size = 4, .max_entries = 64,
};
struct legacy_map LEGACY_MAP values = {
    .type = BPF_MAP_TYPE_HASH, .key_size = 4, .value_size = 8, .max_entries = 64,
};
struct legacy_map LEGACY_MAP cgroup_map = {
    .type = BPF_MAP_TYPE_CGROUP_ARRAY, .key_size = 4, .value_size = 4, .max_entries = 1,
};
struct legacy_map LEGACY_MAP pid_map = {
    .type = BPF_MAP_TYPE_ARRAY, .key_size = 4, .value_size = 8, .max_entries = 1,
};
struct legacy_map LEGACY_MAP redirect_to = {
    .type = BPF_MAP_TYPE_HASH, .key_size = 16, .value_size = 16, .max_entries = 64,
};

/* floor(log2(v)) by halving steps, as the samples write it */
static __always_inline __u32 log2_u64(__u64 v)
{
    __u32 r = 0, s;
    s = (v > 0xffffffffull) << 5; v >>= s; r |= s;
    s = (v > 0xffff) << 4; v >>= s; r |= s;
    s = (v > 0xff) << 3; v >>= s; r |= s;
    s = (v > 0xf) << 2; v >>= s; r |= s;
    s = (v > 0x3) << 1; v >>= s; r |= s;
    return r | (__u32)(v >> 1);
}

SEC("kprobe/blk_start_request")
int io_start(struct x86_regs *ctx)
{
    __u64 rq = ctx->di, now = bpf_ktime_get_ns();
    bpf_map_update_elem(&start_ts, &rq, &now, BPF_ANY);
    return 0;
}

SEC("kretprobe/blk_account_io_done")
int io_done(struct x86_regs *ctx)
{
    __u64 rq = ctx->di;
    __u64 *t = bpf_map_lookup_elem(&start_ts, &rq);
    if (!t)
        return 0;
    __u64 delta = bpf_ktime_get_ns() - *t;
    bpf_map_delete_elem(&start_ts, &rq);
    __u32 slot = log2_u64(delta / 1000);
    if (slot >= SLOTS)
        slot = SLOTS - 1;
    __u64 *c = bpf_map_lookup_elem(&lat_hist, &slot);
    GOOD(if (c))
        *c += 1;
    return 0;
}

/* the dispatcher: syscall number -> program, as tracex5 on seccomp */
SEC("kprobe/__seccomp_filter")
int dispatch(struct x86_regs *ctx)
{
    bpf_tail_call(ctx, &syscall_progs, (__u32)ctx->di);
    return 0;
}

SEC("kprobe/0")
int on_read(struct x86_regs *ctx)
{
    struct { __u64 fd, buf, count; } args;
    if (bpf_probe_read_kernel(&args, sizeof args, (void *)ctx->si))
        return 0;
    if (args.count > 512) {
        char fmt[] = "read %d bytes\n";
        bpf_trace_printk(fmt, sizeof fmt, args.count);
    }
    return 0;
}

SEC("kprobe/1")
int on_write(struct x86_regs *ctx)
{
    char comm[16];
    bpf_get_current_comm(comm, sizeof comm);
    char fmt[] = "pid %d (%c) writes\n";
    bpf_trace_printk(fmt, sizeof fmt, bpf_get_current_pid_tgid() >> 32, comm[0]);
    return 0;
}

/* offwaketime: who woke whom, keyed by both stacks */
SEC("kprobe/try_to_wake_up")
int waker(struct x86_regs *ctx)
{
    struct wake_key k = {};
    bpf_get_current_comm(k.waker, sizeof k.waker);
    bpf_probe_read_kernel_str(k.target, sizeof k.target, (void *)(ctx->di + 0x738));
    long w = bpf_get_stackid(ctx, &stackmap, 0);
    long t = bpf_get_stackid(ctx, &stackmap, BPF_F_USER_STACK);
    k.wstack = w < 0 ? 0 : (__u32)w;
    k.tstack = t < 0 ? 0 : (__u32)t;
    __u64 one = 1, *n = bpf_map_lookup_elem(&wakes, &k);
    if (n)
        __sync_fetch_and_add(n, 1);
    else
        bpf_map_update_elem(&wakes, &k, &one, BPF_NOEXIST);
    return 0;
}

/* tracex6: this CPU's hardware counter, kept per CPU */
SEC("kprobe/htab_map_get_next_key")
int read_counter(struct x86_regs *ctx)
{
    __u32 cpu = bpf_get_smp_processor_id();
    __u64 count = bpf_perf_event_read(&counters, BPF_F_CURRENT_CPU);
    if ((__s64)count < 0 && (__s64)count > -256)
        return 0;
    struct bpf_perf_event_value v;
    if (bpf_perf_event_read_value(&counters, cpu & 63, &v, sizeof v) == 0)
        count += v.enabled;
    bpf_map_update_elem(&values, &cpu, &count, BPF_ANY);
    return 0;
}

SEC("kprobe/sys_sync")
int in_cgroup(struct x86_regs *ctx)
{
    __u32 zero = 0;
    if (!bpf_current_task_under_cgroup(&cgroup_map, 0))
        return 0;
    __u64 pid = bpf_get_current_pid_tgid() >> 32;
    bpf_map_update_elem(&pid_map, &zero, &pid, BPF_ANY);
    return 0;
}

/* test_probe_write_user: the sockaddr a connect() passes is rewritten */
SEC("kprobe/sys_connect")
int rewrite_connect(struct x86_regs *ctx)
{
    unsigned char addr[16], *mapped;
    void *uaddr = (void *)ctx->si;
    if (ctx->dx > sizeof addr)
        return 0;
    if (bpf_probe_read_user(addr, sizeof addr, uaddr))
        return 0;
    mapped = bpf_map_lookup_elem(&redirect_to, addr);
    if (mapped)
        bpf_probe_write_user(uaddr, mapped, sizeof addr);
    return 0;
}

/* tracex7: the probed function fails with -ENOMEM */
SEC("kprobe/open_ctree")
int fail_mount(struct x86_regs *ctx)
{
    bpf_override_return((void *)ctx, -12);
    return 0;
}
