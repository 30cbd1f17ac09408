/* verifier_state.h - the verifier's abstract state, in layers (internal).
 *
 *   struct bl_reg     one register: a type, and for scalars (and pointer
 *                     offsets) a tnum with signed/unsigned 64/32-bit bounds
 *   struct bl_frame   one function's registers R0-R10 and its stack slots
 *                     (8 bytes each, allocated as deep as the function writes)
 *   struct bl_vstate  the call stack of frames (at most 8) at one insn
 *
 * and struct bl_venv, the verification of one program: the worklist of
 * branch states still to explore and the states already explored at each
 * prune point. Shared by the verifier_*.c files only.
 */
#ifndef BPFLUA_VERIFIER_STATE_H
#define BPFLUA_VERIFIER_STATE_H

#include <stdint.h>
#include <string.h>

#include "object.h"
#include "tnum.h"
#include "verifier.h"

enum bl_reg_type {
    REG_NOT_INIT = 0,
    REG_SCALAR,
    REG_PTR_TO_CTX,
    REG_PTR_TO_STACK,       /* frameno: which frame's stack */
    REG_PTR_TO_PACKET,      /* range: bytes proven readable from the base */
    REG_PTR_TO_PACKET_META,
    REG_PTR_TO_PACKET_END,
    REG_CONST_PTR_TO_MAP,   /* map: index into obj->maps */
    REG_PTR_TO_MAP_VALUE,   /* map */
    REG_PTR_TO_MAP_VALUE_OR_NULL,
    REG_PTR_TO_MAP_KEY,     /* for_each_map_elem callback's key, read-only */
    REG_PTR_TO_FUNC,        /* map: the callback's first insn */
    REG_MAP_PTR_OR_NULL,    /* map: the inner template; a map of maps' lookup */
    /* references (ref: the id the state's refs[] holds until released) */
    REG_PTR_TO_MEM,         /* range: bytes of a ring buffer record */
    REG_PTR_TO_MEM_OR_NULL,
    REG_PTR_TO_SOCKET,      /* struct bpf_sock, read-only */
    REG_PTR_TO_SOCKET_OR_NULL,
    REG_PTR_TO_SOCK_COMMON, /* struct bpf_sock, its sock_common part */
    REG_PTR_TO_SOCK_COMMON_OR_NULL,
    REG_PTR_TO_TCP_SOCK,    /* struct bpf_tcp_sock, read-only (bpf_tcp_sock) */
    REG_PTR_TO_TCP_SOCK_OR_NULL,
};

struct bl_reg {
    uint8_t type;           /* enum bl_reg_type */
    uint8_t frameno;
    uint8_t pad0[2];        /* explicit, always 0: registers compare byte for byte */
    int32_t off;            /* pointers: the fixed part of the offset */
    struct tnum var;        /* scalars: the value; pointers: variable offset */
    int64_t smin, smax;
    uint64_t umin, umax;
    int32_t s32min, s32max;
    uint32_t u32min, u32max;
    uint32_t id;            /* copies share it: null checks, packet ranges, scalar links */
    uint32_t map;           /* map index, or callback insn */
    int32_t range;          /* packet pointers; bytes of PTR_TO_MEM */
    uint32_t ref;           /* the reference it belongs to (ringbuf record, socket), 0 none */
};

enum bl_slot_type {
    SLOT_INVALID = 0,       /* never written */
    SLOT_MISC,              /* some initialised bytes */
    SLOT_ZERO,              /* known zero bytes */
    SLOT_SPILL,             /* part of a spilled register */
    /* byte b of a scalar spilled in fewer than 8 bytes at the slot's start
     * (`spilled`, as the kernel's narrow spill): a fill of the first n
     * bytes, all of them SLOT_NARROW, gives back spilled's low n bytes.
     * Any other write of the byte makes it SLOT_MISC. 7: both low bits
     * set, so the word tests that look for spill bytes find these too,
     * and bit 1 (vf_slot_may_widen) */
    SLOT_NARROW = 7,
};

#define BL_STACK_SLOTS (BL_STACK_SIZE / 8)

