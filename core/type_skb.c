/* type_skb.c - the types whose context is struct __sk_buff (core/skb.h):
 * sched_cls, sched_act, socket_filter, cgroup_skb, sk_skb, lwt_in/out/xmit.
 * They share the layout and differ in which fields they may write and
 * whether they see the packet pointers (the kernel's *_is_valid_access). */
#include "progtype.h"
#include "skb.h"

#define R32 (BL_SZ_1 | BL_SZ_2 | BL_SZ_4) /* u32 fields take narrow loads */
#define S(name, off, size, rd, wr) { #name, off, size, rd, wr, BL_CTX_SCALAR, size, BL_SKB_VIEW + (off) }
#define P(name, off, kind, sb, rd) { #name, off, 4, rd, 0, kind, 8, sb }

/* one table per set of rights (what the kernel 6.18 loads, probed per
 * field with bpftool): w_* are the sizes a store may use (0: none) */
#define SKB_FIELDS(r_mark, w_mark, w_prio, w_qmap, w_tcidx, w_cb, classid, meta, sk, tstamp,  \
                   wire) {                                                                    \
    S(len, BL_SKB_LEN, 4, R32, 0),                                                            \
    S(pkt_type, BL_SKB_PKT_TYPE, 4, R32, 0),                                                  \
    S(mark, BL_SKB_MARK, 4, r_mark, w_mark),                                                  \
    S(queue_mapping, BL_SKB_QUEUE_MAPPING, 4, R32, w_qmap),                                   \
    S(protocol, BL_SKB_PROTOCOL, 4, R32, 0),                                                  \
    S(vlan_present, BL_SKB_VLAN_PRESENT, 4, R32, 0),                                          \
    S(vlan_tci, BL_SKB_VLAN_TCI, 4, R32, 0),                                                  \
    S(vlan_proto, BL_SKB_VLAN_PROTO, 4, R32, 0),                                              \
    S(priority, BL_SKB_PRIORITY, 4, R32, w_prio),                                             \
    S(ingress_ifindex, BL_SKB_INGRESS_IFINDEX, 4, R32, 0),                                    \
    S(ifindex, BL_SKB_IFINDEX, 4, R32, 0),                                                    \
    S(tc_index, BL_SKB_TC_INDEX, 4, R32, w_tcidx),                                            \
    S(cb, BL_SKB_CB, 20, BL_SZ_ANY, w_cb),                                                    \
    S(hash, BL_SKB_HASH, 4, R32, 0),                                                          \
    S(tc_classid, BL_SKB_TC_CLASSID, 4, (classid) ? R32 : 0, (classid) ? BL_SZ_4 : 0),        \
    P(data, BL_SKB_DATA, BL_CTX_PKT, 0, (data_ok) ? BL_SZ_4 : 0),                             \
    P(data_end, BL_SKB_DATA_END, BL_CTX_PKT_END, 8, (data_ok) ? BL_SZ_4 : 0),                 \
    S(napi_id, BL_SKB_NAPI_ID, 4, R32, 0),                                                    \
    S(family, BL_SKB_FAMILY, 4, (sk) ? R32 : 0, 0),                                           \
    S(remote_ip4, BL_SKB_REMOTE_IP4, 4, (sk) ? R32 : 0, 0),                                   \
    S(local_ip4, BL_SKB_LOCAL_IP4, 4, (sk) ? R32 : 0, 0),                                     \
    S(remote_ip6, BL_SKB_REMOTE_IP6, 16, (sk) ? R32 : 0, 0),                                  \
    S(local_ip6, BL_SKB_LOCAL_IP6, 16, (sk) ? R32 : 0, 0),                                    \
    S(remote_port, BL_SKB_REMOTE_PORT, 4, (sk) ? R32 : 0, 0),                                 \
    S(local_port, BL_SKB_LOCAL_PORT, 4, (sk) ? R32 : 0, 0),                                   \
    P(data_meta, BL_SKB_DATA_META, BL_CTX_PKT_META, 16, (meta) ? BL_SZ_4 : 0),                \
    S(tstamp, BL_SKB_TSTAMP, 8, (tstamp) ? BL_SZ_8 : 0, (tstamp) ? BL_SZ_8 : 0),              \
    S(wire_len, BL_SKB_WIRE_LEN, 4, (wire) ? R32 : 0, 0),                                     \
    S(gso_segs, BL_SKB_GSO_SEGS, 4, R32, 0),                                                  \
    { "sk", BL_SKB_SK, 8, BL_SZ_8, 0, BL_CTX_SOCK_COMMON_OR_NULL, 8, BL_SKB_VIEW + BL_SKB_SK }, \
    S(gso_size, BL_SKB_GSO_SIZE, 4, R32, 0),                                                  \
    S(hwtstamp, BL_SKB_HWTSTAMP, 8, (tstamp) ? BL_SZ_8 : 0, 0),                               \
}

#define W BL_SZ_4
#define data_ok 1
static const struct bl_ctx_field tc_fields[] =
    SKB_FIELDS(R32, W, W, W, W, BL_SZ_ANY, 1, 1, 0, 1, 1);
static const struct bl_ctx_field cgroup_fields[] =
    SKB_FIELDS(R32, W, W, 0, 0, BL_SZ_ANY, 0, 0, 1, 1, 0);
static const struct bl_ctx_field lwt_fields[] =
    SKB_FIELDS(R32, W, W, 0, 0, BL_SZ_ANY, 0, 0, 0, 0, 0);
static const struct bl_ctx_field sk_skb_fields[] =
    SKB_FIELDS(0, 0, W, 0, W, 0, 0, 0, 1, 0, 0);
