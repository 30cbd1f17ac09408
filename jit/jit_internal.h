/* jit_internal.h - what the JIT's files share: the register map, the run
 * state as generated code sees it, the per-compile state (struct jit) and
 * the functions one file calls in another. x86_64.c is the driver,
 * translate.c translates one instruction, inline_loop.c and
 * inline_copies.c inline bpf_loop bodies. The public interface is jit.h.
 */
#ifndef BPFLUA_JIT_INTERNAL_H
#define BPFLUA_JIT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "x86_emit.h"
#include "../vm/asm.h"
#include "../core/object.h"
#include "../vm/verifier.h"

struct bpflua_helper;
struct bl_jit_code;

/* ---- register map ----------------------------------------------------------
 *
 * R0      rax  the return register of both ABIs: helper results land in it;
 *              cmpxchg compares against it, as eBPF's cmpxchg uses R0.
 * R1-R5   rdi, rsi, rdx, rcx, r8: the SysV argument registers in order, so
 *              helper calls and BPF-to-BPF calls need no argument moves.
 * R6-R9   rbx, r13, r14, r15: callee-saved in SysV as in eBPF, so they
 *              survive helper calls for free.
 * R10     rbp  the frame pointer, callee-saved.
 * env     r12  callee-saved, so it survives helper calls; copied to r9 (the
 *              sixth SysV argument) before each helper call.
 * scratch r9, r10, r11: caller-saved and not eBPF registers (r9 only until
 *              the next helper call, which loads env into it).
 */
extern const uint8_t jit_register_map[BL_NREGS];
#define ENV_REG R12

/* The run state (env->engine while JIT code runs). Offsets are used by
 * generated code: keep in sync with the ST_* constants. */
struct jit_state {
    uint64_t entry_rsp;   /* rsp in the innermost trampoline */
    uint64_t rsp_limit;   /* unused */
    uint64_t mem_lo;      /* the region checked accesses may touch */
    uint64_t mem_len;
    uint64_t callx_id;    /* helper id for callx */
    uint64_t frames_lo;   /* checked code: the eBPF frames live in */
    uint64_t frames_hi;   /*   [frames_lo, frames_hi), not on the native stack */
    uint64_t cur_fp;      /* checked code: R10 + 512 at the last helper call */
    uint64_t budget;      /* checked code: back-edges and calls left before a fault */
    const struct bl_jit_code *code;
};
#define ST_ENTRY_RSP 0
#define ST_RSP_LIMIT 8
#define ST_MEM_LO 16
#define ST_MEM_LEN 24
#define ST_CALLX_ID 32
#define ST_FRAMES_LO 40
#define ST_FRAMES_HI 48
#define ST_CUR_FP 56
#define ST_BUDGET 64
_Static_assert(offsetof(struct jit_state, budget) == ST_BUDGET, "jit_state layout");

#define ENV_ENGINE ((int32_t)offsetof(struct bpflua_run_env, engine))
#define ENV_FAULT ((int32_t)offsetof(struct bpflua_run_env, fault))

/* ---- per-compile state ------------------------------------------------------ */

struct jfunc {
    uint32_t start, end;  /* [start, end) instructions */
    uint32_t entry;       /* label of the prologue */
    int uses_frame;       /* reserves 512 bytes below rbp */
    int saves[4];         /* which of R6-R9 it pushes */
    int n_saves;
    int makes_calls;
    int32_t rsp_adjust;   /* frame + alignment padding */
};

/* Where a loop variable of an inlined bpf_loop lives: a register the
 * callback does not touch, or a slot at [rsp + 8 * slot]. */
struct loop_var {
    int reg;      /* -1: in memory */
    int32_t disp; /* (imm: the value) */
    int imm;      /* a constant (n of a loop with a constant trip count) */
};

/* A callback being inlined into a bpf_loop: its jumps go to labels of
 * this copy, its exits to the loop's continue label. */
