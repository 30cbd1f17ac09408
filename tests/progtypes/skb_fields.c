/* skb_fields.c - a tc classifier that mixes the __sk_buff fields a test run
 * sets into mark and priority, and the packet's bytes into the verdict:
 * `bpflua run` must give what the kernel's BPF_PROG_TEST_RUN gives. */
#include <linux/bpf.h>
#define SEC(x) __attribute__((section(x), used))

SEC("tc")
int fields(struct __sk_buff *skb)
{
    unsigned char *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
    if (data + 16 > end)
        return 2;
    skb->mark = skb->mark * 3 + skb->len + skb->protocol + data[15];
    skb->priority = skb->priority + skb->ifindex * 100 + skb->ingress_ifindex * 10 +
                    skb->pkt_type + skb->tc_index + skb->cb[0];
    skb->cb[1] = skb->wire_len;
    return skb->hash + skb->queue_mapping + skb->vlan_present + skb->cb[1] + data[14];
}

/* the same context read as a socket filter: the frame starts after the
 * Ethernet header and the packet pointers are out of reach */
SEC("socket")
int sockf(struct __sk_buff *skb)
{
    return skb->len * 7 + skb->protocol + skb->pkt_type * 1000 + skb->mark + skb->priority;
}

/* cgroup_skb: the fake socket's family and addresses come from the IP
 * header; the verdict must stay in [0, 1] */
SEC("cgroup_skb/ingress")
int cgf(struct __sk_buff *skb)
{
    skb->mark = skb->family * 1000 + (skb->remote_ip4 & 0xff) + skb->len;
    skb->priority = skb->local_ip4 >> 24;
    return skb->len > 20;
}

char _license[] SEC("license") = "GPL";
