/* helpers_net.c - socket-buffer helpers about the packet's flow hash, its
 * checksum state and its device's MTU: get_hash_recalc, set_hash,
 * set_hash_invalid, csum_level, check_mtu (socket buffers and XDP).
 *
 * The sandbox's packets arrive as the kernel's BPF_PROG_TEST_RUN builds
 * them: no hash computed yet (skb->hash 0), no checksum verified
 * (CHECKSUM_NONE), on the loopback device (MTU 65536, a 14-byte link
 * header), which is the device of index 0 (the packet's own), 1 and the
 * context's ifindex; there is no other device.
 */
#include <errno.h>
#include <string.h>

#include "../core/skb.h"
#include "../core/xdp.h"
#include "helper_impl.h"

#define ETH_HLEN 14
#define LO_MTU 65536
#define BPF_MTU_CHK_SEGS 1
#define MTU_CHK_RET_SUCCESS 0
#define MTU_CHK_RET_FRAG_NEEDED 1

static uint64_t err(int e)
{
    return (uint64_t)(int64_t)-e;
}

static unsigned char *skb_md(uint64_t ctx)
{
    return ((struct bl_skb_ctx *)(uintptr_t)ctx)->md;
}

static void packet_of(uint64_t ctx, const unsigned char **data, uint64_t *len)
{
    uint64_t d, e;
    memcpy(&d, (const void *)(uintptr_t)ctx, 8);
    memcpy(&e, (const unsigned char *)(uintptr_t)ctx + 8, 8);
    *data = (const unsigned char *)(uintptr_t)d;
    *len = e - d;
}

static uint32_t fnv(uint32_t h, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

/* the flow's hash: addresses, protocol and ports (the same in both
 * directions, as the kernel's flow hash), or the EtherType alone for a
 * packet that is not IP; never 0 (the kernel's "no hash") */
static uint32_t flow_hash(const unsigned char *p, uint64_t len)
{
    uint32_t h = 2166136261u;
    if (len < ETH_HLEN)
        return 1;
    uint16_t proto = (uint16_t)(p[12] << 8 | p[13]);
    const unsigned char *a = NULL, *b = NULL, *ports = NULL;
    size_t alen = 0;
    unsigned char l4 = 0;
    const unsigned char *ip = p + ETH_HLEN;
    uint64_t iplen = len - ETH_HLEN;
    if (proto == 0x0800 && iplen >= 20 && (ip[0] >> 4) == 4) {
        size_t ihl = (size_t)(ip[0] & 15) * 4;
        a = ip + 12, b = ip + 16, alen = 4, l4 = ip[9];
        int frag = ((ip[6] & 0x3f) | ip[7]) != 0;
        if (!frag && ihl >= 20 && iplen >= ihl + 4)
            ports = ip + ihl;
    } else if (proto == 0x86dd && iplen >= 40 && (ip[0] >> 4) == 6) {
        a = ip + 8, b = ip + 24, alen = 16, l4 = ip[6];
        if (iplen >= 44)
            ports = ip + 40;
    }
    if (!a) {
        h = fnv(h, p + 12, 2);
        return h ? h : 1;
    }
    if (l4 != 6 && l4 != 17 && l4 != 132 && l4 != 136)
        ports = NULL;
    unsigned char pt[4] = {0};
    if (ports)
        memcpy(pt, ports, 4);
    int swap = memcmp(a, b, alen) > 0 ||
               (memcmp(a, b, alen) == 0 && memcmp(pt, pt + 2, 2) > 0);
    if (swap) {
        const unsigned char *t = a;
        a = b, b = t;
        unsigned char q[2] = {pt[0], pt[1]};
        pt[0] = pt[2], pt[1] = pt[3], pt[2] = q[0], pt[3] = q[1];
    }
    h = fnv(h, a, alen);
    h = fnv(h, b, alen);
    h = fnv(h, &l4, 1);
    h = fnv(h, pt, 4);
    return h ? h : 1;
}

/* computes the hash and keeps it where skb->hash reads */
uint64_t bl_helper_get_hash_recalc(uint64_t ctx, uint64_t r2, uint64_t r3, uint64_t r4,
                                   uint64_t r5, struct bpflua_run_env *env)
{
    const unsigned char *data;
    uint64_t len;
    packet_of(ctx, &data, &len);
    uint32_t h = flow_hash(data, len);
    memcpy(skb_md(ctx) + BL_SKB_HASH, &h, 4);
    return h;
}

uint64_t bl_helper_set_hash(uint64_t ctx, uint64_t hash, uint64_t r3, uint64_t r4,
                            uint64_t r5, struct bpflua_run_env *env)
{
    uint32_t h = (uint32_t)hash;
    memcpy(skb_md(ctx) + BL_SKB_HASH, &h, 4);
    return 0;
}

uint64_t bl_helper_set_hash_invalid(uint64_t ctx, uint64_t r2, uint64_t r3, uint64_t r4,
                                    uint64_t r5, struct bpflua_run_env *env)
{
    memset(skb_md(ctx) + BL_SKB_HASH, 0, 4);
    return 0;
}

#define CSUM_LEVEL_QUERY 0
#define CSUM_LEVEL_RESET 3

/* no checksum was verified on a sandbox packet: a query is -EACCES, the
 * increments and the reset change nothing the program can read */
uint64_t bl_helper_csum_level(uint64_t ctx, uint64_t level, uint64_t r3, uint64_t r4,
                              uint64_t r5, struct bpflua_run_env *env)
{
    if (level == CSUM_LEVEL_QUERY)
        return err(EACCES);
    return level <= CSUM_LEVEL_RESET ? 0 : err(EINVAL);
}

/* the device of ifindex: 0 (the packet's), 1 (loopback) or the
 * context's own index; 0 if there is no such device */
static int known_dev(uint64_t ctx, uint32_t ifindex, struct bpflua_run_env *env)
{
    uint32_t own;
    if (ifindex == 0 || ifindex == 1)
        return 1;
    if (env && env->prog_type == 6 /* xdp: struct xdp_md's ingress_ifindex */) {
        const struct bl_xdp_ctx *x = (const struct bl_xdp_ctx *)(uintptr_t)ctx;
        own = x->ingress_ifindex;
    } else {
        memcpy(&own, skb_md(ctx) + BL_SKB_IFINDEX, 4);
    }
    return ifindex == own;
}

uint64_t bl_helper_check_mtu(uint64_t ctx, uint64_t ifindex, uint64_t mtu_len, uint64_t len_diff,
                             uint64_t flags, struct bpflua_run_env *env)
{
    uint32_t *mtu = (uint32_t *)(uintptr_t)mtu_len;
    int xdp = env && env->prog_type == 6;
    if (xdp ? flags != 0 : (flags & ~(uint64_t)BPF_MTU_CHK_SEGS) != 0)
        return err(EINVAL);
    if (!xdp && (flags & BPF_MTU_CHK_SEGS) && ((int32_t)len_diff || *mtu))
        return err(EINVAL);
    if (!known_dev(ctx, (uint32_t)ifindex, env))
        return err(ENODEV);
    const unsigned char *data;
    uint64_t plen;
    packet_of(ctx, &data, &plen);
    int64_t len = *mtu ? (int64_t)*mtu + ETH_HLEN : (int64_t)plen;
    len += (int32_t)len_diff;
    *mtu = LO_MTU;
    return len <= LO_MTU + ETH_HLEN ? MTU_CHK_RET_SUCCESS : MTU_CHK_RET_FRAG_NEEDED;
}