#define MAX_PROMOTED 6

#define COLD_MAX 8
struct inline_ctx {
    uint32_t start, end;      /* the callback's instructions */
    uint32_t first_label;     /* label of instruction start + k: first_label + k */
    uint32_t cont_label;
    int depth;
    const struct inline_ctx *outer;
    /* ctx slots kept in registers: 8-byte [base + off] reads come from
     * slot_reg, writes go to slot_reg and through to memory */
    int base;
    int stack_base;           /* the register holding ctx (the caller's stack) all along */
    int write_through;        /* stores to promoted slots also go to memory */
    int n_promoted;
    int16_t slot_off[MAX_PROMOTED];
    uint8_t slot_reg[MAX_PROMOTED];
    uint8_t slot_dirty[MAX_PROMOTED]; /* the body stores to it */
    uint8_t slot_shared[MAX_PROMOTED]; /* the enclosing loop's register for the slot */
    uint8_t slot_size[MAX_PROMOTED];  /* 8, or 4: a slot accessed only as 4 bytes, its register
                                         holding them zero-extended (a record's u32 field) */
    unsigned regs;            /* x86 registers of the pool this loop took (bit x86 number) */
    unsigned writes;          /* x86 registers of R6-R9 the inlined copy writes (bit x86 number) */
    /* liveness: registers (bit r = Rr) live after instruction start + k */
    const uint16_t *live_out;
    uint32_t cont0_label;     /* continue when the body returned a known 0 */
    uint32_t skip;            /* an instruction not to emit (the hoisted leading mov), or UINT32_MAX */
    const struct loop_var *vars;  /* i, n, ctx */
    int count_down;           /* nothing reads i: n counts the iterations left (n -= 1, != 0) */
    int iv_exit;              /* counting down: the induction variable (hoist->iv[]) whose sign
                               * ends the loop instead of n (jit_ranges_iv_ends), or -1 */
    /* an unrolled copy sums the second body's part of promoted slot
     * acc_slot (an accumulator) in acc_reg, added back after the loop
     * (acc_slot < 0: none) */
    int acc_slot, acc_reg;
    uint32_t top_label, out_label;
    int layout_rec;           /* this copy's record in jit.tops (layout_top), or -1 */
    /* per instruction of the body: 1 for a test this copy drops (the code
     * before the loop proved it never taken), 2 for one it makes a `ja`
     * (proved always taken), or NULL */
    const uint8_t *unchecked;   /* per body insn: 1 a check dropped (never taken), 2 one always taken */
    const uint8_t *reach;     /* what this copy can reach, or NULL: all */
    int exits_jump;           /* an exit returning 0 jumps to cont0 (unrolled copies) */
    /* per body insn: what inline_hoist.c made of it (HOIST_*), and the
     * register of the value computed before the loop; NULL: nothing */
    const struct hoist_plan *hoist;
    const uint8_t *noop_st;   /* per body insn: a store of what the slot holds, or NULL */
    const struct range_node *ranges;   /* what values this body holds (inline_ranges.c), or NULL */
    /* blocks [cold[q][0], cold[q][1]) that leave the loop, put out of line
     * by emit_body (when cold_ok) for emit_cold */
    int cold_ok, n_cold;
    uint32_t cold[COLD_MAX][2];
    uint32_t cold_label[COLD_MAX];
    /* where each register's value was at the jump into the block: the
     * block runs right after it, with those registers unchanged */
    int8_t cold_alias[COLD_MAX][BL_NREGS];
    struct x86_mem cold_form[COLD_MAX][BL_NREGS];
};

/* inline_hoist.c: invariant values of an inlined body, computed before the loop */
enum { HOIST_NONE, HOIST_ALIAS /* dst is a copy of reg */, HOIST_SKIP /* folded into
       another */, HOIST_APPLY /* dst op= reg */, HOIST_IV /* dst is induction variable reg */ };
