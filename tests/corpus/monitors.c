/* Monitors as samples/bpf and prototype-kernel write them (xdp_monitor,
 * napi_monitor, cpustat, offwaketime, trace_event): tracepoint records
 * declared by hand (the common 8 bytes, then the fields; napi_poll's
 * __data_loc device name an int), per-CPU counters indexed by a field
 * checked against the map's size, a waker's comm and stack id stored per
 * pid through bpf_probe_read of a task field (`_(P)` of offwaketime), the
 * sched_switch latency folded into a hash by the waker's stack, and a
 * perf_event sample keyed by comm and two stack ids with the counter read
 * by bpf_perf_prog_read_value.
 * unsafe: tracepoint/napi/napi_poll perf_event (the counter used without a NULL check;
 *   a read past the context)
 */
#include "common.h"

/* struct bpf_perf_event_data and struct bpf_perf_event_value on x86-64 */
struct perf_data {
    struct x86_regs regs;
    __u64 sample_period;
    __u64 addr;
};
struct perf_value {
    __u64 counter, enabled, running;
};

struct legacy_map stats LEGACY_MAP = { BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 4, 0 };
struct legacy_map cpu_recs LEGACY_MAP = { BPF_MAP_TYPE_PERCPU_ARRAY, 4, 16, 64, 0 };
struct legacy_map stackmap LEGACY_MAP = { BPF_MAP_TYPE_STACK_TRACE, 4, 127 * 8, 1000, 0 };
struct legacy_map samples LEGACY_MAP = { BPF_MAP_TYPE_HASH, 24, 8, 1000, 0 };
struct legacy_map start LEGACY_MAP = { BPF_MAP_TYPE_HASH, 4, 8, 1000, 0 };
struct legacy_map wokeby LEGACY_MAP = { BPF_MAP_TYPE_HASH, 4, 20, 1000, 0 };
struct legacy_map latency LEGACY_MAP = { BPF_MAP_TYPE_HASH, 8, 8, 1000, 0 };

/* xdp:xdp_redirect and xdp:xdp_redirect_err */
struct redirect_rec {
    __u64 common;
    int prog_id;
    __u32 act;
    int ifindex;
    int err;
    int to_ifindex;
    __u32 map_id;
    int map_index;
};

static __always_inline int count_redirect(struct redirect_rec *ctx)
{
    __u32 key = ctx->err ? 1 : 0;
    __u64 *cnt = bpf_map_lookup_elem(&stats, &key);
    if (!cnt)
        return 1;
    *cnt += 1;
    return 0;
}

SEC("tracepoint/xdp/xdp_redirect_err")
int redirect_err(struct redirect_rec *ctx)
{
    return count_redirect(ctx);
}

SEC("tracepoint/xdp/xdp_redirect")
int redirect_ok(struct redirect_rec *ctx)
{
    return count_redirect(ctx);
}

/* xdp:xdp_cpumap_enqueue: the target cpu indexes a per-CPU record */
struct enqueue_rec {
    __u64 common;
    int map_id;
    __u32 act;
    int cpu;
    __u32 drops;
    __u32 processed;
    int to_cpu;
};
struct cpu_rec {
    __u64 processed, dropped;
};

SEC("tracepoint/xdp/xdp_cpumap_enqueue")
int cpumap_enqueue(struct enqueue_rec *ctx)
{
    __u32 to_cpu = ctx->to_cpu;
    if (to_cpu >= 64)
        return 0;
    struct cpu_rec *rec = bpf_map_lookup_elem(&cpu_recs, &to_cpu);
    if (!rec)
        return 0;
    rec->processed += ctx->processed;
    rec->dropped += ctx->drops;
    return 0;
}

/* napi:napi_poll: idle, partial and full polls counted */
struct napi_rec {
    __u64 common;
    void *napi;
    int dev_name_loc;
    int work;
    int budget;
};

