/* Fillers in the shape of Falco's older eBPF probe (driver/bpf): a
 * filler_data struct on the stack holding pointers to the settings, the
 * per-CPU state, the frame and a temporary scratch area (all map values),
 * a value-to-ring writer switching on a parameter type read from an event
 * table, offsets checked against half the frame and masked, a u16
 * "volatile" read size spilled and reloaded, probe_read_str retried with
 * a stack string, bytes copied at masked offsets, a path assembled from
 * dentry pointers stored in the scratch area by unrolled loops, a socket
 * address copied with a length clamped by an unsigned compare, the event
 * sent with a length masked to the frame.
 * unsafe: raw_tracepoint/filler/sys_open_x raw_tracepoint/filler/sys_connect_x
 */
#include "common.h"

#define SCRATCH_SIZE (1 << 14)
#define SCRATCH_SIZE_MAX (SCRATCH_SIZE - 1)
#define SCRATCH_SIZE_HALF (SCRATCH_SIZE_MAX >> 1)
#define MAX_ARG 4096
#define MAX_PARAMS 32
#define MAX_PATH_COMPONENTS 16

enum ptype { PT_NONE, PT_U8, PT_U16, PT_U32, PT_U64, PT_CHARBUF, PT_BYTEBUF, PT_SOCKADDR };
struct param_info { __u32 type, flags; };
struct event_info { __u32 nparams, flags; struct param_info params[MAX_PARAMS]; };
struct hdr { __u64 ts, tid; __u32 len; __u16 type; __u32 nparams; } __attribute__((packed));
struct tail_ctx { __u32 evt_type, curarg, curoff, len, prev_res; };
struct cpu_state { struct tail_ctx tail_ctx; __u64 n_evts, n_drops; int in_use; };
struct settings { __u64 boot_time; void *socket_file_ops; __u32 snaplen; __u8 dropping, capture_enabled, do_dynamic_snaplen, tracers; };

struct legacy_map LEGACY_MAP frame_scratch_map = {
    .type = BPF_MAP_TYPE_PERCPU_ARRAY, .key_size = 4, .value_size = SCRATCH_SIZE, .max_entries = 1,
};
struct legacy_map LEGACY_MAP tmp_scratch_map = {
    .type = BPF_MAP_TYPE_PERCPU_ARRAY, .key_size = 4, .value_size = SCRATCH_SIZE, .max_entries = 1,
};
struct legacy_map LEGACY_MAP local_state_map = {
    .type = BPF_MAP_TYPE_PERCPU_ARRAY, .key_size = 4, .value_size = sizeof(struct cpu_state), .max_entries = 1,
};
struct legacy_map LEGACY_MAP settings_map = {
    .type = BPF_MAP_TYPE_ARRAY, .key_size = 4, .value_size = sizeof(struct settings), .max_entries = 1,
};
struct legacy_map LEGACY_MAP event_info_table = {
    .type = BPF_MAP_TYPE_ARRAY, .key_size = 4, .value_size = sizeof(struct event_info), .max_entries = 512,
};
struct legacy_map LEGACY_MAP tail_map = {
    .type = BPF_MAP_TYPE_PROG_ARRAY, .key_size = 4, .value_size = 4, .max_entries = 512,
};
struct legacy_map LEGACY_MAP perf_map = {
    .type = BPF_MAP_TYPE_PERF_EVENT_ARRAY, .key_size = 4, .value_size = 4, .max_entries = 64,
};

struct filler_data {
    void *ctx;
    struct settings *settings;
    struct cpu_state *state;
    char *tmp_scratch;
    const struct event_info *evt;
    char *buf;
    int fd;
    _Bool curarg_already_on_frame;
};

#define _READ(P) ({ typeof(P) _val; bpf_probe_read(&_val, sizeof(_val), &P); _val; })

static __always_inline unsigned long syscall_arg(struct filler_data *d, int n)
{
    struct bpf_raw_tracepoint_args *ctx = d->ctx;
    struct x86_regs *regs = (struct x86_regs *)ctx->args[0];
    switch (n) {
    case 0: return _READ(regs->di);
    case 1: return _READ(regs->si);
    case 2: return _READ(regs->dx);
    case 3: return _READ(regs->r10);
    case 4: return _READ(regs->r8);
    default: return _READ(regs->r9);
    }
}