#define HOIST_MAX 10
#define IV_MAX 3
struct hoist_plan {
    uint8_t *kind;
    int8_t *reg;                /* the value's register, or (HOIST_IV) its iv[] index */
    int n_regs;                 /* spare registers used (avail[0..n_regs)) */
    int n_extra;                /* induction variables in iv_extra[0..n_extra) */
    int n_ops;
    struct hoist_op { int8_t dst; uint8_t op, a_imm, b_imm; int32_t a, b; } ops[HOIST_MAX];
    /* induction variables: v = coef * i + base, kept in reg v, += coef per iteration */
    int n_iv;
    struct hoist_iv {
        int8_t v, coef_reg;      /* coef: coef_reg (minus it when coef_neg), or the constant coef */
        uint8_t coef_neg, lop, a_imm, b_imm;   /* base = a lop b (lop 0xff: a) */
        int32_t coef, a, b;
    } iv[IV_MAX];
};

struct jit {
    struct x86_emit e;
    const struct bl_insn *insns;
    const struct bl_insn *orig;      /* p->insns: which lddws load a map */
    uint32_t n;
    const struct bl_insn_aux *aux;   /* NULL in raw mode */
    int raw;                         /* nothing is trusted */
    int checked;                     /* some access is checked */
    uint32_t *pc_locs;
    uint32_t *func_of;               /* insn -> function index */
    uint8_t *is_target;              /* insn is a jump target */
    uint8_t *is_func_start;
    struct bl_insn *own_insns;       /* insns when const_operands.c rewrote some, else NULL */
    uint32_t n_callbacks;            /* lddws of a callback's address */
    struct jfunc *funcs;
    uint32_t n_funcs;
    uint32_t fault_label, tramp_ret_label;
    uint32_t fast_label;             /* the fast entry, when fast */
    int fast;                        /* bl_jit_run may skip the run state */
    int env_used;                    /* some code reads env (r12) */
    const struct bpflua_helper *(*helper_find)(uint32_t id);
    const struct inline_ctx *inl;    /* translating an inlined callback */
    /* where each eBPF register's value is read from while translating
     * (jit_register_map, but an inlined body may keep a copy elsewhere: see
     * inline_copies.c) */
    uint8_t rmap[BL_NREGS];
    int8_t alias[BL_NREGS];          /* -1, or the x86 register holding Rr's value */
    /* or Rr's value is the address [form[r]] (scale 0: no form), not yet
     * computed: see inline_copies.c */
    struct x86_mem form[BL_NREGS];
    /* store-to-load forwarding (outside inlined bodies): 8-byte values
     * stored at [base + off] in this basic block, still held by src (or
     * the constant imm when src < 0) */
    struct { int8_t base, src; int16_t off; int32_t imm; } fwd[8];
    int n_fwd;
    uint64_t inline_budget;          /* instructions inlining may still add */
    uint32_t versioned_loops, unrolled_loops, hoisted_values, shared_loops;
    uint8_t *dead_store;             /* per insn: a store nothing reads (dead_stores.c), or NULL */
    uint32_t fused_ja;               /* a `ja` the jump just emitted took over, or UINT32_MAX */
    struct range_node **ranges;      /* per function: its values (inline_ranges.c), when asked */
    uint8_t *ranges_done;            /* per function: ranges[f] computed */
    struct range_node **ranges_short;   /* per function: its values for packets of at most
                                         * PKT_SHORT bytes, when the program has them */
    uint32_t proved_tests;           /* tests of inlined copies dropped by inline_ranges.c */
    uint32_t pkt_versioned;          /* nests copied for short packets (inline_loop.c) */
    /* the values of the inlined body being emitted (inline_ranges.c): a
     * bpf_loop in it whose trip count they prove one constant reads no R1
     * (jit_loop_unread; the loop sets n itself) */
    const struct range_node *use_rn;
    uint32_t cold_jump;              /* a jump whose fall-through is out of line, or UINT32_MAX */
    int loop_ctx;                    /* the next bpf_loop's ctx is in this callee-saved register, not rdx (0: rdx) */
    struct x86_mem loop_n;           /* the next bpf_loop's nr (R1), not yet in rdi (scale 0: it is) */
    uint32_t cold_label;             /* ... the label of that code */
    /* the padding before the top of the outermost inlined loop being
     * emitted ([pad_at, pad_at + pad_len) when pad_on), and the tops of the
     * loops inside it, which get none: the padding is chosen once the nest
     * is emitted, so that the inner loops sit well in 64-byte blocks
     * (loop_layout in inline_loop.c) */
    int pad_on, n_tops;
    uint32_t pad_at, pad_len;
    struct { uint32_t top, end; int depth; } tops[16];
    char **errp;
    int failed;
};

