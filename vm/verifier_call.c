/* verifier_call.c - helper calls, callbacks, BPF-to-BPF calls and exits.
 *
 * Helper calls are checked argument by argument against the prototype
 * table (bl_helper_find, the same data the runtime uses). bpf_loop and
 * bpf_for_each_map_elem are the only loops: their callback is verified as
 * a subprogram, once per call-site state, in a new frame with R1 = index
 * (or map, key, value) and the loop context. For that one pass to hold for
 * every iteration, the caller continues from the state at the call, and
 * at the callback's exit the caller's stack must still be subsumed by it.
 * When it is not, the snapshot is joined with the exit state and the
 * callback (and the caller's continuation) verified again from the join,
 * up to a fixpoint (widen_callback); from the second join on a changed
 * number becomes plain bytes, and from the fourth on the whole stack the
 * callback can reach is widened (spilled numbers and known zeros become
 * plain bytes). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "progtype.h"
#include "verifier_state.h"

uint32_t vf_new_id(struct bl_venv *env)
{
    return ++env->id_gen;
}

/* Queues st (consumed). A branch state waits while the other side is
 * walked to its end, so on long programs most of them wait at once: a
 * state with a big stack waits in its compact form (vf_pending_new), which
 * shares unchanged stack slots with the states stored before it and keeps
 * the worklist (and the cache) small. A small state is cheaper kept as is. */
#define PENDING_COMPACT_SLOTS 8
/* ... and only once this many wait: the first few are taken back soon
 * (a branch's other side), and compacting one and taking it back costs
 * about two state copies. 64 (was 16): cilium_big's worklist stays under
 * 64 deep, and compacting 73 of its states was 5% of its verification;
 * the stack-heavy benchmark, whose worklist is hundreds deep, times the
 * same. */
#define PENDING_COMPACT_DEPTH 64

int vf_push_state(struct bl_venv *env, struct bl_vstate *st)
{
    if (env->n_stack == env->cap_stack) {
        /* from the arena (warm, no malloc per verification); the old
         * array stays there until the arena goes */
        uint32_t cap = env->cap_stack ? env->cap_stack * 2 : 64;
        struct bl_pending *ns = vf_arena_alloc(&env->arena, cap * sizeof *ns);
        if (!ns) {
            vf_vstate_free(env, st);
            return -ENOMEM;
        }
        if (env->n_stack)
            memcpy(ns, env->stack, env->n_stack * sizeof *ns);
        env->stack = ns;
        env->cap_stack = cap;
    }
    int slots = 0;
    for (int f = 0; f <= st->curframe; f++)
        slots += st->frames[f]->n_slots;
    struct bl_pending *e = &env->stack[env->n_stack];
    e->full = NULL;
    e->compact = NULL;
    e->cont_of = -1;
    if (slots < PENDING_COMPACT_SLOTS || env->n_stack < PENDING_COMPACT_DEPTH) {
        e->full = st;
    } else {
        e->compact = vf_pending_new(env, st);
        vf_vstate_free(env, st);
        if (!e->compact)
            return -ENOMEM;
    }
    env->n_stack++;
    return 0;
}

static const struct bpflua_helper *find_proto(uint32_t id)
{
    return bl_helper_find(id);
}

int vf_helper_nargs(uint32_t id)
{
    const struct bpflua_helper *h = find_proto(id);
    int n = 0;
    for (int i = 0; h && i < 5; i++)
        if (h->args[i] != BPFLUA_ARG_NONE)
            n = i + 1;
    return n;
}

struct call_meta {
    int map;              /* from the CONST_MAP_PTR argument, or -1 */
    uint32_t func;        /* callback insn */
    int has_func;
    uint32_t release;     /* the reference a release argument passes, 0 none */
    int release_reg;
    uint64_t alloc_size;  /* CONST_ALLOC_SIZE_OR_ZERO */
    struct bl_vlock lock; /* PTR_TO_SPIN_LOCK: the lock it names */
    uint32_t sock_ref;    /* PTR_TO_SOCK_COMMON: the reference the socket belongs to */
    uint64_t msize_max;   /* the largest value of the last CONST_SIZE(_OR_ZERO) argument */
};

/* ---- references ------------------------------------------------------------ */

void vf_ref_drop(struct bl_vstate *st, uint32_t id)
{
    for (uint32_t i = 0; i < st->n_refs; i++)
        if (st->refs[i].id == id) {
            memmove(&st->refs[i], &st->refs[i + 1], (st->n_refs - i - 1) * sizeof st->refs[0]);
            st->n_refs--;
            return;
        }
}

static int acquire_ref(struct bl_venv *env, struct bl_vstate *st, uint32_t *id)
{
    if (st->n_refs == BL_MAX_REFS)
        return vf_reject(env, "more than %d references held at once", BL_MAX_REFS);
    *id = vf_new_id(env);
    st->refs[st->n_refs].id = *id;
    st->refs[st->n_refs].insn = env->cur_insn;
    st->refs[st->n_refs].frame = st->curframe;
    st->n_refs++;
    return 0;
}

/* The innermost callback frame of st, or -1: what a callback acquires it
 * must release, and it may not release what its caller holds (the loop
 * may run it any number of times). */
static int callback_frame(const struct bl_vstate *st)
{
    for (int fi = st->curframe; fi > 0; fi--)
        if (st->frames[fi]->is_callback)
            return fi;
    return -1;
}

/* Releases reference id: every register and spill of it becomes a number
 * (the kernel's release_reference). */
static int release_ref(struct bl_venv *env, struct bl_vstate *st, uint32_t id, int regno)
{
    uint32_t i;
    for (i = 0; i < st->n_refs && st->refs[i].id != id; i++)
        ;
    if (i == st->n_refs)
        return vf_reject(env, "R%d must be referenced when passed to release function", regno);
    int cbf = callback_frame(st);
    if (cbf > 0 && st->refs[i].frame < cbf)
        return vf_reject(env, "R%d: a callback cannot release a reference its caller acquired",
                         regno);
    vf_ref_drop(st, id);
    for (int fi = 0; fi <= st->curframe; fi++) {
        struct bl_frame *f = st->frames[fi];
        for (int r = 0; r < BL_NREGS; r++)
            if (f->regs[r].ref == id)
                mark_reg_unknown(&f->regs[r]);
        for (int sl = 0; sl < f->n_slots; sl++)
            if (f->stack[sl].bytes[0] == SLOT_SPILL && f->stack[sl].spilled.ref == id)
                mark_reg_unknown(&f->stack[sl].spilled);
    }
    return 0;
}

/* At an exit: references still held that the exiting frame must have
 * released (all of them at the program's end; a callback's own). */
static int check_reference_leak(struct bl_venv *env, const struct bl_vstate *st, int from_frame)
{
    for (uint32_t i = 0; i < st->n_refs; i++)
        if (st->refs[i].frame >= from_frame)
            return vf_reject(env, "Unreleased reference id=%u alloc_insn=%u", st->refs[i].id,
                             st->refs[i].insn);
    return 0;
}

/* The kernel's check_map_func_compatibility, both halves: map types only
 * some helpers take, and helpers that take only some map types. */
