/* progtype.c - the registry of program types and the lookups every
 * component shares (section names, helpers, context fields). */
#include <pthread.h>
#include <string.h>

#include "progtype.h"

/* Section names pick the longest matching pattern; by name, the first. */
static const struct bl_prog_type *const types[] = {
    &bl_type_xdp,                /* first: --type xdp is the plain one */
    &bl_type_xdp_devmap,
    &bl_type_sched_cls,
    &bl_type_sched_act,
    &bl_type_socket_filter,
    &bl_type_cgroup_skb,         /* first: --type cgroup_skb is the ingress one */
    &bl_type_cgroup_skb_egress,
    &bl_type_cgroup_sock,
    &bl_type_cgroup_sock_bind4,
    &bl_type_cgroup_sock_bind6,
    &bl_type_sock_addr_connect4, /* first: --type cgroup_sock_addr is connect4 */
    &bl_type_sock_addr_connect6,
    &bl_type_sock_addr_bind4,
    &bl_type_sock_addr_bind6,
    &bl_type_sock_addr_sendmsg4,
    &bl_type_sock_addr_sendmsg6,
    &bl_type_sock_addr_recvmsg4,
    &bl_type_sock_addr_recvmsg6,
    &bl_type_sock_addr_getpeername4,
    &bl_type_sock_addr_getpeername6,
    &bl_type_sock_addr_getsockname4,
    &bl_type_sock_addr_getsockname6,
    &bl_type_cgroup_device,
    &bl_type_sock_ops,
    &bl_type_sk_skb,
    &bl_type_sk_msg,
    &bl_type_lwt_in,
    &bl_type_lwt_out,
    &bl_type_lwt_xmit,
    &bl_type_kprobe,
    &bl_type_tracepoint,
    &bl_type_raw_tracepoint,
    &bl_type_perf_event,
};

const struct bl_prog_type *bl_prog_type_at(size_t index)
{
    return index < sizeof types / sizeof types[0] ? types[index] : NULL;
}

const struct bl_prog_type *bl_prog_type_by_name(const char *name)
{
    for (size_t i = 0; name && i < sizeof types / sizeof types[0]; i++)
        if (strcmp(types[i]->name, name) == 0)
            return types[i];
    return NULL;
}

/* "tc" matches "tc" and "tc/..."; "classifier*" matches any "classifier..." */
static int section_matches(const char *pattern, const char *section)
{
    size_t n = strlen(pattern);
    if (n && pattern[n - 1] == '*')
        return strncmp(pattern, section, n - 1) == 0;
    return strncmp(pattern, section, n) == 0 && (section[n] == '\0' || section[n] == '/');
}

const struct bl_prog_type *bl_prog_type_for_section(const char *section)
{
    if (bl_prog_type_unsupported(section))
        return NULL;
    /* the longest pattern that matches: "cgroup_skb/egress" over "cgroup_skb*" */
    const struct bl_prog_type *best = NULL;
    size_t best_len = 0;
    for (size_t i = 0; section && i < sizeof types / sizeof types[0]; i++)
        for (const char *const *s = types[i]->sections; s && *s; s++)
            if (section_matches(*s, section) && strlen(*s) > best_len) {
                best = types[i];
                best_len = strlen(*s);
            }
    return best;
}

/* Sections of types the kernel has and bpflua does not (libbpf's names):
 * a clear error rather than a guess. */
static const struct {
    const char *pattern, *type;
} unsupported[] = {
    { "fentry*", "tracing" },       { "fexit*", "tracing" },       { "fmod_ret*", "tracing" },
    { "tp_btf*", "tracing" },       { "iter*", "tracing" },        { "freplace*", "ext" },
    { "lsm*", "lsm" },              { "struct_ops*", "struct_ops" }, { "syscall", "syscall" },
    { "sk_lookup*", "sk_lookup" },  { "sk_reuseport*", "sk_reuseport" },
    { "flow_dissector*", "flow_dissector" }, { "lirc_mode2*", "lirc_mode2" },
    { "lwt_seg6local*", "lwt_seg6local" }, { "netfilter*", "netfilter" },
    { "cgroup/sysctl*", "cgroup_sysctl" }, { "cgroup/getsockopt*", "cgroup_sockopt" },
    { "cgroup/setsockopt*", "cgroup_sockopt" }, { "raw_tracepoint.w*", "raw_tracepoint_writable" },
    { "raw_tp.w*", "raw_tracepoint_writable" },
};

const char *bl_prog_type_unsupported(const char *section)
{
    for (size_t i = 0; section && i < sizeof unsupported / sizeof unsupported[0]; i++)
        if (section_matches(unsupported[i].pattern, section))
            return unsupported[i].type;
    return NULL;
}

/* xdp first (what such sections meant before types existed), then the
 * socket-buffer type that allows the most (tc), then plain tracing bytes,
 * then lwt_xmit, whose encapsulation helpers tc lacks (samples/bpf's
 * test_lwt_bpf names its sections after what they test) */
