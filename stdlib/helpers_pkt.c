/* helpers_pkt.c - helpers on the packet of XDP and socket-buffer
 * programs: skb_load_bytes, skb_store_bytes, l3/l4_csum_replace,
 * csum_update, redirect, clone_redirect, xdp_get_buff_len, and the ones
 * that ask about sockets, routes and cgroups the sandbox does not have.
 *
 * Every packet context of the sandbox (struct bl_xdp_ctx, struct
 * bl_skb_ctx) starts with the packet's first byte and its end as two
 * 64-bit pointers, so these helpers find the packet the same way for all
 * types. Checksums are the kernel's one's-complement arithmetic on 16-bit
 * words as stored; `from` and `to` are taken as stored too (network
 * order), as the kernel's __be16/__be32 arguments are.
 */
#include <errno.h>
#include <string.h>

#include "helper_impl.h"

#define ENOTSUPP 524 /* the kernel's internal "not supported" */

struct pkt {
    unsigned char *data;
    uint64_t len;
};

static struct pkt packet_of(uint64_t ctx)
{
    uint64_t data, end;
    memcpy(&data, (const void *)(uintptr_t)ctx, 8);
    memcpy(&end, (const unsigned char *)(uintptr_t)ctx + 8, 8);
    struct pkt p = {(unsigned char *)(uintptr_t)data, end >= data ? end - data : 0};
    return p;
}

/* [off, off + len) inside the packet */
static unsigned char *pkt_at(uint64_t ctx, uint64_t off, uint64_t len)
{
    struct pkt p = packet_of(ctx);
    if (off > 0x7fffffff || len > p.len || off > p.len - len)
        return NULL;
    return p.data + off;
}

uint64_t bl_helper_skb_load_bytes(uint64_t ctx, uint64_t off, uint64_t to, uint64_t len,
                                  uint64_t r5, struct bpflua_run_env *env)
{
    const unsigned char *from = pkt_at(ctx, (uint32_t)off, len);
    if (!from) {
        memset((void *)(uintptr_t)to, 0, len);
        return (uint64_t)(int64_t)-EFAULT;
    }
    memmove((void *)(uintptr_t)to, from, len);
    return 0;
}

#define F_RECOMPUTE_CSUM 1u
#define F_INVALIDATE_HASH 2u

uint64_t bl_helper_skb_store_bytes(uint64_t ctx, uint64_t off, uint64_t from, uint64_t len,
                                   uint64_t flags, struct bpflua_run_env *env)
{
    if (flags & ~(uint64_t)(F_RECOMPUTE_CSUM | F_INVALIDATE_HASH))
        return (uint64_t)(int64_t)-EINVAL;
    unsigned char *to = pkt_at(ctx, (uint32_t)off, len);
    if (!to)
        return (uint64_t)(int64_t)-EFAULT;
    memmove(to, (const void *)(uintptr_t)from, len);
    return 0;
}

/* one's-complement helpers on 32-bit partial sums */
static uint32_t csum_add(uint32_t a, uint32_t b)
{
    uint64_t s = (uint64_t)a + b;
    return (uint32_t)((s & 0xffffffffu) + (s >> 32));
}