/* every eBPF register (bit r = Rr): what liveness assumes when unsure */
#define ALL_REGS 0x7ff

/* ---- functions of one file used in another ------------------------------------ */

/* x86_64.c: analysis, entry and exit of functions, C functions the code calls */
int jit_fail(struct jit *j, uint32_t pc, const char *msg);
uint32_t jit_func_index(const struct jit *j, uint32_t start);
int jit_access_trusted(const struct jit *j, uint32_t pc);
void jit_emit_budget_tick(struct jit *j);
void jit_emit_epilogue(struct jit *j, const struct jfunc *fn);
int jit_raw_callable(const struct bpflua_helper *h, int raw,
                     const struct bpflua_helper *(*find)(uint32_t id));
uint64_t jit_callx(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                   struct bpflua_run_env *env);
uint64_t jit_ld_abs(uint64_t off, uint64_t size, struct bpflua_run_env *env);
uint64_t jit_ld_abs_skb(uint64_t off, uint64_t size, struct bpflua_run_env *env, uint64_t ctx);
uint64_t jit_for_each(uint64_t map, uint64_t callback, uint64_t ctx, uint64_t flags,
                      uint64_t r5, struct bpflua_run_env *env);

/* translate.c: one instruction, facts about instructions, forwarding */
int jit_emit_insn(struct jit *j, uint32_t pc);
/* an unconditional jump from pc to instruction target (in an inlined copy:
 * to its label, threaded as a `ja` there would be) */
void jit_emit_jump(struct jit *j, uint32_t pc, uint32_t target);
uint32_t jit_fused_ja_target(const struct jit *j, uint32_t pc);
int jit_size_of(uint8_t code);
int jit_is_mov_zero(const struct bl_insn *in);
int jit_zeroed_just_before(const struct jit *j, uint32_t pc, uint32_t start, int reg);
int jit_atomic_is_noop(const struct jit *j, uint32_t pc, int ctx_base, uint32_t func_start);
void jit_fwd_clear(struct jit *j);
void jit_fwd_after(struct jit *j, uint32_t pc);

/* inline_loop.c: bpf_loop, and what an inlined copy's jumps and exits do */
void jit_emit_bpf_loop(struct jit *j, uint32_t pc);
void jit_loop_n_home(struct jit *j);
uint16_t jit_loop_unread(const struct jit *j, uint32_t pc, uint32_t start);
int jit_promoted_reg(const struct jit *j, int base, int size, int16_t off);
int jit_promoted_slot(const struct inline_ctx *ic, int16_t off);
int jit_exit_returns_zero(const struct jit *j, uint32_t pc, uint32_t start);
void jit_emit_loop_tail(struct jit *j, const struct inline_ctx *ic, int with_jmp_out);
uint32_t jit_thread_jump(const struct jit *j, const struct inline_ctx *ic, uint32_t t,
                         int r0_zero);
int jit_r0_zero_at(const struct jit *j, const struct inline_ctx *ic, uint32_t pc);
int jit_falls_to_end(const struct inline_ctx *ic, uint32_t pc);