#undef data_ok
#define data_ok 0 /* socket filters see no packet pointers */
static const struct bl_ctx_field filter_fields[] =
    SKB_FIELDS(R32, 0, 0, 0, 0, BL_SZ_ANY, 0, 0, 0, 0, 0);
#undef data_ok
#define N(a) (uint32_t)(sizeof a / sizeof a[0])

/* per type, beyond the base set (core/progtype.c): probed as the base set */
static const uint32_t filter_helpers[] = {
    26, 46, 47, 68, 122, 136, 137, 138, 139, 140, 160, 178, 196
};
static const uint32_t tc_helpers[] = {
    9, 10, 11, 13, 18, 19, 20, 21, 23, 24, 26, 28, 29, 30, 31, 32, 33, 34, 38, 39, 40, 41, 43,
    46, 47, 48, 50, 66, 68, 69, 79, 83, 84, 85, 86, 95, 96, 97, 98, 99, 100, 107, 108, 110,
    122, 124, 135, 136, 137, 138, 139, 140, 151, 152, 155, 160, 163, 178, 192, 196, 204, 205,
    206, 207
};
static const uint32_t cgroup_helpers[] = {
    26, 46, 47, 68, 79, 81, 83, 84, 85, 86, 95, 96, 97, 98, 99, 107, 108, 122, 128, 129, 136,
    137, 138, 139, 140, 160, 178, 196
};
static const uint32_t lwt_in_helpers[] = {
    24, 26, 28, 33, 34, 39, 73, 136, 137, 138, 139, 140, 160, 178, 196
};
static const uint32_t lwt_out_helpers[] = {
    24, 26, 28, 33, 34, 39, 136, 137, 138, 139, 140, 160, 178, 196
};
static const uint32_t lwt_xmit_helpers[] = {
    9, 10, 11, 13, 20, 21, 23, 24, 26, 28, 29, 30, 33, 34, 38, 39, 40, 41, 43, 73, 135, 136,
    137, 138, 139, 140, 160, 178, 196
};
static const uint32_t sk_skb_helpers[] = {
    9, 26, 38, 39, 43, 46, 47, 50, 52, 72, 84, 85, 86, 99, 136, 137, 138, 139, 140, 160, 178,
    196
};

static const char *const tc_sections[] = { "tc", "classifier*", "tcx*", "netkit*", NULL };
static const char *const act_sections[] = { "action*", NULL };
static const char *const filter_sections[] = { "socket*", NULL };
static const char *const cgroup_sections[] = { "cgroup_skb*", "cgroup/skb*", NULL };
static const char *const cgroup_egress_sections[] = { "cgroup_skb/egress", NULL };
static const char *const sk_skb_sections[] = { "sk_skb*", NULL };
static const char *const lwt_in_sections[] = { "lwt_in*", NULL };
static const char *const lwt_out_sections[] = { "lwt_out*", NULL };
static const char *const lwt_xmit_sections[] = { "lwt_xmit*", NULL };

#define SKB_TYPE(nm, id, secs, flds, hlp, abs)                                             \
    .name = nm, .kernel_type = id, .sections = secs, .ctx_size = BL_SKB_SIZE,              \
    .fields = flds, .n_fields = N(flds), .helpers = hlp, .n_helpers = N(hlp), .packet = 1,  \
    .ld_abs = abs, .max_packet = 65535, .build = BL_BUILD_SKB,                              \
    .sb_ctx_size = sizeof(struct bl_skb_ctx), .kernel_test_run = 1

const struct bl_prog_type bl_type_sched_cls = {
    SKB_TYPE("sched_cls", 3, tc_sections, tc_fields, tc_helpers, 1) };
const struct bl_prog_type bl_type_sched_act = {
    SKB_TYPE("sched_act", 4, act_sections, tc_fields, tc_helpers, 1) };
const struct bl_prog_type bl_type_socket_filter = {
    SKB_TYPE("socket_filter", 1, filter_sections, filter_fields, filter_helpers, 1) };
/* the kernel's return range depends on the attach point: [0, 1] on
 * ingress (and for libbpf's "cgroup/skb"), [0, 3] on egress (congestion
 * notification bits); so egress is its own descriptor of the same type */
const struct bl_prog_type bl_type_cgroup_skb = {
    SKB_TYPE("cgroup_skb", 8, cgroup_sections, cgroup_fields, cgroup_helpers, 0),
    .attach_type = 0 /* BPF_CGROUP_INET_INGRESS */, .ret_check = 1, .ret_min = 0, .ret_max = 1,
    .packet_ro = 1 };
const struct bl_prog_type bl_type_cgroup_skb_egress = {
    SKB_TYPE("cgroup_skb", 8, cgroup_egress_sections, cgroup_fields, cgroup_helpers, 0),
    .attach_type = 1 /* BPF_CGROUP_INET_EGRESS */, .ret_check = 1, .ret_min = 0, .ret_max = 3,
    .packet_ro = 1 };
const struct bl_prog_type bl_type_sk_skb = {
    SKB_TYPE("sk_skb", 14, sk_skb_sections, sk_skb_fields, sk_skb_helpers, 0) };
const struct bl_prog_type bl_type_lwt_in = {
    SKB_TYPE("lwt_in", 10, lwt_in_sections, lwt_fields, lwt_in_helpers, 0), .packet_ro = 1 };
const struct bl_prog_type bl_type_lwt_out = {
    SKB_TYPE("lwt_out", 11, lwt_out_sections, lwt_fields, lwt_out_helpers, 0), .packet_ro = 1 };
const struct bl_prog_type bl_type_lwt_xmit = {
    SKB_TYPE("lwt_xmit", 12, lwt_xmit_sections, lwt_fields, lwt_xmit_helpers, 0) };