static uint16_t csum_fold(uint32_t s)
{
    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

/* the checksum at *sum after `from` became `to` (size 2 or 4 bytes, as
 * stored), or by a precomputed difference (size 0: to is the diff) */
static void csum_replace(unsigned char *sum_at, uint32_t from, uint32_t to, int size)
{
    uint16_t sum;
    memcpy(&sum, sum_at, 2);
    uint32_t s = (uint16_t)~sum;
    if (size == 0) {
        s = csum_add(s, to);
    } else if (size == 2) {
        s = csum_add(csum_add(s, (uint16_t)~from), (uint16_t)to);
    } else {
        s = csum_add(csum_add(s, ~from), to);
    }
    sum = csum_fold(s);
    memcpy(sum_at, &sum, 2);
}

#define F_HDR_FIELD_MASK 0xfu

uint64_t bl_helper_l3_csum_replace(uint64_t ctx, uint64_t off, uint64_t from, uint64_t to,
                                   uint64_t flags, struct bpflua_run_env *env)
{
    if (flags & ~(uint64_t)F_HDR_FIELD_MASK)
        return (uint64_t)(int64_t)-EINVAL;
    unsigned char *sum = pkt_at(ctx, (uint32_t)off, 2);
    if (!sum)
        return (uint64_t)(int64_t)-EFAULT;
    int size = (int)(flags & F_HDR_FIELD_MASK);
    if ((size == 0 && from != 0) || (size != 0 && size != 2 && size != 4))
        return (uint64_t)(int64_t)-EINVAL;
    csum_replace(sum, (uint32_t)from, (uint32_t)to, size);
    return 0;
}

#define F_PSEUDO_HDR 0x10u
#define F_MARK_MANGLED_0 0x20u
#define F_MARK_ENFORCE 0x40u
#define F_IPV6 0x80u
#define CSUM_MANGLED_0 0xffffu

uint64_t bl_helper_l4_csum_replace(uint64_t ctx, uint64_t off, uint64_t from, uint64_t to,
                                   uint64_t flags, struct bpflua_run_env *env)
{
    if (flags & ~(uint64_t)(F_HDR_FIELD_MASK | F_PSEUDO_HDR | F_MARK_MANGLED_0 |
                            F_MARK_ENFORCE | F_IPV6))
        return (uint64_t)(int64_t)-EINVAL;
    unsigned char *sum = pkt_at(ctx, (uint32_t)off, 2);
    if (!sum)
        return (uint64_t)(int64_t)-EFAULT;
    int size = (int)(flags & F_HDR_FIELD_MASK);
    if ((size == 0 && from != 0) || (size != 0 && size != 2 && size != 4))
        return (uint64_t)(int64_t)-EINVAL;
    uint16_t old;
    memcpy(&old, sum, 2);
    int mangled0 = (flags & F_MARK_MANGLED_0) != 0;
    if (mangled0 && !(flags & F_MARK_ENFORCE) && old == 0)
        return 0; /* UDP without a checksum stays without */
    csum_replace(sum, (uint32_t)from, (uint32_t)to, size);
    memcpy(&old, sum, 2);
    if (mangled0 && old == 0) {
        old = CSUM_MANGLED_0;
        memcpy(sum, &old, 2);
    }
    return 0;
}

/* the sandbox's socket buffers carry no checksum of their own
 * (CHECKSUM_NONE, as BPF_PROG_TEST_RUN's) */
uint64_t bl_helper_csum_update(uint64_t ctx, uint64_t csum, uint64_t r3, uint64_t r4,
                               uint64_t r5, struct bpflua_run_env *env)
{
    return (uint64_t)(int64_t)-ENOTSUPP;
}

#define F_INGRESS 1u
#define XDP_ABORTED 0
#define XDP_REDIRECT 4
#define TC_ACT_SHOT 2
#define TC_ACT_REDIRECT 7
#define PROG_TYPE_XDP 6

/* XDP_REDIRECT / TC_ACT_REDIRECT, or the type's failure verdict for bad
 * flags; the target is remembered for the run's result */
uint64_t bl_helper_redirect(uint64_t ifindex, uint64_t flags, uint64_t r3, uint64_t r4,
                            uint64_t r5, struct bpflua_run_env *env)
{
    if (env && env->prog_type == PROG_TYPE_XDP) {
        if (flags)
            return XDP_ABORTED;
        env->redirect_key = (uint32_t)ifindex + 1ull;
        return XDP_REDIRECT;
    }
    if (flags & ~(uint64_t)F_INGRESS)
        return TC_ACT_SHOT;
    if (env)
        env->redirect_key = (uint32_t)ifindex + 1ull;
    return TC_ACT_REDIRECT;
}

/* a copy goes to device ifindex: any nonzero index is a device here */
uint64_t bl_helper_clone_redirect(uint64_t ctx, uint64_t ifindex, uint64_t flags, uint64_t r4,
                                  uint64_t r5, struct bpflua_run_env *env)
{
    if (flags & ~(uint64_t)F_INGRESS)
        return (uint64_t)(int64_t)-EINVAL;
    return (uint32_t)ifindex ? 0 : (uint64_t)(int64_t)-EINVAL;
}

uint64_t bl_helper_xdp_get_buff_len(uint64_t ctx, uint64_t r2, uint64_t r3, uint64_t r4,
                                    uint64_t r5, struct bpflua_run_env *env)
{
    return packet_of(ctx).len;
}

/* bpf_xdp_load_bytes/store_bytes: as the kernel, -EFAULT for an offset or
 * length past 16 bits, -EINVAL outside the packet (load: a zeroed buffer,
 * where the kernel leaves it as it was) */
static unsigned char *xdp_bytes(uint64_t ctx, uint64_t off, uint64_t len, int *err)
{
    unsigned char *p = (off > 0xffff || len > 0xffff) ? NULL : pkt_at(ctx, off, len);
    *err = off > 0xffff || len > 0xffff ? -EFAULT : -EINVAL;
    return p;
}

uint64_t bl_helper_xdp_load_bytes(uint64_t ctx, uint64_t off, uint64_t to, uint64_t len,
                                  uint64_t r5, struct bpflua_run_env *env)
{
    int e;
    const unsigned char *from = xdp_bytes(ctx, off, len, &e);
    if (!from) {
        memset((void *)(uintptr_t)to, 0, len);
        return (uint64_t)(int64_t)e;
    }
    memmove((void *)(uintptr_t)to, from, len);
    return 0;
}

uint64_t bl_helper_xdp_store_bytes(uint64_t ctx, uint64_t off, uint64_t from, uint64_t len,
                                   uint64_t r5, struct bpflua_run_env *env)
{
    int e;
    unsigned char *to = xdp_bytes(ctx, off, len, &e);
    if (!to)
        return (uint64_t)(int64_t)e;
    memmove(to, (const void *)(uintptr_t)from, len);
    return 0;
}

/* bpf_redirect_neigh(ifindex, params, plen, flags) and
 * bpf_redirect_peer(ifindex, flags): a redirect as bpf_redirect's, refused
 * (TC_ACT_SHOT) for flags or a neighbour shorter than struct
 * bpf_redir_neigh (20 bytes) */
uint64_t bl_helper_redirect_neigh(uint64_t ifindex, uint64_t params, uint64_t plen,
                                  uint64_t flags, uint64_t r5, struct bpflua_run_env *env)
{
    if (flags || (plen && plen < 20))
        return TC_ACT_SHOT;
    if (env)
        env->redirect_key = (uint32_t)ifindex + 1ull;
    return TC_ACT_REDIRECT;
}

uint64_t bl_helper_redirect_peer(uint64_t ifindex, uint64_t flags, uint64_t r3, uint64_t r4,
                                 uint64_t r5, struct bpflua_run_env *env)
{
    if (flags)
        return TC_ACT_SHOT;
    if (env)
        env->redirect_key = (uint32_t)ifindex + 1ull;
    return TC_ACT_REDIRECT;
}

/* no IPsec state on the sandbox's packets: a zeroed buffer and -EINVAL,
 * as bpf_skb_get_xfrm_state without a sec path */
uint64_t bl_helper_skb_get_xfrm_state(uint64_t ctx, uint64_t index, uint64_t to, uint64_t size,
                                      uint64_t flags, struct bpflua_run_env *env)
{
    memset((void *)(uintptr_t)to, 0, size);
    return (uint64_t)(int64_t)-EINVAL;
}

/* no socket behind the sandbox's packets: cookie 0, the overflow uid */
uint64_t bl_helper_get_socket_cookie(uint64_t ctx, uint64_t r2, uint64_t r3, uint64_t r4,
                                     uint64_t r5, struct bpflua_run_env *env)
{
    return 0;
}

uint64_t bl_helper_get_socket_uid(uint64_t ctx, uint64_t r2, uint64_t r3, uint64_t r4,
                                  uint64_t r5, struct bpflua_run_env *env)
{
    return 65534; /* overflowuid */
}

/* no route, no cgroup, no realm: 0 */
uint64_t bl_helper_zero(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                        struct bpflua_run_env *env)
{
    return 0;
}

#define FIB_LKUP_RET_NOT_FWDED 4 /* BPF_FIB_LKUP_RET_NOT_FWDED */

/* the sandbox has no forwarding table: every lookup says "not forwarded" */
uint64_t bl_helper_fib_lookup(uint64_t ctx, uint64_t params, uint64_t plen, uint64_t flags,
                              uint64_t r5, struct bpflua_run_env *env)
{
    if (plen < 64) /* sizeof(struct bpf_fib_lookup) */
        return (uint64_t)(int64_t)-EINVAL;
    return FIB_LKUP_RET_NOT_FWDED;
}
