/* Range checks of 64-bit numbers as clang writes them: `lo <= x && x <=
 * hi` becomes one compare of a copy, `x - lo <= hi - lo` (r1 = r0; r1 +=
 * -lo; if r1 > ..), and the program goes on with x itself: a class number
 * from a configuration value in [1, 31] picking a counter, a syscall id in
 * a window indexing a table.
 * The 6.18 kernel links the copy to x with its constant delta and bounds x
 * from the compare; bpflua did not until session 10 (x stayed unbounded).
 * (A u32 is zero-extended between the add and the compare, which breaks
 * the link for the kernel too: such programs are rejected by both.)
 * unsafe: xdp raw_tracepoint/sys_enter
 */
#include "common.h"

struct counters {
    __u64 class; /* set by user space */
    __u64 n[32];
};
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __type(key, __u32);
    __type(value, struct counters);
    __uint(max_entries, 1);
} per_proto SEC(".maps");

SEC("xdp")
int class_count(struct xdp_md *ctx)
{
    __u32 zero = 0;
    struct counters *c = bpf_map_lookup_elem(&per_proto, &zero);
    if (!c)
        return XDP_PASS;
    __u64 class = c->class;
    GOOD(if (class >= 1 && class <= 31) c->n[class]++;)
    BAD(if (class >= 1 && class <= 32) c->n[class]++;) /* one past the table */
    return XDP_PASS;
}

SEC("raw_tracepoint/sys_enter")
int sys_window(struct bpf_raw_tracepoint_args *ctx)
{
    __u32 zero = 0;
    struct counters *c = bpf_map_lookup_elem(&per_proto, &zero);
    if (!c)
        return 0;
    __u64 id = ctx->args[1];
    if (id - 100 < GOOD(32) BAD(33))
        c->n[id - 100]++;
    return 0;
}
