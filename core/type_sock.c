/* type_sock.c - socket and cgroup types the sandbox verifies but does not
 * run (no packet to build their context from): cgroup_sock (struct
 * bpf_sock), cgroup_device (struct bpf_cgroup_dev_ctx), sock_ops (struct
 * bpf_sock_ops), sk_msg (struct sk_msg_md). Their views are the kernel's;
 * sb_off = off, as a run would get the view's bytes as they are. */
#include "progtype.h"

#define R32 (BL_SZ_1 | BL_SZ_2 | BL_SZ_4)
#define S(name, off, size, rd, wr) { #name, off, size, rd, wr, BL_CTX_SCALAR, size, off }
#define N(a) (uint32_t)(sizeof a / sizeof a[0])

/* bpf_sock_is_valid_access: narrow loads only at the start of a field (or
 * array element), of dst_port in its first two bytes; bound_dev_if, mark
 * and priority whole only */
#define SN(name, off, size, rd, at) { #name, off, size, (rd) ? (rd) | (at) : 0, 0, BL_CTX_SCALAR, size, off }
#define SW(name, off, rd) { #name, off, 4, rd, (rd) & BL_SZ_4, BL_CTX_SCALAR, 4, off }
#define START BL_NARROW_START
#define HALF BL_NARROW_HALF

/* struct bpf_sock as the kernel's __sock_filter_check_attach_type has it:
 * socket creation and release may set bound_dev_if, mark and priority;
 * post_bind4 reads src_ip4 and src_port, post_bind6 src_ip6 and src_port,
 * and neither sees the first three */
#define SOCK_FIELDS(own, ip4, ip6, port) \
    SW(bound_dev_if, 0, own), \
    SN(family, 4, 4, R32, START), \
    SN(type, 8, 4, R32, START), \
    SN(protocol, 12, 4, R32, START), \
    SW(mark, 16, own), \
    SW(priority, 20, own), \
    SN(src_ip4, 24, 4, ip4, START), \
    SN(src_ip6, 28, 16, ip6, START), \
    SN(src_port, 44, 4, port, START), \
    SN(dst_port, 48, 4, R32, HALF), \
    SN(dst_ip4, 52, 4, R32, START), \
    SN(dst_ip6, 56, 16, R32, START), \
    SN(state, 72, 4, R32, START), \
    SN(rx_queue_mapping, 76, 4, R32, START)
static const struct bl_ctx_field sock_fields[] = { SOCK_FIELDS(BL_SZ_4, 0, 0, 0) };
static const struct bl_ctx_field bind4_fields[] = { SOCK_FIELDS(0, R32, 0, R32) };
static const struct bl_ctx_field bind6_fields[] = { SOCK_FIELDS(0, 0, R32, R32) };
/* beyond the base set (core/progtype.c), probed on 6.18 */
static const uint32_t sock_helpers[] = { 46, 81, 107, 122, 160, 186, 187 };
static const char *const sock_sections[] = { "cgroup/sock*", NULL };
static const char *const bind4_sections[] = { "cgroup/post_bind4*", NULL };
static const char *const bind6_sections[] = { "cgroup/post_bind6*", NULL };

#define SOCK_TYPE(secs, flds, attach) \
    .name = "cgroup_sock", .kernel_type = 9, .attach_type = attach, .sections = secs, \
    .ctx_size = 80, .fields = flds, .n_fields = N(flds), \
    .helpers = sock_helpers, .n_helpers = N(sock_helpers), \
    .ret_check = 1, .ret_min = 0, .ret_max = 1, .build = BL_BUILD_RAW, .sb_ctx_size = 80

/* expected attach types: BPF_CGROUP_INET_SOCK_CREATE (2, what the kernel
 * assumes for 0; release has the same rights), INET4/6_POST_BIND (12, 13) */
const struct bl_prog_type bl_type_cgroup_sock = { SOCK_TYPE(sock_sections, sock_fields, 2) };
const struct bl_prog_type bl_type_cgroup_sock_bind4 = { SOCK_TYPE(bind4_sections, bind4_fields, 12) };
const struct bl_prog_type bl_type_cgroup_sock_bind6 = { SOCK_TYPE(bind6_sections, bind6_fields, 13) };

static const struct bl_ctx_field dev_fields[] = {
    S(access_type, 0, 4, R32, 0),
    S(major, 4, 4, R32, 0),
    S(minor, 8, 4, R32, 0),
};
static const uint32_t dev_helpers[] = {
    81
};
static const char *const dev_sections[] = { "cgroup/dev", NULL };

