/* type_sock_addr.c - cgroup_sock_addr (struct bpf_sock_addr): programs on
 * bind, connect, sendmsg, recvmsg, getpeername and getsockname of a cgroup's
 * sockets (libbpf's "cgroup/connect4" ...; Cilium's socket load balancer).
 * Which fields a program may touch depends on the hook (the kernel's
 * sock_addr_is_valid_access): the IPv4 hooks see user_ip4, the IPv6 ones
 * user_ip6, sendmsg also msg_src_ip4/6; so each hook is its own descriptor,
 * as cgroup_skb's ingress and egress are. Verified, not run (the sandbox
 * has no socket to give `sk`). */
#include "progtype.h"

#define R32 (BL_SZ_1 | BL_SZ_2 | BL_SZ_4)
#define S(name, off, size, rd, wr) { #name, off, size, rd, wr, BL_CTX_SCALAR, size, off }
#define N(a) (uint32_t)(sizeof a / sizeof a[0])
#define ADDR(name, off, size) S(name, off, size, (size) > 4 ? R32 | BL_SZ_8 : R32, \
                                (size) > 4 ? BL_SZ_4 | BL_SZ_8 : BL_SZ_4)

/* user_family 0, user_ip4 4, user_ip6 8, user_port 24, family 28, type 32,
 * protocol 36, msg_src_ip4 40, msg_src_ip6 44, sk 64 (a struct bpf_sock *) */
#define COMMON_HEAD S(user_family, 0, 4, BL_SZ_4, 0)
#define COMMON_TAIL                                                                     \
    ADDR(user_port, 24, 4), S(family, 28, 4, BL_SZ_4, 0), S(type, 32, 4, BL_SZ_4, 0),   \
    S(protocol, 36, 4, BL_SZ_4, 0)
#define SK { "sk", 64, 8, BL_SZ_8, 0, BL_CTX_SOCKET, 8, 64 }

static const struct bl_ctx_field inet4_fields[] = {
    COMMON_HEAD, ADDR(user_ip4, 4, 4), COMMON_TAIL, SK };
static const struct bl_ctx_field send4_fields[] = {
    COMMON_HEAD, ADDR(user_ip4, 4, 4), COMMON_TAIL, ADDR(msg_src_ip4, 40, 4), SK };
static const struct bl_ctx_field inet6_fields[] = {
    COMMON_HEAD, ADDR(user_ip6, 8, 16), COMMON_TAIL, SK };
static const struct bl_ctx_field send6_fields[] = {
    COMMON_HEAD, ADDR(user_ip6, 8, 16), COMMON_TAIL, ADDR(msg_src_ip6, 44, 16), SK };

/* beyond the base set (core/progtype.c), probed on 6.18 per hook: connect
 * may also call bpf_bind (64); connect, bind and sendmsg get/set_retval */
#define ADDR_HELPERS 46, 49, 57, 81, 84, 85, 86, 99, 107, 108, 122, 136, 137, 138, 139, 140, \
    160, 178, 196
static const uint32_t connect_helpers[] = { ADDR_HELPERS, 64, 186, 187 };
static const uint32_t retval_helpers[] = { ADDR_HELPERS, 186, 187 };
static const uint32_t addr_helpers[] = { ADDR_HELPERS };

#define SOCK_ADDR(secs, flds, hlp, at, lo, hi)                                           \
    .name = "cgroup_sock_addr", .kernel_type = 18, .attach_type = at, .sections = secs,   \
    .ctx_size = 72, .fields = flds, .n_fields = N(flds), .helpers = hlp,                  \
    .n_helpers = N(hlp), .ret_check = 1, .ret_min = lo, .ret_max = hi,                    \
    .build = BL_BUILD_NONE

#define HOOK(var, sec, flds, hlp, at, lo, hi)                                            \
    static const char *const var##_sections[] = { sec, NULL };                            \
    const struct bl_prog_type var = { SOCK_ADDR(var##_sections, flds, hlp, at, lo, hi) };

/* attach types (enum bpf_attach_type) and the return ranges the kernel checks */
HOOK(bl_type_sock_addr_connect4, "cgroup/connect4", inet4_fields, connect_helpers, 10, 0, 1)
HOOK(bl_type_sock_addr_connect6, "cgroup/connect6", inet6_fields, connect_helpers, 11, 0, 1)
HOOK(bl_type_sock_addr_bind4, "cgroup/bind4", inet4_fields, retval_helpers, 8, 0, 3)
HOOK(bl_type_sock_addr_bind6, "cgroup/bind6", inet6_fields, retval_helpers, 9, 0, 3)
HOOK(bl_type_sock_addr_sendmsg4, "cgroup/sendmsg4", send4_fields, retval_helpers, 14, 0, 1)
HOOK(bl_type_sock_addr_sendmsg6, "cgroup/sendmsg6", send6_fields, retval_helpers, 15, 0, 1)
HOOK(bl_type_sock_addr_recvmsg4, "cgroup/recvmsg4", inet4_fields, addr_helpers, 19, 1, 1)
HOOK(bl_type_sock_addr_recvmsg6, "cgroup/recvmsg6", inet6_fields, addr_helpers, 20, 1, 1)
HOOK(bl_type_sock_addr_getpeername4, "cgroup/getpeername4", inet4_fields, addr_helpers, 29, 1, 1)
HOOK(bl_type_sock_addr_getpeername6, "cgroup/getpeername6", inet6_fields, addr_helpers, 30, 1, 1)
HOOK(bl_type_sock_addr_getsockname4, "cgroup/getsockname4", inet4_fields, addr_helpers, 31, 1, 1)
HOOK(bl_type_sock_addr_getsockname6, "cgroup/getsockname6", inet6_fields, addr_helpers, 32, 1, 1)
