/* xdp.h - the XDP context a program runs on.
 *
 * Programs see the kernel's `struct xdp_md` (six u32 fields at offsets
 * 0..20). As in the kernel, the verifier checks each ctx load against that
 * layout and the loader rewrites it to a load from the real context below:
 * data/data_end/data_meta become 64-bit pointer loads.
 */
#ifndef BPFLUA_XDP_H
#define BPFLUA_XDP_H

#include <stdint.h>

/* offsets in the program's view (struct xdp_md) */
#define BL_XDP_MD_DATA            0
#define BL_XDP_MD_DATA_END        4
#define BL_XDP_MD_DATA_META       8
#define BL_XDP_MD_INGRESS_IFINDEX 12
#define BL_XDP_MD_RX_QUEUE_INDEX  16
#define BL_XDP_MD_EGRESS_IFINDEX  20
#define BL_XDP_MD_SIZE            24

/* the real context the engine passes in R1 */
struct bl_xdp_ctx {
    uint64_t data;       /* offset 0  (from xdp_md 0)  */
    uint64_t data_end;   /* offset 8  (from xdp_md 4)  */
    uint64_t data_meta;  /* offset 16 (from xdp_md 8)  */
    uint32_t ingress_ifindex;
    uint32_t rx_queue_index;
    uint32_t egress_ifindex;
    uint32_t pad;
};

#endif