const struct bl_prog_type bl_type_cgroup_device = {
    .name = "cgroup_device", .kernel_type = 15, .sections = dev_sections, .ctx_size = 12,
    .fields = dev_fields, .n_fields = N(dev_fields),
    .helpers = dev_helpers, .n_helpers = N(dev_helpers),
    .ret_check = 1, .ret_min = 0, .ret_max = 1, .build = BL_BUILD_RAW, .sb_ctx_size = 12,
};

/* struct bpf_sock_ops (sock_ops_is_valid_access): u32 fields read whole
 * (skb_tcp_flags also in part); args/reply and sk_txhash writable; u64
 * counters and skb_hwtstamp; sk, a full socket or NULL (tcp_rtt's
 * bpf_sk_storage_get, bpf_tcp_sock), and the TCP header of the segment
 * between skb_data and skb_data_end (the header-option callbacks), which
 * is read, not written. A sandbox run gives sk NULL and an empty header
 * (engine/run.c). */
static const struct bl_ctx_field sock_ops_fields[] = {
    S(op, 0, 4, BL_SZ_4, 0),
    S(reply, 4, 4, BL_SZ_4, BL_SZ_4),  /* = args[0], replylong[0]: the only one written */
    S(args, 8, 12, BL_SZ_4, 0),        /* args[1..3], replylong[1..3] */
    S(fields, 20, 144, BL_SZ_4, 0),
    S(sk_txhash, 164, 4, BL_SZ_4, BL_SZ_4),
    S(bytes_received, 168, 8, BL_SZ_8, 0),
    S(bytes_acked, 176, 8, BL_SZ_8, 0),
    { "sk", 184, 8, BL_SZ_8, 0, BL_CTX_SOCKET_OR_NULL, 8, 184 },
    { "skb_data", 192, 8, BL_SZ_8, 0, BL_CTX_PKT, 8, 192 },
    { "skb_data_end", 200, 8, BL_SZ_8, 0, BL_CTX_PKT_END, 8, 200 },
    S(skb_len, 208, 4, BL_SZ_4, 0),
    S(skb_tcp_flags, 212, 4, R32, 0),
    S(skb_hwtstamp, 216, 8, BL_SZ_8, 0),
};
static const uint32_t sock_ops_helpers[] = {
    46, 49, 53, 57, 59, 70, 81, 96, 107, 108, 122, 136, 137, 138, 139, 140, 142, 143, 144, 160,
    178, 196
};
static const char *const sock_ops_sections[] = { "sockops*", "cgroup/sock_ops*", NULL };

const struct bl_prog_type bl_type_sock_ops = {
    .name = "sock_ops", .kernel_type = 13, .sections = sock_ops_sections, .ctx_size = 224,
    .fields = sock_ops_fields, .n_fields = N(sock_ops_fields),
    .helpers = sock_ops_helpers, .n_helpers = N(sock_ops_helpers),
    .ret_check = 1, .ret_min = 0, .ret_max = 1, .packet_ro = 1, .max_packet = 65535,
    .build = BL_BUILD_RAW, .sb_ctx_size = 224,
};

/* struct sk_msg_md: data and data_end are 8-byte pointers in the view,
 * sk (72) the socket */
static const struct bl_ctx_field sk_msg_fields[] = {
    { "data", 0, 8, BL_SZ_8, 0, BL_CTX_PKT, 8, 0 },
    { "data_end", 8, 8, BL_SZ_8, 0, BL_CTX_PKT_END, 8, 8 },
    S(family, 16, 4, R32, 0),
    S(remote_ip4, 20, 4, R32, 0),
    S(local_ip4, 24, 4, R32, 0),
    S(remote_ip6, 28, 16, R32, 0),
    S(local_ip6, 44, 16, R32, 0),
    S(remote_port, 60, 4, R32, 0),
    S(local_port, 64, 4, R32, 0),
    S(size, 68, 4, R32, 0),
    /* the socket the message is sent on: never NULL (PTR_TO_SOCKET) */
    { "sk", 72, 8, BL_SZ_8, 0, BL_CTX_SOCKET, 8, 72 },
};
static const uint32_t sk_msg_helpers[] = {
    60, 61, 62, 63, 71, 90, 91, 107, 108, 122, 136, 137, 138, 139, 140, 160, 178, 196
};
static const char *const sk_msg_sections[] = { "sk_msg*", NULL };

const struct bl_prog_type bl_type_sk_msg = {
    .name = "sk_msg", .kernel_type = 16, .sections = sk_msg_sections, .ctx_size = 80,
    .fields = sk_msg_fields, .n_fields = N(sk_msg_fields),
    .helpers = sk_msg_helpers, .n_helpers = N(sk_msg_helpers), .packet = 1,
    .build = BL_BUILD_NONE, .sb_ctx_size = 80,
};