struct bl_slot {
    uint8_t bytes[8];       /* enum bl_slot_type per byte, [0] = lowest address */
    struct bl_reg spilled;  /* when all 8 bytes are SLOT_SPILL, or bytes[0] is SLOT_NARROW */
};

struct bl_frame {
    struct bl_reg regs[BL_NREGS];
    uint32_t callsite;      /* insn of the call that made this frame (caller's) */
    uint32_t subprog;       /* index into env->subprogs */
    int32_t cb_entry;       /* callback frames: index of the caller snapshot, else -1 */
    uint8_t is_callback;
    uint16_t n_slots;       /* slots in stack[]; deeper ones are all SLOT_INVALID */
    /* slots that may hold a known zero or a spill (bit i: stack[i]), the
     * only ones vf_widen_slot can change: set by every write through
     * slot_at and every join that makes one; a clear bit is a promise the
     * dead-slot widening at prune points relies on to skip the slot */
    uint64_t may_widen;
    /* slot i covers fp-8*(i+1) .. fp-8*i-1; only as deep as the function
     * writes, so copying and comparing states costs what the stack uses */
    struct bl_slot stack[];
};

/* References a path holds (a reserved ring buffer record, a socket from a
 * lookup): each must be released (submit/discard, sk_release) or found
 * NULL on every path before the program exits, as the kernel's
 * acquired_refs. At most BL_MAX_REFS at once. */
#define BL_MAX_REFS 16
struct bl_vref {
    uint32_t id;            /* the registers' ref */
    uint32_t insn;          /* the call that acquired it (for the message) */
    int32_t frame;          /* the frame that acquired it (callbacks must release theirs) */
};

struct bl_vlock {
    uint32_t map;           /* 1 + map index of the held bpf_spin_lock, 0 none */
    uint32_t id;            /* the map value pointer's id */
};

struct bl_vstate {
    struct bl_frame *frames[BL_MAX_CALL_DEPTH];
    int curframe;
    uint32_t insn;
    struct bl_vlock lock;
    uint32_t n_refs;
    struct bl_vref refs[BL_MAX_REFS];
};

/* One explored state kept at a prune point, in a compact form: most of a
 * frame is registers (11 x 88 bytes) and at a prune point most of them are
 * dead (vf_clean_dead_regs made them NOT_INIT) or scalars whose value no
 * longer matters (not in vlive). Only the others are stored; for the
 * second kind only the fact "a scalar" is kept, which is all that
 * vf_states_equal() looks at for them (it skips their ranges). Explored
 * states are kept by the thousand, so this is most of the verifier's
 * memory: storing a third of it keeps big programs in the caches. */
struct bl_cframe {
    uint32_t callsite, subprog;
    int32_t cb_entry;
    uint16_t reg_mask;      /* registers stored in regs[], in register order */
    uint16_t any_scalar;    /* scalars stored without their value (current frame only) */
    uint16_t n_slots;
    uint8_t n_regs;         /* popcount(reg_mask) */
    uint8_t is_callback;
    struct bl_reg regs[];   /* n_regs registers, then n_slots pointers to struct bl_slot */
};

struct bl_seen_state {
    struct bl_seen_state *next;
    int curframe;
    uint32_t insn;
    uint32_t size;          /* bytes of the block (pending states: for the free list) */
    struct bl_vlock lock;
    uint32_t n_refs;
    struct bl_vref *refs;   /* n_refs, in the same block (NULL when none) */
    struct bl_cframe *frames[BL_MAX_CALL_DEPTH];
};

/* A worklist entry: the state itself, or (when its stack is big) its
 * compact form, see vf_push_state(). */
struct bl_pending {
    struct bl_vstate *full;
    struct bl_seen_state *compact;
    int32_t cont_of;        /* a caller's continuation after the callback of this
                             * snapshot (cb_entries index), or -1 */
};

/* What re-verifying a callback from a wider snapshot needs (see
 * vf_check_exit): the callback frame's argument registers, its first insn,
 * the call insn, and how many times the snapshot was widened. */
