/* A socket filter in the sockex1 shape: LD_ABS reads of the IP protocol,
 * a legacy array indexed by it, an atomic add; sections "socket1" (old
 * name) and "socket" with the skb->len field.
 * unsafe: socket1 (the map value is used without a NULL check)
 */
#include "common.h"

unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");
unsigned long long load_half(void *skb, unsigned long long off) asm("llvm.bpf.load.half");

struct legacy_map LEGACY_MAP proto_bytes = {
    .type = BPF_MAP_TYPE_ARRAY, .key_size = 4, .value_size = 8, .max_entries = 256,
};

SEC("socket1")
int count_bytes(struct __sk_buff *skb)
{
    int index = load_byte(skb, ETH_HLEN + __builtin_offsetof(struct iphdr, protocol));
    long *value;
    if (skb->pkt_type != 0 /* PACKET_HOST */)
        return 0;
    value = bpf_map_lookup_elem(&proto_bytes, &index);
    GOOD(if (value))
        __sync_fetch_and_add(value, skb->len);
    return 0;
}

SEC("socket")
int keep_ipv4(struct __sk_buff *skb)
{
    if (load_half(skb, 12) != ETH_P_IP)
        return 0;
    return skb->len;
}