static __always_inline int init_filler_data(void *ctx, struct filler_data *d)
{
    __u32 zero = 0;
    d->ctx = ctx;
    d->settings = bpf_map_lookup_elem(&settings_map, &zero);
    if (!d->settings)
        return -1;
    d->buf = bpf_map_lookup_elem(&frame_scratch_map, &zero);
    if (!d->buf)
        return -1;
    d->state = bpf_map_lookup_elem(&local_state_map, &zero);
    if (!d->state)
        return -1;
    d->tmp_scratch = bpf_map_lookup_elem(&tmp_scratch_map, &zero);
    if (!d->tmp_scratch)
        return -1;
    d->evt = bpf_map_lookup_elem(&event_info_table, &d->state->tail_ctx.evt_type);
    if (!d->evt)
        return -1;
    d->curarg_already_on_frame = 0;
    d->fd = -1;
    return 0;
}

static __always_inline void fixup_len(char *buf, __u32 curarg, __u16 len)
{
    *((__u16 *)&buf[sizeof(struct hdr) + (curarg & (MAX_PARAMS - 1)) * sizeof(__u16)]) = len;
}

static __always_inline int val_to_ring(struct filler_data *data, unsigned long val,
                                       unsigned long val_len, __u32 type)
{
    unsigned int len;
    unsigned long off = data->state->tail_ctx.curoff & SCRATCH_SIZE_HALF;
    if (data->state->tail_ctx.curoff > SCRATCH_SIZE_HALF)
        return -2;
    switch (type) {
    case PT_CHARBUF: {
        int res = bpf_probe_read_str(&data->buf[off], MAX_ARG, (const void *)val);
        if (res <= 0) {
            char na[] = "<NA>";
            res = bpf_probe_read_str(&data->buf[off], MAX_ARG, na);
        }
        len = res;
        break;
    }
    case PT_BYTEBUF:
        if (data->curarg_already_on_frame || (val && val_len)) {
            len = val_len;
            if (len > MAX_ARG)
                len = MAX_ARG;
            if (!data->curarg_already_on_frame) {
                volatile __u16 read_size = len;
                if (bpf_probe_read(&data->buf[off], read_size & SCRATCH_SIZE_HALF, (void *)val))
                    return -3;
            }
        } else {
            len = 0;
        }
        break;
    case PT_SOCKADDR:
        len = val_len;
        break;
    case PT_U8:
        *((__u8 *)&data->buf[off]) = val;
        len = 1;
        break;
    case PT_U16:
        *((__u16 *)&data->buf[off]) = val;
        len = 2;
        break;
    case PT_U32:
        *((__u32 *)&data->buf[off]) = val;
        len = 4;
        break;
    case PT_U64:
        *((__u64 *)&data->buf[off]) = val;
        len = 8;
        break;
    default:
        return -4;
    }
    if (len > MAX_ARG)
        return -2;
    fixup_len(data->buf, data->state->tail_ctx.curarg, len);
    data->state->tail_ctx.curoff += len;
    data->state->tail_ctx.len += len;
    data->curarg_already_on_frame = 0;
    ++data->state->tail_ctx.curarg;
    return 0;
}

static __always_inline int val_to_ring_arg(struct filler_data *data, unsigned long val)
{
    if (data->state->tail_ctx.curarg >= MAX_PARAMS)
        return -4;
    const struct param_info *pi = &data->evt->params[data->state->tail_ctx.curarg & (MAX_PARAMS - 1)];
    return val_to_ring(data, val, 0, pi->type);
}

static __always_inline int push_frame(void *ctx, struct filler_data *data)
{
    if (data->state->tail_ctx.curarg != data->evt->nparams)
        return -5;
    if (data->state->tail_ctx.len > SCRATCH_SIZE)
        return -2;
    struct hdr *h = (struct hdr *)data->buf;
    h->len = data->state->tail_ctx.len;
    bpf_perf_event_output(ctx, &perf_map, BPF_F_CURRENT_CPU, data->buf,
                          data->state->tail_ctx.len & SCRATCH_SIZE_MAX);
    return 0;
}

