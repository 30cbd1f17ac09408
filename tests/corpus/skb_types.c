/* Socket-buffer types beyond tc: an lwt_xmit program reading the packet
 * length into a histogram (lwt_len_hist), an sk_skb stream verdict
 * redirecting through a sockmap, and a sched_act "action" program.
 * unsafe: sk_skb/stream_verdict (reads the packet without a bounds check)
 */
#include "common.h"

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
    __type(key, __u64);
    __type(value, __u64);
    __uint(max_entries, 64);
} hist SEC(".maps");
struct {
    __uint(type, BPF_MAP_TYPE_SOCKMAP);
    __uint(key_size, 4);
    __uint(value_size, 4);
    __uint(max_entries, 4);
} socks SEC(".maps");

SEC("lwt_xmit")
int len_hist(struct __sk_buff *skb)
{
    __u64 key = skb->len >> 6, one = 1, *v = bpf_map_lookup_elem(&hist, &key);
    if (v)
        __sync_fetch_and_add(v, 1);
    else
        bpf_map_update_elem(&hist, &key, &one, BPF_ANY);
    return BPF_OK;
}

SEC("sk_skb/stream_verdict")
int verdict(struct __sk_buff *skb)
{
    __u8 *d = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
    GOOD(if (d + 1 > end) return SK_PASS;)
    return bpf_sk_redirect_map(skb, &socks, d[0] & 3, 0);
}

SEC("action")
int act(struct __sk_buff *skb)
{
    return skb->len > 1500 ? TC_ACT_SHOT : TC_ACT_PIPE;
}
