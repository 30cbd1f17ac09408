/* type_xdp.c - XDP: struct xdp_md over the packet (core/xdp.h). */
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
    23,  /* redirect */
    25,  /* perf_event_output */
    28,  /* csum_diff */
    44,  /* xdp_adjust_head */
    51,  /* redirect_map */
    54,  /* xdp_adjust_meta */
    65,  /* xdp_adjust_tail */
    69,  /* fib_lookup */
    84, 85, 86, 99, 100, 110, /* sk_lookup_tcp/udp, sk_release, skc_lookup_tcp, syncookies */
    121, /* xdp_output */
    188, 189, 190, /* xdp_get_buff_len, xdp_load_bytes, xdp_store_bytes */
};

static const char *const sections[] = { "xdp*", NULL };

#define XDP_TYPE(secs, flds, attach) \
    .name = "xdp", .kernel_type = 6, .attach_type = attach, .sections = secs, \
    .ctx_size = BL_XDP_MD_SIZE, .fields = flds, .n_fields = sizeof flds / sizeof flds[0], \
    .helpers = helpers, .n_helpers = sizeof helpers / sizeof helpers[0], \
    .packet = 1, .max_packet = 4096 - 256, \
    .build = BL_BUILD_XDP, .sb_ctx_size = sizeof(struct bl_xdp_ctx), .kernel_test_run = 1

const struct bl_prog_type bl_type_xdp = { XDP_TYPE(sections, fields, 0) };

static const char *const devmap_sections[] = { "xdp/devmap*", "xdp.frags/devmap*", NULL };
const struct bl_prog_type bl_type_xdp_devmap = { XDP_TYPE(devmap_sections, devmap_fields, 39) };