/* const_operands.c: a copy of insns with the register operands whose value
 * is a known constant as immediates, or NULL (none, or out of memory) */
struct bl_insn *jit_const_operands(const struct bl_insn *insns, uint32_t n,
                                   const uint8_t *is_target, const uint8_t *is_func_start);

/* dead_stores.c */
uint8_t *jit_dead_stores(const struct jit *j);
uint32_t jit_static_callback(const struct jit *j, uint32_t pc);
int jit_block_r3_is(const struct jit *j, uint32_t pc, uint32_t start, int r);

/* avail: pool registers, the n_cheap first free to use, the rest saved
 * around every start of the loop (held by an enclosing one): induction
 * variables take iv_extra (registers of slots only hoisted code reads)
 * before those */
int jit_hoist_plan(const struct jit *j, const struct inline_ctx *ic, uint32_t first,
                   const int *avail, int n_avail, int n_cheap, const int *iv_extra, int n_extra,
                   struct hoist_plan *hp);
void jit_hoist_emit(struct jit *j, const struct hoist_plan *hp);
void jit_iv_init(struct jit *j, const struct hoist_plan *hp, int i_reg, int32_t i_disp,
                 int i_zero);
void jit_iv_step(struct jit *j, const struct hoist_plan *hp, int times);
/* one step of each, iv[last] last (an `add imm` whose flags the loop tests) */
void jit_iv_step_last(struct jit *j, const struct hoist_plan *hp, int last);
void jit_hoist_free(struct hoist_plan *hp);

/* inline_ranges.c: the values of a function and of the loop bodies it
 * runs; tests of inlined bodies that always go one way */
struct range_node;
/* len_hi: the packet's length is at most this (0xffffffff: anything) */
struct range_node *jit_ranges_function(const struct jit *j, uint32_t f, int64_t len_hi);
int jit_ranges_gain(const struct range_node *a, const struct range_node *b);
int jit_ranges_may_gain(const struct jit *j, const struct range_node *nd);
int jit_ranges_pkt_slots(const struct range_node *nd, int16_t *data, int16_t *data_end);
const struct range_node *jit_ranges_kid(const struct range_node *nd, uint32_t call_pc);
const uint8_t *jit_ranges_proved(const struct range_node *nd);
void jit_ranges_trip(const struct range_node *nd, int *small, int *nonzero);
/* Does the register instruction pc of the body nd writes hold c * I +
 * rest (c < 0, I the index), with rest + c * (n - 1) in [0, -c - 1]: at
 * least 0 in every iteration, below 0 right after the last? (Its sign
 * then ends the loop: `add c, v; jns top`.) */
int jit_ranges_iv_ends(const struct range_node *nd, uint32_t pc, int64_t c);
/* the trip count at the call when it is one constant, else 0 */
int32_t jit_ranges_trip_const(const struct range_node *nd);
void jit_ranges_free(struct range_node *nd);

/* inline_copies.c: liveness and copies in an inlined body */
void jit_use_def(const struct jit *j, uint32_t pc, uint32_t start, int ctx_base,
                 uint16_t *use, uint16_t *def);
uint16_t *jit_body_liveness(const struct jit *j, uint32_t start, uint32_t end, int ctx_base,
                            const uint8_t *unchecked, const uint8_t *folded);
int jit_dead_insn(const struct jit *j, const struct inline_ctx *ic, uint32_t pc);
uint16_t jit_live_in_at(const struct jit *j, const struct inline_ctx *ic, uint32_t pc);
void jit_alias_clear(struct jit *j);
int jit_has_form(const struct jit *j, int r);
void jit_alias_forget(struct jit *j, int r);
void jit_alias_sync(struct jit *j, uint16_t live);
void jit_emit_with_copies(struct jit *j, const struct inline_ctx *ic, uint32_t pc);
void jit_emit_hoisted(struct jit *j, const struct inline_ctx *ic, uint32_t pc, int i_plus);

#endif