static int map_takes(uint32_t type, uint32_t helper)
{
    switch (type) {
    case BPFLUA_MAP_PROG_ARRAY:
        return helper == BL_HELPER_TAIL_CALL;
    case BPFLUA_MAP_PERF_EVENT_ARRAY:
        return helper == BL_HELPER_PERF_EVENT_READ || helper == BL_HELPER_PERF_EVENT_OUTPUT ||
               helper == BL_HELPER_PERF_EVENT_READ_VALUE || helper == BL_HELPER_SKB_OUTPUT ||
               helper == BL_HELPER_XDP_OUTPUT;
    case BPFLUA_MAP_RINGBUF:
        return helper == BL_HELPER_RINGBUF_OUTPUT || helper == BL_HELPER_RINGBUF_RESERVE ||
               helper == BL_HELPER_RINGBUF_QUERY;
    case BPFLUA_MAP_STACK_TRACE:
        return helper == BL_HELPER_GET_STACKID;
    case BPFLUA_MAP_ARRAY_OF_MAPS:
    case BPFLUA_MAP_HASH_OF_MAPS:
        return helper == BL_HELPER_MAP_LOOKUP_ELEM;
    case BPFLUA_MAP_DEVMAP:
    case BPFLUA_MAP_DEVMAP_HASH:
    case BPFLUA_MAP_XSKMAP:
        return helper == BL_HELPER_REDIRECT_MAP || helper == BL_HELPER_MAP_LOOKUP_ELEM;
    case BPFLUA_MAP_CPUMAP:
        return helper == BL_HELPER_REDIRECT_MAP;
    case BPFLUA_MAP_QUEUE:
    case BPFLUA_MAP_STACK:
        return helper == BL_HELPER_MAP_PUSH_ELEM || helper == BL_HELPER_MAP_POP_ELEM ||
               helper == BL_HELPER_MAP_PEEK_ELEM;
    case BPFLUA_MAP_CGROUP_ARRAY:
        return helper == 33 || helper == 37; /* skb_under_cgroup, current_task_under_cgroup */
    case BPFLUA_MAP_SOCKMAP: /* (the kernel also allows lookup, typed as a socket) */
        return helper == 52 || helper == 60 || helper == 53 || helper == BL_HELPER_MAP_DELETE_ELEM;
    case BPFLUA_MAP_SOCKHASH:
        return helper == 72 || helper == 71 || helper == 70 || helper == BL_HELPER_MAP_DELETE_ELEM;
    case BPFLUA_MAP_CGROUP_STORAGE:
    case BPFLUA_MAP_PERCPU_CGROUP_STORAGE:
        return helper == BL_HELPER_GET_LOCAL_STORAGE;
    case BPFLUA_MAP_SK_STORAGE:
        return helper == BL_HELPER_SK_STORAGE_GET || helper == BL_HELPER_SK_STORAGE_DELETE;
    }
    switch (helper) {
    case BL_HELPER_TAIL_CALL:
    case BL_HELPER_PERF_EVENT_READ:
    case BL_HELPER_PERF_EVENT_OUTPUT:
    case BL_HELPER_PERF_EVENT_READ_VALUE:
    case BL_HELPER_SKB_OUTPUT:
    case BL_HELPER_XDP_OUTPUT:
    case BL_HELPER_RINGBUF_OUTPUT:
    case BL_HELPER_RINGBUF_RESERVE:
    case BL_HELPER_RINGBUF_QUERY:
    case BL_HELPER_GET_STACKID:
    case BL_HELPER_REDIRECT_MAP:
    case BL_HELPER_MAP_PUSH_ELEM:
    case BL_HELPER_MAP_POP_ELEM:
    case BL_HELPER_MAP_PEEK_ELEM:
    case BL_HELPER_GET_LOCAL_STORAGE:
    case BL_HELPER_SK_STORAGE_GET:
    case BL_HELPER_SK_STORAGE_DELETE:
    case 33: case 37: case 52: case 53: case 60: case 70: case 71: case 72:
        return 0; /* their map types returned above */
    case 195: /* map_lookup_percpu_elem */
        return type == BPFLUA_MAP_PERCPU_ARRAY || type == BPFLUA_MAP_PERCPU_HASH ||
               type == BPFLUA_MAP_LRU_PERCPU_HASH;
    case BL_HELPER_FOR_EACH_MAP_ELEM: /* the types with a map_for_each_callback */
        return type == BPFLUA_MAP_HASH || type == BPFLUA_MAP_LRU_HASH ||
               type == BPFLUA_MAP_PERCPU_HASH || type == BPFLUA_MAP_LRU_PERCPU_HASH ||
               type == BPFLUA_MAP_ARRAY || type == BPFLUA_MAP_PERCPU_ARRAY;
    }
    return 1;
}

static int check_map_compat(struct bl_venv *env, uint32_t helper, const char *name, int map)
{
    uint32_t type = env->obj->maps[map].type;
    if (!map_takes(type, helper))
        return vf_reject(env, "cannot pass map_type %u into func bpf_%s#%u", type, name, helper);
    return 0;
}

/* a size argument: bounds the memory of the argument before it, read or
 * (prev_kind PTR_TO_UNINIT_MEM) written by the helper; NULL memory
 * (PTR_TO_MEM_OR_NULL) needs a size of 0 */
static int check_size_arg(struct bl_venv *env, struct bl_vstate *st, int regno, int zero_ok,
                          enum bpflua_arg_type prev_kind)
{
    const struct bl_reg *r = &cur_frame(st)->regs[regno];
    const struct bl_reg *mem = &cur_frame(st)->regs[regno - 1];
    if (r->type != REG_SCALAR)
        return vf_reject(env, "R%d type=%s expected=scalar", regno, vf_reg_type_str(r->type));
    if (r->smin < 0)
        return vf_reject(env, "R%d min value is negative, either use unsigned index or do a if (index >=0) check.",
                         regno);
    if (r->umin == 0 && !zero_ok)
        return vf_reject(env, "R%d invalid zero-sized read: u64=[%llu,%llu]", regno,
                         (unsigned long long)r->umin, (unsigned long long)r->umax);
    if (r->umax >= (1u << 29))
        return vf_reject(env,
                         "R%d unbounded memory access, use 'var &= const' or 'if (var < const)'",
                         regno);
    if (prev_kind == BPFLUA_ARG_PTR_TO_MEM_OR_NULL && mem->type == REG_SCALAR) {
        if (r->umax != 0)
            return vf_reject(env, "R%d type=scalar expected=fp, pkt, pkt_meta, map_value (NULL "
                             "memory with a nonzero size R%d)", regno - 1, regno);
        return 0;
    }
    if (prev_kind == BPFLUA_ARG_PTR_TO_UNINIT_MEM_OR_NULL && mem->type == REG_SCALAR) {
        if (r->umax != 0)
            return vf_reject(env, "R%d type=scalar expected=fp, pkt, pkt_meta, map_value (NULL "
                             "memory with a nonzero size R%d)", regno - 1, regno);
        return 0;
    }
    return vf_check_mem_region(env, st, regno - 1, r->umax,
                               prev_kind == BPFLUA_ARG_PTR_TO_UNINIT_MEM ||
                               prev_kind == BPFLUA_ARG_PTR_TO_UNINIT_MEM_OR_NULL);
}

/* Byte k of constant memory at r (a read-only map value with its file
 * bytes, or stack slots holding spilled constants, whole or narrow, or
 * known zeros), or -1. */
static int format_byte(struct bl_venv *env, struct bl_vstate *st, const struct bl_reg *r, int64_t k)
{
    int64_t off = r->off + (int64_t)r->var.value + k;
    if (r->type == REG_PTR_TO_MAP_VALUE) {
        const struct bl_map_def *m = &env->obj->maps[r->map];
        if (!m->rdonly_prog || off < 0 || off >= (int64_t)m->data_init_len)
            return -1;
        return m->data_init[off];
    }
    if (r->type != REG_PTR_TO_STACK || off >= 0 || off < -BL_STACK_SIZE)
        return -1;
    const struct bl_frame *f = st->frames[r->frameno];
    int64_t slot = (-off - 1) / 8, byte = off + 8 * (slot + 1);
    if (slot >= f->n_slots)
        return -1;
    const struct bl_slot *s = &f->stack[slot];
    if (s->bytes[byte] == SLOT_NARROW && s->bytes[0] == SLOT_NARROW) {
        /* a leading byte of a narrow spill (bytes up to it all narrow) */
        for (int b = 1; b < byte; b++)
            if (s->bytes[b] != SLOT_NARROW)
                return -1;
        if (s->spilled.type != REG_SCALAR || !tnum_is_const(s->spilled.var))
            return -1;
        return (int)((s->spilled.var.value >> (8 * byte)) & 0xff);
    }
    for (int b = 0; b < 8; b++)
        if (s->bytes[b] != SLOT_SPILL)
            return s->bytes[byte] == SLOT_ZERO ? 0 : -1;
    if (s->spilled.type != REG_SCALAR || !tnum_is_const(s->spilled.var))
        return -1;
    return (int)((s->spilled.var.value >> (8 * byte)) & 0xff);
}

/* A string the kernel's ARG_PTR_TO_CONST_STR takes: in a read-only map
 * value (.rodata), at a known offset, with a NUL before the value ends. */
