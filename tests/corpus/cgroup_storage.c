/* cgroup_storage.c - per-cgroup state through bpf_get_local_storage, in the
 * shapes of samples/bpf's hbm (a cgroup_skb egress shaper keeping its
 * virtual queue in a BPF_MAP_TYPE_CGROUP_STORAGE value declared with BTF)
 * and the older samples' and selftests' netcnt (a per-CPU packet counter in
 * BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE, from a legacy `maps` section), and a
 * socket-creation hook counting sockets per cgroup. The kernel's test run
 * gives each BPF_PROG_TEST_RUN fresh, zeroed storage that its repeats
 * share, as a `bpflua run` gets a fresh object's: tests/cli/local_storage.sh
 * compares interp, JIT and kernel over one and two runs.
 * unsafe: cgroup_skb/egress cgroup_skb/ingress cgroup/sock_create
 */
#include "common.h"

struct vqueue {
    __u64 lasttime;
    __s64 credit;
    __u32 rate, pkts;
};

struct {
    __uint(type, BPF_MAP_TYPE_CGROUP_STORAGE);
    __type(key, struct bpf_cgroup_storage_key);
    __type(value, struct vqueue);
} queue_state SEC(".maps");

struct legacy_map LEGACY_MAP netcnt = {
    .type = BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE, .key_size = sizeof(struct bpf_cgroup_storage_key),
    .value_size = 8, .max_entries = 0,
};

struct {
    __uint(type, BPF_MAP_TYPE_CGROUP_STORAGE);
    __type(key, __u64);
    __type(value, __u32);
} sockets SEC(".maps");

/* hbm: a credit each packet's length is taken from (hbm adds to it with
 * time; left out here, so that every engine gives the same verdicts): the
 * first packet of a fresh storage passes, the second finds no credit */
SEC("cgroup_skb/egress")
int hbm_out(struct __sk_buff *skb)
{
    struct vqueue *q = bpf_get_local_storage(&queue_state, 0);
    if (q->rate == 0) {
        q->rate = 1000;
        q->credit = 50;
    }
    q->pkts++;
    q->credit -= skb->len;
#ifdef UNSAFE
    q = (void *)((char *)q + sizeof(*q) - 4); /* its last 4 bytes, then past them */
    return q->pkts;
#endif
    return q->credit >= 0 ? 1 : 0;
}

SEC("cgroup_skb/ingress")
int netcnt_in(struct __sk_buff *skb)
{
    __u64 *cnt = bpf_get_local_storage(&netcnt, BAD(1) GOOD(0));
    *cnt += 1;
    return *cnt == 1; /* this CPU's first packet */
}

SEC("cgroup/sock_create")
int count_socks(struct bpf_sock *sk)
{
    __u32 *n = bpf_get_local_storage(&sockets, 0);
    BAD(bpf_map_lookup_elem(&sockets, &n);)
    __sync_fetch_and_add(n, 1);
    return 1;
}