struct bl_cb_info {
    struct bl_reg args[4];  /* R1-R4 of the callback frame */
    uint32_t func, callsite;
    uint32_t round;         /* widenings since the call's first snapshot */
    uint8_t ctx_arg;        /* which of args is the loop context (R2 or R4) */
    int32_t next;           /* the snapshot this one was widened into, or -1 */
};

struct bl_subprog {
    uint32_t start, end;    /* [start, end) */
    uint32_t stack_depth;   /* deepest stack byte touched */
    uint8_t is_callback;
};

/* Where one verification's states live: chunks carved by a bump pointer,
 * freed frames and vstates kept on free lists (frames by slot count, so a
 * reused block always has the right size) and handed out again first. The
 * worklist's states come and go constantly; with the lists they cycle
 * through the same few hot blocks instead of malloc and fresh pages. The
 * per-insn tables of the verification come from it too. The whole arena
 * is released at the end of the verification, its chunks into a small
 * cache that the next verification in the process starts from. */
#define ARENA_PENDING_CLASSES 1024

struct bl_arena_chunk {
    struct bl_arena_chunk *next;
    size_t size;
    int mapped;             /* from mmap (else malloc) */
    _Alignas(16) unsigned char data[];
};

struct bl_arena {
    struct bl_arena_chunk *chunks;
    unsigned char *cur, *end;   /* free part of the newest chunk */
    void *free_frames[BL_STACK_SLOTS + 1];
    void *free_vstates;
    size_t chunk_bytes;         /* total of the chunks (tests, stats) */
    uint64_t n_alloc, n_reused; /* blocks handed out, of them from a free list */
    /* pending states by size / 16; only [0, pending_hi) is valid, so a
     * verification need not clear 8 KiB it mostly never uses (last member:
     * vf_arena_release and the verifier zero what comes before it) */
    uint32_t pending_hi;
    void *free_pending[ARENA_PENDING_CLASSES];
};

void *vf_arena_alloc_slow(struct bl_arena *a, size_t size);
/* size bytes (16-byte aligned) from the arena; NULL when out of memory.
 * The bump of the pointer inline, a new chunk out of line. */
static inline void *vf_arena_alloc(struct bl_arena *a, size_t size)
{
    size = (size + 15) & ~(size_t)15;
    if ((size_t)(a->end - a->cur) < size)
        return vf_arena_alloc_slow(a, size);
    void *p = a->cur;
    a->cur += size;
    a->n_alloc++;
    return p;
}
/* Zeroed, for n elements of size bytes (NULL on overflow). */
void *vf_arena_calloc(struct bl_arena *a, size_t n, size_t size);
/* One block cut into n tables, *tabs[i] of bytes[i] bytes (each 16-byte
 * aligned), zeroed when `zero`: the tables of one verification in one
 * allocation (a small program pays for each call). 0 or -ENOMEM. */
int vf_arena_tables(struct bl_arena *a, int zero, int n, void **tabs[], const size_t bytes[]);
/* Gives the chunks back: to the process-wide cache (up to 16 MiB, for the
 * next verification) or to free(). */
void vf_arena_release(struct bl_arena *a);
/* Frees the cache (tests, and embedders that want the memory back). */
void vf_arena_trim_cache(void);
size_t vf_arena_cached_bytes(void);

struct bl_venv {
    bpflua_object *obj;
    struct bl_prog *prog;
    const struct bl_insn *insns;
    uint32_t n_insns;
    struct bl_insn_aux *aux;
    int log_level;
    struct bl_strbuf *log;
    char *error;            /* the first rejection message (no "at insn") */
    uint32_t error_insn;