static int check_const_str(struct bl_venv *env, struct bl_vstate *st, int regno)
{
    const struct bl_reg *r = &cur_frame(st)->regs[regno];
    if (r->type != REG_PTR_TO_MAP_VALUE)
        return vf_reject(env, "R%d type=%s expected=map_value", regno, vf_reg_type_str(r->type));
    const struct bl_map_def *m = &env->obj->maps[r->map];
    if (!m->rdonly_prog)
        return vf_reject(env, "R%d does not point to a readonly map'", regno);
    if (!tnum_is_const(r->var))
        return vf_reject(env, "R%d is not a constant address'", regno);
    int64_t off = r->off + (int64_t)r->var.value;
    if (off < 0 || off >= (int64_t)m->value_size)
        return vf_reject(env, "invalid access to map value, value_size=%u off=%lld size=1",
                         m->value_size, (long long)off);
    for (int64_t k = 0; off + k < (int64_t)m->value_size; k++)
        if (format_byte(env, st, r, k) == 0)
            return 0;
    return vf_reject(env, "string is not zero-terminated");
}

/* bpf_snprintf: the kernel checks the format at load, against the number
 * of u64 arguments R5 gives (a constant multiple of 8, at most 12 of them) */
static int check_snprintf(struct bl_venv *env, struct bl_vstate *st)
{
    const struct bl_reg *fmt = &cur_frame(st)->regs[3], *len = &cur_frame(st)->regs[5];
    if (!reg_is_const(len) || len->var.value % 8 || len->var.value > 12 * 8)
        return vf_reject(env, "R5 (data_len) must be a constant multiple of 8, at most 96");
    char buf[1024];
    int64_t n = 0;
    for (; n < (int64_t)sizeof buf; n++) {
        int c = format_byte(env, st, fmt, n);
        if (c < 0)
            return vf_reject(env, "Invalid format string");
        buf[n] = (char)c;
        if (!c)
            break;
    }
    if (n == (int64_t)sizeof buf)
        return vf_reject(env, "Invalid format string");
    struct bl_strbuf out = {0};
    uint64_t zero[12] = {0};
    int rc = bl_bprintf(&out, buf, (uint32_t)n + 1, zero, (uint32_t)(len->var.value / 8), NULL);
    bl_strbuf_free(&out);
    return rc < 0 ? vf_reject(env, "Invalid format string") : 0;
}

/* How many arguments bpf_trace_printk's format converts ("%%" is none),
 * or -1 when the verifier does not know the format's bytes. */
static int printk_conversions(struct bl_venv *env, struct bl_vstate *st)
{
    const struct bl_reg *fmt = &cur_frame(st)->regs[1], *size = &cur_frame(st)->regs[2];
    if (!reg_is_const(size) || size->var.value > 256 || !tnum_is_const(fmt->var))
        return -1;
    int n = 0;
    for (int64_t k = 0; k < (int64_t)size->var.value; k++) {
        int c = format_byte(env, st, fmt, k);
        if (c < 0)
            return -1;
        if (c == 0)
            break;
        if (c == '%') {
            int next = k + 1 < (int64_t)size->var.value ? format_byte(env, st, fmt, k + 1) : 0;
            if (next < 0)
                return -1;
            if (next == '%')
                k++;
            else
                n++;
        }
    }
    return n;
}

/* An array (or per-CPU array) lookup whose key the verifier knows (a
 * constant on the stack: spilled, or zero bytes) and is below max_entries
 * cannot fail: R0 is the value, not "value or NULL" (as Linux 6.x's
 * const_map_key). bpflua's arrays hand out a value for every index. */
static int const_key_in_array(struct bl_venv *env, struct bl_vstate *st, int map)
{
    const struct bl_reg *key = &cur_frame(st)->regs[2];
    if (map < 0)
        return 0;
    const struct bl_map_def *m = &env->obj->maps[map];
    if ((m->type != BPFLUA_MAP_ARRAY && m->type != BPFLUA_MAP_PERCPU_ARRAY) || m->key_size != 4 ||
        key->type != REG_PTR_TO_STACK || !tnum_is_const(key->var))
        return 0;
    uint32_t k = 0;
    for (int b = 0; b < 4; b++) {
        int c = format_byte(env, st, key, b);
        if (c < 0)
            return 0;
        k |= (uint32_t)c << (8 * b);
    }
    return k < m->max_entries;
}

/* bpf_probe_read*(dst, size, src): the sandbox compares src with the
 * regions the run was given and reads nothing else, so a pointer there
 * (tracing programs pass &ctx->field or a stack address) reaches no host
 * memory and shows its value to nobody */
static int probe_read_source(uint32_t id)
{
    return id == 4 || id == 45 || (id >= 112 && id <= 115);
}

