/* helpers.h - helper functions by kernel id, and the run environment.
 *
 * A helper is called with R1-R5 and the run environment, and returns R0:
 *   uint64_t fn(r1, r2, r3, r4, r5, env)
 * which on x86-64 is exactly the SysV argument order, so the JIT calls
 * helpers directly. The prototypes are data (struct bpflua_helper in
 * bpflua.h) read by the verifier and by the compiler's helper list.
 */
#ifndef BPFLUA_HELPERS_H
#define BPFLUA_HELPERS_H

#include <stddef.h>
#include <stdint.h>

#include "bpflua.h"

enum {
    BL_HELPER_MAP_LOOKUP_ELEM = 1,
    BL_HELPER_MAP_UPDATE_ELEM = 2,
    BL_HELPER_MAP_DELETE_ELEM = 3,
    BL_HELPER_KTIME_GET_NS = 5,
    BL_HELPER_TRACE_PRINTK = 6,
    BL_HELPER_GET_PRANDOM_U32 = 7,
    BL_HELPER_GET_SMP_PROCESSOR_ID = 8,
    BL_HELPER_PROBE_READ = 4,
    BL_HELPER_TAIL_CALL = 12,
    BL_HELPER_GET_CURRENT_PID_TGID = 14,
    BL_HELPER_GET_CURRENT_UID_GID = 15,
    BL_HELPER_GET_CURRENT_COMM = 16,
    BL_HELPER_PERF_EVENT_READ = 22,
    BL_HELPER_PERF_EVENT_OUTPUT = 25,
    BL_HELPER_GET_STACKID = 27,
    BL_HELPER_CSUM_DIFF = 28,
    BL_HELPER_GET_NUMA_NODE_ID = 42,
    BL_HELPER_PROBE_READ_STR = 45,
    BL_HELPER_REDIRECT_MAP = 51,
    BL_HELPER_PERF_EVENT_READ_VALUE = 55,
    BL_HELPER_SK_LOOKUP_TCP = 84,
    BL_HELPER_SK_LOOKUP_UDP = 85,
    BL_HELPER_SK_RELEASE = 86,
    BL_HELPER_MAP_PUSH_ELEM = 87,
    BL_HELPER_MAP_POP_ELEM = 88,
    BL_HELPER_MAP_PEEK_ELEM = 89,
    BL_HELPER_SPIN_LOCK = 93,
    BL_HELPER_SPIN_UNLOCK = 94,
    BL_HELPER_GET_LOCAL_STORAGE = 81,
    BL_HELPER_SKC_LOOKUP_TCP = 99,
    BL_HELPER_SK_STORAGE_GET = 107,
    BL_HELPER_SK_STORAGE_DELETE = 108,
    BL_HELPER_SKB_OUTPUT = 111,
    BL_HELPER_PROBE_READ_USER = 112,
    BL_HELPER_PROBE_READ_KERNEL = 113,
    BL_HELPER_PROBE_READ_USER_STR = 114,
    BL_HELPER_PROBE_READ_KERNEL_STR = 115,
    BL_HELPER_XDP_OUTPUT = 121,
    BL_HELPER_KTIME_GET_BOOT_NS = 125,
    BL_HELPER_RINGBUF_OUTPUT = 130,
    BL_HELPER_RINGBUF_RESERVE = 131,
    BL_HELPER_RINGBUF_SUBMIT = 132,
    BL_HELPER_RINGBUF_DISCARD = 133,
    BL_HELPER_RINGBUF_QUERY = 134,
    BL_HELPER_KTIME_GET_COARSE_NS = 160,
    BL_HELPER_FOR_EACH_MAP_ELEM = 164,
    BL_HELPER_LOOP = 181,
};

/* What a running program's helpers can reach. The engine (interpreter or
 * JIT) fills it in before a run. */
struct bpflua_run_env {
    struct bpflua_object *obj;
    /* Calls a callback value (what a BL_PSEUDO_FUNC lddw produced in this
     * engine) with five arguments in a fresh frame; returns its R0. */
    uint64_t (*call)(struct bpflua_run_env *env, uint64_t fn,
                     uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5);
    void *engine;            /* the engine's own state */
    int fault;               /* set nonzero by an engine to end the run with verdict 0 */
    /* bpf_tail_call: the program (index + 1) that replaces the running one,
     * which then ends as a fault does; the runner starts it (vm/run.c) */
    uint32_t tail_prog, tail_calls;
    uint64_t redirect_key;   /* bpf_redirect(_map): key or ifindex + 1 of the last redirect */
    uint32_t prog_type;      /* enum bpf_prog_type of the run (redirect's verdicts), 0 unknown */
    int packet_ctx;          /* the context starts with the packet's data, data_end (the
                              * descriptor builds XDP or socket-buffer contexts) */
    const struct bpflua_mem_region *mem; /* what probe_read may read */
    size_t n_mem;
};

/* The prototype of helper `id`, or NULL if there is none. */
const struct bpflua_helper *bl_helper_find(uint32_t id);
/* 1 if helper `id` may move or resize the packet (the verifier then
 * forgets every packet pointer), as the kernel's bpf_helper_changes_pkt_data. */
int bl_helper_changes_pkt_data(uint32_t id);
/* Every helper in turn (built-ins, then registered ones): index 0, 1, ...
 * until NULL. For listings (the compiler's helper names, docs). */
const struct bpflua_helper *bl_helper_at(size_t index);

/* Seeds bpf_get_prandom_u32 for the calling thread (tests, reproducible
 * runs); unseeded, it seeds itself from the clock. */
void bl_prandom_seed(uint64_t seed);

struct bl_strbuf;
/* bpf_trace_printk's formatting (stdlib/printk.c): appends the formatted
 * text to out; returns its length or -EINVAL for a format the kernel would
 * refuse (see printk.c). */
int bl_printk_format(struct bl_strbuf *out, const char *fmt, uint32_t fmt_size,
                     const uint64_t args[3]);
/* The helper's body: formats, appends one line to trace (may be NULL),
 * returns the formatted length or a negative errno. */
int bl_trace_printk(struct bl_strbuf *trace, const char *fmt, uint32_t fmt_size,
                    const uint64_t args[3]);
/* bpf_snprintf's and bpf_trace_vprintk's formatting (printk.c): at most
 * n_args (<= 12) conversions from args, also %s, %pks, %pus, %pI4/%pi4,
 * %pI6/%pi6, which read only memory the run was given (env->mem; env may
 * be NULL: nothing given). The formatted length or -EINVAL. */
int bl_bprintf(struct bl_strbuf *out, const char *fmt, uint32_t fmt_size, const uint64_t *args,
               uint32_t n_args, const struct bpflua_run_env *env);
/* bl_trace_printk with bl_bprintf's rules when deref (bpf_trace_vprintk) */
int bl_trace_bprintf(struct bl_strbuf *trace, const char *fmt, uint32_t fmt_size,
                     const uint64_t *args, uint32_t n_args, const struct bpflua_run_env *env,
                     int deref);

#endif