SEC("tracepoint/napi/napi_poll")
int napi_poll(struct napi_rec *ctx)
{
    __u32 key = ctx->work == 0 ? 0 : (ctx->work == ctx->budget ? 2 : 1);
    __u64 *cnt = bpf_map_lookup_elem(&stats, &key);
    GOOD(if (cnt))
        __sync_fetch_and_add(cnt, 1);
    return 0;
}

/* power:cpu_idle: the time a cpu entered its state */
struct idle_rec {
    __u64 common;
    __u32 state;
    __u32 cpu_id;
};

SEC("tracepoint/power/cpu_idle")
int cpu_idle(struct idle_rec *ctx)
{
    __u32 key = ctx->cpu_id;
    if (ctx->state != (__u32)-1 && key < 4) {
        __u64 *v = bpf_map_lookup_elem(&stats, &key);
        if (v)
            *v = bpf_ktime_get_ns() + bpf_get_smp_processor_id();
    }
    return 0;
}

/* offwaketime: who woke a task, then how long it was off the cpu */
#define _(P) ({ typeof(P) val_ = 0; bpf_probe_read(&val_, sizeof(val_), &(P)); val_; })
struct task {
    int pad[10];
    int pid;
    int tgid;
};
struct woke {
    char name[16];
    __u32 stack;
};

SEC("kprobe/try_to_wake_up")
int waker(struct x86_regs *ctx)
{
    struct task *p = (void *)ctx->di;
    struct woke w;
    __u32 pid = _(p->pid);
    bpf_get_current_comm(&w.name, sizeof(w.name));
    w.stack = bpf_get_stackid(ctx, &stackmap, BPF_F_FAST_STACK_CMP);
    bpf_map_update_elem(&wokeby, &pid, &w, BPF_ANY);
    return 0;
}

struct switch_rec {
    __u64 common;
    char prev_comm[16];
    int prev_pid;
    int prev_prio;
    long long prev_state;
    char next_comm[16];
    int next_pid;
    int next_prio;
};

SEC("tracepoint/sched/sched_switch")
int oncpu(struct switch_rec *ctx)
{
    __u32 pid = ctx->prev_pid;
    __u64 ts = bpf_ktime_get_ns(), *tsp;
    bpf_map_update_elem(&start, &pid, &ts, BPF_ANY);
    pid = bpf_get_current_pid_tgid();
    tsp = bpf_map_lookup_elem(&start, &pid);
    if (!tsp)
        return 0;
    __u64 delta = (bpf_ktime_get_ns() - *tsp) / 1000;
    bpf_map_delete_elem(&start, &pid);
    struct woke *w = bpf_map_lookup_elem(&wokeby, &pid);
    __u64 key = w ? w->stack : 0;
    __u64 *sum = bpf_map_lookup_elem(&latency, &key);
    if (!sum)
        return bpf_map_update_elem(&latency, &key, &delta, BPF_NOEXIST) & 0;
    __sync_fetch_and_add(sum, delta);
    return 0;
}

/* trace_event: a sample keyed by comm and stacks */
SEC("perf_event")
int sample(struct perf_data *ctx)
{
    struct {
        char comm[16];
        __u32 kern, user;
    } key;
    struct perf_value v;
    __u64 one = 1, *n;
    if (ctx->sample_period < 10000)
        return 0;
    bpf_get_current_comm(&key.comm, sizeof(key.comm));
    key.kern = bpf_get_stackid(ctx, &stackmap, 0);
    key.user = bpf_get_stackid(ctx, &stackmap, BPF_F_USER_STACK);
    if (!bpf_perf_prog_read_value((void *)ctx, (void *)&v, sizeof(v)))
        key.kern += v.counter;
    if (ctx->addr)
        key.user ^= 1;
    BAD(key.user += *(__u32 *)((char *)ctx + sizeof(*ctx));)
    n = bpf_map_lookup_elem(&samples, &key);
    if (n)
        (*n)++;
    else
        bpf_map_update_elem(&samples, &key, &one, BPF_NOEXIST);
    return 0;
}