static int check_arg(struct bl_venv *env, struct bl_vstate *st, const struct bpflua_helper *h,
                     int arg, struct call_meta *meta)
{
    int regno = arg + 1, err;
    const struct bl_reg *r = &cur_frame(st)->regs[regno];
    enum bpflua_arg_type kind = h->args[arg];
    if (kind == BPFLUA_ARG_NONE)
        return 0;
    if (h->id == BL_HELPER_TRACE_PRINTK && arg >= 2 &&
        (r->type == REG_NOT_INIT ||
         (reg_is_pointer(r) && printk_conversions(env, st) >= 0 &&
          arg - 2 >= printk_conversions(env, st)))) {
        /* the kernel declares two arguments and passes R3-R5 unchecked;
         * we zero the unwritten ones at the call (aux.zero_args), and
         * pointers the format (when the verifier knows its bytes) has no
         * conversion for: registers clang left a pointer in */
        env->aux[env->cur_insn].zero_args |= (uint8_t)(1u << regno);
        return 0;
    }
    if ((err = vf_check_reg_read(env, st, regno)))
        return err;
    switch (kind) {
    case BPFLUA_ARG_ANYTHING:
        if (reg_is_pointer(r) && !(arg == 2 && probe_read_source(h->id)))
            return vf_reject(env, "R%d leaks addr into helper function", regno);
        return 0;
    case BPFLUA_ARG_CONST_MAP_PTR:
        if (r->type != REG_CONST_PTR_TO_MAP)
            return vf_reject(env, "R%d type=%s expected=map_ptr", regno, vf_reg_type_str(r->type));
        meta->map = (int)r->map;
        return check_map_compat(env, h->id, h->name, meta->map);
    case BPFLUA_ARG_PTR_TO_MAP_VALUE_OR_NULL:
        if (reg_is_const(r) && r->var.value == 0)
            return 0;
        kind = BPFLUA_ARG_PTR_TO_MAP_VALUE;
        /* fall through */
    case BPFLUA_ARG_PTR_TO_MAP_KEY:
    case BPFLUA_ARG_PTR_TO_MAP_VALUE:
    case BPFLUA_ARG_PTR_TO_UNINIT_MAP_VALUE:
        if (meta->map < 0)
            return vf_reject(env, "invalid map_ptr to access map->%s", kind == BPFLUA_ARG_PTR_TO_MAP_KEY ? "key" : "value");
        return vf_check_mem_region(env, st, regno,
                                   kind == BPFLUA_ARG_PTR_TO_MAP_KEY ? env->obj->maps[meta->map].key_size
                                                                  : env->obj->maps[meta->map].value_size,
                                kind == BPFLUA_ARG_PTR_TO_UNINIT_MAP_VALUE);
    case BPFLUA_ARG_PTR_TO_MEM_OR_NULL:
    case BPFLUA_ARG_PTR_TO_UNINIT_MEM_OR_NULL:
        if (reg_is_const(r) && r->var.value == 0)
            return 0; /* NULL: its size must be 0 */
        /* fall through */
    case BPFLUA_ARG_PTR_TO_MEM:
    case BPFLUA_ARG_PTR_TO_UNINIT_MEM:
        if (!reg_is_pointer(r) || r->type == REG_PTR_TO_CTX || r->type == REG_CONST_PTR_TO_MAP)
            return vf_reject(env, "R%d type=%s expected=fp, pkt, pkt_meta, map_key, map_value",
                             regno, vf_reg_type_str(r->type));
        return 0; /* its size argument checks the region */
    case BPFLUA_ARG_CONST_SIZE:
    case BPFLUA_ARG_CONST_SIZE_OR_ZERO:
        meta->msize_max = r->umax;
        return check_size_arg(env, st, regno, kind == BPFLUA_ARG_CONST_SIZE_OR_ZERO,
                              arg ? h->args[arg - 1] : BPFLUA_ARG_NONE);
    case BPFLUA_ARG_PTR_TO_FUNC:
        if (r->type != REG_PTR_TO_FUNC)
            return vf_reject(env, "R%d type=%s expected=func", regno, vf_reg_type_str(r->type));
        meta->func = r->map;
        meta->has_func = 1;
        return 0;
    case BPFLUA_ARG_PTR_TO_STACK_OR_NULL:
        if (r->type == REG_PTR_TO_STACK || (reg_is_const(r) && r->var.value == 0))
            return 0;
        return vf_reject(env, "R%d type=%s expected=fp", regno, vf_reg_type_str(r->type));
    case BPFLUA_ARG_PTR_TO_CTX:
        if (r->type != REG_PTR_TO_CTX || r->off || !tnum_equals_const(r->var, 0))
            return vf_reject(env, "R%d type=%s expected=ctx", regno, vf_reg_type_str(r->type));
        return 0;
    case BPFLUA_ARG_CONST_ALLOC_SIZE_OR_ZERO:
        if (!reg_is_const(r))
            return vf_reject(env, "R%d is not a known constant'", regno);
        meta->alloc_size = r->var.value;
        return 0;
    case BPFLUA_ARG_PTR_TO_ALLOC_MEM_RELEASE:
    case BPFLUA_ARG_PTR_TO_SOCK_RELEASE:
        if (kind == BPFLUA_ARG_PTR_TO_ALLOC_MEM_RELEASE ? r->type != REG_PTR_TO_MEM
            : r->type != REG_PTR_TO_SOCKET && r->type != REG_PTR_TO_SOCK_COMMON)
            return vf_reject(env, "R%d type=%s expected=%s", regno, vf_reg_type_str(r->type),
                             kind == BPFLUA_ARG_PTR_TO_ALLOC_MEM_RELEASE ? "alloc_mem" : "sock");
        if (!r->ref)
            return vf_reject(env, "R%d must be referenced when passed to release function", regno);
        if (r->off || !tnum_equals_const(r->var, 0))
            return vf_reject(env, "R%d must have zero offset when passed to release func", regno);
        meta->release = r->ref;
        meta->release_reg = regno;
        return 0;
    case BPFLUA_ARG_PTR_TO_CONST_STR:
        return check_const_str(env, st, regno);
    case BPFLUA_ARG_PTR_TO_SOCK_COMMON_OR_NULL:
        if (reg_is_const(r) && r->var.value == 0)
            return 0;
        /* fall through */
    case BPFLUA_ARG_PTR_TO_SOCK_COMMON:
        /* a cgroup_sock program's context is its socket: the kernel's
         * bpf_sk_storage_get of that type takes the context instead */
        if (h->id == BL_HELPER_SK_STORAGE_GET && env->prog->type->kernel_type == 9 &&
            r->type == REG_PTR_TO_CTX) {
            if (r->off || !tnum_equals_const(r->var, 0))
                return vf_reject(env, "dereference of modified ctx ptr R%d off=%d disallowed",
                                 regno, r->off);
            return 0;
        }
        if (r->type != REG_PTR_TO_SOCK_COMMON && r->type != REG_PTR_TO_SOCKET &&
            r->type != REG_PTR_TO_TCP_SOCK)
            return vf_reject(env, "R%d type=%s expected=sock_common, sock, tcp_sock", regno,
                             vf_reg_type_str(r->type));
        if (r->off || !tnum_equals_const(r->var, 0))
            return vf_reject(env, "R%d: a socket argument must have zero offset", regno);
        meta->sock_ref = r->ref;
        return 0;
    case BPFLUA_ARG_PTR_TO_INT:
    case BPFLUA_ARG_PTR_TO_LONG: {
        int size = kind == BPFLUA_ARG_PTR_TO_INT ? 4 : 8;
        if (!reg_is_pointer(r) || r->type == REG_PTR_TO_CTX || r->type == REG_CONST_PTR_TO_MAP)
            return vf_reject(env, "R%d type=%s expected=fp, pkt, pkt_meta, map_key, map_value",
                             regno, vf_reg_type_str(r->type));
        if ((((uint64_t)r->off + r->var.value) | r->var.mask) & (uint64_t)(size - 1))
            return vf_reject(env, "misaligned access off %lld size %d",
                             (long long)(r->off + (int64_t)r->var.value), size);
        /* PTR_TO_INT is read (the helper's input) and then written */
        if (kind == BPFLUA_ARG_PTR_TO_INT && (err = vf_check_mem_region(env, st, regno, 4, 0)))
            return err;
        return vf_check_mem_region(env, st, regno, (uint64_t)size, 1);
    }
    case BPFLUA_ARG_PTR_TO_SPIN_LOCK: {
        if (r->type != REG_PTR_TO_MAP_VALUE)
            return vf_reject(env, "R%d type=%s expected=map_value", regno, vf_reg_type_str(r->type));
        const struct bl_map_def *m = &env->obj->maps[r->map];
        if (!m->spin_lock_off)
            return vf_reject(env, "map '%s' has no valid bpf_spin_lock", m->name);
        if (!tnum_is_const(r->var))
            return vf_reject(env, "R%d doesn't have constant offset. bpf_spin_lock has to be at the constant offset", regno);
        int64_t off = r->off + (int64_t)r->var.value;
        if (off != (int64_t)m->spin_lock_off - 1)
            return vf_reject(env, "off %lld doesn't point to 'struct bpf_spin_lock' that is at %u",
                             (long long)off, m->spin_lock_off - 1);
        meta->lock.map = r->map + 1;
        meta->lock.id = r->id;
        return 0;
    }
    default:
        return vf_reject(env, "helper %u has an unsupported argument kind %d", h->id, kind);
    }
}

/* ---- callbacks -------------------------------------------------------------- */

static int grow_cb_entries(struct bl_venv *env)
{
    if (env->n_cb_entries < env->cap_cb_entries)
        return 0;
    uint32_t cap = env->cap_cb_entries ? env->cap_cb_entries * 2 : 16;
    struct bl_vstate **n = realloc(env->cb_entries, cap * sizeof *n);
    if (!n)
        return -ENOMEM;
    env->cb_entries = n;
    struct bl_cb_info *ci = realloc(env->cb_info, cap * sizeof *ci);
    if (!ci)
        return -ENOMEM;
    env->cb_info = ci;
    env->cap_cb_entries = cap;
    return 0;
}

/* Every iteration must start from the same caller stack: forget what one
 * iteration could change (values of spilled scalars, known zeros) in the
 * frames the callback can reach through stack pointers. */
static void widen_reachable_frames(struct bl_vstate *st, const struct bl_reg *ctx)
{
    uint8_t reach[BL_MAX_CALL_DEPTH] = { 0 };
    if (ctx->type == REG_PTR_TO_STACK)
        reach[ctx->frameno] = 1;
    for (int changed = 1; changed;) {
        changed = 0;
        for (int fi = 0; fi <= st->curframe; fi++) {
            if (!reach[fi])
                continue;
            struct bl_frame *f = st->frames[fi];
            for (int s = 0; s < f->n_slots; s++) {
                struct bl_slot *sl = &f->stack[s];
                if (sl->bytes[0] == SLOT_SPILL && sl->spilled.type == REG_PTR_TO_STACK &&
                    !reach[sl->spilled.frameno]) {
                    reach[sl->spilled.frameno] = 1;
                    changed = 1;
                }
            }
        }
    }
    for (int fi = 0; fi <= st->curframe; fi++) {
        if (!reach[fi])
            continue;
        struct bl_frame *f = st->frames[fi];
        for (int s = 0; s < f->n_slots; s++) {
            vf_widen_slot(&f->stack[s]);
        }
    }
}

