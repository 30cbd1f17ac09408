/* legacy_maps.c - an object the way samples/bpf and iproute2 wrote them:
 * maps as struct bpf_map_def in the "maps" section (here with the extra
 * inner_map_idx and numa_node fields: 28 bytes each), programs as static
 * functions in old section names, global data in .rodata/.data/.bss, a
 * string literal for bpf_trace_printk, and a static subprogram. */
#include <linux/bpf.h>
#define SEC(x) __attribute__((section(x), used))

struct bpf_map_def {
    unsigned int type, key_size, value_size, max_entries, map_flags, inner_map_idx, numa_node;
};

struct bpf_map_def SEC("maps") counters = {
    .type = BPF_MAP_TYPE_ARRAY, .key_size = 4, .value_size = 8, .max_entries = 4,
};
struct bpf_map_def SEC("maps") seen = {
    .type = BPF_MAP_TYPE_HASH, .key_size = 4, .value_size = 4, .max_entries = 64,
};

static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *)1;
static long (*bpf_map_update_elem)(void *map, const void *key, const void *value,
                                   unsigned long flags) = (void *)2;
static long (*bpf_trace_printk)(const char *fmt, unsigned int size, ...) = (void *)6;

static const volatile unsigned int scale = 3;    /* .rodata */
static unsigned int calls = 5;                   /* .data */
static unsigned int last_len;                    /* .bss */

static __attribute__((noinline)) unsigned int weigh(unsigned int len)
{
    return len * scale + 1;
}

SEC("socket1")
static int count_len(struct __sk_buff *skb)
{
    unsigned int key = skb->len & 3;
    unsigned long *c = bpf_map_lookup_elem(&counters, &key);
    if (c)
        __sync_fetch_and_add(c, weigh(skb->len));
    unsigned int one = 1, len = skb->len;
    bpf_map_update_elem(&seen, &len, &one, BPF_ANY);
    calls++;
    last_len = skb->len;
    bpf_trace_printk("len %u\n", sizeof("len %u\n"), skb->len);
    return calls + last_len;
}

SEC("classifier/egress")
static int tc_old(struct __sk_buff *skb)
{
    return skb->len > 100 ? 2 : 0;
}

char _license[] SEC("license") = "GPL";
