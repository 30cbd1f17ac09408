/* progtype.h - program types as data.
 *
 * One descriptor per program type (core/type_*.c) says everything that
 * differs between types, for every component alike:
 *   - the section names that select it (as libbpf names them, old names too);
 *   - the context the program sees (struct xdp_md, struct __sk_buff, ...):
 *     per field, which access sizes may read or write it, what a load gives
 *     the verifier (a number or a packet pointer), and where the sandbox's
 *     own context struct keeps it (the linker rewrites each ctx access there);
 *   - the helpers the type may call (their prototypes are stdlib's,
 *     bl_helper_find);
 *   - the return-value range the kernel enforces;
 *   - how the sandbox builds a context (from a packet, or raw bytes), and
 *     how the kernel test-runs the type.
 * Adding a type is adding a file and one line in core/progtype.c.
 */
#ifndef BPFLUA_PROGTYPE_H
#define BPFLUA_PROGTYPE_H

#include <stddef.h>
#include <stdint.h>

/* The largest context a tracing type reads (a tracepoint's record). */
#define BL_MAX_RAW_CTX 2048

/* Helper ids below this are the kernel's, allowed per type; ids above are
 * helpers an embedder registered (bpflua_register_helper), allowed in all. */
#define BL_KERNEL_HELPER_IDS 256

/* access-size masks: a field lists the sizes it allows OR'ed together */
#define BL_SZ_1 1u
#define BL_SZ_2 2u
#define BL_SZ_4 4u
#define BL_SZ_8 8u
#define BL_SZ_ANY (BL_SZ_1 | BL_SZ_2 | BL_SZ_4 | BL_SZ_8)
/* with a read mask: narrow (1-, 2-byte) loads only at the first byte of
 * each 4-byte element, or within its first two bytes (struct bpf_sock's
 * fields and dst_port, the kernel's bpf_sock_is_valid_access) */
#define BL_NARROW_START 0x10u
#define BL_NARROW_HALF 0x20u

/* what a ctx load gives the verifier */
enum bl_ctx_kind {
    BL_CTX_SCALAR = 0,   /* a number of the field's size */
    BL_CTX_PKT,          /* the packet's first byte */
    BL_CTX_PKT_END,      /* one past its last byte */
    BL_CTX_PKT_META,     /* the metadata before the packet */
    BL_CTX_SOCKET,       /* a struct bpf_sock * (never NULL; cgroup_sock_addr's sk) */
    BL_CTX_SOCK_COMMON_OR_NULL, /* __sk_buff's sk: a struct bpf_sock * or NULL (the
                                   sandbox's: the test run's socket, struct bl_skb_ctx) */
    BL_CTX_SOCKET_OR_NULL, /* bpf_sock_ops's sk: a full socket or NULL, not a reference
                              (NULL in a sandbox run) */
};

struct bl_ctx_field {
    const char *name;
    uint16_t off;        /* in the program's view */
    uint16_t size;       /* in the program's view */
    uint8_t read;        /* BL_SZ_* allowed for loads (narrow loads read part of it) */
    uint8_t write;       /* BL_SZ_* allowed for stores (0: read-only) */
    uint8_t kind;        /* enum bl_ctx_kind */
    uint8_t sb_size;     /* its size in the sandbox's struct (8 for pointers) */
    uint16_t sb_off;     /* its offset in the sandbox's struct */
};

/* How the sandbox makes the context of a run. */
enum bl_ctx_build {
    BL_BUILD_XDP = 1,    /* struct bl_xdp_ctx over the packet (core/xdp.h) */
    BL_BUILD_SKB,        /* struct bl_skb_ctx over the packet (core/skb.h) */
    BL_BUILD_RAW,        /* the context bytes as given (--ctx FILE): tracing */
    BL_BUILD_NONE,       /* the sandbox cannot run this type (verify only) */
};

struct bl_prog_type {
    const char *name;            /* "sched_cls": --type, and what verify prints */
    uint32_t kernel_type;        /* enum bpf_prog_type */
    uint32_t attach_type;        /* expected_attach_type for the kernel loader (0: none) */
    /* section names: "name" matches exactly or followed by '/'; "name*"
     * matches as a prefix (libbpf's "kprobe/" style is "kprobe") */
    const char *const *sections;

    /* the context in the program's view */
    uint32_t ctx_size;           /* bytes of the view (struct __sk_buff ...) */
    const struct bl_ctx_field *fields; /* sorted by off; NULL with raw_ctx */
    uint32_t n_fields;
    int raw_ctx;                 /* any aligned read inside ctx_size, no rewrite (tracing) */