/* The hint of call site callsite (made when missing), or NULL on ENOMEM */
static struct bl_cb_hint *cb_hint(struct bl_venv *env, uint32_t callsite, int make)
{
    for (uint32_t i = 0; i < env->n_cb_hints; i++)
        if (env->cb_hints[i].callsite == callsite)
            return &env->cb_hints[i];
    if (!make)
        return NULL;
    if (env->n_cb_hints == env->cap_cb_hints) {
        uint32_t cap = env->cap_cb_hints ? env->cap_cb_hints * 2 : 8;
        struct bl_cb_hint *nh = realloc(env->cb_hints, cap * sizeof *nh);
        if (!nh)
            return NULL;
        env->cb_hints = nh;
        env->cap_cb_hints = cap;
    }
    struct bl_cb_hint *h = &env->cb_hints[env->n_cb_hints++];
    memset(h, 0, sizeof *h);
    h->callsite = callsite;
    return h;
}

/* Widens, in the caller frames of st (st->curframe is the caller's), the
 * slots the hint of the call site names: a spilled number or known zeros
 * become plain bytes, as widen_reachable_frames does to every slot. */
static void widen_hinted(struct bl_venv *env, struct bl_vstate *st, uint32_t callsite,
                         const struct bl_reg *ctx)
{
    const struct bl_cb_hint *h = cb_hint(env, callsite, 0);
    if (h && h->all) {
        widen_reachable_frames(st, ctx);
        return;
    }
    for (int r = 0; h && r <= st->curframe; r++) {
        struct bl_frame *f = st->frames[st->curframe - r];
        for (int s = 0; h->changed[r] >> s && s < f->n_slots && s < 64; s++) {
            if (!(h->changed[r] >> s & 1))
                continue;
            vf_widen_slot(&f->stack[s]);
        }
    }
}

static int enter_frame(struct bl_venv *env, struct bl_vstate *st, uint32_t target,
                       uint32_t callsite, struct bl_frame **out)
{
    if (st->curframe + 1 >= BL_MAX_CALL_DEPTH)
        return vf_reject(env, "the call stack of %d frames is too deep", st->curframe + 2);
    int sp = vf_find_subprog(env, target);
    if (sp < 0)
        return vf_reject(env, "call to invalid destination %u", target);
    struct bl_frame *f = vf_frame_new(env);
    if (!f)
        return -ENOMEM;
    f->callsite = callsite;
    f->subprog = (uint32_t)sp;
    mark_reg_ptr(&f->regs[BL_R10], REG_PTR_TO_STACK);
    f->regs[BL_R10].frameno = (uint8_t)(st->curframe + 1);
    st->frames[++st->curframe] = f;
    st->insn = target;
    *out = f;
    return 0;
}

/* Queues the caller's state after its bpf_loop/for_each call at callsite,
 * starting from snapshot snap (the caller frames every iteration starts
 * from, and so also the state after the last one). */
static int push_continuation(struct bl_venv *env, const struct bl_vstate *snap, uint32_t callsite,
                             int32_t entry)
{
    struct bl_vstate *cont = vf_vstate_copy(env, snap);
    if (!cont)
        return -ENOMEM;
    struct bl_frame *cf = cur_frame(cont);
    for (int r = BL_R1; r <= BL_R5; r++)
        mark_reg_not_init(&cf->regs[r]);
    mark_reg_unknown(&cf->regs[BL_R0]);
    cont->insn = callsite + 1;
    int err = vf_push_state(env, cont);
    if (!err)
        env->stack[env->n_stack - 1].cont_of = entry;
    return err;
}

/* ---- widening a callback's snapshot to a fixpoint --------------------------
 *
 * A callback is verified once per snapshot S of the caller frames; each of
 * its exits must leave those frames in a state S subsumes, so that the
 * next iteration starts inside S. When an exit E does not, the snapshot is
 * joined with E (per slot, an upper bound of both: see slot_join) into S',
 * and the callback is verified again from S', and the caller continues
 * from S' too. The snapshots of one call form a chain S0 <= S1 <= ...; an
 * exit subsumed by the chain's latest snapshot needs nothing new (that
 * snapshot is verified, or queued to be). The program is accepted only if
 * every snapshot's every exit is subsumed by a verified snapshot, so each
 * iteration starts inside one, by induction from S0 (which the state at
 * the call is inside). Joins only go up a finite lattice, and the number of
 * rounds is bounded besides. */
#define CB_MAX_ROUNDS 8
#define CB_STRONG_ROUND 2 /* from this widening on, a changed number becomes plain bytes */
#define CB_EAGER_ROUND 4  /* from this one on, everything the callback can reach is widened */

enum { J_INV, J_ZERO, J_MISC, J_PTR };

static int slot_byte_class(const struct bl_slot *sl, int b)
{
    if (sl->bytes[0] == SLOT_SPILL)
        return sl->spilled.type == REG_SCALAR ? J_MISC : J_PTR;
    switch (sl->bytes[b]) {
    case SLOT_INVALID: return J_INV;
    case SLOT_ZERO: return J_ZERO;
    case SLOT_MISC:
    case SLOT_NARROW: return J_MISC; /* a narrow spill is a number's bytes */
    default: return J_PTR; /* a stray spill byte: nothing can be assumed */
    }
}

/* *old becomes an upper bound of *old and *cur: two spilled numbers an
 * unknown spilled number; per byte, zeros and data plain data; a pointer
 * against anything else (or two different pointers) a byte never written,
 * which no later read may use. Returns 0 if the result is not an upper
 * bound of both (it always is: a check of the check). */
static int slot_join(struct bl_slot *old, const struct bl_slot *cur, int strong)
{
    struct bl_slot o = *old, j;
    memset(&j, 0, sizeof j);
    /* strong: two numbers give plain bytes, which also cover a number
     * widened to bytes by a nested loop's snapshot or stored in parts */
    if (!strong && o.bytes[0] == SLOT_SPILL && cur->bytes[0] == SLOT_SPILL &&
        o.spilled.type == REG_SCALAR && cur->spilled.type == REG_SCALAR) {
        memset(j.bytes, SLOT_SPILL, 8);
        mark_reg_unknown(&j.spilled);
        j.spilled.id = 0;
    } else {
        for (int b = 0; b < 8; b++) {
            int oc = slot_byte_class(&o, b), cc = slot_byte_class(cur, b);
            if (oc == J_INV || cc == J_INV || oc == J_PTR || cc == J_PTR)
                j.bytes[b] = SLOT_INVALID;
            else if (oc == J_ZERO && cc == J_ZERO)
                j.bytes[b] = SLOT_ZERO;
            else
                j.bytes[b] = SLOT_MISC;
        }
    }
    if (!vf_slot_safe(&j, &o) || !vf_slot_safe(&j, cur))
        return 0;
    *old = j;
    return 1;
}

/* 1 if old, a spilled map value pointer that may be NULL, covers cur: the
 * same pointer after a null test made in the callback (the map value, or
 * the number 0). That holds when no other register or slot of the
 * snapshot's frames carries old's id, so that nothing else was linked to
 * the test. A callback that tests and uses a nil-able map reference of its
 * caller leaves its slot so in every iteration (the kernel accepts such
 * loops: it keeps both states). */
static int or_null_covers(const struct bl_vstate *snap, int nframes, const struct bl_slot *old,
                          const struct bl_slot *cur)
{
    if (old->bytes[0] != SLOT_SPILL || cur->bytes[0] != SLOT_SPILL ||
        old->spilled.type != REG_PTR_TO_MAP_VALUE_OR_NULL || !old->spilled.id)
        return 0;
    const struct bl_reg *o = &old->spilled, *c = &cur->spilled;
    if (c->type == REG_SCALAR) {
        if (!tnum_is_const(c->var) || c->var.value != 0)
            return 0;
    } else if (c->type == REG_PTR_TO_MAP_VALUE || c->type == REG_PTR_TO_MAP_VALUE_OR_NULL) {
        /* (a maybe-NULL cur may share its id with others: old promises
         * no such link, so it is the more general) */
        struct bl_reg as = *c;
        as.type = REG_PTR_TO_MAP_VALUE_OR_NULL;
        as.id = o->id;
        if (!vf_regsafe(o, &as))
            return 0;
    } else {
        return 0;
    }
    int uses = 0;
    for (int fi = 0; fi < nframes; fi++) {
        const struct bl_frame *f = snap->frames[fi];
        for (int r = 0; r < BL_NREGS; r++)
            uses += f->regs[r].type != REG_SCALAR && f->regs[r].id == o->id;
        for (int k = 0; k < f->n_slots; k++)
            uses += f->stack[k].bytes[0] == SLOT_SPILL && f->stack[k].spilled.type != REG_SCALAR &&
                    f->stack[k].spilled.id == o->id;
    }
    return uses == 1;
}

