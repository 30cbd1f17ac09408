/* reserve.c - a ring buffer record reserved, filled in place and
 * submitted. values_spec stops a run with max_insns between the reserve
 * and the submit: the record it held must not stay busy and hide the
 * records of later runs. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct note { __u64 len; __u64 first; __u64 tag; };

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 4096);
} notes SEC(".maps");

SEC("xdp")
int reserve_fill_submit(struct xdp_md *ctx)
{
    unsigned char *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
    struct note *n = bpf_ringbuf_reserve(&notes, sizeof *n, 0);
    if (!n)
        return XDP_ABORTED;
    n->len = end - data;
    n->first = data + 1 <= end ? data[0] : 0;
    n->tag = 7;
    bpf_ringbuf_submit(n, 0);
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
