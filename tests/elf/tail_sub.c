/* tail_sub.c: bpf_tail_call from a subprogram two calls deep. `chain`
 * counts its runs and tail-calls itself through slot 0 (set by the test)
 * until the 33-call limit makes the call fail; `missing` tail-calls the
 * empty slot 1 and goes on. The kernel accepts tail calls in subprograms
 * (x86-64 JIT, caller stack under 256 bytes). */
#include <linux/bpf.h>

#define SEC(x) __attribute__((section(x), used))
#define NOINLINE static __attribute__((noinline))

static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *)1;
static long (*bpf_tail_call)(void *ctx, void *map, unsigned int index) = (void *)12;

struct {
    int (*type)[BPF_MAP_TYPE_PROG_ARRAY];
    int (*max_entries)[2];
    int (*key_size)[4];
    int (*value_size)[4];
} jmp SEC(".maps");

struct {
    int (*type)[BPF_MAP_TYPE_ARRAY];
    int (*max_entries)[2];
    unsigned int *key;
    unsigned long long *value;
} cnt SEC(".maps");

NOINLINE int deeper(struct xdp_md *ctx, unsigned int slot)
{
    bpf_tail_call(ctx, &jmp, slot);
    return 7;
}

NOINLINE int hop(struct xdp_md *ctx, unsigned int slot)
{
    return deeper(ctx, slot) + 1;
}

static void bump(unsigned int k)
{
    unsigned long long *v = bpf_map_lookup_elem(&cnt, &k);
    if (v)
        (*v)++;
}

SEC("xdp")
int chain(struct xdp_md *ctx)
{
    bump(0);
    return hop(ctx, 0) + 1;
}

SEC("xdp")
int missing(struct xdp_md *ctx)
{
    bump(1);
    return hop(ctx, 1);
}

char _license[] SEC("license") = "GPL";