/* Joins, into *old, a spilled map value pointer (maybe NULL or not) with
 * cur, the same kind of pointer into the same map at the same offset or
 * the number 0: the result is a maybe-NULL pointer with an id of its own,
 * which covers both (or_null_covers). A compiled record variable that is
 * sometimes a map entry and sometimes its own record (slot 0), or that a
 * loop body sets to another lookup of the map, has such a slot. 1 if
 * joined so. */
static int or_null_join(struct bl_venv *env, struct bl_slot *old, const struct bl_slot *cur)
{
    if (old->bytes[0] != SLOT_SPILL || cur->bytes[0] != SLOT_SPILL)
        return 0;
    const struct bl_reg *a = &old->spilled, *b = &cur->spilled;
    const struct bl_reg *p = NULL, *q = NULL;
    int ap = a->type == REG_PTR_TO_MAP_VALUE || a->type == REG_PTR_TO_MAP_VALUE_OR_NULL;
    int bp = b->type == REG_PTR_TO_MAP_VALUE || b->type == REG_PTR_TO_MAP_VALUE_OR_NULL;
    int a0 = a->type == REG_SCALAR && tnum_is_const(a->var) && a->var.value == 0;
    int b0 = b->type == REG_SCALAR && tnum_is_const(b->var) && b->var.value == 0;
    if (ap && bp) {
        p = a;
        q = b;
    } else if (ap && b0) {
        p = a;
    } else if (a0 && bp) {
        p = b;
    } else {
        return 0;
    }
    struct bl_reg j = *p;
    j.type = REG_PTR_TO_MAP_VALUE_OR_NULL;
    j.id = vf_new_id(env);
    j.ref = 0;
    if (q) {
        struct bl_reg k = *q;
        k.type = REG_PTR_TO_MAP_VALUE_OR_NULL;
        k.id = j.id;
        k.ref = 0;
        if (!vf_regsafe(&j, &k) || !vf_regsafe(&k, &j))
            return 0; /* another map, offset or range */
    }
    old->spilled = j;
    return 1;
}

/* 1 if the caller frames of st (at a callback's exit) are subsumed by
 * snap's; else *fi_out and *s_out name the first slot that is not. */
static int exit_subsumed(const struct bl_vstate *snap, const struct bl_vstate *st,
                         int *fi_out, int *s_out)
{
    for (int fi = 0; fi < st->curframe; fi++)
        for (int s = 0; s < BL_STACK_SLOTS; s++)
            if (!vf_slot_safe(frame_slot(snap->frames[fi], s), frame_slot(st->frames[fi], s)) &&
                !or_null_covers(snap, st->curframe, frame_slot(snap->frames[fi], s),
                                frame_slot(st->frames[fi], s))) {
                *fi_out = fi;
                *s_out = s;
                return 0;
            }
    return 1;
}

static int check_callback_call(struct bl_venv *env, struct bl_vstate *st,
                               const struct bpflua_helper *h, const struct call_meta *meta)
{
    struct bl_frame *caller = cur_frame(st);
    uint32_t idx = env->cur_insn, bound;
    int err;
    const struct bl_reg *flags = &caller->regs[BL_R4];
    if (!reg_is_const(flags) || flags->var.value != 0)
        return vf_reject(env, "R4 flags of bpf_%s must be a known 0", h->name);
    if (h->id == BL_HELPER_LOOP) {
        const struct bl_reg *n = &caller->regs[BL_R1];
        bound = n->type == REG_SCALAR ? n->u32max : UINT32_MAX; /* nr_loops is a u32 */
        if (bound > BL_MAX_LOOPS)
            bound = BL_MAX_LOOPS;
    } else {
        bound = env->obj->maps[meta->map].max_entries;
    }
    env->cb_target[idx] = meta->func + 1;
    if (bound > env->aux[idx].loop_bound)
        env->aux[idx].loop_bound = bound;
    env->subprogs[vf_find_subprog(env, meta->func)].is_callback = 1;

    /* the first snapshot is the caller's state as it is: slots the body
     * changes are widened when an exit shows it (widen_callback), so a
     * number the body never writes stays known in every iteration (the
     * kernel keeps it too) */
    struct bl_reg ctx = caller->regs[BL_R3];
    widen_hinted(env, st, idx, &ctx);
    if ((err = grow_cb_entries(env)))
        return err;
    struct bl_vstate *snap = vf_vstate_copy(env, st);
    if (!snap)
        return -ENOMEM;
    int32_t entry = (int32_t)env->n_cb_entries;
    env->cb_entries[env->n_cb_entries++] = snap;

    /* the caller goes on after any number of iterations */
    if ((err = push_continuation(env, st, idx, entry)))
        return err;

    /* and the callback runs once, from that same state */
    struct bl_frame *cb = NULL;
    uint32_t map = caller->regs[BL_R1].map;
    if ((err = enter_frame(env, st, meta->func, idx, &cb)))
        return err;
    cb->is_callback = 1;
    cb->cb_entry = entry;
    if (h->id == BL_HELPER_LOOP) {
        mark_reg_unknown(&cb->regs[BL_R1]);
        cb->regs[BL_R2] = ctx;
    } else {
        mark_reg_ptr(&cb->regs[BL_R1], REG_CONST_PTR_TO_MAP);
        cb->regs[BL_R1].map = map;
        mark_reg_ptr(&cb->regs[BL_R2], REG_PTR_TO_MAP_KEY);
        cb->regs[BL_R2].map = map;
        mark_reg_ptr(&cb->regs[BL_R3], REG_PTR_TO_MAP_VALUE);
        cb->regs[BL_R3].map = map;
        cb->regs[BL_R4] = ctx;
    }
    struct bl_cb_info *ci = &env->cb_info[entry];
    memcpy(ci->args, &cb->regs[BL_R1], sizeof ci->args);
    ci->func = meta->func;
    ci->callsite = idx;
    ci->round = 0;
    ci->next = -1;
    ci->ctx_arg = h->id == BL_HELPER_LOOP ? 1 : 3;
    vf_verbose(env, "callback at insn %u, loop bound %u\n", meta->func, bound);
    return 0;
}

static int is_pkt_pointer(const struct bl_reg *r)
{
    return r->type == REG_PTR_TO_PACKET || r->type == REG_PTR_TO_PACKET_META ||
           r->type == REG_PTR_TO_PACKET_END;
}

/* After a helper that may move the packet (bpf_helper_changes_pkt_data in
 * the kernel) no packet pointer is one any more, in registers or spilled,
 * in any frame: they become unknown numbers, as the kernel's
 * clear_all_pkt_pointers makes them. */
static void forget_pkt_pointers(struct bl_vstate *st)
{
    for (int fi = 0; fi <= st->curframe; fi++) {
        struct bl_frame *f = st->frames[fi];
        for (int r = 0; r < BL_R10; r++) {
            if (is_pkt_pointer(&f->regs[r]))
                mark_reg_unknown(&f->regs[r]);
            else if (f->regs[r].type == REG_SCALAR && f->regs[r].range == BL_PKT_LEN)
                f->regs[r].range = 0; /* the old length */
        }
        for (int sl = 0; sl < f->n_slots; sl++) {
            struct bl_reg *s = &f->stack[sl].spilled;
            if (f->stack[sl].bytes[0] != SLOT_SPILL && f->stack[sl].bytes[0] != SLOT_NARROW)
                continue;
            if (is_pkt_pointer(s))
                mark_reg_unknown(s);
            else if (s->type == REG_SCALAR && s->range == BL_PKT_LEN)
                s->range = 0;
        }
    }
}

/* Helpers whose result is the number of bytes they wrote into their
 * buffer, or an error: bpf_probe_read_str (45), _user_str (114),
 * _kernel_str (115), bpf_get_stack (67), bpf_get_task_stack (141). */
static int returns_length(uint32_t id)
{
    return id == 45 || id == 114 || id == 115 || id == 67 || id == 141;
}

/* As the kernel's do_refine_retval_range: such a result lies in
 * [-MAX_ERRNO, the size argument's largest value], so a program may give it
 * on as the length of what was written (Falco's fillers send a string's
 * length so) once it has tested it positive. */