const struct bl_prog_type *const bl_prog_type_guesses[] = {
    &bl_type_xdp, &bl_type_sched_cls, &bl_type_kprobe, &bl_type_lwt_xmit, NULL,
};
const char bl_prog_type_guess_names[] = "xdp, sched_cls, kprobe, lwt_xmit";

/* What every type may call: the helpers the kernel (6.18) allows in every
 * program type, probed id by id (tests/unit/test_helper_types.c checks
 * these tables against the running kernel). Ids without a prototype in
 * stdlib are listed too: they stay refused ("invalid func") until one is
 * written, and then the table is already right. */
static const uint32_t base_helpers[] = {
    1, 2, 3, 5, 6, 7, 8, 12, 14, 15, 16, 17, 22, 25, 35, 37, 42, 55, 80, 87, 88, 89, 93, 94,
    105, 106, 109, 112, 113, 114, 115, 117, 118, 120, 123, 125, 130, 131, 132, 133, 134, 141,
    149, 153, 154, 156, 157, 158, 164, 165, 169, 170, 171, 172, 175, 176, 177, 180, 181, 182,
    194, 195, 197, 198, 199, 200, 201, 202, 203, 208, 209, 210, 211
};

static int allows_listed(const struct bl_prog_type *t, uint32_t id)
{
    for (size_t i = 0; i < sizeof base_helpers / sizeof base_helpers[0]; i++)
        if (base_helpers[i] == id)
            return 1;
    for (uint32_t i = 0; t && i < t->n_helpers; i++)
        if (t->helpers[i] == id)
            return 1;
    return bl_prog_type_config_helper(t, id);
}

/* The verifier asks at every helper call it checks and, for a section that
 * names no type, for each helper the program calls and each type tried:
 * the lists above cost some 400 instructions a question, a bitmap per
 * registered type (built once) a few. Found by the type's address in a
 * small hash table; a type not registered (none today) takes the lists. */
#define N_TYPES (sizeof types / sizeof types[0])
#define ALLOWED_HASH 128
static uint64_t allowed_bits[N_TYPES][BL_KERNEL_HELPER_IDS / 64];
static uint8_t allowed_slot[ALLOWED_HASH]; /* 1 + index into types[], 0 empty */
static pthread_once_t allowed_once = PTHREAD_ONCE_INIT;

static uint32_t type_hash(const struct bl_prog_type *t)
{
    return (uint32_t)(((uintptr_t)t * 0x9e3779b97f4a7c15ull) >> 57) % ALLOWED_HASH;
}

static void set_ids(uint64_t *bits, const uint32_t *ids, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (ids[i] < BL_KERNEL_HELPER_IDS)
            bits[ids[i] / 64] |= 1ull << (ids[i] % 64);
}

static void build_allowed(void)
{
    _Static_assert(N_TYPES < 255 && N_TYPES < ALLOWED_HASH, "hash table too small");
    for (size_t i = 0; i < N_TYPES; i++) {
        const struct bl_prog_type *t = types[i];
        set_ids(allowed_bits[i], base_helpers, sizeof base_helpers / sizeof base_helpers[0]);
        set_ids(allowed_bits[i], t->helpers, t->n_helpers);
        set_ids(allowed_bits[i], t->config_helpers, t->n_config_helpers);
        uint32_t h = type_hash(t);
        while (allowed_slot[h])
            h = (h + 1) % ALLOWED_HASH;
        allowed_slot[h] = (uint8_t)(i + 1);
    }
}

int bl_prog_type_allows(const struct bl_prog_type *t, uint32_t id)
{
    if (t && id < BL_KERNEL_HELPER_IDS) {
        pthread_once(&allowed_once, build_allowed);
        for (uint32_t h = type_hash(t); allowed_slot[h]; h = (h + 1) % ALLOWED_HASH)
            if (types[allowed_slot[h] - 1] == t)
                return (int)(allowed_bits[allowed_slot[h] - 1][id / 64] >> (id % 64) & 1);
    }
    return allows_listed(t, id);
}

int bl_prog_type_config_helper(const struct bl_prog_type *t, uint32_t id)
{
    for (uint32_t i = 0; t && i < t->n_config_helpers; i++)
        if (t->config_helpers[i] == id)
            return 1;
    return 0;
}

const struct bl_ctx_field *bl_ctx_field_at(const struct bl_prog_type *t, int off, int size,
                                           int write)
{
    if (!t || off < 0 || size <= 0 || (uint32_t)off >= t->ctx_size || off % size)
        return NULL;
    for (uint32_t i = 0; i < t->n_fields; i++) {
        const struct bl_ctx_field *f = &t->fields[i];
        if (off < f->off || off >= f->off + f->size)
            continue;
        if (off + size > f->off + f->size)
            return NULL; /* straddles into the next field */
        uint8_t sizes = write ? f->write : f->read;
        int at = (off - f->off) % 4; /* where in its 4-byte element a narrow load starts */
        if (!write && size < 4 && (((sizes & BL_NARROW_START) && at) ||
                                   ((sizes & BL_NARROW_HALF) && at >= 2)))
            return NULL;
        return (sizes & (unsigned)size) ? f : NULL;
    }
    return NULL;
}