static __always_inline void write_hdr(struct filler_data *data)
{
    struct hdr *h = (struct hdr *)data->buf;
    h->ts = bpf_ktime_get_ns();
    h->tid = bpf_get_current_pid_tgid() & 0xffffffff;
    h->type = data->state->tail_ctx.evt_type;
    h->nparams = data->evt->nparams;
    data->state->tail_ctx.curoff = sizeof(struct hdr) + sizeof(__u16) * data->evt->nparams;
    data->state->tail_ctx.len = data->state->tail_ctx.curoff;
}

#define FILLER(x)                                                                         \
    static __always_inline int fill_##x(struct filler_data *data);                        \
    SEC("raw_tracepoint/filler/" #x) int bpf_##x(void *ctx)                               \
    {                                                                                     \
        struct filler_data data;                                                          \
        int res = init_filler_data(ctx, &data);                                           \
        if (res == 0) {                                                                   \
            if (!data.state->tail_ctx.len)                                                \
                write_hdr(&data);                                                         \
            res = fill_##x(&data);                                                        \
        }                                                                                 \
        if (res == 0)                                                                     \
            res = push_frame(ctx, &data);                                                 \
        if (res == 0)                                                                     \
            data.state->tail_ctx.prev_res = res;                                          \
        bpf_tail_call(ctx, &tail_map, 1);                                                 \
        return 0;                                                                         \
    }                                                                                     \
    static __always_inline int fill_##x(struct filler_data *data)

FILLER(sys_read_x)
{
    long retval = syscall_arg(data, 5);
    int res = val_to_ring_arg(data, retval);
    if (res)
        return res;
    unsigned long val = syscall_arg(data, 1);
    unsigned long bufsize = retval > 0 ? retval : 0;
    data->fd = syscall_arg(data, 0);
    return val_to_ring(data, val, bufsize, PT_BYTEBUF);
}

/* the path of an fd: dentry names found through parent pointers, stored
 * in the scratch area, then copied to it in reverse */
static __always_inline char *get_path(struct filler_data *data, unsigned long dentry)
{
    const unsigned char **ptrs = (const unsigned char **)data->tmp_scratch;
    char *path = &data->tmp_scratch[(MAX_PATH_COMPONENTS * sizeof(void *)) & SCRATCH_SIZE_HALF];
    unsigned long de = dentry, parent = 0, name = 0;
    __u16 i, nreads = 1;
    bpf_probe_read(&name, 8, (void *)(de + 40));
    ptrs[0] = (void *)name;
#pragma unroll
    for (i = 1; i < MAX_PATH_COMPONENTS; i++) {
        bpf_probe_read(&parent, 8, (void *)(de + 24));
        if (parent == de)
            break;
        de = parent;
        bpf_probe_read(&name, 8, (void *)(de + 40));
        ptrs[i & (MAX_PATH_COMPONENTS - 1)] = (void *)name;
        nreads++;
    }
    __u32 off = 0;
    int res = 0;
#pragma unroll
    for (i = 1; i < MAX_PATH_COMPONENTS && i <= nreads && res >= 0; i++) {
        __u16 level = (nreads - i) & (MAX_PATH_COMPONENTS - 1);
        res = bpf_probe_read_str(&path[off], MAX_ARG, ptrs[level]);
        off = (off + res - 1) & SCRATCH_SIZE_HALF;
        if (i > 1 && i < nreads && res > 0) {
            path[off] = '/';
            off = (off + 1) & SCRATCH_SIZE_HALF;
        }
    }
    return res < 0 ? 0 : path;
}

FILLER(sys_open_x)
{
    long retval = syscall_arg(data, 5);
    int res = val_to_ring_arg(data, retval);
    if (res)
        return res;
    unsigned long dentry = syscall_arg(data, 0);
    char *p = get_path(data, dentry);
    if (!p)
        p = "<unknown>";
    BAD(data->state->tail_ctx.curoff += 1;)
    res = val_to_ring(data, (unsigned long)p, 0, PT_CHARBUF);
    if (res)
        return res;
    BAD(data->buf[data->state->tail_ctx.curoff] = 0;)
    return val_to_ring_arg(data, syscall_arg(data, 2) & 0xffff);
}

/* a user sockaddr copied into the scratch area with a clamped length,
 * then packed at masked offsets of the frame */
FILLER(sys_connect_x)
{
    long retval = syscall_arg(data, 5);
    int res = val_to_ring_arg(data, retval);
    if (res)
        return res;
    unsigned long uaddr = syscall_arg(data, 1);
    long ulen = syscall_arg(data, 2);
    char *kaddr = data->tmp_scratch;
    unsigned int size = 0;
    if (uaddr && ulen > 0 && ulen <= 128) {
        GOOD(if (!bpf_probe_read(kaddr, ulen & 0xff, (void *)uaddr)))
        BAD(if (!bpf_probe_read(data->buf + data->state->tail_ctx.curoff, ulen & 0xff, (void *)uaddr)))
        {
            __u16 family = *(__u16 *)kaddr;
            __u32 cur = data->state->tail_ctx.curoff;
            if (family == 2) {
                __u32 ip = *(__u32 *)(kaddr + 4);
                __u16 port = bpf_ntohs(*(__u16 *)(kaddr + 2));
                data->buf[cur & SCRATCH_SIZE_HALF] = 2;
                __builtin_memcpy(&data->buf[(cur + 1) & SCRATCH_SIZE_HALF], &ip, 4);
                __builtin_memcpy(&data->buf[(cur + 5) & SCRATCH_SIZE_HALF], &port, 2);
                size = 7;
            } else if (family == 1) {
                kaddr[ulen & SCRATCH_SIZE_MAX] = 0;
                data->buf[cur & SCRATCH_SIZE_HALF] = 1;
                res = bpf_probe_read_str(&data->buf[(cur + 1) & SCRATCH_SIZE_HALF], 108, kaddr + 2);
                if (res == 1) {
                    data->buf[(cur + 1) & SCRATCH_SIZE_HALF] = '@';
                    res = bpf_probe_read_str(&data->buf[(cur + 2) & SCRATCH_SIZE_HALF], 107, kaddr + 3);
                    res++;
                }
                size = 1 + res;
            }
        }
    }
    data->curarg_already_on_frame = 1;
    return val_to_ring(data, 0, size, PT_SOCKADDR);
}

FILLER(sys_empty)
{
    return 0;
}

SEC("raw_tracepoint/sys_enter")
int sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
    __u32 zero = 0;
    struct settings *s = bpf_map_lookup_elem(&settings_map, &zero);
    if (!s || !s->capture_enabled)
        return 0;
    struct cpu_state *st = bpf_map_lookup_elem(&local_state_map, &zero);
    if (!st)
        return 0;
    long id = ctx->args[1];
    if (id < 0 || id >= 512)
        return 0;
    if (st->in_use) {
        st->n_drops++;
        return 0;
    }
    st->in_use = 1;
    st->tail_ctx.evt_type = id;
    st->tail_ctx.curarg = 0;
    st->tail_ctx.curoff = 0;
    st->tail_ctx.len = 0;
    st->n_evts++;
    bpf_tail_call(ctx, &tail_map, id);
    st->in_use = 0;
    return 0;
}

SEC("raw_tracepoint/sched_process_exit")
int sched_exit(struct bpf_raw_tracepoint_args *ctx)
{
    unsigned long task = ctx->args[0];
    int exit_code = 0;
    char comm[16];
    __u32 zero = 0;
    bpf_probe_read(&exit_code, sizeof(exit_code), (void *)(task + 0x5c0));
    bpf_get_current_comm(comm, sizeof(comm));
    struct cpu_state *st = bpf_map_lookup_elem(&local_state_map, &zero);
    if (!st)
        return 0;
    st->tail_ctx.evt_type = 300 + (exit_code & 7);
    st->tail_ctx.curarg = 0;
    st->tail_ctx.curoff = 0;
    st->tail_ctx.len = 0;
    if (comm[0] == 'x')
        st->n_drops++;
    bpf_tail_call(ctx, &tail_map, 300);
    return 0;
}
