/* events.c - records, events and the run's output formats, without the
 * compiler (tests/cli/run_events.sh): a hash map keyed by a struct with a
 * struct value, a ring buffer of record events and one of integer events
 * (the __bpflua_event__<map> typedefs are how bpflua objects mark them).
 * Fields: saddr/daddr as the packet holds them (offsets 26 and 30, read as
 * little-endian u32), the UDP destination port (offset 36, host order of a
 * little-endian read), the protocol (23), the packet length. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct flow { __u32 saddr; __u16 dport; __u8 proto; };
struct stats { __u64 packets; __u64 bytes; __s32 delta; };
struct drop { __u32 saddr; __u16 len; __s16 diff; __u32 rule; };

typedef struct drop __bpflua_event__events;
typedef __u64 __bpflua_event__counts;

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 16);
    __type(key, struct flow);
    __type(value, struct stats);
} flows SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 4096);
} events SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 4096);
} counts SEC(".maps");

/* subprograms whose signatures carry the marker typedefs into BTF */
static __attribute__((noinline)) int emit_drop(__bpflua_event__events *d)
{
    return bpf_ringbuf_output(&events, d, sizeof *d, 0);
}

static __attribute__((noinline)) int emit_count(__bpflua_event__counts *v)
{
    return bpf_ringbuf_output(&counts, v, sizeof *v, 0);
}

SEC("xdp")
int account(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
    unsigned char *p = data;
    if (p + 38 > (unsigned char *)end)
        return XDP_PASS;
    struct flow f;
    __builtin_memset(&f, 0, sizeof f);
    __builtin_memcpy(&f.saddr, p + 26, 4);
    f.dport = (__u16)(p[36] | p[37] << 8);
    f.proto = p[23];
    __u64 len = (unsigned char *)end - p;
    struct stats *s = bpf_map_lookup_elem(&flows, &f);
    if (s) {
        s->packets++;
        s->bytes += len;
        s->delta -= 3;
    } else {
        struct stats n;
        __builtin_memset(&n, 0, sizeof n); /* the padding too: the verifier reads it */
        n.packets = 1;
        n.bytes = len;
        n.delta = -3;
        bpf_map_update_elem(&flows, &f, &n, BPF_ANY);
    }
    __bpflua_event__events d;
    __builtin_memset(&d, 0, sizeof d);
    d.saddr = f.saddr;
    d.len = (__u16)len;
    d.diff = -5;
    d.rule = 7;
    emit_drop(&d);
    __bpflua_event__counts big = ~0ull, small = 42;
    emit_count(&big);
    emit_count(&small);
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