static void bound_length(struct bl_reg *r, uint64_t size_max)
{
    r->smin = -4095;
    r->smax = (int64_t)size_max;
    r->s32min = -4095;
    r->s32max = (int32_t)size_max;
    vf_reg_bounds_sync(r);
}

static int check_helper_call(struct bl_venv *env, struct bl_vstate *st, const struct bl_insn *insn)
{
    const struct bpflua_helper *h = find_proto((uint32_t)insn->imm);
    struct call_meta meta = { .map = -1 };
    int err;
    if (!h)
        return vf_reject(env, "invalid func unknown#%d", insn->imm);
    if (h->id < BL_KERNEL_HELPER_IDS && !bl_prog_type_allows(env->prog->type, h->id))
        return vf_reject(env, "unknown func bpf_%s#%u (not allowed in %s programs)", h->name,
                         h->id, env->prog->type->name);
    if (st->lock.map && h->id != BL_HELPER_SPIN_UNLOCK)
        return vf_reject(env, "function calls are not allowed while holding a lock");
    for (int a = 0; a < 5; a++)
        if ((err = check_arg(env, st, h, a, &meta)))
            return err;
    if (h->id == 165 /* snprintf */ && (err = check_snprintf(env, st)))
        return err;
    /* its result cannot be an error code, so flags are reserved as 0 */
    if (h->id == BL_HELPER_GET_LOCAL_STORAGE && !(reg_is_const(&cur_frame(st)->regs[BL_R2]) &&
                                                  cur_frame(st)->regs[BL_R2].var.value == 0))
        return vf_reject(env, "get_local_storage() doesn't support non-zero flags");
    /* only now: an argument the helper writes may have grown the frame */
    struct bl_frame *f = cur_frame(st);
    if (h->id == BL_HELPER_TAIL_CALL && st->n_refs)
        return vf_reject(env, "tail_call would lead to reference leak");
    /* from a subprogram it is allowed (chain_depth bounds the stack
     * above it); from a callback the kernel (6.18) refuses it */
    if (h->id == BL_HELPER_TAIL_CALL && callback_frame(st) > 0)
        return vf_reject(env, "bpf_tail_call in a callback is not allowed (the kernel refuses it: "
                         "\"callback unexpected regs\")");
    if (h->id == BL_HELPER_SPIN_LOCK) {
        if (st->lock.map)
            return vf_reject(env, "Locking two bpf_spin_locks are not allowed");
        st->lock = meta.lock;
    } else if (h->id == BL_HELPER_SPIN_UNLOCK) {
        if (!st->lock.map)
            return vf_reject(env, "bpf_spin_unlock without taking a lock");
        if (st->lock.map != meta.lock.map || st->lock.id != meta.lock.id)
            return vf_reject(env, "bpf_spin_unlock of different lock");
        st->lock.map = st->lock.id = 0;
    }
    if (meta.release && (err = release_ref(env, st, meta.release, meta.release_reg)))
        return err;
    if (h->id == BL_HELPER_LOOP || h->id == BL_HELPER_FOR_EACH_MAP_ELEM) {
        if (!meta.has_func || (h->id == BL_HELPER_FOR_EACH_MAP_ELEM && meta.map < 0))
            return vf_reject(env, "bpf_%s needs a callback", h->name);
        return check_callback_call(env, st, h, &meta);
    }
    /* a constant index into an array, and the cgroup's storage, always exist */
    int never_null = (h->id == 1 /* map_lookup_elem */ && const_key_in_array(env, st, meta.map)) ||
                     h->id == BL_HELPER_GET_LOCAL_STORAGE;
    for (int r = BL_R1; r <= BL_R5; r++)
        mark_reg_not_init(&f->regs[r]);
    if (bl_helper_changes_pkt_data(h->id))
        forget_pkt_pointers(st);
    switch (h->ret) {
    case BPFLUA_RET_PTR_TO_MAP_VALUE_OR_NULL:
        if (meta.map < 0)
            return vf_reject(env, "kernel subsystem misconfigured verifier");
        if (env->obj->maps[meta.map].inner_map) {
            /* a map of maps gives an inner map, typed as its template */
            mark_reg_ptr(&f->regs[BL_R0], REG_MAP_PTR_OR_NULL);
            f->regs[BL_R0].map = env->obj->maps[meta.map].inner_map - 1;
        } else if (never_null) {
            mark_reg_ptr(&f->regs[BL_R0], REG_PTR_TO_MAP_VALUE);
            f->regs[BL_R0].map = (uint32_t)meta.map;
            break;
        } else {
            mark_reg_ptr(&f->regs[BL_R0], REG_PTR_TO_MAP_VALUE_OR_NULL);
            f->regs[BL_R0].map = (uint32_t)meta.map;
        }
        f->regs[BL_R0].id = vf_new_id(env);
        break;
    case BPFLUA_RET_VOID:
        if (h->id == BL_HELPER_TAIL_CALL) {
            /* a tail call that fails goes on with its error code in R0
             * (-ENOENT: the sandbox's helper returns it, interpreter and
             * JIT alike). The kernel leaves R0 unreadable; PREVAIL and
             * code written against libbpf's `long bpf_tail_call(...)`
             * return it (README, "kinder than the kernel"). */
            mark_reg_unknown(&f->regs[BL_R0]);
            break;
        }
        mark_reg_not_init(&f->regs[BL_R0]);
        break;
    case BPFLUA_RET_PTR_TO_ALLOC_MEM_OR_NULL:
    case BPFLUA_RET_PTR_TO_SOCKET_OR_NULL:
    case BPFLUA_RET_PTR_TO_SOCK_COMMON_OR_NULL: {
        uint32_t id = 0;
        if ((err = acquire_ref(env, st, &id)))
            return err;
        static const uint8_t types[] = {
            [BPFLUA_RET_PTR_TO_ALLOC_MEM_OR_NULL] = REG_PTR_TO_MEM_OR_NULL,
            [BPFLUA_RET_PTR_TO_SOCKET_OR_NULL] = REG_PTR_TO_SOCKET_OR_NULL,
            [BPFLUA_RET_PTR_TO_SOCK_COMMON_OR_NULL] = REG_PTR_TO_SOCK_COMMON_OR_NULL,
        };
        mark_reg_ptr(&f->regs[BL_R0], (enum bl_reg_type)types[h->ret]);
        f->regs[BL_R0].id = f->regs[BL_R0].ref = id;
        if (h->ret == BPFLUA_RET_PTR_TO_ALLOC_MEM_OR_NULL) {
            if (meta.alloc_size > (1u << 29))
                return vf_reject(env, "R2 size %llu too large", (unsigned long long)meta.alloc_size);
            f->regs[BL_R0].range = (int32_t)meta.alloc_size;
        }
        break;
    }
    case BPFLUA_RET_PTR_TO_FULLSOCK_OR_NULL:
    case BPFLUA_RET_PTR_TO_TCP_SOCK_OR_NULL:
    case BPFLUA_RET_PTR_TO_LISTENER_OR_NULL:
        /* a view of the argument's socket: its own id for the null check
         * (the NULL side releases nothing), the argument's reference for
         * sk_fullsock and tcp_sock (released with it, as the kernel's
         * pointer casts); a listener is not counted */
        mark_reg_ptr(&f->regs[BL_R0], h->ret == BPFLUA_RET_PTR_TO_TCP_SOCK_OR_NULL
                                          ? REG_PTR_TO_TCP_SOCK_OR_NULL
                                          : REG_PTR_TO_SOCKET_OR_NULL);
        f->regs[BL_R0].id = vf_new_id(env);
        f->regs[BL_R0].ref = h->ret == BPFLUA_RET_PTR_TO_LISTENER_OR_NULL ? 0 : meta.sock_ref;
        break;
    default:
        mark_reg_unknown(&f->regs[BL_R0]);
        if (returns_length(h->id))
            bound_length(&f->regs[BL_R0], meta.msize_max);
    }
    return 0;
}

