/* Raw tracepoints as Falco's old probe and test_overhead use them: the
 * arguments are u64 args[], pointers read with bpf_probe_read_kernel into a
 * per-CPU scratch buffer (Falco's frame), string copy with _str, and a
 * length masked before it indexes that buffer.
 * unsafe: raw_tracepoint/sched_switch (the masked length can still run past the scratch buffer)
 */
#include "common.h"

#define SCRATCH 4096
struct frame {
    __u32 len;
    char buf[SCRATCH];
};
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __type(key, __u32);
    __type(value, struct frame);
    __uint(max_entries, 1);
} frames SEC(".maps");

SEC("raw_tracepoint/sched_switch")
int on_switch(struct bpf_raw_tracepoint_args *ctx)
{
    __u32 zero = 0;
    struct frame *f = bpf_map_lookup_elem(&frames, &zero);
    if (!f)
        return 0;
    void *prev = (void *)ctx->args[1];
    __u32 off = f->len & (SCRATCH / 2 - 1);
    long n = bpf_probe_read_kernel_str(&f->buf[off], SCRATCH / 2 BAD(+ 16), prev);
    if (n > 0)
        f->len = (off + n) & (SCRATCH - 1);
    return 0;
}

SEC("raw_tracepoint/task_rename")
int on_rename(struct bpf_raw_tracepoint_args *ctx)
{
    char comm[16];
    if (bpf_probe_read_kernel(comm, sizeof comm, (void *)ctx->args[1]) < 0)
        return 0;
    return comm[0] == 'x';
}