    /* helpers beyond the ones every type may call (bl_prog_type_allows) */
    const uint32_t *helpers;
    uint32_t n_helpers;
    /* helpers the type may call in kernels configured for them, which the
     * kernel these tables were probed on refuses: probe_write_user (36)
     * where lockdown is off, override_return (58) with
     * CONFIG_BPF_KPROBE_OVERRIDE; samples/bpf and PREVAIL's corpus call
     * them. Allowed too (test_helper_types knows them). */
    const uint32_t *config_helpers;
    uint32_t n_config_helpers;

    int ret_check;               /* the kernel checks R0 at exit against [ret_min, ret_max] */
    int64_t ret_min, ret_max;

    int packet;                  /* the context points to packet data */
    int packet_ro;               /* the packet may be read, not written (cgroup_skb, lwt_in,
                                    lwt_out, sock_ops: the kernel's may_access_direct_pkt_data):
                                    stores and helpers writing into it are refused */
    int ld_abs;                  /* LD_ABS/LD_IND allowed (socket filter and skb types) */
    uint32_t max_packet;         /* the most packet bytes a program sees (data_end - data):
                                    the verifier bounds the length by it, a run shows the
                                    program that much of a longer packet (0: no packet) */

    enum bl_ctx_build build;     /* how the sandbox builds a context */
    uint32_t sb_ctx_size;        /* bytes of the sandbox's context struct */
    int kernel_test_run;         /* BPF_PROG_TEST_RUN works for this type */
};

/* The type a section name selects, or NULL. */
const struct bl_prog_type *bl_prog_type_for_section(const char *section);
/* The kernel's name of a program type a section selects that bpflua does
 * not support (fentry/..., lsm/..., cgroup/connect4, ...), or NULL. */
const char *bl_prog_type_unsupported(const char *section);
/* The types tried, in order, for a program whose section names no type
 * (Cilium's "2/1", OVS's "tail-3", PREVAIL's ".text"): NULL-terminated. */
extern const struct bl_prog_type *const bl_prog_type_guesses[];
/* their names, in that order: "xdp, sched_cls, ..." (messages) */
extern const char bl_prog_type_guess_names[];
/* The type called `name` ("xdp", "sched_cls", ...), or NULL. */
const struct bl_prog_type *bl_prog_type_by_name(const char *name);
/* Every type in turn: index 0, 1, ... until NULL. */
const struct bl_prog_type *bl_prog_type_at(size_t index);
/* 1 if programs of type t may call helper `id`. */
int bl_prog_type_allows(const struct bl_prog_type *t, uint32_t id);
/* 1 if `id` is one of t's config_helpers (allowed by bpflua, as by a
 * kernel built with everything; some kernels refuse it: a config option
 * off, lockdown, or a patched build). */
int bl_prog_type_config_helper(const struct bl_prog_type *t, uint32_t id);
/* The field an access of `size` bytes at `off` touches, or NULL if the
 * access is not allowed (outside the view, straddling fields, a size the
 * field does not take, a store to a read-only field). */
const struct bl_ctx_field *bl_ctx_field_at(const struct bl_prog_type *t, int off, int size,
                                           int write);

/* the types (core/type_*.c) */
extern const struct bl_prog_type bl_type_xdp, bl_type_sched_cls, bl_type_sched_act,
    bl_type_socket_filter, bl_type_cgroup_skb, bl_type_cgroup_sock, bl_type_cgroup_device,
    bl_type_sock_ops, bl_type_sk_skb, bl_type_sk_msg, bl_type_lwt_in, bl_type_lwt_out,
    bl_type_lwt_xmit, bl_type_kprobe, bl_type_tracepoint, bl_type_raw_tracepoint,
    bl_type_perf_event, bl_type_cgroup_skb_egress, bl_type_xdp_devmap, bl_type_cgroup_sock_bind4,
    bl_type_cgroup_sock_bind6,
    bl_type_sock_addr_connect4,
    bl_type_sock_addr_connect6, bl_type_sock_addr_bind4, bl_type_sock_addr_bind6,
    bl_type_sock_addr_sendmsg4, bl_type_sock_addr_sendmsg6, bl_type_sock_addr_recvmsg4,
    bl_type_sock_addr_recvmsg6, bl_type_sock_addr_getpeername4, bl_type_sock_addr_getpeername6,
    bl_type_sock_addr_getsockname4, bl_type_sock_addr_getsockname6;

#endif
