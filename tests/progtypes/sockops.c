/* sockops.c - a sock_ops program as samples/bpf writes them (tcp_clamp_kern.c
 * style): bpf_setsockopt, bpf_getsockopt, bpf_sock_ops_cb_flags_set. Verified
 * alike by the kernel and bpflua (sock_ops is not run in the sandbox). */
#include <linux/bpf.h>
#define SOL_SOCKET 1
#define SO_SNDBUF 7
#define TCP_CONGESTION 13
#define TCP_BPF_SNDCWND_CLAMP 1002

#include <bpf/bpf_helpers.h>
#define SOL_TCP 6
SEC("sockops")
int bpf_clamp(struct bpf_sock_ops *skops)
{
    int bufsize = 150000, to_init = 10, clamp = 100, rv = 0, op;
    if (skops->remote_port == __builtin_bswap32(55601) || skops->local_port == 55601)
        return 0;
    op = (int)skops->op;
    if (op == BPF_SOCK_OPS_TCP_CONNECT_CB) {
        rv = bpf_setsockopt(skops, SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof(bufsize));
        rv += bpf_setsockopt(skops, SOL_TCP, TCP_BPF_SNDCWND_CLAMP, &clamp, sizeof(clamp));
        int v;
        rv += bpf_getsockopt(skops, SOL_TCP, TCP_CONGESTION, &v, sizeof v);
        rv += bpf_sock_ops_cb_flags_set(skops, BPF_SOCK_OPS_RTO_CB_FLAG) + v;
    }
    skops->reply = rv;
    return 1;
}
char _license[] SEC("license") = "GPL";