int vf_check_call(struct bl_venv *env, struct bl_vstate **stp, const struct bl_insn *insn)
{
    struct bl_vstate *st = *stp;
    if (insn->src == BL_CALL_HELPER)
        return check_helper_call(env, st, insn);
    if (insn->src != BL_PSEUDO_CALL)
        return vf_reject(env, "unknown opcode %02x", insn->code);

    if (st->lock.map)
        return vf_reject(env, "function calls are not allowed while holding a lock");
    /* BPF-to-BPF: arguments in R1-R5, which the caller loses */
    struct bl_frame *caller = cur_frame(st), *callee = NULL;
    uint32_t target = (uint32_t)((int64_t)env->cur_insn + insn->imm + 1);
    struct bl_reg args[5];
    memcpy(args, &caller->regs[BL_R1], sizeof args);
    for (int r = BL_R1; r <= BL_R5; r++)
        mark_reg_not_init(&caller->regs[r]);
    int err = enter_frame(env, st, target, env->cur_insn, &callee);
    if (err)
        return err;
    memcpy(&callee->regs[BL_R1], args, sizeof args);
    return 0;
}

static int points_into(const struct bl_reg *r, int frameno)
{
    return r->type == REG_PTR_TO_STACK && r->frameno == frameno;
}

/* The rejection of a callback exit that leaves slot s of caller frame fi
 * where no snapshot of the call can cover it. */
static int reject_cb_stack(struct bl_venv *env, int fi, int s)
{
    return vf_reject(env, "callback changes fp-%d of frame %d in a way the next iteration cannot start from",
                     8 * (s + 1), fi);
}

/* A callback exit st, not subsumed by its snapshot (fi, s: the first slot
 * that is not): covered by a later snapshot of the same call, or widens
 * the latest one into a new snapshot from which the callback and the
 * caller's continuation are verified again. 1: this path is done. */
static int widen_callback(struct bl_venv *env, struct bl_vstate *st, int32_t entry, int fi, int s)
{
    int32_t t = entry;
    while (env->cb_info[t].next >= 0)
        t = env->cb_info[t].next;
    if (t != entry && exit_subsumed(env->cb_entries[t], st, &fi, &s))
        return 1; /* that snapshot's callback and continuation are verified too */
    if (env->cb_info[t].round >= CB_MAX_ROUNDS)
        return reject_cb_stack(env, fi, s);
    int err, why_fi = fi, why_s = s;
    if ((err = grow_cb_entries(env)))
        return err;
    const struct bl_vstate *old = env->cb_entries[t];
    struct bl_vstate *snap = vf_vstate_copy(env, old);
    if (!snap)
        return -ENOMEM;
    for (int g = 0; g < st->curframe; g++) {
        struct bl_frame *sf = snap->frames[g];
        /* slots beyond sf->n_slots are never written in old: they subsume anything */
        for (int k = 0; k < sf->n_slots; k++) {
            const struct bl_slot *cur = frame_slot(st->frames[g], k);
            if (vf_slot_safe(&sf->stack[k], cur) || or_null_covers(old, st->curframe, &sf->stack[k], cur))
                continue;
            sf->may_widen |= 1ull << k; /* a join below may make a spill or zeros */
            if (or_null_join(env, &sf->stack[k], cur))
                continue; /* a pointer or 0: not for the hint, which makes bytes of numbers */
            if (!slot_join(&sf->stack[k], cur, env->cb_info[t].round + 1 >= CB_STRONG_ROUND))
                return reject_cb_stack(env, g, k);
            /* remembered for the next time the call site is reached */
            struct bl_cb_hint *h = cb_hint(env, env->cb_info[t].callsite, 1);
            if (!h)
                return -ENOMEM;
            if (k < 64)
                h->changed[st->curframe - 1 - g] |= (uint64_t)1 << k;
        }
    }
    /* from the fourth widening on, everything the body could change goes
     * at once (as all of it did before the first pass, once): the chain
     * stays short whatever the body does */
    if (env->cb_info[t].round + 1 >= CB_EAGER_ROUND) {
        widen_reachable_frames(snap, &env->cb_info[t].args[env->cb_info[t].ctx_arg]);
        struct bl_cb_hint *h = cb_hint(env, env->cb_info[t].callsite, 1);
        if (!h)
            return -ENOMEM;
        h->all = 1;
    }
    if (!exit_subsumed(snap, st, &fi, &s))
        return reject_cb_stack(env, fi, s);
    int32_t n = (int32_t)env->n_cb_entries;
    env->cb_entries[env->n_cb_entries++] = snap;
    struct bl_cb_info *ci = &env->cb_info[n];
    *ci = env->cb_info[t];
    ci->round = env->cb_info[t].round + 1;
    ci->next = -1;
    env->cb_info[t].next = n;
    vf_verbose(env, "callback at insn %u: snapshot widened (round %u; fp-%d of frame %d changed first)\n",
               ci->func, ci->round, 8 * (why_s + 1), why_fi);

    if ((err = push_continuation(env, snap, ci->callsite, n)))
        return err;
    struct bl_vstate *again = vf_vstate_copy(env, snap);
    if (!again)
        return -ENOMEM;
    struct bl_frame *cb = NULL;
    if ((err = enter_frame(env, again, ci->func, ci->callsite, &cb))) {
        vf_vstate_free(env, again);
        return err;
    }
    cb->is_callback = 1;
    cb->cb_entry = n;
    memcpy(&cb->regs[BL_R1], ci->args, sizeof ci->args);
    if ((err = vf_push_state(env, again)))
        return err;
    return 1;
}

int vf_check_exit(struct bl_venv *env, struct bl_vstate *st)
{
    struct bl_frame *f = cur_frame(st);
    struct bl_reg *r0 = &f->regs[BL_R0];
    int err;
    /* a subprogram (void in C) may return without setting R0: the caller
     * gets R0 unwritten, and only reading it is an error (the kernel's
     * prepare_func_exit) */
    if ((st->curframe == 0 || f->is_callback) && (err = vf_check_reg_read(env, st, BL_R0)))
        return err;
    if (st->lock.map)
        return vf_reject(env, "bpf_spin_unlock is missing: BPF_EXIT cannot be used inside bpf_spin_lock-ed region");
    if ((st->curframe == 0 || f->is_callback) &&
        (err = check_reference_leak(env, st, st->curframe)))
        return err;
    if (st->curframe == 0) {
        if (r0->type != REG_SCALAR)
            return vf_reject(env, "At program exit the register R0 is not a known value (%s): a pointer would leak to the host",
                             vf_reg_type_str(r0->type));
        /* the type's range (all are within [0, 3]): the largest value the
         * bounds or the known bits allow must fit */
        const struct bl_prog_type *t = env->prog->type;
        uint64_t hi = r0->umax, bits = r0->var.value | r0->var.mask;
        if (bits < hi)
            hi = bits;
        if (t->ret_check && (hi > (uint64_t)t->ret_max || r0->umin < (uint64_t)t->ret_min))
            return vf_reject(env, "At program exit the register R0 has umin=%llu umax=%llu should have been in [%lld, %lld]",
                             (unsigned long long)r0->umin, (unsigned long long)hi,
                             (long long)t->ret_min, (long long)t->ret_max);
        return 1;
    }
    if (f->is_callback) {
        if (r0->type != REG_SCALAR)
            return vf_reject(env, "At callback return the register R0 is not a known value (%s)",
                             vf_reg_type_str(r0->type));
        if (r0->umax > 1)
            return vf_reject(env, "At callback return the register R0 has smin=%lld smax=%lld should have been in [0, 1]",
                             (long long)r0->smin, (long long)r0->smax);
        int fi, s;
        if (exit_subsumed(env->cb_entries[f->cb_entry], st, &fi, &s))
            return 1; /* the caller's continuation was queued at the call */
        return widen_callback(env, st, f->cb_entry, fi, s);
    }
    /* return to the caller */
    if (points_into(r0, st->curframe))
        return vf_reject(env, "cannot return stack pointer to the caller frame");
    for (int fi = 0; fi < st->curframe; fi++)
        for (int s = 0; s < st->frames[fi]->n_slots; s++)
            if (st->frames[fi]->stack[s].bytes[0] == SLOT_SPILL &&
                points_into(&st->frames[fi]->stack[s].spilled, st->curframe))
                return vf_reject(env, "cannot return stack pointer to the caller frame");
    struct bl_reg ret = *r0;
    uint32_t callsite = f->callsite;
    vf_frame_free(env, f);
    st->frames[st->curframe--] = NULL;
    cur_frame(st)->regs[BL_R0] = ret;
    st->insn = callsite + 1;
    return 0;
}
