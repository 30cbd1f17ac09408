/* 32-bit indexes bounded by a 32-bit count, as -mcpu=v3 builds compare
 * them (Cilium builds so): a CPU number checked against the count of CPUs
 * in a configuration value before it picks a slot of that value, and a
 * syscall number from a raw tracepoint checked against the size of a
 * per-syscall table kept in a map value. clang compares the low halves
 * (`if w0 >= w8`) of registers whose upper halves the verifier does not
 * know are zero; the kernel bounds the low half from the compare and a
 * later `w1 = w0` keeps that bound. bpflua refined nothing on such a
 * compare until session 10 and rejected both.
 * cflags: -mcpu=v3
 * unsafe: xdp_cpu_slot raw_tracepoint/sys_enter
 */
#include "common.h"

struct cpu_cfg {
    __u32 ncpus;
    __u32 slot[64];
};
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __type(key, __u32);
    __type(value, struct cpu_cfg);
    __uint(max_entries, 1);
} cpu_cfg SEC(".maps");
struct {
    __uint(type, BPF_MAP_TYPE_CPUMAP);
    __uint(key_size, 4);
    __uint(value_size, 4);
    __uint(max_entries, 64);
} cpus SEC(".maps");

SEC("xdp_cpu_slot")
int cpu_slot(struct xdp_md *ctx)
{
    __u32 zero = 0;
    struct cpu_cfg *c = bpf_map_lookup_elem(&cpu_cfg, &zero);
    if (!c)
        return XDP_PASS;
    __u32 n = c->ncpus & GOOD(63) BAD(127);
    __u32 cpu = bpf_get_prandom_u32();
    if (cpu >= n)
        return XDP_PASS;
    return bpf_redirect_map(&cpus, c->slot[cpu], 0);
}

#define NSYS 512
struct sys_table {
    __u32 n;
    __u8 interesting[NSYS];
};
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __type(key, __u32);
    __type(value, struct sys_table);
    __uint(max_entries, 1);
} sys_table SEC(".maps");

SEC("raw_tracepoint/sys_enter")
int sys_filter(struct bpf_raw_tracepoint_args *ctx)
{
    __u32 zero = 0;
    struct sys_table *t = bpf_map_lookup_elem(&sys_table, &zero);
    if (!t)
        return 0;
    __u32 id = ctx->args[1];
    __u32 n = t->n;
    if (n > NSYS)
        n = NSYS;
    GOOD(if (id >= n) return 0;)
    BAD(if (id > n) return 0;) /* off by one: id may be 512 */
    return t->interesting[id];
}
