/* sock_ops programs in the shapes of samples/bpf's tcp_* objects (each
 * of them one "sockops" section; here one object with a section each):
 * a congestion control chosen by name (the name a stack string given to
 * bpf_setsockopt), the SYN RTO and initial window set per peer prefix
 * (remote_ip6 words compared), send and receive buffers clamped, the
 * callback flags turned on and the RTT callback's arguments read.
 * unsafe: sockops/basertt (writes the read-only family field)
 */
#include "common.h"

#define SOL_SOCKET 1
#define SOL_TCP 6
#define SO_SNDBUF 7
#define SO_RCVBUF 8
#define TCP_CONGESTION 13
#define TCP_BPF_IW 1001
#define TCP_BPF_SNDCWND_CLAMP 1002

static __always_inline int same_rack(struct bpf_sock_ops *skops)
{
    return (bpf_ntohl(skops->local_ip6[0]) & 0xfff00000) ==
               (bpf_ntohl(skops->remote_ip6[0]) & 0xfff00000) &&
           skops->local_ip6[1] == skops->remote_ip6[1];
}

SEC("sockops/cong")
int set_cong(struct bpf_sock_ops *skops)
{
    char cong[] = "dctcp";
    int rv = 0;
    if (bpf_ntohl(skops->remote_port) != 55601 && skops->local_port != 55601) {
        skops->reply = -1;
        return 1;
    }
    switch (skops->op) {
    case BPF_SOCK_OPS_NEEDS_ECN:
        rv = 1;
        break;
    case BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB:
    case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB:
        rv = bpf_setsockopt(skops, SOL_TCP, TCP_CONGESTION, cong, sizeof cong);
        break;
    default:
        rv = -1;
    }
    skops->reply = rv;
    return 1;
}

SEC("sockops/synrto")
int syn_rto(struct bpf_sock_ops *skops)
{
    int rv = -1;
    if (skops->family == 10 /* AF_INET6 */ && skops->op == BPF_SOCK_OPS_TIMEOUT_INIT &&
        same_rack(skops))
        rv = 10;
    skops->reply = rv;
    return 1;
}

SEC("sockops/iw_clamp")
int iw_clamp(struct bpf_sock_ops *skops)
{
    int bufsize = 150000, iw = 40, clamp = 100, rv = 0;
    if (skops->family != 10 || !same_rack(skops)) {
        skops->reply = -1;
        return 1;
    }
    switch (skops->op) {
    case BPF_SOCK_OPS_TCP_CONNECT_CB:
        rv = bpf_setsockopt(skops, SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof bufsize);
        rv += bpf_setsockopt(skops, SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof bufsize);
        break;
    case BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB:
        rv = bpf_setsockopt(skops, SOL_TCP, TCP_BPF_IW, &iw, sizeof iw);
        rv += bpf_setsockopt(skops, SOL_TCP, TCP_BPF_SNDCWND_CLAMP, &clamp, sizeof clamp);
        break;
    case BPF_SOCK_OPS_RWND_INIT:
        rv = 40;
        break;
    default:
        rv = -1;
    }
    skops->reply = rv;
    return 1;
}

SEC("sockops/basertt")
int base_rtt(struct bpf_sock_ops *skops)
{
    char cong[16];
    int rv = 0, n = 0;
    switch (skops->op) {
    case BPF_SOCK_OPS_BASE_RTT:
        n = bpf_getsockopt(skops, SOL_TCP, TCP_CONGESTION, cong, sizeof cong);
        if (!n && cong[0] == 'n' && cong[1] == 'v')
            rv = 80;
        break;
    case BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB:
        bpf_sock_ops_cb_flags_set(skops, BPF_SOCK_OPS_RTT_CB_FLAG);
        break;
    case BPF_SOCK_OPS_RTT_CB:
        GOOD(rv = skops->args[0] > skops->args[1];)
        BAD(skops->family = 2;) /* read-only */
        BAD(rv = 1;)
        break;
    }
    skops->reply = rv;
    return 1;
}
