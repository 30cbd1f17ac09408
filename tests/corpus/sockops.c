/* sock_ops programs in the tcp_bufs / tcp_clamp shape (section "sockops"):
 * the callback's op and ports read, a reply set, bpf_setsockopt on the
 * socket for the established callbacks.
 * unsafe: sockops (reads the context at an offset no field has)
 */
#include "common.h"

#define SOL_SOCKET 1
#define SO_SNDBUF 7
SEC("sockops")
int tune_buffers(struct bpf_sock_ops *skops)
{
    int bufsize = 150000, rv = 0;
    if (bpf_ntohl(skops->remote_port) != 5001 && skops->local_port != 5001) {
        skops->reply = -1;
        return 0;
    }
    switch (skops->op) {
    case BPF_SOCK_OPS_TIMEOUT_INIT:
        rv = 10;
        break;
    case BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB:
    case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB:
        rv = bpf_setsockopt(skops, SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof bufsize);
        break;
    default:
        rv = -1;
    }
    BAD(rv += *(int *)((char *)skops + 250);)
    skops->reply = rv;
    return 1;
}
