/* Tail-call chains as sockex3 and OVS's datapath build them: numbered
 * sections socket/0..2 in a legacy prog_array, a per-CPU scratch value
 * carrying parse state between the stages.
 * unsafe: socket/1 (a value looked up with a key the verifier does not
 *   know is used without a NULL check; with the constant key 0, as in
 *   socket/0, the check may go: both verifiers know that lookup succeeds)
 */
#include "common.h"

struct state {
    __u32 nhoff;
    __u32 proto;
};
struct legacy_map LEGACY_MAP jmp_table = {
    .type = BPF_MAP_TYPE_PROG_ARRAY, .key_size = 4, .value_size = 4, .max_entries = 8,
};
struct legacy_map LEGACY_MAP scratch = {
    .type = BPF_MAP_TYPE_PERCPU_ARRAY, .key_size = 4, .value_size = sizeof(struct state),
    .max_entries = 1,
};
unsigned long long load_half(void *skb, unsigned long long off) asm("llvm.bpf.load.half");
unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");

SEC("socket/0")
int parse_eth(struct __sk_buff *skb)
{
    __u32 zero = 0;
    struct state *s = bpf_map_lookup_elem(&scratch, &zero);
    s->nhoff = ETH_HLEN; /* no NULL check: key 0 of a 1-entry array */
    s->proto = load_half(skb, 12);
    bpf_tail_call(skb, &jmp_table, s->proto == ETH_P_IP ? 1 : 2);
    return 0;
}

SEC("socket/1")
int parse_ip(struct __sk_buff *skb)
{
    __u32 slot = skb->queue_mapping;
    struct state *s = bpf_map_lookup_elem(&scratch, &slot);
    GOOD(if (!s) return 0;)
    __u32 ihl = load_byte(skb, s->nhoff) & 15;
    s->nhoff += ihl * 4;
    s->proto = load_byte(skb, ETH_HLEN + 9);
    bpf_tail_call(skb, &jmp_table, 2);
    return 0;
}

SEC("socket/2")
int parse_done(struct __sk_buff *skb)
{
    __u32 zero = 0;
    struct state *s = bpf_map_lookup_elem(&scratch, &zero);
    return s && s->proto == IPPROTO_TCP ? skb->len : 0;
}
