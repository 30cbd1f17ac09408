/* type_xdp.c - XDP: struct xdp_md over the packet (core/xdp.h). */
#include "insn.h"
#include "progtype.h"
#include "xdp.h"

/* egress_ifindex is readable only by programs run from a devmap entry
 * (expected attach type BPF_XDP_DEVMAP: sections xdp/devmap...); the
 * kernel refuses it to the others */
#define XDP_FIELDS(egress_read) \
    { "data", BL_XDP_MD_DATA, 4, BL_SZ_4, 0, BL_CTX_PKT, 8, 0 }, \
    { "data_end", BL_XDP_MD_DATA_END, 4, BL_SZ_4, 0, BL_CTX_PKT_END, 8, 8 }, \
    { "data_meta", BL_XDP_MD_DATA_META, 4, BL_SZ_4, 0, BL_CTX_PKT_META, 8, 16 }, \
    { "ingress_ifindex", BL_XDP_MD_INGRESS_IFINDEX, 4, BL_SZ_4, 0, BL_CTX_SCALAR, 4, 24 }, \
    { "rx_queue_index", BL_XDP_MD_RX_QUEUE_INDEX, 4, BL_SZ_4, 0, BL_CTX_SCALAR, 4, 28 }, \
    { "egress_ifindex", BL_XDP_MD_EGRESS_IFINDEX, 4, egress_read, 0, BL_CTX_SCALAR, 4, 32 }

static const struct bl_ctx_field fields[] = { XDP_FIELDS(0) };
static const struct bl_ctx_field devmap_fields[] = { XDP_FIELDS(BL_SZ_4) };

static const uint32_t helpers[] = {
    23, 28, 44, 51, 54, 65, 69, 84, 85, 86, 99, 100, 110, 136, 137, 138, 139, 140, 160, 163,
    178, 188, 189, 190, 196, 204, 205, 206, 207
};

/* allowed where the kernel is built for it (core/progtype.h): mainline
 * 6.18 lets every XDP program call xdp_adjust_meta (54), but some kernel
 * builds refuse it (seen: 6.18.44-fc-v1300, "program of this type cannot
 * use helper"); bpflua follows mainline */
static const uint32_t config_helpers[] = { 54 };

static const char *const sections[] = { "xdp*", NULL };

#define XDP_TYPE(secs, flds, attach) \
    .name = "xdp", .kernel_type = 6, .attach_type = attach, .sections = secs, \
    .ctx_size = BL_XDP_MD_SIZE, .fields = flds, .n_fields = sizeof flds / sizeof flds[0], \
    .helpers = helpers, .n_helpers = sizeof helpers / sizeof helpers[0], \
    .packet = 1, .max_packet = BL_XDP_MAX_PACKET, \
    .build = BL_BUILD_XDP, .sb_ctx_size = sizeof(struct bl_xdp_ctx), .kernel_test_run = 1, \
    .config_helpers = config_helpers, .n_config_helpers = 1

const struct bl_prog_type bl_type_xdp = { XDP_TYPE(sections, fields, 0) };

static const char *const devmap_sections[] = { "xdp/devmap*", "xdp.frags/devmap*", NULL };
const struct bl_prog_type bl_type_xdp_devmap = { XDP_TYPE(devmap_sections, devmap_fields, 33) };