    struct bl_subprog *subprogs;
    uint32_t n_subprogs;
    uint16_t *live;         /* per insn: registers read before written (bit i = Ri) */
    uint16_t *vlive;        /* per insn: registers whose value may still matter */
    uint16_t *flive;        /* per insn: registers whose value is kept at a prune point;
                             * other scalars are forgotten (vf_compute_forget) */
    uint64_t *slive;        /* per insn: stack slots of the current frame kept likewise */
    int forget_ready;       /* flive/slive computed (at the first prune point) */
    uint8_t *prune_point;
    /* insns and prune points walked since a state was last stored, over the
     * whole walk as the kernel counts them (not from each popped branch: a
     * branch that starts at a prune point would never store its first
     * state there, and a chain of lookups whose NULL sides all jump to one
     * label would walk that label once per branch) */
    uint32_t insns_since_store, jmps_since_store;
    uint8_t *base_kind;     /* per insn: 1 ctx, 2 other memory (ctx loads are rewritten) */
    uint32_t *calls;        /* pseudo calls and callback lddws, in insn order */
    uint32_t n_calls;
    int local_calls;        /* some call is not a helper's (a subprogram, a kfunc) */
    uint32_t (*succ)[2];    /* per insn: its successors inside its function */
    uint8_t *n_succ;        /* per insn: how many (0 exit, 1, 2 cond jump) */
    uint32_t *postorder;    /* insns, successors first (within each function) */
    uint32_t n_postorder;
    struct bl_seen_state **seen; /* per insn */
    uint32_t *n_seen;

    struct bl_pending *stack; /* worklist of branch states */
    uint32_t n_stack, cap_stack;

    struct bl_vstate **cb_entries; /* caller snapshots for callback exits */
    struct bl_cb_info *cb_info;    /* per snapshot: how to start its callback again */
    uint32_t *cb_target;    /* per insn: 1 + callback start of a bpf_loop/for_each call */
    uint32_t *root_begin, *root_end; /* per subprog: its slice of postorder */
    uint32_t n_cb_entries, cap_cb_entries;
    /* per bpf_loop/for_each call site: the caller-stack slots its callback
     * was seen to change (bit s of frame curframe - r in changed[r]), widened
     * at once when the site is reached again (a nested loop's site is
     * reached once per snapshot of the outer loop) */
    struct bl_cb_hint {
        uint32_t callsite;
        uint8_t all;        /* the callback needed the whole stack widened */
        uint64_t changed[BL_MAX_CALL_DEPTH];
    } *cb_hints;
    uint32_t n_cb_hints, cap_cb_hints;

    uint32_t id_gen;
    uint64_t insn_processed;
    uint32_t cur_insn;

    /* Last, and not cleared when a verification starts: everything from
     * arena.free_pending on is valid only below its high-water mark
     * (arena.pending_hi, last_slot_n), which start at 0. Clearing these
     * 12 KiB was a third of the time of a 20-insn program. */
    uint8_t last_slot_n[BL_MAX_CALL_DEPTH];
    struct bl_arena arena;  /* every bl_vstate and bl_frame of this verification */
    /* per frame depth and slot: the slot an explored state stored last */
    const struct bl_slot *last_slot[BL_MAX_CALL_DEPTH][BL_STACK_SLOTS];
};

#define BL_COMPLEXITY_LIMIT 1000000

/* A scalar whose range field is BL_PKT_LEN is exactly data_end - data (of
 * the packet as it is: helpers that move the packet drop the mark, any
 * ALU on it too). A branch that bounds it below by K proves the packet
 * has K bytes, so every packet pointer at a fixed offset from data may
 * read below K (PREVAIL's packet_size; the kernel learns it only from
 * comparing pointers): `if (data_end - data < 14) return; eth->h_proto`. */
#define BL_PKT_LEN (-1)

