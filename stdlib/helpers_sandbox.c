/* helpers_sandbox.c - helpers whose kernel objects the sandbox does not
 * have: tunnels, VLAN tags, socket maps, cgroups, resizing a socket
 * buffer. They exist so that programs calling them verify and run; each
 * returns what the kernel returns when the object is absent, or
 * -EOPNOTSUPP where the kernel would change something the sandbox cannot
 * represent (the packet's size or its metadata outside the packet).
 *
 * The XDP adjust helpers do work, within the packet the run was given:
 * the sandbox gives no headroom or tailroom, so a packet can shrink
 * (bpf_xdp_adjust_head with delta > 0, bpf_xdp_adjust_tail with delta <
 * 0, down to an Ethernet header as the kernel allows) but not grow
 * (-EINVAL, what the kernel says when the room is missing).
 */
#include <errno.h>
#include <string.h>

#include "../core/object.h"
#include "helper_impl.h"
#include "maps.h"

#define ETH_HLEN 14
#define SK_DROP 0

static uint64_t err(int e)
{
    return (uint64_t)(int64_t)-e;
}

uint64_t bl_helper_unsupported(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                               struct bpflua_run_env *env)
{
    return err(EOPNOTSUPP);
}

uint64_t bl_helper_sk_drop(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                           struct bpflua_run_env *env)
{
    return SK_DROP; /* no socket to redirect to */
}

/* no tunnel metadata on the sandbox's packets: a zeroed key and -ENOENT */
uint64_t bl_helper_skb_get_tunnel(uint64_t ctx, uint64_t to, uint64_t size, uint64_t flags,
                                  uint64_t r5, struct bpflua_run_env *env)
{
    memset((void *)(uintptr_t)to, 0, size);
    return err(ENOENT);
}

/* bpf_getsockopt: no socket option to read (sock_ops and the other
 * socket types are verified, not run, in the sandbox): a zeroed buffer
 * and -EINVAL, the kernel's answer for an option it does not know */
uint64_t bl_helper_getsockopt(uint64_t ctx, uint64_t level, uint64_t optname, uint64_t optval,
                              uint64_t optlen, struct bpflua_run_env *env)
{
    memset((void *)(uintptr_t)optval, 0, optlen);
    return err(EINVAL);
}

/* the packet's socket buffer is linear: any length it holds is pulled */
uint64_t bl_helper_skb_pull_data(uint64_t ctx, uint64_t len, uint64_t r3, uint64_t r4,
                                 uint64_t r5, struct bpflua_run_env *env)
{
    uint64_t data, end;
    memcpy(&data, (const void *)(uintptr_t)ctx, 8);
    memcpy(&end, (const unsigned char *)(uintptr_t)ctx + 8, 8);
    return len <= end - data ? 0 : err(ENOMEM);
}

#define HDR_START_MAC 0
#define HDR_START_NET 1

/* offsets from the Ethernet header (MAC) or the IP header after it (NET) */
uint64_t bl_helper_skb_load_bytes_relative(uint64_t ctx, uint64_t off, uint64_t to,
                                           uint64_t len, uint64_t start,
                                           struct bpflua_run_env *env)
{
    if (start != HDR_START_MAC && start != HDR_START_NET) {
        memset((void *)(uintptr_t)to, 0, len);
        return err(EFAULT);
    }
    uint64_t base = start == HDR_START_NET ? ETH_HLEN : 0;
    return bl_helper_skb_load_bytes(ctx, (uint32_t)off + base, to, len, 0, env);
}

/* a cgroup_array slot names a cgroup; the sandbox's packets have no
 * socket (-ENOENT, as BPF_PROG_TEST_RUN's) */
uint64_t bl_helper_skb_under_cgroup(uint64_t ctx, uint64_t map, uint64_t index, uint64_t r4,
                                    uint64_t r5, struct bpflua_run_env *env)
{
    struct bl_map *m = (struct bl_map *)(uintptr_t)map;
    if ((uint32_t)index >= bl_map_def(m)->max_entries)
        return err(E2BIG);
    return err(ENOENT);
}

uint64_t bl_helper_current_task_under_cgroup(uint64_t map, uint64_t index, uint64_t r3,
                                             uint64_t r4, uint64_t r5,
                                             struct bpflua_run_env *env)
{
    struct bl_map *m = (struct bl_map *)(uintptr_t)map;
    uint32_t i = (uint32_t)index;
    if (i >= bl_map_def(m)->max_entries)
        return err(E2BIG);
    return bl_map_lookup_sys(m, &i) ? 0 : err(EAGAIN);
}

static uint64_t *ctx_word(uint64_t ctx, int n)
{
    return (uint64_t *)(uintptr_t)ctx + n; /* 0 data, 1 data_end, 2 data_meta */
}

uint64_t bl_helper_xdp_adjust_head(uint64_t ctx, uint64_t delta, uint64_t r3, uint64_t r4,
                                   uint64_t r5, struct bpflua_run_env *env)
{
    int64_t d = (int32_t)delta;
    uint64_t *data = ctx_word(ctx, 0), *end = ctx_word(ctx, 1), *meta = ctx_word(ctx, 2);
    if (d < 0 || *data + (uint64_t)d > *end - ETH_HLEN || *end - *data < ETH_HLEN)
        return err(EINVAL); /* no headroom to grow into, or less than a header left */
    /* the metadata before the packet moves with it, as in the kernel */
    uint64_t metalen = *data - *meta;
    if (metalen)
        memmove((void *)(uintptr_t)(*meta + (uint64_t)d), (void *)(uintptr_t)*meta, metalen);
    *meta += (uint64_t)d;
    *data += (uint64_t)d;
    return 0;
}

uint64_t bl_helper_xdp_adjust_tail(uint64_t ctx, uint64_t delta, uint64_t r3, uint64_t r4,
                                   uint64_t r5, struct bpflua_run_env *env)
{
    int64_t d = (int32_t)delta;
    uint64_t *data = ctx_word(ctx, 0), *end = ctx_word(ctx, 1);
    if (d > 0 || (int64_t)(*end - *data) + d < ETH_HLEN)
        return err(EINVAL); /* no tailroom, or less than a header left */
    *end = (uint64_t)((int64_t)*end + d);
    return 0;
}

uint64_t bl_helper_xdp_adjust_meta(uint64_t ctx, uint64_t delta, uint64_t r3, uint64_t r4,
                                   uint64_t r5, struct bpflua_run_env *env)
{
    int64_t d = (int32_t)delta;
    uint64_t *data = ctx_word(ctx, 0), *meta = ctx_word(ctx, 2);
    /* metadata lives in the headroom before the packet: none here */
    if (d == 0)
        return 0;
    if (d > 0 && *meta + (uint64_t)d <= *data) {
        *meta += (uint64_t)d;
        return 0;
    }
    return err(EINVAL);
}

/* the sandbox's one socket (skb->sk, as the kernel's test run's) is a
 * full one (state TCP_CLOSE) */
uint64_t bl_helper_sk_fullsock(uint64_t sk, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                               struct bpflua_run_env *env)
{
    return sk;
}
