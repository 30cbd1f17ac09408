/* sock_addr.c - a socket-level load balancer as Cilium's bpf_sock.c shapes
 * it: connect4 and sendmsg4 rewrite the destination to a backend found in
 * a map (keyed by service address and port), remembering the original for
 * recvmsg4, which rewrites the reply's source back; a socket cookie keys
 * the reverse entry. Verified by bpflua and the kernel (tests/cli/sock_addr.sh). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct svc_key { __u32 addr; __u16 port; __u16 pad; };
struct backend { __u32 addr; __u16 port; __u16 count; };
struct rev { __u32 addr; __u16 port; __u16 pad; };

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 256);
    __type(key, struct svc_key);
    __type(value, struct backend);
} services SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, 1024);
    __type(key, __u64);
    __type(value, struct rev);
} reverse SEC(".maps");

static __always_inline int xlate(struct bpf_sock_addr *ctx)
{
    struct svc_key k = { .addr = ctx->user_ip4, .port = (__u16)ctx->user_port };
    if (ctx->protocol != 6 && ctx->protocol != 17)
        return 1;
    struct backend *b = bpf_map_lookup_elem(&services, &k);
    if (!b)
        return 1;
    __u32 pick = bpf_get_prandom_u32() % (b->count ? b->count : 1);
    struct rev r = { .addr = ctx->user_ip4, .port = (__u16)ctx->user_port };
    __u64 cookie = bpf_get_socket_cookie(ctx);
    bpf_map_update_elem(&reverse, &cookie, &r, BPF_ANY);
    ctx->user_ip4 = b->addr + pick;
    ctx->user_port = b->port;
    return 1;
}

SEC("cgroup/connect4")
int sock4_connect(struct bpf_sock_addr *ctx)
{
    return xlate(ctx);
}

SEC("cgroup/sendmsg4")
int sock4_sendmsg(struct bpf_sock_addr *ctx)
{
    return xlate(ctx);
}

SEC("cgroup/recvmsg4")
int sock4_recvmsg(struct bpf_sock_addr *ctx)
{
    __u64 cookie = bpf_get_socket_cookie(ctx);
    struct rev *r = bpf_map_lookup_elem(&reverse, &cookie);
    if (r) {
        ctx->user_ip4 = r->addr;
        ctx->user_port = r->port;
    }
    return 1;
}

char _license[] SEC("license") = "GPL";
