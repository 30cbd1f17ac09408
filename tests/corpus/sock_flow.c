/* A flow dissector as socket filters write it (sockex2 shape): header bytes
 * copied to the stack with bpf_skb_load_bytes at offsets computed from the
 * IHL, a hash map keyed by a flow struct, update when absent.
 * unsafe: socket2 (bpf_skb_load_bytes is told to copy more than the stack holds)
 */
#include "common.h"

struct flow_key {
    __u32 src, dst;
    __u16 sport, dport;
    __u8 proto;
    __u8 pad[3];
};
struct flow_val {
    __u64 packets, bytes;
};
struct legacy_map LEGACY_MAP flows = {
    .type = BPF_MAP_TYPE_HASH, .key_size = sizeof(struct flow_key),
    .value_size = sizeof(struct flow_val), .max_entries = 1024,
};

SEC("socket2")
int dissect(struct __sk_buff *skb)
{
    struct flow_key key = {};
    struct iphdr ip;
    __u16 ports[2];
    if (bpf_skb_load_bytes(skb, ETH_HLEN, &ip, sizeof ip) < 0)
        return 0;
    key.src = ip.saddr;
    key.dst = ip.daddr;
    key.proto = ip.protocol;
    __u32 off = ETH_HLEN + (ip.ihl & 15) * 4;
    if ((ip.protocol == IPPROTO_TCP || ip.protocol == IPPROTO_UDP) &&
        bpf_skb_load_bytes(skb, off, ports, sizeof ports BAD(* 300)) == 0) {
        key.sport = ports[0];
        key.dport = ports[1];
    }
    struct flow_val *v = bpf_map_lookup_elem(&flows, &key);
    if (v) {
        __sync_fetch_and_add(&v->packets, 1);
        __sync_fetch_and_add(&v->bytes, skb->len);
    } else {
        struct flow_val nv = { 1, skb->len };
        bpf_map_update_elem(&flows, &key, &nv, BPF_ANY);
    }
    return 0;
}