/* verifier_log.c */
void vf_verbose(struct bl_venv *env, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Records the rejection (first one wins) and returns -EACCES. */
int vf_reject(struct bl_venv *env, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *vf_reg_type_str(enum bl_reg_type t);
void vf_log_state(struct bl_venv *env, const struct bl_vstate *st);
void vf_log_insn(struct bl_venv *env, uint32_t idx, const struct bl_insn *insn);

/* verifier_state.c */
/* States and frames come from env->arena and go back to it. */
struct bl_vstate *vf_vstate_new(struct bl_venv *env);
struct bl_vstate *vf_vstate_copy(struct bl_venv *env, const struct bl_vstate *st);
void vf_vstate_free(struct bl_venv *env, struct bl_vstate *st);
struct bl_frame *vf_frame_new(struct bl_venv *env);
void vf_frame_free(struct bl_venv *env, struct bl_frame *f);
static inline struct bl_frame *cur_frame(const struct bl_vstate *st)
{
    return st->frames[st->curframe];
}
extern const struct bl_slot bl_invalid_slot; /* all SLOT_INVALID */
/* Slot i of f (an invalid one beyond n_slots). */
static inline const struct bl_slot *frame_slot(const struct bl_frame *f, int i)
{
    return i < f->n_slots ? &f->stack[i] : &bl_invalid_slot;
}
/* Makes st->frames[fi] hold at least n slots; 0 or -ENOMEM. */
int vf_frame_reserve(struct bl_venv *env, struct bl_vstate *st, int fi, int n);
/* Copies of constant registers and field-by-field stores, not memset:
 * GCC turns an 88-byte memset into `rep stos`, whose start-up cost showed
 * in every ALU op and branch. */
extern const struct bl_reg bl_reg_not_init, bl_reg_unknown;
static inline void mark_reg_not_init(struct bl_reg *r)
{
    *r = bl_reg_not_init;
}
static inline void mark_reg_unknown(struct bl_reg *r)
{
    /* where GCC sees the constant's initializer (verifier_state.c) it
     * stores it field by field after a `rep stos` of the whole: copied
     * from memory instead */
    const struct bl_reg *u = &bl_reg_unknown;
    __asm__("" : "+r"(u));
    *r = *u;
}
static inline void mark_reg_known(struct bl_reg *r, uint64_t v)
{
    *r = bl_reg_not_init;
    r->type = REG_SCALAR;
    r->var.value = v;
    r->smin = r->smax = (int64_t)v;
    r->umin = r->umax = v;
    r->s32min = r->s32max = (int32_t)(uint32_t)v;
    r->u32min = r->u32max = (uint32_t)v;
}
/* A pointer of type t with zero offset. */
static inline void mark_reg_ptr(struct bl_reg *r, enum bl_reg_type t)
{
    mark_reg_known(r, 0);
    r->type = (uint8_t)t;
}
static inline int reg_is_pointer(const struct bl_reg *r)
{
    return r->type != REG_NOT_INIT && r->type != REG_SCALAR;
}
static inline int reg_is_const(const struct bl_reg *r)
{
    return r->type == REG_SCALAR && tnum_is_const(r->var);
}
/* 1 if every concrete state of cur is a state of old (old subsumes cur). */
int vf_regsafe(const struct bl_reg *old, const struct bl_reg *cur);
int vf_slot_safe(const struct bl_slot *old, const struct bl_slot *cur);
/* The worklist's form of a state: compact like an explored state but
 * lossless (every initialised register, every slot, shared when equal to
 * the last one stored); and back. vf_pending_take() frees the compact form. */
struct bl_seen_state *vf_pending_new(struct bl_venv *env, const struct bl_vstate *st);
struct bl_vstate *vf_pending_take(struct bl_venv *env, struct bl_seen_state *p);
/* The compact copy of st (at st->insn, after vf_clean_dead_regs), in the arena. */
struct bl_seen_state *vf_seen_state_new(struct bl_venv *env, const struct bl_vstate *st);
int vf_states_equal(struct bl_venv *env, const struct bl_seen_state *old,
                    const struct bl_vstate *cur);
void vf_widen_slot_rest(struct bl_slot *sl);
/* A narrow spill's bytes become plain initialised bytes (its register is forgotten). */
static inline void vf_slot_drop_narrow(struct bl_slot *sl)
{
    if (sl->bytes[0] == SLOT_NARROW)
        sl->spilled = bl_reg_not_init;
    for (int b = 0; b < 8; b++)
        if (sl->bytes[b] == SLOT_NARROW)
            sl->bytes[b] = SLOT_MISC;
}
/* 1 if some byte of sl is a known zero or a spill (SLOT_ZERO 2, SLOT_SPILL 3, SLOT_NARROW 7) */
static inline int vf_slot_may_widen(const struct bl_slot *sl)
{
    uint64_t w;
    memcpy(&w, sl->bytes, 8);
    return (w & 0x0202020202020202ull) != 0;
}

/* vf_widen_slot (verifier_state.c) with its commonest answer inline: a
 * slot of unwritten or plain initialised bytes stays as it is (most of a
 * frame's dead slots at every prune point) */
static inline void vf_widen_slot(struct bl_slot *sl)
{
    uint64_t w;
    memcpy(&w, sl->bytes, 8);
    if (w != 0 && w != 0x0101010101010101ull * SLOT_MISC)
        vf_widen_slot_rest(sl);
}
/* Forgets registers not live at insn (cleaner states prune better). */
void vf_clean_dead_regs(struct bl_venv *env, struct bl_vstate *st, uint32_t insn);
/* Widens cur towards old at a busy prune point: differing scalars become unknown. */
void vf_widen_state(const struct bl_seen_state *old, struct bl_vstate *cur);

/* verifier_alu.c */
void vf_reg_bounds_sync(struct bl_reg *r);
void vf_reg_set_bounds_from_size(struct bl_reg *r, int size);
void vf_reg_coerce(struct bl_reg *r, int size, int sext);
int vf_check_alu(struct bl_venv *env, struct bl_vstate *st, const struct bl_insn *insn);
/* Conditional jump: sets *other to the taken-branch state (NULL when the
 * branch cannot be taken); st becomes the fall-through (NULL when it cannot
 * fall through). */
int vf_check_cond_jmp(struct bl_venv *env, struct bl_vstate **st, struct bl_vstate **other,
                      const struct bl_insn *insn);

/* verifier_mem.c */
int vf_check_load(struct bl_venv *env, struct bl_vstate *st, const struct bl_insn *insn);
int vf_check_store(struct bl_venv *env, struct bl_vstate *st, const struct bl_insn *insn);
/* Helper memory arguments: [reg, reg+size) readable (and initialised). */
int vf_check_mem_region(struct bl_venv *env, struct bl_vstate *st, int regno, uint64_t size,
                        int write);
/* Register regno may be read: 0, or the rejection. Inline (every ALU op,
 * branch and memory access asks), the messages out of line. */
int vf_reg_read_error(struct bl_venv *env, struct bl_vstate *st, int regno);
static inline int vf_check_reg_read(struct bl_venv *env, struct bl_vstate *st, int regno)
{
    if (regno >= 0 && regno < BL_NREGS && cur_frame(st)->regs[regno].type != REG_NOT_INIT)
        return 0;
    return vf_reg_read_error(env, st, regno);
}
int vf_check_lddw(struct bl_venv *env, struct bl_vstate *st, const struct bl_insn *insn);

/* verifier_call.c */
/* Returns 0 and may replace *st (entering a callee) or push the caller's
 * continuation; see the file. */
int vf_check_call(struct bl_venv *env, struct bl_vstate **st, const struct bl_insn *insn);
/* EXIT: returns 1 when the path ends, 0 when it returned into a caller. */
int vf_check_exit(struct bl_venv *env, struct bl_vstate *st);
int vf_push_state(struct bl_venv *env, struct bl_vstate *st);
uint32_t vf_new_id(struct bl_venv *env);
/* Forgets reference id (found NULL: nothing was acquired). */
void vf_ref_drop(struct bl_vstate *st, uint32_t id);
/* Number of argument registers of helper id (0 if unknown). */
int vf_helper_nargs(uint32_t id);

/* verifier_cfg.c */
int vf_check_cfg(struct bl_venv *env);
int vf_compute_liveness(struct bl_venv *env);
/* flive[] and slive[]: the registers and stack slots whose scalar value
 * may still be read where it matters; vf_clean_dead_regs forgets the rest
 * (an over-approximation: sound whatever these say) */
int vf_compute_forget(struct bl_venv *env);
int vf_compute_max_insns(struct bl_venv *env, uint64_t *out);
int vf_check_stack_depth(struct bl_venv *env);
int vf_find_subprog(const struct bl_venv *env, uint32_t insn);

#endif
