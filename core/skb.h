/* skb.h - the socket-buffer context (struct __sk_buff) of the packet types:
 * sched_cls, sched_act, socket_filter, cgroup_skb, sk_skb, lwt_*.
 *
 * The sandbox's struct keeps the three packet pointers first (as
 * struct bl_xdp_ctx does: the JIT and the interpreter find the packet at
 * offsets 0 and 8 of any packet context), then the program's view of
 * struct __sk_buff byte for byte, so a scalar field at view offset o lives
 * at 24 + o and the linker rewrites data/data_end/data_meta to 64-bit loads.
 */
#ifndef BPFLUA_SKB_H
#define BPFLUA_SKB_H

#include <stdint.h>

/* offsets in struct __sk_buff (uapi/linux/bpf.h) */
#define BL_SKB_LEN             0
#define BL_SKB_PKT_TYPE        4
#define BL_SKB_MARK            8
#define BL_SKB_QUEUE_MAPPING   12
#define BL_SKB_PROTOCOL        16
#define BL_SKB_VLAN_PRESENT    20
#define BL_SKB_VLAN_TCI        24
#define BL_SKB_VLAN_PROTO      28
#define BL_SKB_PRIORITY        32
#define BL_SKB_INGRESS_IFINDEX 36
#define BL_SKB_IFINDEX         40
#define BL_SKB_TC_INDEX        44
#define BL_SKB_CB              48  /* u32 cb[5] */
#define BL_SKB_HASH            68
#define BL_SKB_TC_CLASSID      72
#define BL_SKB_DATA            76
#define BL_SKB_DATA_END        80
#define BL_SKB_NAPI_ID         84
#define BL_SKB_FAMILY          88
#define BL_SKB_REMOTE_IP4      92
#define BL_SKB_LOCAL_IP4       96
#define BL_SKB_REMOTE_IP6      100 /* u32[4] */
#define BL_SKB_LOCAL_IP6       116 /* u32[4] */
#define BL_SKB_REMOTE_PORT     132
#define BL_SKB_LOCAL_PORT      136
#define BL_SKB_DATA_META       140
#define BL_SKB_FLOW_KEYS       144 /* pointer, 8 bytes */
#define BL_SKB_TSTAMP          152 /* u64 */
#define BL_SKB_WIRE_LEN        160
#define BL_SKB_GSO_SEGS        164
#define BL_SKB_SK              168 /* pointer, 8 bytes */
#define BL_SKB_GSO_SIZE        176
#define BL_SKB_TSTAMP_TYPE     180 /* u8 + 3 bytes padding */
#define BL_SKB_HWTSTAMP        184 /* u64 */
#define BL_SKB_SIZE            192

#define BL_SKB_VIEW 24 /* where the view starts in struct bl_skb_ctx */

/* struct bpf_sock: what skb->sk points to (PTR_TO_SOCK_COMMON loads and
 * the socket helpers read it as it is, no rewrite) */
#define BL_SOCK_FAMILY      4
#define BL_SOCK_SRC_IP4     24
#define BL_SOCK_SRC_IP6     28
#define BL_SOCK_DST_IP4     52
#define BL_SOCK_DST_IP6     56
#define BL_SOCK_STATE       72
#define BL_SOCK_RX_QUEUE    76
#define BL_SOCK_SIZE        80

struct bl_skb_ctx {
    uint64_t data;
    uint64_t data_end;
    uint64_t data_meta;
    uint8_t md[BL_SKB_SIZE]; /* struct __sk_buff as the program sees it */
    /* the socket md's sk points to: the kernel's BPF_PROG_TEST_RUN gives
     * every packet a socket of no protocol (family and addresses from the
     * IP header, state TCP_CLOSE, no receive queue) */
    uint8_t sock[BL_SOCK_SIZE];
    /* 1 when data is the Ethernet header (tc), 0 when it is the network
     * header 14 bytes further (the other types): where LD_ABS's
     * SKF_LL_OFF and SKF_NET_OFF offsets point (bl_skb_ld_abs) */
    uint32_t l2;
    uint32_t pad;
};

#define BL_SKF_NET_OFF (-0x100000) /* linux/filter.h's SKF_NET_OFF */
#define BL_SKF_LL_OFF (-0x200000)  /* SKF_LL_OFF */

/* LD_ABS / LD_IND of size (1, 2, 4) bytes at offset k (imm, or src + imm,
 * taken as the kernel's helpers take it: a 32-bit int) of the skb c: the
 * big-endian bytes in *v and 0, or -1 where the kernel's
 * bpf_skb_load_helper fails (the program then ends returning 0). A
 * negative offset is relative to the network header from SKF_NET_OFF on,
 * to the MAC header from SKF_LL_OFF on (Suricata's filters read the IP
 * header at SKF_LL_OFF + 14 + ...); the bytes must lie between the MAC
 * header and the packet's end. */
static inline int bl_skb_ld_abs(const struct bl_skb_ctx *c, uint32_t k, unsigned size,
                                uint64_t *v)
{
    int64_t off = (int32_t)k;
    uint64_t mac = c->l2 ? c->data : c->data - 14, net = mac + 14, base = c->data;
    if (off < 0 && off >= BL_SKF_NET_OFF) {
        base = net;
        off -= BL_SKF_NET_OFF;
    } else if (off < 0 && off >= BL_SKF_LL_OFF) {
        base = mac;
        off -= BL_SKF_LL_OFF;
    } else if (off < 0) {
        return -1;
    }
    uint64_t p = base + (uint64_t)off;
    if (p < mac || p > c->data_end || size > c->data_end - p)
        return -1;
    const uint8_t *b = (const uint8_t *)(uintptr_t)p;
    uint64_t x = 0;
    for (unsigned i = 0; i < size; i++)
        x = x << 8 | b[i];
    *v = x;
    return 0;
}

#endif
