/* inline_loop.c - bpf_loop (helper 181) as a native loop.
 *
 * bpf_loop (helper 181) is never a helper call. In verified code, with the
 * callback known at the call site, the callback's body is translated again
 * inside a native counted loop (no call per iteration; loop variables and
 * 8-byte ctx slots in registers the body leaves free). Otherwise the loop
 * calls the callback's native entry directly. A callback value in this JIT
 * is the native address of the callback's entry (lea rip-relative), so
 * env->call can call it through the trampoline. docs/jit.md has the
 * details.
 *
 * What the inlined copy of a loop body may skip or move is decided from
 * facts about the eBPF code, never from what a compiler usually emits:
 * register liveness in the body (dead definitions, R1/R2 not read, R0 of
 * an exit returning a known 0), copies that stay in the register holding
 * them until the value must be in its own (inline_copies.c),
 * and which ctx slots only the base register reaches.
 *
 * Here: what the body does (analyse_body, others_may_alias,
 * slot_writes_known), where the loop's variables and promoted ctx slots live
 * (the register pool), loop versioning (loop_checks_kept, emit_checks_test,
 * body_reach), the copies of the body (emit_body, emit_loop_copy,
 * emit_unrolled_copy), emit_inlined_loop and jit_emit_bpf_loop, and where a
 * jump inside a body goes (jit_thread_jump). Liveness and copies of registers
 * inside a body: inline_copies.c.
 */

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jit_internal.h"
#include "loop_checks.h"
#include "range_facts.h"
#include "x86_emit.h"
#include "../vm/asm.h"
#include "../core/object.h"
#include "../vm/verifier.h"
#include "../stdlib/helpers.h"

#define INLINE_MAX_INSNS 256  /* callbacks longer than this are called */
#define UNROLL_MAX_INSNS 48   /* bodies up to this run twice per trip (three copies) */
#define INLINE_MAX_DEPTH 4
/* Packets of at most this many bytes: the compiler's check `x > 65527`
 * before a read at x in the packet never fires (x + 1 <= len) */
#define PKT_SHORT 65528

/* The function bpf_loop will call, when the lddw that put it in R2 sits in
 * the same basic block as the call; else UINT32_MAX (call through r15). */
static uint32_t static_callback(const struct jit *j, uint32_t pc)
{
    uint32_t start = j->funcs[j->func_of[pc]].start;
    for (uint32_t i = pc; i-- > start;) {
        const struct bl_insn *in = &j->insns[i];
        if (i > start && bl_is_lddw(&j->insns[i - 1]))
            continue;                    /* second slot */
        if (bl_is_lddw(in)) {
            if (in->dst == BL_R2)
                return in->src == BL_PSEUDO_FUNC ? (uint32_t)((int64_t)i + 1 + in->imm)
                                                 : UINT32_MAX;
        } else {
            uint8_t cls = BL_CLASS(in->code);
            if (cls == BL_JMP || cls == BL_JMP32)
                return UINT32_MAX;
            if (in->dst == BL_R2 || (cls == BL_STX && BL_MODE(in->code) == BL_ATOMIC))
                return UINT32_MAX;
        }
        if (j->is_target[i])
            return UINT32_MAX;
    }
    return UINT32_MAX;
}

static void var_load(struct jit *j, int dst, const struct loop_var *v)
{
    if (v->imm) {
        x86_mov_ri(&j->e, dst, (uint64_t)(int64_t)v->disp);
        return;
    }
    if (v->reg == dst)
        return;
    if (v->reg >= 0)
        x86_mov_rr(&j->e, 1, dst, v->reg);
    else
        x86_load(&j->e, 8, 0, dst, RSP, v->disp);
}

static void var_store(struct jit *j, const struct loop_var *v, int src)
{
    if (v->reg == src || v->imm)
        return;
    if (v->reg >= 0)
        x86_mov_rr(&j->e, 1, v->reg, src);
    else
        x86_store_r(&j->e, 8, RSP, v->disp, src);
}

/* dst = src, straight into dst's register when it has one (else through
 * rax) */
static void var_move(struct jit *j, const struct loop_var *dst, const struct loop_var *src)
{
    if (dst->reg >= 0 && !dst->imm) {
        var_load(j, dst->reg, src);
        return;
    }
    var_load(j, RAX, src);
    var_store(j, dst, RAX);
}

/* The instruction that last wrote reg before pc in pc's basic block (no
 * jump lands in between), or UINT32_MAX. */
static uint32_t block_def(const struct jit *j, uint32_t pc, uint32_t start, int reg)
{
    for (uint32_t i = pc; i > start;) {
        if (j->is_target[i])
            return UINT32_MAX;
        i--;
        if (i > start && bl_is_lddw(&j->insns[i - 1]))
            i--;                             /* an lddw's second slot */
        uint16_t use, def;
        jit_use_def(j, i, start, -1, &use, &def);
        if (def & (1u << reg))
            return i;
    }
    return UINT32_MAX;
}

/* Is reg a constant 0 at pc (set by `mov reg, 0` in pc's basic block)? */
static int block_zero(const struct jit *j, uint32_t pc, uint32_t start, int reg)
{
    uint32_t d = block_def(j, pc, start, reg);
    return d != UINT32_MAX && jit_is_mov_zero(&j->insns[d]) && j->insns[d].dst == reg;
}

/* Is nr (R1) at the bpf_loop at pc known to be at most BL_MAX_LOOPS (so
 * neither the u32 truncation nor the E2BIG test can change or stop it)?
 * Yes when its last write in the block is `add r1, c` (0 <= c) after an
 * unsigned `if r1 >= K goto` / `if r1 > K goto` whose fall-through leads
 * there, with K + c small enough: the compiler's trip count. */
static int block_nr_small(const struct jit *j, uint32_t pc, uint32_t start, int *nonzero,
                          int32_t *k)
{
    uint32_t d = block_def(j, pc, start, BL_R1);
    *nonzero = 0;
    *k = 0;
    if (d == UINT32_MAX || d == start)
        return 0;
    const struct bl_insn *add = &j->insns[d];
    if (add->code == (BL_ALU64 | BL_MOV | BL_K)) {
        /* a constant trip count */
        *nonzero = add->imm > 0 && add->imm <= BL_MAX_LOOPS;
        *k = *nonzero ? add->imm : 0;
        return *nonzero;
    }
    if (add->code != (BL_ALU64 | BL_ADD | BL_K) || add->imm < 0)
        return 0;
    const struct bl_insn *jmp = &j->insns[d - 1];
    if (j->is_target[d] || (d >= start + 2 && bl_is_lddw(&j->insns[d - 2])) ||
        jmp->dst != BL_R1 || BL_SRC(jmp->code) != BL_K || jmp->imm < 0 ||
        (jmp->code != (BL_JMP | BL_JGE | BL_K) && jmp->code != (BL_JMP | BL_JGT | BL_K)))
        return 0;
    /* falling through: r1 < K (jge) or r1 <= K (jgt), unsigned; then
     * r1 + c >= c, without wrapping */
    int64_t max = (int64_t)jmp->imm - (jmp->code == (BL_JMP | BL_JGE | BL_K)) + add->imm;
    *nonzero = max <= BL_MAX_LOOPS && add->imm > 0;
    return max <= BL_MAX_LOOPS;
}

/* Does R3 hold Rr's value at pc: `mov r3, rR` in pc's basic block, rR not
 * written since? */
static int block_r3_is(const struct jit *j, uint32_t pc, uint32_t start, int r)
{
    uint32_t d = block_def(j, pc, start, BL_R3);
    const struct bl_insn *in = d != UINT32_MAX ? &j->insns[d] : NULL;
    return in && in->code == (BL_ALU64 | BL_MOV | BL_X) && in->off == 0 && in->src == r &&
           block_def(j, pc, d + 1, r) == UINT32_MAX;
}

/* The x86 registers (bit x86 number) whose values the code around a
 * bpf_loop at pc needs after it, as far as a loop inlined there could
 * clobber them. In an inlined body with liveness: of R6-R9, those live
 * after the call, and those the enclosing callback never writes (they
 * hold values of the code around its loop, which that loop did not save);
 * every register of the enclosing loops (their i, n, ctx and promoted
 * slots); rbp and r12 (frame, env) always. Anywhere else, every
 * callee-saved register. */
static unsigned regs_needed_after(const struct jit *j, uint32_t pc)
{
    const struct inline_ctx *ic = j->inl;
    unsigned need = 1u << RBP | 1u << R12;
    if (!ic || !ic->live_out)
        return need | 1u << RBX | 1u << R13 | 1u << R14 | 1u << R15;
    uint16_t live = ic->live_out[pc - ic->start];
    for (int r = BL_R6; r <= BL_R9; r++) {
        /* (one the enclosing loop took for itself it saved around itself:
         * what it holds inside is that loop's, below) */
        int x = jit_register_map[r], touched = (ic->writes >> x) & 1;
        if ((!touched && !((ic->regs >> x) & 1)) || (live & (1u << r)))
            need |= 1u << x;
    }
    for (const struct inline_ctx *o = ic; o; o = o->outer) {
        /* (a loop counting down never reads its i; one ending by an
         * induction variable's sign, nor its n) */
        unsigned unused = 0;
        for (int v = 0; v < 3 && o->vars; v++) {
            if (o->vars[v].reg < 0)
                continue;
            if ((v == 0 && o->count_down) || (v == 1 && o->iv_exit >= 0))
                unused |= 1u << o->vars[v].reg;
            else
                need |= 1u << o->vars[v].reg;
        }
        for (int k = 0; k < o->n_promoted; k++)
            need |= 1u << o->slot_reg[k];
        need |= o->regs & ~unused;               /* (hoisted values, induction variables) */
        if (!o->live_out)
            need |= 1u << RBX | 1u << R13 | 1u << R14 | 1u << R15;
    }
    return need;
}

/* What an inlined body does, for choosing where loop variables live. */
struct body_info {
    int calls;                 /* calls anything (helpers, functions, loops) */
    int scratch;               /* needs r9-r11 (div, mod, shifts by a register, atomics) */
    int atomics;
    int writes[BL_NREGS];      /* registers it writes (after a leading `mov Rb, R2`) */
    int refs[BL_NREGS];        /* registers it names at all */
    int value_read[BL_NREGS];  /* read other than as a memory base (idem) */
    int store_base[BL_NREGS];  /* bases of its stores */
    int load_base[BL_NREGS];   /* bases of its loads */
    int base;                  /* the register holding ctx all along, or -1 */
    int n_acc;
    /* accesses through base; weight: 1 in this body, 16 per level of
     * nested loops deeper (what they cost, for choosing slots) */
    struct { int16_t off; uint8_t size, store; uint16_t weight; uint32_t pc; } acc[64];
    int acc_overflow;
    /* every call is a bpf_loop with a callback known at the call site,
     * passed base as ctx, whose body could keep the same slots in the
     * same registers (nest_ok, recursively): its accesses through its base
     * are in acc[] too */
    int nest_only;
    unsigned nest_regs;        /* x86 registers the nested callbacks name (R6-R9, rbp) */
    int nest_loads;            /* a nested body loads through a pointer that may reach a slot */
    int nest_scratch;          /* a nested body needs r9-r11 (bi->scratch, at any depth) */
};

static int is_mov_from_r2(const struct bl_insn *in)
{
    return in->code == (BL_ALU64 | BL_MOV | BL_X) && in->off == 0 && in->src == BL_R2 &&
           in->dst != BL_R2 && in->dst != BL_R10;
}

static uint32_t static_callback(const struct jit *j, uint32_t pc);
static int block_r3_is(const struct jit *j, uint32_t pc, uint32_t start, int r);
static void others_may_alias(const struct jit *j, const struct jfunc *cb, int base, int *loads,
                             int *stores);
static void analyse_nests(const struct jit *j, const struct jfunc *cb, struct body_info *bi,
                          int level, const struct range_node *rn);
static uint8_t *body_reach(const struct jit *j, const struct jfunc *cb, const uint8_t *unchecked);

/* Is the instruction at pc `mov r3, rX` whose R3 only a bpf_loop call
 * reads (passed as ctx: nothing else reads R3 before it, no jump or label
 * in between)? Such a copy of the base is no alias of it: the nested loop
 * is analysed as part of the body (analyse_nests) or, when it cannot be,
 * it counts as a call. */
static int ctx_for_loop(const struct jit *j, const struct jfunc *cb, uint32_t pc)
{
    const struct bl_insn *in = &j->insns[pc];
    if (in->code != (BL_ALU64 | BL_MOV | BL_X) || in->off != 0 || in->dst != BL_R3)
        return 0;
    for (uint32_t k = pc + 1; k < cb->end; k++) {
        const struct bl_insn *o = &j->insns[k];
        uint8_t cls = BL_CLASS(o->code);
        if (j->is_target[k])
            return 0;
        if (cls == BL_JMP && BL_OP(o->code) == BL_CALL)
            return o->src == 0 && o->imm == BL_HELPER_LOOP;
        if (cls == BL_JMP || cls == BL_JMP32)
            return 0;
        uint16_t use, def;
        bl_insn_use_def(o, &use, &def);
        if ((use >> BL_R3) & 1)
            return 0;
        if ((def >> BL_R3) & 1)
            return 1;
        if (bl_is_lddw(o))
            k++;
    }
    return 0;
}

/* (reach: the instructions the body's copies run, NULL all: an access
 * no copy makes, on a way the ranges drop, weighs nothing; rn: the
 * body's ranges, for its nested loops') */
static void analyse_body_at(const struct jit *j, const struct jfunc *cb, struct body_info *bi,
                            int level, const uint8_t *reach, const struct range_node *rn)
{
    memset(bi, 0, sizeof *bi);
    /* the compiler's callbacks start with `mov Rb, R2` and use Rb as ctx */
    uint32_t first = cb->start + (is_mov_from_r2(&j->insns[cb->start]) ? 1 : 0);
    if (first > cb->start) {
        bi->refs[BL_R2] = 1;
        bi->refs[j->insns[cb->start].dst] = 1;
    }
    int cand = first > cb->start ? j->insns[cb->start].dst : BL_R2;
    for (uint32_t i = first; i < cb->end; i++) {
        const struct bl_insn *in = &j->insns[i];
        uint8_t cls = BL_CLASS(in->code), mode = BL_MODE(in->code), op = BL_OP(in->code);
        int x = BL_SRC(in->code) == BL_X;
        if (cls == BL_STX && mode == BL_ATOMIC && jit_atomic_is_noop(j, i, cand, cb->start)) {
            bi->refs[in->dst] = bi->refs[in->src] = 1;
            continue;
        }
        switch (cls) {
        case BL_ALU:
        case BL_ALU64:
            bi->refs[in->dst] = 1;
            bi->writes[in->dst] = 1;
            if (op != BL_MOV)
                bi->value_read[in->dst] = 1;
            if (x && op != BL_END && op != BL_NEG) {
                bi->refs[in->src] = 1;
                if (!ctx_for_loop(j, cb, i))
                    bi->value_read[in->src] = 1;
            }
            if (op == BL_DIV || op == BL_MOD || (x && (op == BL_LSH || op == BL_RSH || op == BL_ARSH)))
                bi->scratch = 1;
            break;
        case BL_LD:
            if (bl_is_lddw(in)) {
                bi->refs[in->dst] = 1;
                bi->writes[in->dst] = 1;
                i++;
            } else {
                bi->calls = bi->scratch = 1;
            }
            break;
        case BL_LDX:
        case BL_ST:
        case BL_STX: {
            int base = cls == BL_LDX ? in->src : in->dst;
            bi->refs[base] = 1;
            if (cls == BL_LDX) {
                bi->refs[in->dst] = 1;
                bi->writes[in->dst] = 1;
                bi->load_base[base] = 1;
            } else {
                bi->store_base[base] = 1;
            }
            if (cls == BL_STX) {
                bi->refs[in->src] = 1;
                bi->value_read[in->src] = 1;
            }
            if (mode == BL_ATOMIC) {
                bi->atomics = bi->scratch = 1;
                bi->value_read[base] = 1;
                bi->writes[BL_R0] |= in->imm == BL_CMPXCHG;
                bi->refs[BL_R0] |= in->imm == BL_CMPXCHG;
                bi->writes[in->src] |= (in->imm & BL_FETCH) != 0;
            }
            break;
        }
        default: /* jumps */
            if (op == BL_CALL) {
                bi->calls = 1;
                if (x) {
                    bi->refs[in->dst] = 1;
                    bi->value_read[in->dst] = 1;
                }
            } else if (op != BL_EXIT && op != BL_JA) {
                bi->refs[in->dst] = 1;
                bi->value_read[in->dst] = 1;
                if (x) {
                    bi->refs[in->src] = 1;
                    bi->value_read[in->src] = 1;
                }
            }
            break;
        }
    }
    if (bi->calls)
        for (int r = BL_R0; r <= BL_R5; r++)
            bi->writes[r] = bi->refs[r] = 1;
    /* the ctx base: R2 if never written, else the leading mov's target */
    bi->base = -1;
    if (!bi->writes[BL_R2] && first == cb->start)
        bi->base = BL_R2;
    else if (first > cb->start && !bi->writes[j->insns[cb->start].dst])
        bi->base = j->insns[cb->start].dst;
    if (bi->base < 0)
        return;
    for (uint32_t i = first; i < cb->end; i++) {
        const struct bl_insn *in = &j->insns[i];
        uint8_t cls = BL_CLASS(in->code);
        if (bl_is_lddw(in)) {
            i++;
            continue;
        }
        if (cls == BL_STX && BL_MODE(in->code) == BL_ATOMIC && jit_atomic_is_noop(j, i, bi->base, cb->start))
            continue;
        if ((cls == BL_LDX && in->src == bi->base) ||
            ((cls == BL_ST || cls == BL_STX) && in->dst == bi->base)) {
            if (bi->n_acc == 64) {
                bi->acc_overflow = 1;
                return;
            }
            bi->acc[bi->n_acc].off = in->off;
            bi->acc[bi->n_acc].store = cls != BL_LDX;
            bi->acc[bi->n_acc].weight = !reach || reach[i - cb->start];
            bi->acc[bi->n_acc].pc = i;
            bi->acc[bi->n_acc++].size = (uint8_t)jit_size_of(in->code);
        }
    }
    if (bi->calls)
        analyse_nests(j, cb, bi, level, rn);
}

static void analyse_body(const struct jit *j, const struct jfunc *cb, struct body_info *bi,
                         const uint8_t *reach, const struct range_node *rn)
{
    analyse_body_at(j, cb, bi, 0, reach, rn);
}

/* Could a loop whose body bi describes keep ctx slots in registers
 * (emit_inlined_loop's condition), store_elsewhere aside? */
static int body_promotes(const struct body_info *bi)
{
    return bi->base >= 0 && !bi->value_read[bi->base] && !bi->atomics &&
           (!bi->calls || bi->nest_only) && !bi->acc_overflow;
}

/* Nested loops (bi->calls set): is every call of the body a bpf_loop of a
 * callback known at the call site, short enough to inline, passed the
 * body's base as ctx (`mov r3, base` in the call's block), whose own body
 * keeps slots in registers (body_promotes, no store through another
 * pointer that may reach a slot)? Then the loops can share the slots'
 * registers (nest_only) and their accesses through base join bi->acc,
 * weighted by depth. Up to INLINE_MAX_DEPTH levels. */
static void analyse_nests(const struct jit *j, const struct jfunc *cb, struct body_info *bi,
                          int level, const struct range_node *rn)
{
    if (bi->base < BL_R6 || bi->base > BL_R9 || level + 1 >= INLINE_MAX_DEPTH)
        return;
    int n_loops = 0;
    for (uint32_t i = cb->start; i < cb->end; i++) {
        const struct bl_insn *in = &j->insns[i];
        if (bl_is_lddw(in)) {
            i++;
            continue;
        }
        uint8_t cls = BL_CLASS(in->code);
        if (cls == BL_LD)
            return;                              /* legacy packet loads call out */
        if (cls != BL_JMP || BL_OP(in->code) != BL_CALL)
            continue;
        if (in->src != 0 || in->imm != BL_HELPER_LOOP)
            return;
        uint32_t t = static_callback(j, i);
        uint32_t f = t == UINT32_MAX ? UINT32_MAX : jit_func_index(j, t);
        if (f == UINT32_MAX || f == 0 || t == cb->start)
            return;
        const struct jfunc *fn = &j->funcs[f];
        if (fn->end - fn->start > INLINE_MAX_INSNS || !block_r3_is(j, i, cb->start, bi->base))
            return;
        for (const struct inline_ctx *o = j->inl; o; o = o->outer)
            if (o->start == fn->start)
                return;
        struct body_info *nb = malloc(sizeof *nb);
        if (!nb)
            return;
        const struct range_node *kid = rn ? jit_ranges_kid(rn, i) : NULL;
        const uint8_t *kid_proved = jit_ranges_proved(kid);
        uint8_t *kid_reach = kid_proved ? body_reach(j, fn, kid_proved) : NULL;
        analyse_body_at(j, fn, nb, level + 1, kid_reach, kid);
        free(kid_reach);
        int loads = 0, stores = 0;
        if (nb->base >= 0)
            others_may_alias(j, fn, nb->base, &loads, &stores);
        int ok = body_promotes(nb) && !stores;
        if (ok) {
            for (int k = 0; k < nb->n_acc && ok; k++) {
                if (bi->n_acc == 64) {
                    ok = 0;
                    break;
                }
                bi->acc[bi->n_acc] = nb->acc[k];
                bi->acc[bi->n_acc++].weight = (uint16_t)(nb->acc[k].weight * 16);
            }
            for (int q = 0; q < fn->n_saves; q++)
                bi->nest_regs |= 1u << fn->saves[q];
            if (fn->uses_frame || nb->refs[BL_R10])
                bi->nest_regs |= 1u << RBP;
            bi->nest_regs |= nb->nest_regs;
            bi->nest_loads |= loads | nb->nest_loads;
            bi->nest_scratch |= nb->scratch | nb->nest_scratch;
        }
        free(nb);
        if (!ok) {
            if (bi->n_acc == 64)
                bi->acc_overflow = 1;
            return;
        }
        n_loops++;
    }
    bi->nest_only = n_loops > 0;
}

/* The kinds of memory (BL_MEMK_*) the access at pc may touch, as the
 * verifier recorded them: every kind when it recorded nothing (a dead
 * instruction, raw mode). */
static unsigned access_kinds(const struct jit *j, uint32_t pc)
{
    if (!j->aux || !j->aux[pc].seen || !j->aux[pc].mem_kinds)
        return 0xff;
    return j->aux[pc].mem_kinds;
}

/* Do loads / stores of the body through a register other than base (the
 * register holding ctx all along) and R10 (the callback's own frame) maybe
 * touch the memory of ctx's slots? Only if the verifier saw them touch a
 * kind of memory that the body's accesses through base also touched: a
 * packet, map or ctx pointer never points into an eBPF stack frame. */
/* The next memory access (load, store or atomic) of the callback at or
 * after *pc, past lddw's second slots and the no-op launder atomics
 * through base; NULL at the end. *pc is left on it: ++ for the next. */
static const struct bl_insn *next_access(const struct jit *j, const struct jfunc *cb, int base,
                                         uint32_t *pc)
{
    for (; *pc < cb->end; ++*pc) {
        const struct bl_insn *in = &j->insns[*pc];
        uint8_t cls = BL_CLASS(in->code);
        if (bl_is_lddw(in))
            ++*pc;
        else if ((cls == BL_LDX || cls == BL_ST || cls == BL_STX) &&
                 !(cls == BL_STX && BL_MODE(in->code) == BL_ATOMIC &&
                   jit_atomic_is_noop(j, *pc, base, cb->start)))
            return in;
    }
    return NULL;
}

static void others_may_alias(const struct jit *j, const struct jfunc *cb, int base, int *loads,
                             int *stores)
{
    unsigned base_kinds = 0;
    for (int pass = 0; pass < 2; pass++)
        for (uint32_t i = cb->start; next_access(j, cb, base, &i); i++) {
            const struct bl_insn *in = &j->insns[i];
            uint8_t cls = BL_CLASS(in->code);
            int r = cls == BL_LDX ? in->src : in->dst;
            if (pass == 0) {
                if (r == base)
                    base_kinds |= access_kinds(j, i);
            } else if (r != base && r != BL_R10 && (access_kinds(j, i) & base_kinds)) {
                if (cls == BL_LDX)
                    *loads = 1;
                else
                    *stores = 1;
            }
        }
}

/* Is [off, off + size) accessed only as one slot of that size (8, or 4:
 * a record's u32 field, loads zero-extending it, stores of its low half)? */
static int promotable(const struct body_info *bi, int16_t off, int size)
{
    for (int k = 0; k < bi->n_acc; k++) {
        int lo = bi->acc[k].off, hi = lo + bi->acc[k].size;
        if (hi <= off || lo >= off + size)
            continue;
        if (lo != off || bi->acc[k].size != size)
            return 0;
    }
    return 1;
}

/* The index of the slot at off among ic's promoted ones, or -1. */
int jit_promoted_slot(const struct inline_ctx *ic, int16_t off)
{
    for (int k = 0; k < ic->n_promoted; k++)
        if (ic->slot_off[k] == off)
            return k;
    return -1;
}

/* A promoted slot's register for an 8-byte access [base + off] in the
 * inlined body being emitted, or -1. */
int jit_promoted_reg(const struct jit *j, int base, int size, int16_t off)
{
    const struct inline_ctx *ic = j->inl;
    if (!ic || base != ic->base)
        return -1;
    for (int k = 0; k < ic->n_promoted; k++)
        if (ic->slot_off[k] == off && ic->slot_size[k] == size)
            return ic->slot_reg[k];
    return -1;
}

/* The x86 registers of R6-R9 that an inlined copy of the body writes
 * (bit x86 number): those of its instructions that are not dead (an ALU
 * op, load or lddw whose result nobody reads emits nothing), the hoisted
 * leading `mov Rb, R2` included; without liveness, every one the
 * function saves. A register written only dead (the compiler's `mov r8,
 * -1` of a loop nobody reads) is free for the loop's pool. */
static unsigned body_callee_writes(const struct jit *j, const struct jfunc *cb,
                                   const struct inline_ctx *ic)
{
    unsigned w = 0;
    if (!ic->live_out) {
        for (int q = 0; q < cb->n_saves; q++)
            w |= 1u << cb->saves[q];
        return w;
    }
    for (uint32_t i = cb->start; i < cb->end; i++) {
        const struct bl_insn *in = &j->insns[i];
        uint16_t use, def;
        jit_use_def(j, i, cb->start, ic->stack_base, &use, &def);
        if (i != ic->skip && jit_dead_insn(j, ic, i))
            def = 0;
        for (int r = BL_R6; r <= BL_R9; r++)
            if ((def >> r) & 1)
                w |= 1u << jit_register_map[r];
        if (bl_is_lddw(in))
            i++;
    }
    return w;
}

/* Of R6-R9's x86 registers, those the copies of a body without calls
 * and without versioning (reach: what they reach; ic: the plan, the
 * liveness) really write: an emitted instruction defines them, or one the
 * hoist plan folded leaves them a copy of a value computed before the
 * loop (an induction variable's register) that is live where copies go
 * home (a jump, an exit, a jump target, anything but plain ALU, loads and
 * stores). The rest hold the caller's values all along: nothing to save
 * around the loop (pkt_win's window `j = i + k` in R6, an induction
 * variable: the enclosing loop's R6 stays in rbx across it). */
static unsigned copy_writes(const struct jit *j, const struct jfunc *cb,
                            const struct inline_ctx *ic, const uint8_t *reach)
{
    uint16_t defs = 0, folded = 0, synced = 0;
    for (uint32_t i = cb->start; i < cb->end; i++) {
        uint32_t k = i - cb->start;
        const struct bl_insn *in = &j->insns[i];
        uint8_t cls = BL_CLASS(in->code), op = BL_OP(in->code), mode = BL_MODE(in->code);
        int lddw = bl_is_lddw(in);
        if (reach && !reach[k]) {
            i += (uint32_t)lddw;
            continue;
        }
        uint16_t use, def;
        jit_use_def(j, i, cb->start, ic->stack_base, &use, &def);
        if (j->is_target[i])
            synced |= jit_live_in_at(j, ic, i);
        if (ic->unchecked && ic->unchecked[k] == 1)
            continue;                        /* (a test dropped: nothing) */
        int plain = lddw || ((cls == BL_ALU || cls == BL_ALU64) && op != BL_DIV && op != BL_MOD &&
                             !(BL_SRC(in->code) == BL_X &&
                               (op == BL_LSH || op == BL_RSH || op == BL_ARSH))) ||
                    (cls == BL_LDX && (mode == BL_MEM || mode == BL_MEMSX)) ||
                    ((cls == BL_ST || cls == BL_STX) && mode == BL_MEM);
        if (!plain)
            synced |= (uint16_t)(use | ic->live_out[k]);
        /* (the hoisted leading `mov Rb, r2` writes Rb, before the loop) */
        if (i != ic->skip && ((ic->unchecked && ic->unchecked[k]) || (ic->noop_st && ic->noop_st[k]) ||
                              (j->dead_store && j->dead_store[i]) || jit_dead_insn(j, ic, i)))
            def = 0;
        uint8_t kind = ic->hoist && ic->hoist->kind ? ic->hoist->kind[k] : HOIST_NONE;
        if (kind == HOIST_IV || kind == HOIST_SKIP || kind == HOIST_ALIAS)
            folded |= def;
        else
            defs |= def;
        i += (uint32_t)lddw;
    }
    uint16_t all = (uint16_t)(defs | (folded & synced));
    unsigned w = 0;
    for (int r = BL_R6; r <= BL_R9; r++)
        if ((all >> r) & 1)
            w |= 1u << jit_register_map[r];
    return w;
}

/* Registers an inlined loop may use for its own variables and promoted
 * slots: first caller-saved ones the body leaves alone (no save needed:
 * bpf_loop is a call, R1-R5 are dead after it), then callee-saved ones
 * the callback does not touch (saved around the loop). */

struct reg_pool {
    int regs[16];
    int n, next;
};

static void pool_init(struct reg_pool *pool, const struct body_info *bi, const struct jfunc *cb,
                      unsigned writes)
{
    pool->n = pool->next = 0;
    if (!bi->calls) {
        if (!bi->scratch) {
            pool->regs[pool->n++] = R11;
            pool->regs[pool->n++] = R10;
            pool->regs[pool->n++] = R9;
        }
        if (!bi->refs[BL_R4])
            pool->regs[pool->n++] = RCX;
        if (!bi->refs[BL_R5])
            pool->regs[pool->n++] = R8;
        if (!bi->refs[BL_R3])
            pool->regs[pool->n++] = RDX;
    }
    /* (with nested loops, not what their callbacks name either: a slot's
     * register is shared with them) */
    unsigned nest = bi->nest_only ? bi->nest_regs : 0;
    static const int callee[4] = {RBX, R13, R14, R15};
    for (int k = 0; k < 4; k++)
        if (!(((nest | writes) >> callee[k]) & 1))
            pool->regs[pool->n++] = callee[k];
    /* env (only helper calls need it) and the frame pointer (when the body
     * has no frame): saved around the loop like the others */
    if (!bi->calls || bi->nest_only)
        pool->regs[pool->n++] = R12;
    if (!cb->uses_frame && !bi->refs[BL_R10] && !((nest >> RBP) & 1))
        pool->regs[pool->n++] = RBP;
    /* a body whose only calls are loops (inlined, whose pools leave these
     * alone or save them; or called, saved around the call): r9-r11,
     * which no eBPF register is, last (the inner loops' pools take them
     * first, free) */
    if (bi->calls && bi->nest_only && !bi->scratch && !bi->nest_scratch) {
        pool->regs[pool->n++] = R11;
        pool->regs[pool->n++] = R10;
        pool->regs[pool->n++] = R9;
    }
}

/* Take the registers of mask out of the pool (slots shared with the
 * enclosing loop). */
static void pool_remove(struct reg_pool *pool, unsigned mask)
{
    int m = 0;
    for (int k = 0; k < pool->n; k++)
        if (!((mask >> pool->regs[k]) & 1))
            pool->regs[m++] = pool->regs[k];
    pool->n = m;
}

/* Order the registers not taken yet so that those of mask (what the
 * code around the loop needs after it: saved around it) come last;
 * returns how many come before them. */
static int pool_cheap_first(struct reg_pool *pool, unsigned mask)
{
    int cheap[12], dear[12], n_cheap = 0, n_dear = 0;
    for (int k = pool->next; k < pool->n; k++) {
        int r = pool->regs[k];
        if ((mask >> r) & 1)
            dear[n_dear++] = r;
        else
            cheap[n_cheap++] = r;
    }
    memcpy(pool->regs + pool->next, cheap, sizeof cheap[0] * (size_t)n_cheap);
    memcpy(pool->regs + pool->next + n_cheap, dear, sizeof dear[0] * (size_t)n_dear);
    return n_cheap;
}

static int pool_take(struct reg_pool *pool)
{
    return pool->next < pool->n ? pool->regs[pool->next++] : -1;
}

/* Does the exit at pc return a constant 0: `mov r0, 0` just before it,
 * nothing jumping to the exit? */
int jit_exit_returns_zero(const struct jit *j, uint32_t pc, uint32_t start)
{
    return jit_zeroed_just_before(j, pc, start, BL_R0);
}

/* Does every exit of the callback (every one a copy can reach: reach,
 * NULL for all) return a constant 0 (jit_exit_returns_zero)? Then the
 * loop never breaks early. */
static int never_breaks(const struct jit *j, const struct jfunc *cb, const uint8_t *reach)
{
    for (uint32_t i = cb->start; i < cb->end; i++) {
        const struct bl_insn *in = &j->insns[i];
        if (bl_is_lddw(in)) {
            i++;
            continue;
        }
        if (in->code == (BL_JMP | BL_EXIT) && (!reach || reach[i - cb->start]) &&
            !jit_exit_returns_zero(j, i, cb->start))
            return 0;
    }
    return 1;
}


/* i++ of an inlined loop */
static void emit_next_i(struct jit *j, const struct loop_var *i)
{
    struct x86_emit *e = &j->e;
    if (i->reg >= 0) {
        x86_inc(e, 0, i->reg);
    } else {
        x86_load(e, 8, 0, RDI, RSP, i->disp);
        x86_inc(e, 0, RDI);
        x86_store_r(e, 8, RSP, i->disp, RDI);
    }
}

/* Does the body end with an exit that is not known to return 0? Then
 * `cont` (which tests R0) comes right after the body. */
static int last_exit_tests_r0(const struct jit *j, const struct inline_ctx *ic)
{
    uint32_t last = ic->end - 1;
    return j->insns[last].code == (BL_JMP | BL_EXIT) &&
           !jit_exit_returns_zero(j, last, ic->start) &&
           !(last > ic->start && bl_is_lddw(&j->insns[last - 1]));
}

/* cmp i, n (32-bit) where i's value is in ireg */
static void cmp_with_n(struct jit *j, int ireg, const struct loop_var *vn)
{
    if (vn->imm)
        x86_alu_ri(&j->e, 0, ALU_CMP, ireg, vn->disp);
    else if (vn->reg >= 0)
        x86_alu_rr(&j->e, 0, ALU_CMP, ireg, vn->reg);
    else
        x86_alu_rm(&j->e, 0, ALU_CMP, ireg, RSP, vn->disp);
}

static void layout_end(struct jit *j, int rec);

/* cont0: i++; if (i < n) goto top; goto out
 * (counting down: n -= 1; if (n != 0) goto top; goto out) */
void jit_emit_loop_tail(struct jit *j, const struct inline_ctx *ic, int with_jmp_out)
{
    struct x86_emit *e = &j->e;
    const struct loop_var *vi = &ic->vars[0], *vn = &ic->vars[1];
    if (ic->count_down) {
        jit_iv_step_last(j, ic->hoist, ic->iv_exit);
        if (ic->iv_exit < 0) {
            x86_alu_ri(e, 0, ALU_SUB, vn->reg, 1);
            x86_jcc_fix(e, CC_NE, FIX_LABEL, ic->top_label);
        } else {
            x86_jcc_fix(e, CC_NS, FIX_LABEL, ic->top_label);   /* (its add's sign) */
        }
        layout_end(j, ic->layout_rec);
        if (with_jmp_out)
            x86_jmp_fix(e, FIX_LABEL, ic->out_label);
        return;
    }
    emit_next_i(j, vi);                          /* (leaves i in rdi when in memory) */
    jit_iv_step(j, ic->hoist, 1);
    cmp_with_n(j, vi->reg >= 0 ? vi->reg : RDI, vn);
    x86_jcc_fix(e, CC_B, FIX_LABEL, ic->top_label);
    layout_end(j, ic->layout_rec);
    if (with_jmp_out)
        x86_jmp_fix(e, FIX_LABEL, ic->out_label);
}

/* Does the inlined copy never read i? Every instruction it emits that
 * reads R1 (R1 = i at the top) is one the hoist plan folded: what builds
 * an induction variable or a value computed before the loop. Then only
 * the trip count matters, and it can count down: no i = 0 at the start,
 * no compare per iteration (short_down's inner loop, whose j is an
 * induction variable). */
/* (A write of R1 in the straight-line top, before any read that is not
 * folded, ends i there: every later instruction reads that value, an
 * induction variable's when the plan folded the write, as a nest's outer
 * body does with `mul r1, -1; add r1, 199; stxdw [r9+64], r1`.) */
static int i_unread(const struct jit *j, const struct inline_ctx *ic)
{
    /* (only where R1 may still hold i: a body that reuses R1 for another
     * value, as the compiler's packet pointer, reads that value; its
     * jumps go forward) */
    uint32_t n = ic->end - ic->start;
    uint8_t *may = calloc(n + 1, 1);
    if (!may)
        return 0;
    may[0] = 1;
    for (uint32_t k = 0; k < n; k++) {
        uint32_t pc = ic->start + k;
        const struct bl_insn *in = &j->insns[pc];
        int len = bl_is_lddw(in) ? 2 : 1;
        if (!may[k]) {
            k += (uint32_t)len - 1;
            continue;
        }
        uint16_t use, def;
        jit_use_def(j, pc, ic->start, ic->stack_base, &use, &def);
        uint8_t kind = ic->hoist && ic->hoist->kind ? ic->hoist->kind[k] : HOIST_NONE;
        int folded = kind == HOIST_SKIP || kind == HOIST_IV || kind == HOIST_ALIAS;
        if (((use >> BL_R1) & 1) && !folded && pc != ic->skip && !jit_dead_insn(j, ic, pc)) {
            free(may);
            return 0;
        }
        uint8_t out = !((def >> BL_R1) & 1), cls = BL_CLASS(in->code), op = BL_OP(in->code);
        if ((cls == BL_JMP || cls == BL_JMP32) && op == BL_EXIT)
            continue;
        if ((cls == BL_JMP || cls == BL_JMP32) && op != BL_CALL) {
            int64_t t = (int64_t)k + 1 + (cls == BL_JMP32 && op == BL_JA ? in->imm : in->off);
            if (t <= (int64_t)k || t > (int64_t)n) {
                free(may);
                return 0;
            }
            may[t] |= out;
            if (op == BL_JA)
                continue;
        }
        may[k + (uint32_t)len <= n ? k + (uint32_t)len : n] |= out;
        k += (uint32_t)len - 1;
    }
    free(may);
    return 1;
}

/* Outside inlined bodies (no liveness there): is R0 written before it is
 * read on every way on from the call at pc? (Then the iterations a
 * bpf_loop ran are unread: compiled code tests its status slot instead.)
 * A walk of the function's forward jumps, from the instruction after pc. */
static int r0_unread_after(const struct jit *j, uint32_t pc)
{
    const struct jfunc *fn = &j->funcs[j->func_of[pc]];
    uint32_t n = fn->end - fn->start, *todo = malloc(n * sizeof *todo), top = 0;
    uint8_t *seen = calloc(n, 1);
    int unread = todo && seen;
    if (unread && pc + 1 < fn->end) {
        todo[top++] = pc + 1;
        seen[pc + 1 - fn->start] = 1;
    }
    while (unread && top) {
        uint32_t i = todo[--top];
        const struct bl_insn *in = &j->insns[i];
        uint16_t use, def;
        jit_use_def(j, i, fn->start, -1, &use, &def);
        if ((use >> BL_R0) & 1) {
            unread = 0;
            break;
        }
        if ((def >> BL_R0) & 1)
            continue;
        uint8_t cls = BL_CLASS(in->code), op = BL_OP(in->code);
        uint32_t next[2] = {UINT32_MAX, UINT32_MAX};
        if (cls == BL_JMP && op == BL_EXIT)
            continue;
        if ((cls == BL_JMP || cls == BL_JMP32) && op != BL_CALL) {
            int64_t t = (int64_t)i + 1 + (cls == BL_JMP32 && op == BL_JA ? in->imm : in->off);
            if (t <= (int64_t)i || t >= fn->end) {
                unread = 0;                      /* (verified code jumps forward only) */
                break;
            }
            next[0] = (uint32_t)t;
            if (op != BL_JA)
                next[1] = i + 1;
        } else {
            next[0] = i + (bl_is_lddw(in) ? 2 : 1);
        }
        for (int q = 0; q < 2; q++) {
            if (next[q] == UINT32_MAX)
                continue;
            if (next[q] >= fn->end) {
                unread = 0;                      /* (falling off the end) */
                break;
            }
            if (!seen[next[q] - fn->start]) {
                seen[next[q] - fn->start] = 1;
                todo[top++] = next[q];
            }
        }
    }
    free(todo);
    free(seen);
    return unread;
}

/* Who may write the 8 bytes at ctx + off in the body? With steps = 0:
 * nothing (the slot is invariant). With steps = 1: only the body's own
 * 8-byte stores at off through the register holding ctx (the launder's
 * add of 0 aside), a slot the body steps (loop_checks.h) whose stores
 * bl_loop_checks saw. Stores through the register holding ctx all along
 * (bi->base) elsewhere, through R10 (the callback's own frame) and to
 * memory the verifier saw was never a stack cannot reach it; a call, or
 * any other store, might. */
static int slot_writes_known(const struct jit *j, const struct jfunc *cb,
                             const struct body_info *bi, int16_t off, int steps)
{
    if (bi->calls || bi->base < 0)
        return 0;
    for (uint32_t i = cb->start; next_access(j, cb, bi->base, &i); i++) {
        const struct bl_insn *in = &j->insns[i];
        if (BL_CLASS(in->code) == BL_LDX || in->dst == BL_R10)
            continue;
        if (in->dst == bi->base) {
            int lo = in->off, hi = lo + jit_size_of(in->code);
            if (hi <= off || lo >= off + 8)
                continue;
            if (steps && BL_MODE(in->code) == BL_MEM && in->off == off &&
                jit_size_of(in->code) == 8)
                continue;
            if (steps && BL_MODE(in->code) == BL_ATOMIC &&
                jit_atomic_is_noop(j, i, bi->base, cb->start))
                continue;
            return 0;
        }
        if (access_kinds(j, i) & BL_MEMK_STACK)
            return 0;
    }
    return 1;
}

static int side_invariant(const struct jit *j, const struct jfunc *cb,
                          const struct body_info *bi, const struct loop_side *sd)
{
    for (int k = 0; k < sd->n_slots; k++)
        if (!slot_writes_known(j, cb, bi, sd->slot[k], (sd->stepped >> k) & 1))
            return 0;
    return 1;
}

/* The checks bl_loop_checks finds whose ctx slots the body never writes;
 * of those, the ones every copy drops anyway (dropped: decided for every
 * iteration) need no T computed at each start. When every one is dropped
 * (*all_dropped), none is kept: the body as it is has no checks, and may
 * run twice per trip without versioning (it used to be versioned on the
 * dropped checks to get a check-free copy to unroll, a T computed at each
 * start for nothing) */
static int loop_checks_kept(const struct jit *j, const struct jfunc *cb,
                            const struct body_info *bi, const uint8_t *dropped,
                            int *all_dropped, struct loop_check *c)
{
    int n = bl_loop_checks(j->insns, cb->start, cb->end, j->is_target, c), kept = 0, open = 0;
    for (int k = 0; k < n; k++)
        if (side_invariant(j, cb, bi, &c[k].d) && side_invariant(j, cb, bi, &c[k].s)) {
            c[kept++] = c[k];
            open += !(dropped && dropped[c[k].pc - cb->start]);
        }
    *all_dropped = kept > 0 && open == 0;
    if (open == kept)
        return kept;
    int m = 0;
    for (int k = 0; k < kept; k++)
        if (!dropped[c[k].pc - cb->start])
            c[m++] = c[k];
    return m;
}

/* the x86 condition of `d REL s` after `cmp d, s` */
static enum x86_cc rel_cc(uint8_t rel, int is_signed)
{
    static const enum x86_cc u[4] = {CC_A, CC_AE, CC_B, CC_BE}, sg[4] = {CC_G, CC_GE, CC_L, CC_LE};
    return is_signed ? sg[rel] : u[rel];
}

/* reg = a side's value at i = 0: b + its slots (rsi = ctx), mod 2^64 as
 * the body computes it */
static void side_at_zero(struct jit *j, const struct inline_ctx *ic, int reg,
                         const struct loop_side *sd)
{
    /* (b = 0 and a first slot added: that slot moved in) */
    int mov_first = sd->b == 0 && sd->n_slots > 0 && sd->sign[0] > 0;
    if (!mov_first)
        x86_mov_ri(&j->e, reg, (uint64_t)(int64_t)sd->b);
    for (int k = 0; k < sd->n_slots; k++) {
        /* a slot shared with the enclosing loop is in its register only */
        int q = jit_promoted_slot(ic, sd->slot[k]);
        if (k == 0 && mov_first) {
            if (q >= 0 && ic->slot_shared[q])
                x86_mov_rr(&j->e, 1, reg, ic->slot_reg[q]);
            else
                x86_load(&j->e, 8, 0, reg, RSI, sd->slot[k]);
        } else if (q >= 0 && ic->slot_shared[q])
            x86_alu_rr(&j->e, 1, sd->sign[k] > 0 ? ALU_ADD : ALU_SUB, reg, ic->slot_reg[q]);
        else
            x86_alu_rm(&j->e, 1, sd->sign[k] > 0 ? ALU_ADD : ALU_SUB, reg, RSI, sd->slot[k]);
    }
}

/* rax = d at i = n - 1 = a*(n - 1) + d0 (rcx), n in memory at [rsp + off] */
static void side_at_last(struct x86_emit *e, int32_t a, int32_t off)
{
    x86_load(e, 8, 0, RAX, RSP, off);
    if (a != 1)
        x86_imul_ri(e, 1, RAX, RAX, a);
    x86_alu_ri(e, 1, ALU_SUB, RAX, a);
    x86_alu_rr(e, 1, ALU_ADD, RAX, RCX);
}

/* rax = t = (rax - (dec)) / m + 1, m a power of 2 */
static void first_t(struct x86_emit *e, uint32_t m, int dec)
{
    if (m == 1) {
        if (!dec)
            x86_alu_ri(e, 1, ALU_ADD, RAX, 1);
        return;
    }
    if (dec)
        x86_alu_ri(e, 1, ALU_SUB, RAX, 1);
    x86_shift_ri(e, 1, SHIFT_SHR, RAX, (uint8_t)__builtin_ctz(m));
    x86_alu_ri(e, 1, ALU_ADD, RAX, 1);
}

/* Before the loop (n >= 1 in vn, rsi = ctx, rax free): the range [T0, T1)
 * of iterations in which no check's exit condition holds: rax = T0, *t1 =
 * T1, *nreal = n (both in memory). For each check, d at i = 0 (rcx) and s
 * (rdx) are computed as the body computes them; d at i = n - 1 is d0 +
 * a*(n-1), and when it lies on the right side of d0 (no wrap around 2^64
 * in the jump's signedness), d is, as an integer, d0 + a*i for every i:
 * then d - s is affine in i and the exit condition, a half-line, holds
 * either nowhere in [0, n) (false at both ends), from some t on (false at
 * 0, true at n - 1: T1 = min(T1, t)), up to some t (true at 0, false at
 * n - 1: T0 = max(T0, t)), or everywhere; t is computed by a shift when
 * |a| is a power of 2. Anything else leaves no fast range (T1 = 0). The
 * range is empty when T0 >= T1. T1 and n are worked on in their own
 * slots, T0 in a pushed word only when some check can raise it (else rax
 * = 0 and the result is 0: the caller needs no test of T0), rcx not
 * saved when it holds i, just set to 0 (rcx_zero); the first
 * check's t needs no min/max (1 <= t <= n - 1). Inner starts of tri_gt
 * and pair_ret paid ~40 instructions here, 5 words pushed and copied. */
static int emit_checks_limit(struct jit *j, const struct inline_ctx *ic,
                             const struct loop_check *c, int nc,
                             const struct loop_var *vn, const struct loop_var *t1,
                             const struct loop_var *nreal, int rcx_zero)
{
    struct x86_emit *e = &j->e;
    int has_t0 = 0;
    for (int k = 0; k < nc; k++) {
        uint32_t m = (uint32_t)(c[k].d.a > 0 ? c[k].d.a : -c[k].d.a);
        int up = c[k].rel == LR_GT || c[k].rel == LR_GE;
        has_t0 |= c[k].d.a != 0 && up != (c[k].d.a > 0) && !(m & (m - 1));
    }
    int32_t base = 8 * (2 - rcx_zero + has_t0);   /* rsp offset of the loop's own words */
    int32_t on = base + nreal->disp, o1 = base + t1->disp, o0 = 0;
    var_load(j, RAX, vn);                    /* (before the pushes: vn may be on the stack) */
    if (!rcx_zero)
        x86_push(e, RCX);
    x86_push(e, RDX);
    if (has_t0) {
        x86_push(e, RAX);
        x86_store_i(e, 8, RSP, o0, 0);       /* [rsp] = T0 */
    }
    x86_store_r(e, 8, RSP, on, RAX);         /* nreal = n */
    x86_store_r(e, 8, RSP, o1, RAX);         /* T1 = n */
    for (int k = 0; k < nc; k++) {
        const struct loop_check *ck = &c[k];
        uint32_t l_holds0 = x86_label_new(e), l_next = x86_label_new(e);
        uint32_t l_nofast = x86_label_new(e);
        enum x86_cc bad = rel_cc(ck->rel, ck->is_signed);
        int32_t a = ck->d.a;
        uint32_t m = (uint32_t)(a > 0 ? a : -a);
        int up = ck->rel == LR_GT || ck->rel == LR_GE;
        int strict = ck->rel == LR_GT || ck->rel == LR_LT;
        side_at_zero(j, ic, RCX, &ck->d);
        side_at_zero(j, ic, RDX, &ck->s);
        x86_alu_rr(e, 1, ALU_CMP, RCX, RDX);
        x86_jcc_fix(e, bad, FIX_LABEL, l_holds0);       /* holds at i = 0 */
        if (a == 0) {
            x86_jmp_fix(e, FIX_LABEL, l_next);          /* invariant, false */
        } else {
            side_at_last(e, a, on);                     /* d at i = n - 1 */
            x86_alu_rr(e, 1, ALU_CMP, RAX, RCX);
            x86_jcc_fix(e, a > 0 ? (ck->is_signed ? CC_L : CC_B) : (ck->is_signed ? CC_G : CC_A),
                        FIX_LABEL, l_nofast);           /* wrapped around */
            x86_alu_rr(e, 1, ALU_CMP, RAX, RDX);
            x86_jcc_fix(e, (enum x86_cc)(bad ^ 1), FIX_LABEL, l_next);   /* holds nowhere */
            if (up == (a > 0) && !(m & (m - 1))) {
                /* first i where it holds: t = (|s - d0| - (non-strict)) / |a| + 1 */
                x86_mov_rr(e, 1, RAX, up ? RDX : RCX);
                x86_alu_rr(e, 1, ALU_SUB, RAX, up ? RCX : RDX);
                first_t(e, m, !strict);
                if (k > 0) {
                    x86_alu_rm(e, 1, ALU_CMP, RAX, RSP, o1);
                    x86_jcc_fix(e, CC_AE, FIX_LABEL, l_next);
                }
                x86_store_r(e, 8, RSP, o1, RAX);         /* T1 = min(T1, t) */
                x86_jmp_fix(e, FIX_LABEL, l_next);
            }
            x86_jmp_fix(e, FIX_LABEL, l_nofast);
        }
        x86_label_bind(e, l_holds0);
        if (a != 0 && up != (a > 0) && !(m & (m - 1))) {
            side_at_last(e, a, on);                     /* d at i = n - 1 */
            x86_alu_rr(e, 1, ALU_CMP, RAX, RCX);
            x86_jcc_fix(e, a > 0 ? (ck->is_signed ? CC_L : CC_B) : (ck->is_signed ? CC_G : CC_A),
                        FIX_LABEL, l_nofast);           /* wrapped around */
            x86_alu_rr(e, 1, ALU_CMP, RAX, RDX);
            x86_jcc_fix(e, bad, FIX_LABEL, l_nofast);   /* holds everywhere */
            /* first i where it no longer holds: t = (|d0 - s| - (strict)) / |a| + 1 */
            x86_mov_rr(e, 1, RAX, up ? RCX : RDX);
            x86_alu_rr(e, 1, ALU_SUB, RAX, up ? RDX : RCX);
            first_t(e, m, strict);
            x86_alu_rm(e, 1, ALU_CMP, RAX, RSP, o0);
            x86_jcc_fix(e, CC_BE, FIX_LABEL, l_next);
            x86_store_r(e, 8, RSP, o0, RAX);             /* T0 = max(T0, t) */
            x86_jmp_fix(e, FIX_LABEL, l_next);
        }
        x86_label_bind(e, l_nofast);
        x86_store_i(e, 8, RSP, o1, 0);                   /* no fast range */
        x86_label_bind(e, l_next);
    }
    if (has_t0)
        x86_pop(e, RAX);
    x86_pop(e, RDX);
    if (rcx_zero)
        x86_alu_rr(e, 0, ALU_XOR, RCX, RCX);
    else
        x86_pop(e, RCX);
    return has_t0;
}

/* Which instructions of the body a copy can reach from its start, the
 * checks it drops never taken (NULL when out of memory). */
static uint8_t *body_reach(const struct jit *j, const struct jfunc *cb, const uint8_t *unchecked)
{
    uint32_t n = cb->end - cb->start;
    uint8_t *reach = calloc(n, 1);
    if (!reach)
        return NULL;
    reach[0] = 1;
    for (uint32_t k = 0; k < n; k++) {       /* forward jumps only: one pass... */
        if (!reach[k])
            continue;
        const struct bl_insn *in = &j->insns[cb->start + k];
        uint8_t cls = BL_CLASS(in->code), op = BL_OP(in->code);
        int len = bl_is_lddw(in) ? 2 : 1;
        int always = unchecked && unchecked[k] == 2;
        int jump = (cls == BL_JMP || cls == BL_JMP32) && op != BL_CALL &&
                   !(unchecked && unchecked[k] == 1);
        if (jump && op == BL_EXIT)
            continue;
        if (jump) {
            int64_t t = (int64_t)k + 1 + ((cls == BL_JMP32 && op == BL_JA) ? in->imm : in->off);
            if (t <= (int64_t)k || t >= (int64_t)n) {   /* ...else everything */
                memset(reach, 1, n);
                return reach;
            }
            reach[t] = 1;
            if (op == BL_JA || always)
                continue;
        }
        if (k + len < n)
            reach[k + len] = 1;
    }
    return reach;
}

/* Is instruction i a conditional jump whose two ways meet right away in
 * the copy ic: everything between it and its target emits nothing here
 * (checks the copy drops as never taken, code it cannot reach), or goes
 * there too (a check the copy makes a `ja` to the same target)? sum_ret's
 * `b == 0 and i > 200` in the copy where i <= 200 was `jne` to the next
 * instruction, a branch per byte. */
static int noop_jump(const struct jit *j, const struct inline_ctx *ic, uint32_t i)
{
    const struct bl_insn *in = &j->insns[i];
    uint8_t cls = BL_CLASS(in->code), op = BL_OP(in->code);
    if ((cls != BL_JMP && cls != BL_JMP32) || op == BL_JA || op == BL_CALL || op == BL_EXIT ||
        in->off <= 0 || !ic->unchecked)
        return 0;
    uint32_t t = i + 1 + (uint32_t)in->off;
    for (uint32_t m = i + 1; m < t; m++) {
        uint32_t k = m - ic->start;
        if (m >= ic->end)
            return 0;
        if (ic->unchecked[k] == 2)           /* (a check always taken: to t too?) */
            return (int64_t)m + 1 + j->insns[m].off == (int64_t)t;
        if (!((ic->reach && !ic->reach[k]) || ic->unchecked[k] == 1))
            return 0;
    }
    return 1;
}

/* instruction i of the body, in the copy ic */
static void emit_one(struct jit *j, const struct jfunc *cb, struct inline_ctx *ic, uint32_t i,
                     int i_plus)
{
    uint32_t k = i - cb->start;
    if (ic->unchecked && ic->unchecked[k] == 2 && !(ic->reach && !ic->reach[k])) {
        /* a check proved always taken: a jump, unless what lies
         * between it and its target is unreachable here */
        uint32_t t = (uint32_t)((int64_t)i + 1 + j->insns[i].off);
        uint32_t m = k + 1;
        while (ic->reach && m < t - cb->start && !ic->reach[m])
            m++;
        if (m < t - cb->start) {
            jit_alias_sync(j, jit_live_in_at(j, ic, t));
            jit_emit_jump(j, i, t);
            jit_alias_clear(j);
        }
    } else if (i == ic->skip || (ic->unchecked && ic->unchecked[k]) ||
               (ic->reach && !ic->reach[k]) || (ic->noop_st && ic->noop_st[k]) ||
               (j->dead_store && j->dead_store[i])) {
        /* hoisted, a check proved never taken, unreachable here, or a
         * store nothing reads */
    } else if (jit_dead_insn(j, ic, i)) {
        jit_alias_forget(j, j->insns[i].dst);
    } else if (noop_jump(j, ic, i)) {
        /* both ways go on to the same code */
    } else if (ic->hoist && ic->hoist->kind && ic->hoist->kind[k]) {
        jit_emit_hoisted(j, ic, i, i_plus);
    } else {
        jit_emit_with_copies(j, ic, i);
    }
}

/* Does the way not taken of the conditional jump at i leave the loop:
 * straight-line code [i + 1, t) no other jump enters, ending in an exit
 * that may return nonzero or a `ja` that leads straight to one (a return
 * or a break)? Returns t, else 0. Such code runs once per loop at most:
 * emit_body puts it out of line (emit_cold) and inverts the jump, so the
 * iteration that goes on falls through instead of jumping over it
 * (tcpopts_ret: `if opt + 2 > #pkt then return s end` three times). */
static uint32_t cold_block(const struct jit *j, const struct inline_ctx *ic, uint32_t i)
{
    const struct bl_insn *in = &j->insns[i];
    uint8_t cls = BL_CLASS(in->code), op = BL_OP(in->code);
    uint32_t k = i - ic->start;
    if ((cls != BL_JMP && cls != BL_JMP32) || op == BL_JA || op == BL_CALL || op == BL_EXIT ||
        in->off < 2 || i == ic->skip || (ic->unchecked && ic->unchecked[k]) ||
        (ic->reach && (!ic->reach[k] || !ic->reach[k + 1])) ||
        jit_fused_ja_target(j, i) != UINT32_MAX || ic->n_cold == COLD_MAX)
        return 0;
    uint32_t t = i + 1 + (uint32_t)in->off;
    if (t >= ic->end)
        return 0;
    for (uint32_t m = i + 1; m < t; m++) {
        const struct bl_insn *x = &j->insns[m];
        uint8_t c = BL_CLASS(x->code);
        if (j->is_target[m] || (c == BL_LD && !bl_is_lddw(x)))
            return 0;
        if ((c == BL_JMP || c == BL_JMP32) && m + 1 != t)
            return 0;
        if (bl_is_lddw(x))
            m++;
    }
    /* from i + 1 on, a straight way to an exit returning a nonzero constant
     * (R0 = 1 after a break, the compiler's return code), leaving [i + 1,
     * t) by its last instruction */
    int r0_nonzero = 0;
    uint32_t x = i + 1;
    for (int steps = 0; steps < 32 && x < ic->end; steps++) {
        const struct bl_insn *y = &j->insns[x];
        uint8_t c = BL_CLASS(y->code);
        int leaves = y->code == (BL_JMP | BL_EXIT) || (y->code == (BL_JMP | BL_JA) && y->off > 0);
        if (x < t && (leaves != (x == t - 1)))
            return 0;
        if (y->code == (BL_JMP | BL_EXIT))
            return r0_nonzero ? t : 0;
        if (leaves) {
            x = x + 1 + (uint32_t)y->off;
            continue;
        }
        if (c == BL_JMP || c == BL_JMP32 || (c == BL_LD && !bl_is_lddw(y)) ||
            (c == BL_STX && BL_MODE(y->code) == BL_ATOMIC))
            return 0;
        if (y->dst == BL_R0 && c != BL_ST && c != BL_STX)
            r0_nonzero = y->code == (BL_ALU64 | BL_MOV | BL_K) && y->imm != 0;
        x += bl_is_lddw(y) ? 2 : 1;
    }
    return 0;
}

/* the blocks emit_body put out of line, after code that never falls
 * through; each starts with the copies of the jump into it (the block
 * runs right after that jump, the x86 registers unchanged) */
static void emit_cold(struct jit *j, const struct jfunc *cb, struct inline_ctx *ic)
{
    const struct inline_ctx *outer = j->inl;
    j->inl = ic;
    for (int q = 0; q < ic->n_cold && !j->failed; q++) {
        x86_label_bind(&j->e, ic->cold_label[q]);
        memcpy(j->alias, ic->cold_alias[q], sizeof j->alias);
        memcpy(j->form, ic->cold_form[q], sizeof j->form);
        for (uint32_t i = ic->cold[q][0]; i < ic->cold[q][1]; i++) {
            x86_label_bind(&j->e, ic->first_label + (i - cb->start));
            emit_one(j, cb, ic, i, 0);
            if (bl_is_lddw(&j->insns[i]))
                i++;
        }
    }
    jit_alias_clear(j);
    ic->n_cold = 0;
    j->inl = outer;
}

/* Does a jump reach the label of body instruction i in this copy: one
 * emitted so far (jumped[], from the fixups: jumps in a body go forward)
 * or the `ja` ending a block put out of line (emitted later, from the
 * code before i)? Else i is reached only by falling into it, and the
 * copies of registers the code before it made still hold. */
static int jumped_into(struct jit *j, const struct inline_ctx *ic, uint32_t i, uint8_t *jumped,
                       size_t *seen)
{
    const struct x86_emit *e = &j->e;
    uint32_t n = ic->end - ic->start;
    for (; *seen < e->n_fix; (*seen)++) {
        const struct x86_fixup *f = &e->fix[*seen];
        if (f->kind == FIX_LABEL && f->target >= ic->first_label &&
            f->target - ic->first_label < n)
            jumped[f->target - ic->first_label] = 1;
    }
    if (jumped[i - ic->start])
        return 1;
    for (int q = 0; q < ic->n_cold; q++) {
        const struct bl_insn *last = &j->insns[ic->cold[q][1] - 1];
        if (BL_OP(last->code) == BL_JA &&
            (int64_t)ic->cold[q][1] + (BL_CLASS(last->code) == BL_JMP32 ? last->imm : last->off) <= i)
            return 1;                        /* (threaded on from its target: maybe i) */
    }
    return 0;
}

/* The body once, from R1 = i (+ i_plus, as a form, when i lives in a
 * register other than R1's own) / R2 = ctx to its last instruction; cont
 * and cont0 are left for the caller to bind. */
static void emit_body(struct jit *j, const struct jfunc *cb, struct inline_ctx *ic,
                      int r1_live, int r2_live, int i_plus)
{
    struct x86_emit *e = &j->e;
    const struct loop_var *vars = ic->vars;
    ic->cont_label = x86_label_new(e);
    ic->cont0_label = x86_label_new(e);
    ic->first_label = (uint32_t)e->n_labels;
    for (uint32_t i = cb->start; i < cb->end; i++)
        x86_label_new(e);
    /* R1 = i, R2 = ctx: as copies when they live in registers (which the
     * body never writes) */
    jit_alias_clear(j);
    int copies = ic->live_out && !j->is_target[cb->start];
    if (vars[0].reg != RDI && r1_live) {
        if (copies && vars[0].reg >= 0 && i_plus)
            j->form[BL_R1] = (struct x86_mem){(int8_t)vars[0].reg, -1, 1, i_plus};
        else if (copies && vars[0].reg >= 0)
            j->alias[BL_R1] = (int8_t)vars[0].reg;
        else
            var_load(j, RDI, &vars[0]);
        if (i_plus && !jit_has_form(j, BL_R1))
            x86_alu_ri(&j->e, 1, ALU_ADD, RDI, i_plus);
    }
    if (vars[2].reg != RSI && r2_live) {
        if (copies && vars[2].reg >= 0)
            j->alias[BL_R2] = (int8_t)vars[2].reg;
        else
            var_load(j, RSI, &vars[2]);
    }
    const struct inline_ctx *outer = j->inl;
    j->inl = ic;
    /* (without memory for jumped[]: every jump target is taken for a join) */
    uint8_t *jumped = calloc(cb->end - cb->start, 1);
    size_t seen = e->n_fix;
    for (uint32_t i = cb->start; i < cb->end && !j->failed; i++) {
        uint32_t k = i - cb->start, cold_end = ic->cold_ok ? cold_block(j, ic, i) : 0;
        int join = jumped ? jumped_into(j, ic, i, jumped, &seen) : j->is_target[i];
        if (join && ic->live_out && !(ic->reach && !ic->reach[k])) {
            jit_alias_sync(j, jit_live_in_at(j, ic, i));     /* a join: live registers home */
            jit_alias_clear(j);
        }
        x86_label_bind(e, ic->first_label + k);
        if (cold_end) {
            /* the way that leaves the loop, out of line (emit_cold) */
            int q = ic->n_cold++;
            j->cold_jump = i;
            j->cold_label = ic->cold_label[q] = x86_label_new(e);
            jit_emit_with_copies(j, ic, i);
            j->cold_jump = UINT32_MAX;
            memcpy(ic->cold_alias[q], j->alias, sizeof j->alias);
            memcpy(ic->cold_form[q], j->form, sizeof j->form);
            ic->cold[q][0] = i + 1;
            ic->cold[q][1] = cold_end;
            i = cold_end - 1;
            continue;
        }
        emit_one(j, cb, ic, i, i_plus);
        if (bl_is_lddw(&j->insns[i]))
            i++;
    }
    free(jumped);
    jit_alias_clear(j);
    const struct bl_insn *last = &j->insns[cb->end - 1];
    if (last->code != (BL_JMP | BL_EXIT) && !(ic->reach && !ic->reach[cb->end - 1 - cb->start]))
        x86_jmp_fix(e, FIX_LABEL, j->fault_label);   /* falling off the callback */
    j->inl = outer;
}

/* ---- where loop tops go ----------------------------------------------------
 *
 * A small loop fits one 64-byte fetch block: aligned to 32, compiled
 * scan's loop (1 byte per iteration, two taken branches) straddled two
 * and ran 771 -> 1,149 ns when the code before it got shorter. So the top
 * of a loop outside other inlined loops goes to the next 64-byte line
 * (the NOPs run once per start). Inside one, NOPs before an inner top
 * would run at every start of the inner loop (or a jump over them:
 * short_down's four NOPs per start were a tenth of its instructions), so
 * inner tops get none. Their places are recorded (layout_top, layout_end)
 * and, once the outermost copy is emitted, its own padding is chosen again
 * (layout_done): the length that puts the loops of the nest in the fewest
 * 64-byte lines (then 32-byte halves of them), weighted 16 per level of
 * depth, then the deepest one's top nearest the start of a line. The code of the nest moves as one
 * (x86_repad), so the inner loops sit where they would have been aligned
 * and no NOPs run inside the nest. */

/* Before a loop copy's top: returns the record of it (or -1), *outermost
 * when this copy anchors the padding of its nest. */
static int layout_top(struct jit *j, const struct inline_ctx *ic, int *outermost)
{
    struct x86_emit *e = &j->e;
    *outermost = 0;
    if (!j->inl && !j->pad_on) {
        *outermost = 1;
        j->pad_on = 1;
        j->pad_at = (uint32_t)e->len;
        x86_align(e, 64);
        j->pad_len = (uint32_t)e->len - j->pad_at;
        j->n_tops = 0;
    } else if (!j->pad_on) {
        x86_align(e, 64);                    /* (no nest around it) */
        return -1;
    }
    if (j->n_tops == (int)(sizeof j->tops / sizeof j->tops[0]))
        return -1;
    j->tops[j->n_tops].top = j->tops[j->n_tops].end = (uint32_t)e->len;
    j->tops[j->n_tops].depth = ic->depth;
    return j->n_tops++;
}

/* after a back-edge of a recorded loop: its end is the last one inside
 * the body, or the tail after it when the body's end is reached (not the
 * tail of a body whose last instruction, a dropped break, never runs:
 * the body's own copies of the tail are where it goes on) */
static void layout_end(struct jit *j, int rec)
{
    if (rec >= 0 && j->tops[rec].end < j->e.len)
        j->tops[rec].end = (uint32_t)j->e.len;
}

/* the outermost copy is emitted: its padding, chosen for the whole nest */
static void layout_done(struct jit *j)
{
    j->pad_on = 0;
    if (j->n_tops < 2)
        return;                              /* no inner loop: 64-aligned */
    uint32_t old = j->pad_len;
    int deep = 0;
    for (int k = 1; k < j->n_tops; k++)
        if (j->tops[k].depth > j->tops[deep].depth)
            deep = k;
    uint64_t best_cost = UINT64_MAX;
    uint32_t best_pad = old, best_mod = 64;
    for (uint32_t pad = 0; pad < 64; pad++) {
        uint64_t cost = 0;
        for (int k = 0; k < j->n_tops; k++) {
            uint32_t t = j->tops[k].top - old + pad, en = j->tops[k].end - old + pad;
            if (en <= t)
                en = t + 1;
            int d = j->tops[k].depth < 1 ? 0 : j->tops[k].depth > 8 ? 7 : j->tops[k].depth - 1;
            /* (64-byte lines, and the 32-byte windows fetched of them) */
            uint64_t lines = (en - 1) / 64 - t / 64 + 1, halves = (en - 1) / 32 - t / 32 + 1;
            cost += (4 * lines + halves) << (4 * d);
        }
        uint32_t mod = (j->tops[deep].top - old + pad) & 63;
        if (cost < best_cost || (cost == best_cost && mod < best_mod)) {
            best_cost = cost;
            best_pad = pad;
            best_mod = mod;
        }
    }
    x86_repad(&j->e, j->pad_at, old, best_pad);
}

static int emit_loop_copy_at(struct jit *j, const struct jfunc *cb, struct inline_ctx *ic,
                             int r1_live, int r2_live)
{
    struct x86_emit *e = &j->e;
    const struct loop_var *vars = ic->vars;
    x86_label_bind(e, ic->top_label);
    ic->cold_ok = 1;
    ic->n_cold = 0;
    emit_body(j, cb, ic, r1_live, r2_live, 0);
    ic->cold_ok = 0;
    if (ic->reach && !ic->reach[cb->end - 1 - cb->start])
        ic->layout_rec = -1;                 /* (layout_end) */
    /* an exit that returned a known 0 continues at cont0, any other exit
     * at cont, which tests R0; the last exit falls through to its own */
    if (last_exit_tests_r0(j, ic)) {
        uint32_t l_break = x86_label_new(e);
        x86_label_bind(e, ic->cont_label);
        x86_test_rr(e, 1, RAX, RAX);
        x86_jcc_fix(e, CC_NE, FIX_LABEL, l_break);
        x86_label_bind(e, ic->cont0_label);
        jit_emit_loop_tail(j, ic, 1);
        emit_cold(j, cb, ic);
        x86_label_bind(e, l_break);
        emit_next_i(j, &vars[0]);            /* a break at i ran i + 1 iterations */
        return 0;
    }
    x86_label_bind(e, ic->cont0_label);
    jit_emit_loop_tail(j, ic, 0);
    if (never_breaks(j, cb, ic->reach) && !ic->n_cold) {
        x86_label_bind(e, ic->cont_label);    /* (unused: every exit returns 0) */
        return 1;
    }
    x86_jmp_fix(e, FIX_LABEL, ic->out_label);
    emit_cold(j, cb, ic);
    x86_label_bind(e, ic->cont_label);
    x86_test_rr(e, 1, RAX, RAX);
    x86_jcc_fix(e, CC_E, FIX_LABEL, ic->cont0_label);
    emit_next_i(j, &vars[0]);            /* a break at i ran i + 1 iterations */
    return 0;
}

/* One copy of an inlined loop, from its top to its tail: with i = 0 set,
 * it runs the iterations and falls through to the code that leaves the
 * loop (or jumps to ic->out_label). */
static int emit_loop_copy(struct jit *j, const struct jfunc *cb, struct inline_ctx *ic,
                          int r1_live, int r2_live, int i_zero)
{
    const struct loop_var *vars = ic->vars;
    ic->top_label = x86_label_new(&j->e);
    if (ic->hoist)
        jit_iv_init(j, ic->hoist, vars[0].reg, vars[0].disp, i_zero);
    int outermost, rec = layout_top(j, ic, &outermost);
    ic->layout_rec = rec;
    int completes = emit_loop_copy_at(j, cb, ic, r1_live, r2_live);
    ic->layout_rec = -1;
    if (outermost)
        layout_done(j);
    return completes;
}

/* Can the copy with these reachable instructions run twice per trip round
 * the loop: no calls, and every exit it reaches returns a known 0 (so no
 * iteration breaks)? (A copy that may break could run twice per trip too,
 * emit_unrolled_copy handles it, but its exits in the middle of the body
 * then cost a taken branch per iteration where the single copy takes none
 * (a copy of the loop's tail follows the inverted jump): compiled scan
 * 450 -> 1,230 ns, zscan_brk 1.0 -> 2.1x native.) */
static int unrollable(const struct jit *j, const struct jfunc *cb, const uint8_t *reach)
{
    if (!reach || cb->end - cb->start > UNROLL_MAX_INSNS || !never_breaks(j, cb, reach))
        return 0;
    for (uint32_t i = cb->start; i < cb->end; i++) {
        const struct bl_insn *in = &j->insns[i];
        if (reach[i - cb->start] && ((BL_CLASS(in->code) == BL_JMP && BL_OP(in->code) == BL_CALL) ||
                                     (BL_CLASS(in->code) == BL_LD && !bl_is_lddw(in))))
            return 0;                        /* calls (legacy packet loads call out too) */
        if (bl_is_lddw(in))
            i++;
    }
    return 1;
}

/* A loop that counts down (it never breaks, reads no i) with a constant
 * trip count n of 2 to FULL_MAX (a body of at most FULL_INSNS / n
 * instructions) and a body unrollable() takes: the body n times in a row,
 * no loop (no compare, no taken branch, no padding to jump over at each
 * start of an inner loop: nest3_brk's `for k = 0, 3`; pkt_win's 8-byte
 * windows). Copy c reads an induction variable of constant step as the
 * form [v + c * step] (a load takes it as its displacement), others are
 * stepped between the copies. Exits returning 0 go to the code after
 * their copy. */
#define FULL_MAX 8
#define FULL_INSNS 192
static int full_size(const struct jfunc *cb, int32_t n)
{
    return n >= 2 && n <= FULL_MAX && (uint32_t)n * (cb->end - cb->start) <= FULL_INSNS;
}

/* A loop written out whole whose induction variables all have constant
 * steps never steps them (copy c reads [v + c * step]): one that starts
 * as a register nothing in the loop writes (a slot the body only reads,
 * a value computed before the loop) may be read there, without copying
 * it into v at the start (pkt_win's window `for j = i, i + 7`: the
 * loads index the window's start in the outer loop's register). */
static void iv_onto_base(struct hoist_plan *hp, const struct inline_ctx *ic)
{
    for (int q = 0; q < hp->n_iv; q++)
        if (hp->iv[q].coef_reg >= 0)
            return;
    for (int q = 0; q < hp->n_iv; q++) {
        struct hoist_iv *iv = &hp->iv[q];
        if (iv->lop != 0xff || iv->a_imm)
            continue;
        int fixed = 0;
        for (int k = 0; k < ic->n_promoted; k++)
            fixed |= ic->slot_reg[k] == iv->a && !ic->slot_dirty[k];
        for (int k = 0; k < hp->n_ops; k++)
            fixed |= hp->ops[k].dst == iv->a;
        /* (and no other induction variable or slot is kept there) */
        for (int k = 0; k < ic->n_promoted; k++)
            fixed &= !(ic->slot_reg[k] == iv->a && ic->slot_dirty[k]);
        for (int r = 0; r < hp->n_iv; r++)
            fixed &= hp->iv[r].v != iv->a;
        if (fixed)
            iv->v = (int8_t)iv->a;
    }
}

static void emit_full_copy(struct jit *j, const struct jfunc *cb, struct inline_ctx *ic,
                           int r2_live, int n)
{
    struct x86_emit *e = &j->e;
    ic->top_label = x86_label_new(e);
    x86_label_bind(e, ic->top_label);        /* (no jump goes back to it) */
    ic->exits_jump = 1;
    if (ic->hoist)
        jit_iv_init(j, ic->hoist, ic->vars[0].reg, ic->vars[0].disp, 1);
    int forms = 1;
    for (int q = 0; ic->hoist && q < ic->hoist->n_iv; q++)
        forms &= ic->hoist->iv[q].coef_reg < 0;
    for (int c = 0; c < n; c++) {
        if (c && !forms)
            jit_iv_step(j, ic->hoist, 1);
        emit_body(j, cb, ic, 0, r2_live, forms ? c : 0);
        x86_label_bind(e, ic->cont_label);   /* (unused: no exit returns nonzero) */
        x86_label_bind(e, ic->cont0_label);
    }
    ic->exits_jump = 0;
}

/* n - 1 <-> n in the loop variable n */
static void var_add(struct jit *j, const struct loop_var *v, int32_t d)
{
    if (v->reg >= 0)
        x86_alu_ri(&j->e, 1, ALU_ADD, v->reg, d);
    else
        x86_alu_mi(&j->e, 1, ALU_ADD, RSP, v->disp, d);
}

/* cmp i, n, i loaded into rdi when it lives in memory */
static void cmp_i_n(struct jit *j, const struct loop_var *vi, const struct loop_var *vn)
{
    if (vi->reg < 0)
        x86_load(&j->e, 8, 0, RDI, RSP, vi->disp);
    cmp_with_n(j, vi->reg >= 0 ? vi->reg : RDI, vn);
}

/* A promoted slot the copy (reach, live: its reachable instructions and
 * liveness) only accumulates into: one 8-byte load of it into d, one
 * store of d back, and in between d changed only by 64-bit add or sub of
 * other values and read by nothing else, no jump from before the load
 * landing in between, d dead after the store (the compiler's no-op
 * launders of the slot aside). Whatever the iteration adds, the slot ends
 * it as its value plus an amount that does not depend on it, so an
 * unrolled copy may sum its second body's amounts in a register of its
 * own and add that back after the loop (mod 2^64, in any order): two
 * addition chains instead of one. Returns the slot's index, or -1. */
static int accum_slot(const struct jit *j, const struct inline_ctx *ic, const uint8_t *reach,
                      const uint16_t *live)
{
    if (ic->write_through || ic->base < 0 || !live)
        return -1;
    for (int k = 0; k < ic->n_promoted; k++) {
        int16_t off = ic->slot_off[k];
        uint32_t pl = UINT32_MAX, ps = UINT32_MAX;
        int d = -1, bad = !ic->slot_dirty[k];
        for (uint32_t pc = ic->start; pc < ic->end && !bad; pc++) {
            const struct bl_insn *in = &j->insns[pc];
            uint8_t cls = BL_CLASS(in->code);
            int skip = reach && !reach[pc - ic->start];
            if (bl_is_lddw(in))
                pc++;
            if (skip || (cls != BL_LDX && cls != BL_ST && cls != BL_STX))
                continue;
            int b = cls == BL_LDX ? in->src : in->dst, lo = in->off;
            if (b != ic->base || lo + jit_size_of(in->code) <= off || lo >= off + 8)
                continue;
            if (cls == BL_STX && BL_MODE(in->code) == BL_ATOMIC &&
                jit_atomic_is_noop(j, pc, ic->stack_base, ic->start))
                continue;
            if (in->code == (BL_LDX | BL_MEM | BL_DW) && lo == off && pl == UINT32_MAX) {
                pl = pc;
                d = in->dst;
            } else if (in->code == (BL_STX | BL_MEM | BL_DW) && lo == off && pl != UINT32_MAX &&
                       ps == UINT32_MAX && in->src == d) {
                ps = pc;
            } else {
                bad = 1;
            }
        }
        if (bad || ps == UINT32_MAX || d == BL_R10 || ((live[ps - ic->start] >> d) & 1))
            continue;
        for (uint32_t pc = ic->start; pc < ps && !bad; pc++) {
            const struct bl_insn *in = &j->insns[pc];
            uint8_t cls = BL_CLASS(in->code), op = BL_OP(in->code);
            int skip = reach && !reach[pc - ic->start];
            int lddw = bl_is_lddw(in);
            if (skip) {
                pc += lddw;
                continue;
            }
            if (pc < pl) {
                /* (a jump over the load into the chain) */
                if ((cls == BL_JMP || cls == BL_JMP32) && op != BL_CALL && op != BL_EXIT) {
                    int64_t t = (int64_t)pc + 1 + (cls == BL_JMP32 && op == BL_JA ? in->imm : in->off);
                    bad = t > (int64_t)pl && t <= (int64_t)ps;
                }
                pc += lddw;
                continue;
            }
            if (pc == pl)
                continue;
            uint16_t use, def;
            jit_use_def(j, pc, ic->start, ic->stack_base, &use, &def);
            if (!(((use | def) >> d) & 1)) {
                pc += lddw;
                continue;
            }
            bad = !((in->code == (BL_ALU64 | BL_ADD | BL_X) || in->code == (BL_ALU64 | BL_SUB | BL_X) ||
                     in->code == (BL_ALU64 | BL_ADD | BL_K) || in->code == (BL_ALU64 | BL_SUB | BL_K)) &&
                    in->dst == d && (BL_SRC(in->code) == BL_K || in->src != d));
        }
        if (!bad)
            return k;
    }
    return -1;
}

/* A copy of a loop, its body twice per trip (the loop overhead and the
 * loop's taken branch halved):
 *
 *     n--; if (i >= n) goto rest       ; i < n here
 * top: body(i); i++; body(i); i++; if (i < n) goto top
 * rest: n++; if (i >= n) goto out; body(i); i++; goto out
 *
 * Exits returning a known 0 of each body copy jump to the code right
 * after it (the last one falls through). An exit that may return nonzero
 * goes to its copy's `cont`, out of line: if R0 != 0, i += the iterations
 * that copy completed, and the loop ends (at l_break). */
static void emit_unrolled_copy(struct jit *j, const struct jfunc *cb, struct inline_ctx *ic,
                               int r1_live, int r2_live, uint32_t l_break, int i_zero)
{
    struct x86_emit *e = &j->e;
    const struct loop_var *vi = &ic->vars[0], *vn = &ic->vars[1];
    uint32_t l_rest = x86_label_new(e);
    uint32_t cont[3], cont0[3], brk[3];
    int breaks = !never_breaks(j, cb, ic->reach), tests_last = breaks && last_exit_tests_r0(j, ic);
    ic->top_label = x86_label_new(e);
    ic->exits_jump = 1;
    if (ic->hoist)
        jit_iv_init(j, ic->hoist, vi->reg, vi->disp, i_zero);
    int acc = ic->acc_slot >= 0 ? accum_slot(j, ic, ic->reach, ic->live_out) : -1;
    if (acc >= 0)
        x86_alu_rr(e, 0, ALU_XOR, ic->acc_reg, ic->acc_reg);
    var_add(j, vn, -1);
    cmp_i_n(j, vi, vn);
    x86_jcc_fix(e, CC_AE, FIX_LABEL, l_rest);
    /* (no loop inside it: outermost only as its nest's, not anchoring) */
    int rec = -1;
    if (j->pad_on) {
        int outermost;
        rec = layout_top(j, ic, &outermost);
    } else {
        x86_align(e, 64);
    }
    x86_label_bind(e, ic->top_label);
    /* the second copy reads i + 1 as a form of i's register (its loads
     * take the 1 as a displacement), then i += 2; where i is R1 itself or
     * in memory, i++ after each copy */
    int plus = vi->reg >= 0 && vi->reg != RDI && ic->live_out && !j->is_target[cb->start];
    for (int copy = 0; copy < 3; copy++) {
        if (copy == 2) {
            if (plus) {
                x86_alu_ri(e, 0, ALU_ADD, vi->reg, 2);
                jit_iv_step(j, ic->hoist, 2);
            }
            cmp_i_n(j, vi, vn);
            x86_jcc_fix(e, CC_B, FIX_LABEL, ic->top_label);
            layout_end(j, rec);
            x86_label_bind(e, l_rest);
            if (acc >= 0)                        /* (the second body's part) */
                x86_alu_rr(e, 1, ALU_ADD, ic->slot_reg[acc], ic->acc_reg);
            var_add(j, vn, 1);
            cmp_i_n(j, vi, vn);
            x86_jcc_fix(e, CC_AE, FIX_LABEL, ic->out_label);
        }
        uint8_t home = acc >= 0 ? ic->slot_reg[acc] : 0;
        if (acc >= 0 && copy == 1)
            ic->slot_reg[acc] = (uint8_t)ic->acc_reg;
        emit_body(j, cb, ic, r1_live, r2_live, plus && copy < 2 ? copy : 0);
        if (acc >= 0)
            ic->slot_reg[acc] = home;
        cont[copy] = ic->cont_label;
        cont0[copy] = ic->cont0_label;
        brk[copy] = x86_label_new(e);
        if (tests_last) {                        /* the last exit falls through */
            x86_label_bind(e, ic->cont_label);
            x86_test_rr(e, 1, RAX, RAX);
            x86_jcc_fix(e, CC_NE, FIX_LABEL, brk[copy]);
        } else if (!breaks) {
            x86_label_bind(e, ic->cont_label);   /* (unused: no exit returns nonzero) */
        }
        x86_label_bind(e, ic->cont0_label);
        if (!plus || copy == 2)
            emit_next_i(j, vi);
        if (!plus && copy < 2)
            jit_iv_step(j, ic->hoist, 1);
    }
    if (breaks) {
        x86_jmp_fix(e, FIX_LABEL, ic->out_label);
        for (int copy = 0; copy < 3; copy++) {
            if (!tests_last) {
                x86_label_bind(e, cont[copy]);
                x86_test_rr(e, 1, RAX, RAX);
                x86_jcc_fix(e, CC_E, FIX_LABEL, cont0[copy]);
            }
            x86_label_bind(e, brk[copy]);    /* a break at i ran i + 1 iterations */
            if (plus && copy < 2)
                x86_alu_ri(e, 0, ALU_ADD, vi->reg, copy + 1);
            else
                emit_next_i(j, vi);
            x86_jmp_fix(e, FIX_LABEL, l_break);
        }
    }
    ic->exits_jump = 0;
}

/* Stores of the body that write what their slot already holds (NULL:
 * none): the compiler zeroes its scratch slots of the area before a loop
 * and at every exit of the body, for the kernel's verifier. A store
 * `[base + off] = K` is a no-op when every store of the body that touches
 * those bytes is that same store, nothing else can write them (no call, no
 * atomic, no other pointer that may reach the stack: store_elsewhere) and
 * the caller stored K there just before the call, through the register it
 * passes as ctx (`[rx + off] = K ... mov r3, rx; call`). */
static uint8_t *noop_stores(const struct jit *j, const struct jfunc *cb, const struct body_info *bi,
                            uint32_t call_pc, uint32_t caller_start)
{
    if (bi->base < 0 || (bi->calls && !bi->nest_only) || bi->atomics || bi->acc_overflow)
        return NULL;
    uint32_t d3 = block_def(j, call_pc, caller_start, BL_R3);
    if (d3 == UINT32_MAX || j->insns[d3].code != (BL_ALU64 | BL_MOV | BL_X) || j->insns[d3].off)
        return NULL;
    int rx = j->insns[d3].src;
    uint8_t *noop = NULL;
    for (uint32_t i = cb->start; i < cb->end; i++) {
        const struct bl_insn *in = &j->insns[i];
        if (bl_is_lddw(in)) {
            i++;
            continue;
        }
        if (in->code != (BL_ST | BL_MEM | BL_DW) && in->code != (BL_ST | BL_MEM | BL_W) &&
            in->code != (BL_ST | BL_MEM | BL_H) && in->code != (BL_ST | BL_MEM | BL_B))
            continue;
        if (in->dst != bi->base)
            continue;
        int lo = in->off, hi = lo + jit_size_of(in->code), ok = 1;
        for (int k = 0; k < bi->n_acc && ok; k++)    /* nested loops' stores (analyse_nests) */
            if (bi->acc[k].weight > 1 && bi->acc[k].store &&
                bi->acc[k].off < hi && bi->acc[k].off + bi->acc[k].size > lo)
                ok = 0;
        for (uint32_t q = cb->start; q < cb->end && ok; q++) {   /* the body's other stores */
            const struct bl_insn *o = &j->insns[q];
            uint8_t c = BL_CLASS(o->code);
            if (bl_is_lddw(o)) {
                q++;
                continue;
            }
            if ((c != BL_ST && c != BL_STX) || o->dst != bi->base || o->code == (BL_STX | BL_ATOMIC | BL_DW) ||
                o->code == (BL_STX | BL_ATOMIC | BL_W))
                continue;
            int l2 = o->off, h2 = l2 + jit_size_of(o->code);
            if (h2 <= lo || l2 >= hi)
                continue;
            ok = o->code == in->code && o->off == in->off && o->imm == in->imm;
        }
        /* the caller's store of the same value, nothing in between */
        int found = 0;
        for (uint32_t q = call_pc; ok && !found && q > caller_start;) {
            if (j->is_target[q])
                break;
            q--;
            if (q > caller_start && bl_is_lddw(&j->insns[q - 1]))
                q--;
            const struct bl_insn *o = &j->insns[q];
            uint8_t c = BL_CLASS(o->code);
            uint16_t use, def;
            jit_use_def(j, q, caller_start, -1, &use, &def);
            if ((def >> rx) & 1)
                break;
            if (c == BL_JMP || c == BL_JMP32) {
                if (BL_OP(o->code) == BL_CALL)
                    break;
                continue;
            }
            if (c != BL_ST && c != BL_STX)
                continue;
            if (o->dst != rx || BL_MODE(o->code) != BL_MEM)
                break;                           /* another pointer, or an atomic */
            int l2 = o->off, h2 = l2 + jit_size_of(o->code);
            if (h2 <= lo || l2 >= hi)
                continue;
            found = o->code == in->code && o->off == in->off && o->imm == in->imm;
            if (!found)
                break;
        }
        if (!ok || !found)
            continue;
        if (!noop)
            noop = calloc(cb->end - cb->start, 1);
        if (noop)
            noop[i - cb->start] = 1;
    }
    return noop;
}

/* The promoted slots of the loop ic to memory (before a loop that reads
 * them there), or back from it (after one that may have written them).
 * ic holds ctx in its base register, one of R6-R9 (a body with calls has
 * no other base: analyse_nests). */
static void flush_slots(struct jit *j, const struct inline_ctx *ic)
{
    int b = jit_register_map[ic->base];
    for (int k = 0; k < ic->n_promoted; k++)
        x86_store_r(&j->e, ic->slot_size[k], b, ic->slot_off[k], ic->slot_reg[k]);
}

static void reload_slots(struct jit *j, const struct inline_ctx *ic)
{
    int b = jit_register_map[ic->base];
    for (int k = 0; k < ic->n_promoted; k++)
        x86_load(&j->e, ic->slot_size[k], 0, ic->slot_reg[k], b, ic->slot_off[k]);
}

/* bpf_loop with the callback's body inlined in the loop: no call, no
 * prologue per iteration. Only in unchecked code, for a callback known at
 * the call site and short enough. On entry the flags and nr checks are
 * done (rdi = nr as u32, ctx in ctx_reg: rdx, or the
 * callee-saved register R3 was a copy of); leaves the iterations run in rax.
 *
 * Where the loop lives: i stays in rdi (R1) and ctx in rsi (R2) when the
 * body neither writes them nor calls anything; else they are copied in
 * each iteration from registers of the pool or stack slots. When the
 * register that holds ctx all along (R2, or Rb after a leading `mov Rb,
 * R2`) only serves as a base, every store goes through it, R10 or a
 * pointer the verifier saw touch only other kinds of memory (aux
 * mem_kinds, others_may_alias) and there are no calls or atomics, 8-byte
 * ctx slots move into pool registers: reads become register moves, writes
 * also go through to memory when a load through another pointer might
 * read them (write-through), else once after the loop (write-back). */
/* Is every read of the promoted slot at off in the body one whose value
 * only feeds what hp computes before the loop: loads in the straight-line
 * top (from first up to the first jump or jump target) whose register,
 * until it is written again, is read only by instructions hp folded
 * (skipped, or copies of a hoisted value or an induction variable), and
 * is dead where the straight line ends? Then the slot's register is not
 * read inside the loop; its loads are marked skipped in hp. */
static int slot_reads_hoisted(const struct jit *j, const struct inline_ctx *ic,
                              struct hoist_plan *hp, uint32_t first, int16_t off)
{
    uint32_t stop = ic->end;
    for (uint32_t pc = first; pc < ic->end; pc++) {
        uint8_t cls = BL_CLASS(j->insns[pc].code);
        if ((pc > first && j->is_target[pc]) || cls == BL_JMP || cls == BL_JMP32) {
            stop = pc;
            break;
        }
        if (bl_is_lddw(&j->insns[pc]))
            pc++;
    }
    if (stop == ic->end)
        return 0;
    uint16_t live_stop = jit_live_in_at(j, ic, stop);
    uint32_t loads[16];
    int n_loads = 0;
    for (uint32_t pc = ic->start; pc < ic->end; pc++) {
        const struct bl_insn *in = &j->insns[pc];
        if (bl_is_lddw(in)) {
            pc++;
            continue;
        }
        uint8_t cls = BL_CLASS(in->code);
        if (cls != BL_LDX && cls != BL_ST && cls != BL_STX)
            continue;
        int r = cls == BL_LDX ? in->src : in->dst;
        if (r != ic->base)
            continue;
        int lo = in->off, hi = lo + jit_size_of(in->code);
        if (hi <= off || lo >= off + 8)
            continue;
        if (in->code != (BL_LDX | BL_MEM | BL_DW) || in->off != off || pc < first || pc >= stop)
            return 0;
        uint8_t kind = hp->kind[pc - ic->start];
        if (kind != HOIST_NONE)
            return 0;
        int d = in->dst, redefined = 0;
        for (uint32_t q = pc + 1; q < stop && !redefined; q++) {
            uint16_t use, def;
            bl_insn_use_def(&j->insns[q], &use, &def);
            uint8_t kq = hp->kind[q - ic->start];
            if (((use >> d) & 1) && kq != HOIST_SKIP && kq != HOIST_ALIAS && kq != HOIST_IV)
                return 0;
            redefined = (def >> d) & 1;
            if (bl_is_lddw(&j->insns[q]))
                q++;
        }
        if (!redefined && ((live_stop >> d) & 1))
            return 0;
        if (n_loads == 16)
            return 0;
        loads[n_loads++] = pc;
    }
    for (int k = 0; k < n_loads; k++)
        hp->kind[loads[k] - ic->start] = HOIST_SKIP;
    return 1;
}

/* The registers of extra (promoted slots' registers) that hp may give its
 * induction variables: slots whose every read only feeds values hp
 * computes before the loop (slot_reads_hoisted), none an induction
 * variable's base or coefficient. Returns how many, in ok[]. */
static int free_slot_regs(const struct jit *j, const struct inline_ctx *ic,
                          const struct hoist_plan *hp, uint32_t first, const int *extra,
                          int n_extra, int *ok)
{
    int n_ok = 0;
    uint32_t n = ic->end - ic->start;
    struct hoist_plan probe = *hp;
    probe.kind = malloc(n);
    if (!probe.kind)
        return 0;
    for (int x = 0; x < n_extra; x++) {
        int r = extra[x], k = 0, used = 0;
        while (k < ic->n_promoted && ic->slot_reg[k] != r)
            k++;
        for (int q = 0; q < hp->n_iv; q++) {
            const struct hoist_iv *iv = &hp->iv[q];
            used |= iv->coef_reg == r || (!iv->a_imm && iv->a == r) ||
                    (iv->lop != 0xff && !iv->b_imm && iv->b == r);
        }
        memcpy(probe.kind, hp->kind, n);
        if (k < ic->n_promoted && !used && slot_reads_hoisted(j, ic, &probe, first, ic->slot_off[k]))
            ok[n_ok++] = r;
    }
    free(probe.kind);
    return n_ok;
}

/* The induction variable of hp (its iv[] index) whose sign can end the
 * loop (jit_ranges_iv_ends: `c * i + rest`, c < 0, >= 0 up to the last
 * iteration, < 0 after it), or -1. */
static int find_iv_exit(const struct jfunc *cb, const struct hoist_plan *hp,
                        const struct range_node *rn)
{
    for (uint32_t k = 0; hp->kind && k < cb->end - cb->start; k++)
        if (hp->kind[k] == HOIST_IV && hp->iv[hp->reg[k]].coef_reg < 0 &&
            jit_ranges_iv_ends(rn, cb->start + k, hp->iv[hp->reg[k]].coef))
            return hp->reg[k];
    return -1;
}

/* Does hp keep a value in a register of mask? */
static int plan_takes(const struct hoist_plan *hp, unsigned mask)
{
    for (int k = 0; k < hp->n_ops; k++)
        if ((mask >> hp->ops[k].dst) & 1)
            return 1;
    for (int q = 0; q < hp->n_iv; q++)
        if ((mask >> hp->iv[q].v) & 1)
            return 1;
    return 0;
}

static void emit_inlined_loop(struct jit *j, const struct jfunc *cb, int depth, uint32_t call_pc,
                              int n_nonzero, int32_t n_const, const struct range_node *rn,
                              int ctx_reg, int n_unset)
{
    struct x86_emit *e = &j->e;
    const struct range_node *use_rn0 = j->use_rn;
    j->use_rn = rn;
    j->inline_budget -= cb->end - cb->start;
    int saved[16], n_saved = 0;
    struct body_info bi;
    struct reg_pool pool = {{0}, 0, 0};
    /* tests the enclosing loops' facts decide (inline_ranges.c) and tests
     * that earlier tests of the same iteration decide (range_facts.h):
     * dropped, or made a `ja`, from every copy, with what only fed them */
    const uint8_t *proved = jit_ranges_proved(rn);
    uint8_t *decided = j->aux ? calloc(cb->end - cb->start, 1) : NULL;
    if (decided && !bl_range_facts(j->insns, j->aux, cb->start, cb->end, decided)) {
        free(decided);
        decided = NULL;
    }
    for (uint32_t k = 0; decided && proved && k < cb->end - cb->start; k++)
        if (proved[k])
            decided[k] = proved[k];
    const uint8_t *dropped = decided ? decided : proved;
    uint8_t *dropped_reach = dropped ? body_reach(j, cb, dropped) : NULL;
    /* (accesses on the ways no copy runs weigh nothing when slots are
     * chosen: the compiler's status slot, written on its fault paths,
     * took a register at every level of short_down's and nest3_down's
     * nests) */
    analyse_body(j, cb, &bi, dropped_reach, rn);
    /* the leading `mov Rb, R2` of a callback whose Rb (one of R6-R9, which
     * nothing in the loop touches) keeps ctx all along is done once, before
     * the loop */
    const struct bl_insn *lead = &j->insns[cb->start];
    int has_lead = is_mov_from_r2(lead);
    int hoist = has_lead && bi.base == lead->dst && lead->dst >= BL_R6 && lead->dst <= BL_R9 &&
                !j->is_target[cb->start];
    uint16_t *live_out = jit_body_liveness(j, cb->start, cb->end, bi.base, dropped, NULL);
    struct inline_ctx ic = {.start = cb->start, .end = cb->end, .depth = depth, .outer = j->inl,
                            .base = -1, .stack_base = bi.base, .write_through = 1,
                            .live_out = live_out, .skip = hoist ? cb->start : UINT32_MAX,
                            .ranges = rn, .unchecked = dropped, .reach = dropped_reach,
                            .acc_slot = -1, .acc_reg = -1, .layout_rec = -1,
                            .iv_exit = -1};
    for (uint32_t k = 0; proved && k < cb->end - cb->start; k++)
        j->proved_tests += proved[k] != 0 && (!dropped_reach || dropped_reach[k]);
    ic.writes = body_callee_writes(j, cb, &ic);
    /* R6-R9 that nested loops write: saved once around this loop, not
     * around each start of theirs (they are no values of this body's
     * unless live at the call) */
    if (bi.nest_only)
        ic.writes |= bi.nest_regs & (1u << RBX | 1u << R13 | 1u << R14 | 1u << R15);
    pool_init(&pool, &bi, cb, ic.writes);
    /* registers the body reads before writing them */
    uint16_t top_live = live_out ? jit_live_in_at(j, &ic, cb->start + (hoist ? 1 : 0)) : ALL_REGS;
    int r1_live = (top_live >> BL_R1) & 1, r2_live = (top_live >> BL_R2) & 1;
    /* (a leading `mov r1, r2` writes R1 too) */
    int i_in_rdi = !bi.calls && !bi.writes[BL_R1] && !(has_lead && lead->dst == BL_R1);
    int ctx_in_rsi = !bi.calls && !bi.writes[BL_R2];
    /* ctx is needed to set R2 each iteration, or (without the hoisted Rb)
     * to write promoted slots back */
    int need_ctx = ctx_in_rsi || r2_live || !hoist;

    /* Slots of the enclosing loop (oc, write-back or through) that this
     * body reaches through the ctx the caller passed it, its own base
     * (`mov r3, base; call`): when this body keeps slots in registers too,
     * it keeps those in the enclosing loop's registers (shared: no load
     * before the loop, no write-back after unless oc writes through, not
     * saved around it). Else oc's slots go to memory before the loop and
     * come back after it (flush). */
    const struct inline_ctx *oc = j->inl;
    int store_elsewhere = 0, load_elsewhere = 0;
    if (bi.base >= 0)
        others_may_alias(j, cb, bi.base, &load_elsewhere, &store_elsewhere);
    load_elsewhere |= bi.nest_loads;
    int promotes = body_promotes(&bi) && !store_elsewhere;
    int flush = 0;
    unsigned shared_regs = 0;
    if (oc && oc->n_promoted) {
        int share = promotes && oc->base >= 0 &&
                    block_r3_is(j, call_pc, oc->start, oc->base);
        for (int k = 0; share && k < oc->n_promoted; k++) {
            unsigned r = oc->slot_reg[k];
            for (int q = 0; q < cb->n_saves; q++)
                share &= cb->saves[q] != (int)r;
            if (r == RBP && (cb->uses_frame || bi.refs[BL_R10]))
                share = 0;
            if (!promotable(&bi, oc->slot_off[k], oc->slot_size[k]))
                share = 0;
            shared_regs |= 1u << r;
        }
        if (!share) {
            flush = 1;
            shared_regs = 0;
        } else {
            pool_remove(&pool, shared_regs);
        }
    }
    uint8_t *noop_st = NULL;
    if (!store_elsewhere && live_out)
        noop_st = noop_stores(j, cb, &bi, call_pc,
                              j->inl ? j->inl->start : j->funcs[j->func_of[call_pc]].start);
    ic.noop_st = noop_st;
    if (flush)
        flush_slots(j, oc);
    else if (oc && oc->n_promoted && load_elsewhere && !oc->write_through)
        flush_slots(j, oc);                  /* (this body loads them from memory) */

    /* loop versioning (below) when tests of the body are settled before
     * the loop */
    struct loop_check checks[LOOP_CHECKS_MAX];
    int n_checks = 0;
    /* a constant trip count the enclosing loops' ranges prove */
    if (!n_const && full_size(cb, jit_ranges_trip_const(rn)))
        n_const = jit_ranges_trip_const(rn);
    int all_dropped = 0;
    if (live_out && j->inline_budget >= cb->end - cb->start)
        n_checks = loop_checks_kept(j, cb, &bi, dropped, &all_dropped, checks);
    /* every check dropped: the body runs twice per trip (emit_unrolled_copy,
     * i counted up), unless written out whole (a small constant n) */
    int unroll2 = all_dropped && !full_size(cb, n_const) && unrollable(j, cb, dropped_reach) &&
                  j->inline_budget >= 3 * (uint64_t)(cb->end - cb->start);
    struct loop_var vars[3];
    int n_mem = 0;
    /* A loop that will count down (no i read, no break, no versioning,
     * the iterations run unread) with i in rdi keeps n there: it arrives
     * in rdi, and nothing else in the loop needs rdi (no mov to a pool
     * register per start, one register more for the body). Whether i is
     * read is known only once the hoist plan is made: when it is, the
     * registers are chosen again without this. */
    int r0_read = j->inl ? !j->inl->live_out ||
                           (j->inl->live_out[call_pc - j->inl->start] & 1u << BL_R0)
                         : !r0_unread_after(j, call_pc);
    int n_in_rdi = i_in_rdi && !n_checks && !unroll2 && live_out && !r0_read &&
                   never_breaks(j, cb, dropped_reach);
    /* inside another loop, registers the enclosing loops hold are pushed
     * and popped at every start of this one: last */
    unsigned dear = j->inl ? regs_needed_after(j, call_pc) : 0;
    pool_cheap_first(&pool, dear);
    const struct reg_pool pool0 = pool;
    const struct inline_ctx ic0 = ic;
    const uint32_t hoisted0 = j->hoisted_values, shared0 = j->shared_loops;
    struct hoist_plan hp;
    int extra[MAX_PROMOTED], n_extra;
    struct { int reg; int16_t off; } preload[MAX_PROMOTED];
    int n_preload, rdi_free = 0, rdi_tried = 0;
again:
    for (int phase = 0; phase < 3; phase++) {
        /* loop variables first, then slots; a body that nests loops: i,
         * then slots, then n and ctx (a slot the inner loops read and
         * write, as a sum, is worth more than the outer loop's n) */
        if (phase == 0 || phase == 2) {
            int v0 = phase == 0 ? 0 : bi.nest_only ? 1 : 3, v1 = phase == 0 && bi.nest_only ? 1 : 3;
            for (int v = v0; v < v1; v++) {
                vars[v].disp = 0;
                vars[v].imm = 0;
                if (v == 1 && n_in_rdi) {
                    vars[v].reg = RDI;
                    continue;
                }
                if (v == 1 && n_const && !n_checks && !unroll2) {
                    /* a constant trip count, in a loop that never changes
                     * n (no versioning, no unrolled copy): compared as an
                     * immediate */
                    vars[v].reg = -1;
                    vars[v].disp = n_const;
                    vars[v].imm = 1;
                    continue;
                }
                if ((v == 0 && i_in_rdi) || (v == 2 && ctx_in_rsi)) {
                    vars[v].reg = v == 0 ? RDI : RSI;
                    continue;
                }
                if (v == 2 && !need_ctx) {
                    vars[v].reg = jit_register_map[lead->dst];   /* only for the write-back */
                    continue;
                }
                vars[v].reg = pool_take(&pool);
                if (vars[v].reg < 0)
                    vars[v].disp = 8 * n_mem++;
            }
            continue;
        }
        if (promotes && phase == 1) {
            ic.base = bi.base;
            /* when nothing in the body loads through another pointer that may
             * point at a slot, the memory of a promoted slot is written back
             * once, after the loop */
            ic.write_through = load_elsewhere;
            /* candidates: slots both read and written first (their
             * store-to-load chain is what a register shortens), then slots
             * only read, by number of reads; a slot only written gains nothing
             * (writes go through to memory anyway) */
            struct { int16_t off; int reads, writes, score, size; } cand[64];
            /* shared slots first: every slot of the enclosing loop this body
             * reaches */
            for (int k = 0; oc && !flush && k < oc->n_promoted; k++) {
                int reached = 0, written = 0;
                for (int q = 0; q < bi.n_acc; q++)
                    if (bi.acc[q].off == oc->slot_off[k]) {
                        reached = 1;
                        written |= bi.acc[q].store;
                    }
                if (!reached)
                    continue;
                ic.slot_off[ic.n_promoted] = oc->slot_off[k];
                ic.slot_size[ic.n_promoted] = oc->slot_size[k];
                ic.slot_dirty[ic.n_promoted] = (uint8_t)written;
                ic.slot_shared[ic.n_promoted] = 1;
                ic.slot_reg[ic.n_promoted++] = oc->slot_reg[k];
            }
            if (ic.n_promoted)
                j->shared_loops++;
            int n_cand = 0;
            for (int k = 0; k < bi.n_acc; k++) {
                /* (not the body's own accesses no copy makes: unreachable
                 * once the proved tests are dropped, or loads of values
                 * nothing reads, such as data_end for a dropped check) */
                uint32_t apc = bi.acc[k].pc;
                if (bi.acc[k].weight == 1 && apc >= cb->start && apc < cb->end &&
                    ((dropped_reach && !dropped_reach[apc - cb->start]) ||
                     (live_out && !bi.acc[k].store &&
                      !((live_out[apc - cb->start] >> j->insns[apc].dst) & 1))))
                    continue;
                int q = 0;
                while (q < n_cand && cand[q].off != bi.acc[k].off)
                    q++;
                if (q == n_cand) {
                    if ((bi.acc[k].size != 8 && bi.acc[k].size != 4) ||
                        !promotable(&bi, bi.acc[k].off, bi.acc[k].size) ||
                        jit_promoted_slot(&ic, bi.acc[k].off) >= 0)
                        continue;
                    cand[n_cand].off = bi.acc[k].off;
                    cand[n_cand].size = bi.acc[k].size;
                    cand[n_cand].reads = cand[n_cand].writes = 0;
                    n_cand++;
                }
                if (bi.acc[k].store)
                    cand[q].writes += bi.acc[k].weight;
                else
                    cand[q].reads += bi.acc[k].weight;
            }
            /* (a slot read and written where it is read most: its chain) */
            for (int q = 0; q < n_cand; q++)
                cand[q].score = !cand[q].reads ? -1
                                : !bi.nest_only ? cand[q].reads + (cand[q].writes ? 1000 : 0)
                                : cand[q].reads + 1000 * (cand[q].writes < cand[q].reads
                                                              ? cand[q].writes : cand[q].reads);
            while (ic.n_promoted < MAX_PROMOTED) {
                int best = -1;
                for (int q = 0; q < n_cand; q++)
                    if (cand[q].score >= 0 && (best < 0 || cand[q].score > cand[best].score))
                        best = q;
                if (best < 0)
                    break;
                int r = pool_take(&pool);
                if (r < 0)
                    break;
                ic.slot_off[ic.n_promoted] = cand[best].off;
                ic.slot_size[ic.n_promoted] = (uint8_t)cand[best].size;
                ic.slot_dirty[ic.n_promoted] = cand[best].writes > 0;
                ic.slot_shared[ic.n_promoted] = 0;
                ic.slot_reg[ic.n_promoted++] = (uint8_t)r;
                cand[best].score = -1;
            }
        }
    }
    /* values the body computes the same way every time: before the loop,
     * in spare registers of the pool (inline_hoist.c) */
    memset(&hp, 0, sizeof hp);
    /* registers of slots the body only reads (not shared with the
     * enclosing loop): when every read of one only feeds values computed
     * before the loop, its register is free inside the loop, for an
     * induction variable (the slots i, j and seed of `acc + (i ~ j ~ k ~
     * seed)` in a loop on k = j - index: i ~ j ~ seed before the loop, k
     * in a register of its own) */
    n_extra = n_preload = 0;
    for (int k = 0; k < ic.n_promoted; k++)
        if (!ic.slot_dirty[k] && !ic.slot_shared[k])
            extra[n_extra++] = ic.slot_reg[k];
    /* inside another loop, registers the enclosing loops hold are pushed
     * and popped at every start of this one: last, after those free to
     * use and (for induction variables) the slots' registers above
     * (short_down's inner index took the outer index's register) */
    int n_cheap = pool_cheap_first(&pool, dear);
    if (rdi_free) {                          /* (below: first of the free ones) */
        memmove(pool.regs + pool.next + 1, pool.regs + pool.next,
                sizeof pool.regs[0] * (size_t)(pool.n - pool.next));
        pool.regs[pool.next] = RDI;
        pool.n++;
        n_cheap++;
    }
    if (ic.n_promoted && (pool.next < pool.n || n_extra)) {
        uint32_t first = cb->start + (hoist ? 1 : 0);
        int got = jit_hoist_plan(j, &ic, first, pool.regs + pool.next, pool.n - pool.next,
                                 n_cheap, extra, n_extra, &hp);
        /* (a plan whose variables took registers that are not free: again
         * with those that are, else without any) */
        for (int tries = 0; hp.n_extra && tries < 2; tries++) {
            int ok[MAX_PROMOTED];
            int n_ok = free_slot_regs(j, &ic, &hp, first, extra, n_extra, ok), all = 1;
            for (int q = 0; q < hp.n_iv; q++) {
                int in_ok = 0;
                for (int x = 0; x < n_ok; x++)
                    in_ok |= ok[x] == hp.iv[q].v;
                int is_extra = 0;
                for (int x = 0; x < n_extra; x++)
                    is_extra |= extra[x] == hp.iv[q].v;
                all &= in_ok || !is_extra;
            }
            if (all)
                break;
            memcpy(extra, ok, sizeof ok[0] * (size_t)n_ok);
            n_extra = tries == 0 ? n_ok : 0;
            jit_hoist_free(&hp);
            got = jit_hoist_plan(j, &ic, first, pool.regs + pool.next, pool.n - pool.next,
                                 n_cheap, extra, n_extra, &hp);
        }
        if (hp.n_extra) {
            for (int q = 0; q < hp.n_iv; q++)     /* (their loads: skipped) */
                for (int k = 0; k < ic.n_promoted; k++)
                    if (ic.slot_reg[k] == hp.iv[q].v)
                        slot_reads_hoisted(j, &ic, &hp, first, ic.slot_off[k]);
            /* the slots whose registers the induction variables took: loaded
             * before the hoisted values, no longer promoted in the loop */
            int m = 0;
            for (int k = 0; k < ic.n_promoted; k++) {
                int taken = 0;
                for (int q = 0; q < hp.n_iv; q++)
                    taken |= hp.iv[q].v == ic.slot_reg[k];
                if (taken) {
                    preload[n_preload].reg = ic.slot_reg[k];
                    preload[n_preload++].off = ic.slot_off[k];
                    continue;
                }
                ic.slot_off[m] = ic.slot_off[k];
                ic.slot_size[m] = ic.slot_size[k];
                ic.slot_reg[m] = ic.slot_reg[k];
                ic.slot_dirty[m] = ic.slot_dirty[k];
                ic.slot_shared[m++] = ic.slot_shared[k];
            }
            ic.n_promoted = m;
        }
        pool.next += got;
        ic.hoist = &hp;
        j->hoisted_values += (uint32_t)(hp.n_ops + hp.n_iv);
    }
    if (n_in_rdi && !i_unread(j, &ic)) {
        jit_hoist_free(&hp);
        pool = pool0;
        ic = ic0;
        j->hoisted_values = hoisted0;
        j->shared_loops = shared0;
        n_mem = n_in_rdi = rdi_free = 0;
        goto again;
    }
    /* n in rdi, i unread, and an induction variable's sign ends the loop
     * (find_iv_exit): nothing in the loop reads rdi then (the body never
     * writes R1, the loop never counts n). A plan that took a register an
     * enclosing loop holds (pushed and popped at every start) is made
     * again with rdi first among the free ones: short_down's inner `i ~
     * seed` took the outer induction variable's r9. (Made again without
     * rdi when the new plan has no such variable.) */
    if (n_in_rdi && j->inl && !n_unset &&
        ((!rdi_tried && plan_takes(&hp, dear) && find_iv_exit(cb, &hp, rn) >= 0) ||
         (rdi_free && find_iv_exit(cb, &hp, rn) < 0))) {
        rdi_free = !rdi_tried;
        rdi_tried = 1;
        jit_hoist_free(&hp);
        pool = pool0;
        ic = ic0;
        j->hoisted_values = hoisted0;
        j->shared_loops = shared0;
        n_mem = 0;
        goto again;
    }
    /* what the plan folded reads no register: the liveness again, for the
     * copies (the index + 1 of `i * j` in one arm of an if, which only
     * the folded product read there, is no longer live into that arm) */
    if (ic.hoist && (hp.n_iv || hp.n_ops) && live_out) {
        uint16_t *lf = jit_body_liveness(j, cb->start, cb->end, bi.base, dropped, hp.kind);
        if (lf) {
            free(live_out);
            live_out = lf;
            ic.live_out = lf;
        }
    }
    for (int k = 0; k < pool.next; k++)
        ic.regs |= 1u << pool.regs[k];
    /* loop versioning: when tests of the body are settled before the loop
     * (loop_checks.h), a copy of the body without them runs the first T
     * iterations, the body as written the rest; the real n waits in memory */
    uint8_t *unchecked = NULL;
    uint16_t *fast_live = NULL;
    if (n_checks) {
        unchecked = calloc(cb->end - cb->start, 1);
        if (unchecked) {
            if (dropped)
                memcpy(unchecked, dropped, cb->end - cb->start);
            for (int k = 0; k < n_checks; k++)
                if (!unchecked[checks[k].pc - cb->start])
                    unchecked[checks[k].pc - cb->start] = checks[k].always ? 2 : 1;
            for (uint32_t k = 0; proved && k < cb->end - cb->start; k++)
                if (proved[k])
                    unchecked[k] = proved[k];   /* (true of every iteration) */
            fast_live = jit_body_liveness(j, cb->start, cb->end, bi.base, unchecked,
                                          ic.hoist ? ic.hoist->kind : NULL);
        }
    }
    /* a register for the second accumulator of an unrolled copy
     * (accum_slot): one left in the pool that costs nothing at each
     * start (outside other loops, a push and a pop per loop) */
    uint8_t *fast_reach = fast_live ? body_reach(j, cb, unchecked) : NULL;
    const uint8_t *u_reach = fast_live ? fast_reach : unroll2 ? dropped_reach : NULL;
    const uint16_t *u_live = fast_live ? fast_live : live_out;
    if (u_reach && j->inline_budget >= 3 * (uint64_t)(cb->end - cb->start) &&
        pool.next < pool.n) {
        int alt = pool.regs[pool.next];
        if (unrollable(j, cb, u_reach) && accum_slot(j, &ic, u_reach, u_live) >= 0 &&
            (!j->inl || !((regs_needed_after(j, call_pc) >> alt) & 1))) {
            pool.next++;
            ic.regs |= 1u << alt;
            ic.acc_slot = 0;
            ic.acc_reg = alt;
        }
    }
    struct loop_var nreal = {-1, 0, 0}, t1 = {-1, 0, 0};
    if (fast_live) {
        nreal.disp = 8 * n_mem++;
        t1.disp = 8 * n_mem++;
    }
    /* save the caller's values of what the body or the loop writes, those
     * the code around the loop needs afterwards (regs_needed_after); the
     * hoisted Rb ends the loop holding ctx, which it held before when the
     * caller passed its own Rb as ctx (`mov r3, rb` before the call) */
    unsigned need = regs_needed_after(j, call_pc);
    uint32_t caller_start = j->inl ? j->inl->start : j->funcs[j->func_of[call_pc]].start;
    int rb_passed = hoist && block_r3_is(j, call_pc, caller_start, lead->dst);
    if (rb_passed)
        need &= ~(1u << jit_register_map[lead->dst]);
    /* Rb's own register holds ctx already: the caller passed Rb, and Rb is
     * no copy living elsewhere (outside inlined bodies, or the enclosing
     * body's base, which it never writes) */
    int rb_holds_ctx = rb_passed && (!oc || oc->stack_base == lead->dst);
    if (cb->uses_frame)
        saved[n_saved++] = RBP;
    static const int callee_regs[4] = {RBX, R13, R14, R15};
    unsigned writes = !bi.calls && !fast_live && live_out ? copy_writes(j, cb, &ic, dropped_reach)
                                                          : ic.writes;
    for (int k = 0; k < 4; k++)
        if ((need & writes) & (1u << callee_regs[k]))
            saved[n_saved++] = callee_regs[k];
    for (int k = 0; k < pool.next; k++)
        if (need & (1u << pool.regs[k]))
            saved[n_saved++] = pool.regs[k];
    /* nr into rdi unless nothing reads it: a count-down loop in rdi that
     * ends by an induction variable's sign and needs no n == 0 test */
    if (!(n_nonzero && n_in_rdi && find_iv_exit(cb, &hp, rn) >= 0))
        jit_loop_n_home(j);
    j->loop_n.scale = 0;
    for (int k = 0; k < n_saved; k++)
        x86_push(e, saved[k]);
    int32_t alloc = 8 * n_mem + (cb->uses_frame ? BL_STACK_SIZE : 0);
    if ((n_saved + n_mem) % 2 && bi.calls)
        alloc += 8;                          /* the body may call: keep rsp 16-aligned */
    if (alloc)
        x86_alu_ri(e, 1, ALU_SUB, RSP, alloc);
    /* rdi = n, rdx = ctx: place them (the pool may include rdx) */
    /* ctx for what is loaded before the loop: rsi, or Rb when it holds
     * ctx already and nothing needs rsi (no versioning, ctx not in rsi) */
    int cr = rb_holds_ctx && !fast_live && vars[2].reg != RSI ? jit_register_map[lead->dst] : RSI;
    if (cr == RSI)
        x86_mov_rr(e, 1, RSI, ctx_reg);
    if (!n_nonzero)
        x86_mov_rr(e, 1, RAX, RDI);          /* rax = n, tested below */
    for (int k = 0; k < ic.n_promoted; k++)
        if (!ic.slot_shared[k])
            x86_load(e, ic.slot_size[k], 0, ic.slot_reg[k], cr, ic.slot_off[k]);
    for (int k = 0; k < n_preload; k++)
        x86_load(e, 8, 0, preload[k].reg, cr, preload[k].off);
    jit_hoist_emit(j, &hp);
    if (vars[2].reg != RSI && need_ctx)
        var_store(j, &vars[2], cr);
    if (hoist && !rb_holds_ctx)
        x86_mov_rr(e, 1, jit_register_map[lead->dst], RSI);
    if (n_unset && !vars[1].imm)              /* (R1 left unset: n is the constant) */
        x86_mov_ri(e, RDI, (uint64_t)jit_ranges_trip_const(rn));
    var_store(j, &vars[1], RDI);             /* (rdi = n until i = 0 below) */
    if (cb->uses_frame)                      /* the callback's frame: [rbp - 512, rbp) */
        x86_lea(e, RBP, RSP, 8 * n_mem + BL_STACK_SIZE);
    uint32_t l_out = x86_label_new(e);
    ic.vars = vars;
    ic.out_label = l_out;
    /* an inner loop that never breaks and whose body reads no i (nor the
     * code after it the iterations run) counts n down */
    /* (a constant n in an immediate: only when the loop is written out
     * whole, which needs no n) */
    int full = !fast_live && full_size(cb, n_const) && unrollable(j, cb, dropped_reach) &&
               j->inline_budget >= (uint64_t)n_const * (cb->end - cb->start);
    int down_ok = !fast_live && !unroll2 && (!bi.calls || bi.nest_only) && !r0_read && live_out &&
                  never_breaks(j, cb, dropped_reach) && i_unread(j, &ic);
    /* an induction variable `c * i + rest` (c < 0) that the ranges show
     * is >= 0 up to the last iteration and < 0 after it (`for j = x, 0,
     * -1`: j = x - i, n = x + 1) ends the loop by the sign of its own
     * step, clang's `add $-1, j; jns`: no n to count down (short_down's
     * inner loop, one instruction in five), nor an i to count up (its
     * outer loop `for i = 199, 0, -1`, whose body runs loops) */
    if (down_ok || n_in_rdi)
        ic.iv_exit = find_iv_exit(cb, &hp, rn);
    /* (a body that runs loops counts down only so: its n would take a
     * register the inner loops' starts then save) */
    ic.count_down = n_in_rdi || (down_ok && (ic.iv_exit >= 0 ||
                                             (!bi.calls && (vars[1].reg >= 0 || full))));
    if (!ic.count_down) {
        ic.iv_exit = -1;
        x86_alu_rr(e, 0, ALU_XOR, RDI, RDI);
        var_store(j, &vars[0], RDI);         /* i = 0 */
    }
    if (!n_nonzero) {                        /* n == 0: rax = 0 iterations */
        x86_test_rr(e, 0, RAX, RAX);
        x86_jcc_fix(e, CC_E, FIX_LABEL, l_out);
    }

    if (fast_live) {
        /* iterations [T0, T1) run in a copy without the tests (no test
         * exits in them), the others in the body as written:
         *
         *         if (T0 != 0) { n = T0; goto slow }
         * fast:   n = T1; if (i < n) <copy without the tests>
         *         n = nreal
         * slow:   if (i >= n) goto out; <the body as written>
         *         if (i < nreal) goto fast      ; (it ran up to T0)
         */
        uint32_t l_fast = x86_label_new(e), l_fast_done = x86_label_new(e);
        uint32_t l_slow = x86_label_new(e), l_slow_first = x86_label_new(e);
        uint32_t l_slow_done = x86_label_new(e);
        uint8_t *reach = fast_reach;
        int completes;
        j->inline_budget -= cb->end - cb->start;
        j->versioned_loops++;
        /* (rcx holding i, just set to 0: set again, not saved) */
        int rcx_zero = !ic.count_down && vars[0].reg == RCX && !vars[0].imm;
        if (emit_checks_limit(j, &ic, checks, n_checks, &vars[1], &t1, &nreal, rcx_zero)) {
            x86_test_rr(e, 1, RAX, RAX);             /* T0 != 0 */
            x86_jcc_fix(e, CC_NE, FIX_LABEL, l_slow_first);
        }
        x86_label_bind(e, l_fast);
        var_move(j, &vars[1], &t1);
        cmp_i_n(j, &vars[0], &vars[1]);
        x86_jcc_fix(e, CC_AE, FIX_LABEL, l_fast_done);
        ic.live_out = fast_live;
        ic.unchecked = unchecked;
        ic.reach = reach;
        ic.out_label = l_fast_done;
        if (unrollable(j, cb, reach) && j->inline_budget >= 2 * (uint64_t)(cb->end - cb->start)) {
            /* without its checks, a body that never breaks runs twice per
             * trip: compiled checksum 220 -> 140 ns (clang unrolls it too) */
            j->inline_budget -= 2 * (uint64_t)(cb->end - cb->start);
            j->unrolled_loops++;
            emit_unrolled_copy(j, cb, &ic, r1_live, r2_live, l_out, 0);
            completes = 1;
        } else {
            completes = emit_loop_copy(j, cb, &ic, r1_live, r2_live, 0);
        }
        if (!completes)
            x86_jmp_fix(e, FIX_LABEL, l_out);        /* a break */
        x86_label_bind(e, l_fast_done);
        var_move(j, &vars[1], &nreal);
        x86_label_bind(e, l_slow);
        cmp_i_n(j, &vars[0], &vars[1]);
        x86_jcc_fix(e, CC_AE, FIX_LABEL, l_out);
        ic.live_out = live_out;
        ic.unchecked = dropped;
        ic.reach = dropped_reach;
        ic.out_label = l_slow_done;
        free(reach);
        free(fast_live);
        free(unchecked);
        if (!emit_loop_copy(j, cb, &ic, r1_live, r2_live, 0))
            x86_jmp_fix(e, FIX_LABEL, l_out);        /* a break */
        x86_label_bind(e, l_slow_done);
        cmp_i_n(j, &vars[0], &nreal);
        x86_jcc_fix(e, CC_B, FIX_LABEL, l_fast);
        x86_jmp_fix(e, FIX_LABEL, l_out);
        x86_label_bind(e, l_slow_first);         /* rax = T0 */
        var_store(j, &vars[1], RAX);
        x86_jmp_fix(e, FIX_LABEL, l_slow);
    } else if (ic.count_down && full) {
        free(fast_live);
        free(unchecked);
        j->inline_budget -= (uint64_t)(n_const - 1) * (cb->end - cb->start);
        j->unrolled_loops++;
        if (ic.hoist)
            iv_onto_base(&hp, &ic);
        emit_full_copy(j, cb, &ic, r2_live, n_const);
    } else if (unroll2) {
        free(fast_live);
        free(unchecked);
        j->inline_budget -= 2 * (uint64_t)(cb->end - cb->start);
        j->unrolled_loops++;
        emit_unrolled_copy(j, cb, &ic, r1_live, r2_live, l_out, 1);   /* (from i = 0) */
    } else {
        free(fast_live);
        free(unchecked);
        emit_loop_copy(j, cb, &ic, r1_live && !ic.count_down, r2_live, 1);   /* (from i = 0) */
    }
    x86_label_bind(e, l_out);
    if (r0_read)
        var_load(j, RAX, &vars[0]);          /* iterations run (R0, when read) */
    int back = 0;
    for (int k = 0; k < ic.n_promoted; k++)
        back |= ic.slot_dirty[k] && (!ic.slot_shared[k] || oc->write_through);
    if (!ic.write_through && back) {
        /* write the promoted slots back (R2 is dead here: rsi is free) */
        if (vars[2].reg != RSI)
            var_load(j, RSI, &vars[2]);
        for (int k = 0; k < ic.n_promoted; k++)
            if (ic.slot_dirty[k] && (!ic.slot_shared[k] || oc->write_through))
                x86_store_r(e, ic.slot_size[k], RSI, ic.slot_off[k], ic.slot_reg[k]);
    }
    free(live_out);
    free(decided);
    free(dropped_reach);
    free(noop_st);
    jit_hoist_free(&hp);
    if (alloc)
        x86_alu_ri(e, 1, ALU_ADD, RSP, alloc);
    for (int k = n_saved; k-- > 0;)
        x86_pop(e, saved[k]);
    if (flush)
        reload_slots(j, oc);
    j->use_rn = use_rn0;
}

uint32_t jit_static_callback(const struct jit *j, uint32_t pc)
{
    return static_callback(j, pc);
}

int jit_block_r3_is(const struct jit *j, uint32_t pc, uint32_t start, int r)
{
    return block_r3_is(j, pc, start, r);
}

static int inline_depth(const struct jit *j)
{
    return j->inl ? j->inl->depth : 0;
}

/* the callback function to inline at this bpf_loop, or NULL */
static const struct jfunc *inline_candidate(const struct jit *j, uint32_t cb)
{
    if (j->checked || cb == UINT32_MAX || inline_depth(j) >= INLINE_MAX_DEPTH)
        return NULL;
    uint32_t f = jit_func_index(j, cb);
    if (f == UINT32_MAX || f == 0)
        return NULL;
    const struct jfunc *fn = &j->funcs[f];
    if (fn->end - fn->start > INLINE_MAX_INSNS || fn->end - fn->start > j->inline_budget)
        return NULL;
    for (const struct inline_ctx *o = j->inl; o; o = o->outer)
        if (o->start == fn->start)
            return NULL;                     /* already inside this callback */
    return fn;
}

/* The arguments a bpf_loop at pc (a call; start: its function's or
 * inlined body's first instruction) never reads (bit r = Rr): R2 when the
 * callback is known at the call site (called or inlined by its address),
 * R4 when `mov r4, 0` in the call's block settles the flags, R1 when the
 * body being inlined (j->use_rn) proves the trip count a constant (the
 * loop sets rdi itself: n_unset). */
uint16_t jit_loop_unread(const struct jit *j, uint32_t pc, uint32_t start)
{
    const struct bl_insn *in = &j->insns[pc];
    if (in->src != 0 || in->imm != BL_HELPER_LOOP || j->checked)
        return 0;
    uint16_t m = 0;
    uint32_t cb = static_callback(j, pc);
    if (cb != UINT32_MAX && jit_func_index(j, cb) != UINT32_MAX)
        m |= 1u << BL_R2;
    if (block_zero(j, pc, start, BL_R4))
        m |= 1u << BL_R4;
    if (j->use_rn && jit_ranges_trip_const(jit_ranges_kid(j->use_rn, pc)) > 0)
        m |= 1u << BL_R1;                    /* (n: the constant the ranges prove) */
    return m | 1u << BL_R5;                  /* (bpf_loop has four arguments) */
}

/* What the values of the body of the bpf_loop at pc are known to be
 * (inline_ranges.c): from the enclosing inlined body's facts, or from
 * those of the function the call is in (analysed once, when first asked).
 * shrt (outside inlined bodies): the same for packets of at most
 * PKT_SHORT bytes, when that decides more (else NULL; not analysed when
 * jit_ranges_may_gain sees nothing it could decide). */
static const struct range_node *loop_ranges(struct jit *j, uint32_t pc,
                                            const struct range_node **shrt)
{
    if (shrt)
        *shrt = NULL;
    if (j->inl)
        return jit_ranges_kid(j->inl->ranges, pc);
    uint32_t f = j->func_of[pc];
    if (!j->ranges) {
        j->ranges = calloc(j->n_funcs, sizeof *j->ranges);
        j->ranges_short = calloc(j->n_funcs, sizeof *j->ranges_short);
        j->ranges_done = calloc(j->n_funcs, 1);
        if (!j->ranges || !j->ranges_short || !j->ranges_done)
            return NULL;
    }
    if (!j->ranges_done[f]) {
        /* (not for a callback's own copy, which runs only where a loop
         * of it is not inlined) */
        int callback = 0;
        for (uint32_t i = 0; i + 1 < j->n && !callback; i++)
            callback = bl_is_lddw(&j->insns[i]) && j->insns[i].src == BL_PSEUDO_FUNC &&
                       (int64_t)i + 1 + j->insns[i].imm == (int64_t)j->funcs[f].start;
        j->ranges_done[f] = 1;
        j->ranges[f] = callback ? NULL : jit_ranges_function(j, f, 0xffffffffLL);
        if (j->ranges[f] && jit_ranges_may_gain(j, j->ranges[f]))
            j->ranges_short[f] = jit_ranges_function(j, f, PKT_SHORT);
    }
    const struct range_node *rn = jit_ranges_kid(j->ranges[f], pc);
    if (shrt) {
        *shrt = jit_ranges_kid(j->ranges_short[f], pc);
        if (!jit_ranges_gain(rn, *shrt))
            *shrt = NULL;
    }
    return rn;
}

/* instructions of the bodies of a nest */
static uint64_t nest_insns(const struct jit *j, uint32_t pc, const struct range_node *rn)
{
    uint32_t cb = static_callback(j, pc);
    uint32_t f = cb == UINT32_MAX ? UINT32_MAX : jit_func_index(j, cb);
    if (f == UINT32_MAX)
        return 0;
    uint64_t n = j->funcs[f].end - j->funcs[f].start;
    for (uint32_t i = j->funcs[f].start; rn && i < j->funcs[f].end; i++)
        if (j->insns[i].code == (BL_JMP | BL_CALL) && j->insns[i].src == 0 &&
            j->insns[i].imm == BL_HELPER_LOOP)
            n += nest_insns(j, i, jit_ranges_kid(rn, i));
    return n;
}

/* The inlined loop of callback inl at the bpf_loop at pc, with what rn
 * knows of its values */
static void emit_inlined_call(struct jit *j, uint32_t pc, const struct jfunc *inl,
                              const struct range_node *rn, int ctx_reg, int flags_zero,
                              uint32_t caller_start, int n_unset)
{
    struct x86_emit *e = &j->e;
    uint32_t l_done = x86_label_new(e), l_bad = x86_label_new(e);
    if (!flags_zero) {
        x86_mov_ri(e, RAX, (uint64_t)(int64_t)-EINVAL);
        x86_test_rr(e, 1, RCX, RCX);
        x86_jcc_fix(e, CC_NE, FIX_LABEL, l_done);
    }
    int nonzero, r_small, r_nonzero;
    int32_t k;
    int small = block_nr_small(j, pc, caller_start, &nonzero, &k);
    jit_ranges_trip(rn, &r_small, &r_nonzero);
    small |= r_small;
    nonzero |= r_nonzero;
    if (!small) {
        jit_loop_n_home(j);
        x86_mov_rr(e, 0, RDI, RDI);
        x86_alu_ri(e, 1, ALU_CMP, RDI, BL_MAX_LOOPS);
        x86_jcc_fix(e, CC_A, FIX_LABEL, l_bad);
    }
    emit_inlined_loop(j, inl, inline_depth(j) + 1, pc, nonzero, k, rn, ctx_reg, n_unset);
    if (!small) {                        /* (no jump to l_bad otherwise) */
        x86_jmp_fix(e, FIX_LABEL, l_done);
        x86_label_bind(e, l_bad);
        x86_mov_ri(e, RAX, (uint64_t)(int64_t)-E2BIG);
    }
    x86_label_bind(e, l_done);
}

/* nr into rdi, where the copies left it elsewhere (j->loop_n) */
void jit_loop_n_home(struct jit *j)
{
    if (j->loop_n.scale)
        x86_lea_m(&j->e, RDI, &j->loop_n);
    j->loop_n.scale = 0;
}

/* bpf_loop(nr = R1, callback = R2, ctx = R3, flags = R4) as a native loop */
void jit_emit_bpf_loop(struct jit *j, uint32_t pc)
{
    struct x86_emit *e = &j->e;
    uint32_t cb = static_callback(j, pc);
    const struct jfunc *inl = inline_candidate(j, cb);
    /* flags set to 0 just before (`mov r4, 0`, as compiled): no test */
    uint32_t caller_start = j->inl ? j->inl->start : j->funcs[j->func_of[pc]].start;
    int flags_zero = block_zero(j, pc, caller_start, BL_R4);
    /* ctx: rdx, or the register R3 is a copy of (jit_emit_with_copies) */
    int ctx_reg = j->loop_ctx ? j->loop_ctx : RDX;
    j->loop_ctx = 0;
    /* the enclosing body's liveness took R1 as unread (jit_loop_unread):
     * n is the constant its ranges prove */
    int32_t nc = j->inl ? jit_ranges_trip_const(jit_ranges_kid(j->inl->ranges, pc)) : 0;
    int n_unset = nc > 0 && j->use_rn == j->inl->ranges;
    if (n_unset && !inl)
        x86_mov_ri(e, RDI, (uint64_t)nc);
    if (!inl || !flags_zero)
        jit_loop_n_home(j);                  /* (rax and rcx are written first) */
    if (inl) {
        const struct range_node *rs, *rn = loop_ranges(j, pc, &rs);
        int16_t o_data, o_end;
        uint64_t budget = j->inline_budget, half = budget / 2;
        if (!rs || !jit_ranges_pkt_slots(rs, &o_data, &o_end) ||
            half < 4 * nest_insns(j, pc, rs)) {
            emit_inlined_call(j, pc, inl, rn, ctx_reg, flags_zero, caller_start, n_unset);
            return;
        }
        /* Versioned on the packet's length: for packets of at most
         * PKT_SHORT bytes, a copy of the nest whose tests the short
         * packet decides (the compiler's `j > 65527` before a read in
         * the packet), else the nest as it is. Each copy gets half the
         * inlining budget, so both inline the same loops. */
        uint32_t l_long = x86_label_new(e), l_end = x86_label_new(e);
        jit_loop_n_home(j);                  /* (both copies read rdi) */
        x86_load(e, 8, 0, RAX, ctx_reg, o_end);
        x86_alu_rm(e, 1, ALU_SUB, RAX, ctx_reg, o_data);
        x86_alu_ri(e, 1, ALU_CMP, RAX, PKT_SHORT);
        x86_jcc_fix(e, CC_A, FIX_LABEL, l_long);
        j->pkt_versioned++;
        j->inline_budget = half;
        emit_inlined_call(j, pc, inl, rs, ctx_reg, flags_zero, caller_start, n_unset);
        j->inline_budget += budget - half;
        x86_jmp_fix(e, FIX_LABEL, l_end);
        x86_label_bind(e, l_long);
        emit_inlined_call(j, pc, inl, rn, ctx_reg, flags_zero, caller_start, n_unset);
        x86_label_bind(e, l_end);
        return;
    }
    uint32_t l_done = x86_label_new(e), l_out = x86_label_new(e);
    uint32_t l_top = x86_label_new(e), l_bad = x86_label_new(e);

    /* inside an inlined body keeping slots in registers (its nested
     * loops would share them, but this one could not be inlined after
     * all: the inlining budget): the callback reads and writes memory */
    const struct inline_ctx *oc = j->inl && j->inl->n_promoted ? j->inl : NULL;
    /* (and the enclosing loops' values in r9-r11, which the callback may
     * change: popped before the slots come back from memory) */
    unsigned keep = j->inl ? regs_needed_after(j, pc) & (1u << R9 | 1u << R10 | 1u << R11) : 0;
    int kept[3], n_kept = 0;
    for (int r = R9; r <= R11; r++)
        if ((keep >> r) & 1)
            kept[n_kept++] = r;
    if (ctx_reg != RDX)
        x86_mov_rr(e, 1, RDX, ctx_reg);
    for (int k = 0; k < n_kept; k++)
        x86_push(e, kept[k]);
    if (n_kept % 2)
        x86_alu_ri(e, 1, ALU_SUB, RSP, 8);
    if (oc)
        flush_slots(j, oc);
    if (!flags_zero || j->checked) {
        x86_mov_ri(e, RAX, (uint64_t)(int64_t)-EINVAL);
        x86_test_rr(e, 1, RCX, RCX);
        x86_jcc_fix(e, CC_NE, FIX_LABEL, l_done);
    }
    x86_mov_rr(e, 0, RDI, RDI);                  /* nr is a u32 */
    x86_alu_ri(e, 1, ALU_CMP, RDI, BL_MAX_LOOPS);
    x86_jcc_fix(e, CC_A, FIX_LABEL, l_bad);
    /* the loop state lives in R6-R9's registers, saved around the loop */
    x86_push(e, RBX);
    x86_push(e, R13);
    x86_push(e, R14);
    x86_push(e, R15);
    x86_mov_rr(e, 1, R13, RDI);                  /* n */
    x86_mov_rr(e, 1, R14, RDX);                  /* ctx */
    x86_mov_rr(e, 1, R15, RSI);                  /* callback */
    x86_alu_rr(e, 0, ALU_XOR, RBX, RBX);         /* i */
    x86_alu_rr(e, 0, ALU_XOR, RAX, RAX);
    x86_test_rr(e, 0, R13, R13);
    x86_jcc_fix(e, CC_E, FIX_LABEL, l_out);
    x86_align(e, 16);
    x86_label_bind(e, l_top);
    x86_mov_rr(e, 0, RDI, RBX);
    x86_mov_rr(e, 1, RSI, R14);
    if (cb != UINT32_MAX && jit_func_index(j, cb) != UINT32_MAX) {
        x86_call_fix(e, FIX_LABEL, j->funcs[jit_func_index(j, cb)].entry);
    } else {
        if (j->checked) {
            /* unverified: the value must be one of this program's functions */
            uint32_t l_ok = x86_label_new(e);
            for (uint32_t f = 1; f < j->n_funcs; f++) {
                x86_lea_rip(e, R10, j->funcs[f].entry);
                x86_alu_rr(e, 1, ALU_CMP, R15, R10);
                x86_jcc_fix(e, CC_E, FIX_LABEL, l_ok);
            }
            x86_jmp_fix(e, FIX_LABEL, j->fault_label);
            x86_label_bind(e, l_ok);
        }
        x86_call_reg(e, R15);
    }
    x86_inc(e, 0, RBX);
    x86_test_rr(e, 1, RAX, RAX);
    x86_jcc_fix(e, CC_NE, FIX_LABEL, l_out);     /* callback returned 1: break */
    x86_alu_rr(e, 0, ALU_CMP, RBX, R13);
    x86_jcc_fix(e, CC_B, FIX_LABEL, l_top);
    x86_label_bind(e, l_out);
    x86_mov_rr(e, 1, RAX, RBX);                  /* iterations run */
    x86_pop(e, R15);
    x86_pop(e, R14);
    x86_pop(e, R13);
    x86_pop(e, RBX);
    x86_jmp_fix(e, FIX_LABEL, l_done);
    x86_label_bind(e, l_bad);
    x86_mov_ri(e, RAX, (uint64_t)(int64_t)-E2BIG);
    x86_label_bind(e, l_done);
    if (n_kept % 2)
        x86_alu_ri(e, 1, ALU_ADD, RSP, 8);
    for (int k = n_kept; k-- > 0;)
        x86_pop(e, kept[k]);
    if (oc)
        reload_slots(j, oc);
}

/* ---- jumps in inlined bodies ---------------------------------------------------- */

/* Where a jump to instruction t of an inlined body really goes: past what
 * emits no code there (dead definitions, no-op atomics) and unconditional
 * jumps, straight to cont0 when that reaches an exit returning a known 0.
 * Returns a label. */
uint32_t jit_thread_jump(const struct jit *j, const struct inline_ctx *ic, uint32_t t,
                         int r0_zero)
{
    for (int steps = 0; steps < 64 && t < ic->end; steps++) {
        const struct bl_insn *in = &j->insns[t];
        uint8_t cls = BL_CLASS(in->code);
        if (t == ic->skip || jit_dead_insn(j, ic, t) || (ic->noop_st && ic->noop_st[t - ic->start]) ||
            (j->dead_store && j->dead_store[t]) ||
            (cls == BL_STX && BL_MODE(in->code) == BL_ATOMIC &&
             jit_atomic_is_noop(j, t, ic->stack_base, ic->start))) {
            uint32_t n = t + (bl_is_lddw(in) ? 2 : 1);
            if (n >= ic->end)
                break;
            t = n;
        } else if (in->code == (BL_JMP | BL_JA) || in->code == (BL_JMP32 | BL_JA)) {
            int64_t n = (int64_t)t + 1 + (cls == BL_JMP32 ? in->imm : in->off);
            if (n < ic->start || n >= ic->end)
                break;
            t = (uint32_t)n;
        } else if (in->code == (BL_JMP | BL_EXIT) && (r0_zero || jit_exit_returns_zero(j, t, ic->start))) {
            return ic->cont0_label;
        } else {
            break;
        }
    }
    return ic->first_label + (t - ic->start);
}

/* Is R0 a constant 0 at the jump at pc: set by `mov r0, 0` earlier in its
 * basic block of the inlined body, nothing else writing R0 since? (Then a
 * jump to an exit continues the loop without testing R0.) */
int jit_r0_zero_at(const struct jit *j, const struct inline_ctx *ic, uint32_t pc)
{
    for (uint32_t i = pc; i-- > ic->start;) {
        if (j->is_target[i + 1])
            return 0;
        if (i > ic->start && bl_is_lddw(&j->insns[i - 1]))
            continue;                    /* second slot */
        uint16_t u, d;
        jit_use_def(j, i, ic->start, ic->stack_base, &u, &d);
        if (d & (1u << BL_R0))
            return jit_is_mov_zero(&j->insns[i]);
    }
    return 0;
}

/* Is pc the last instruction this copy of the body emits? */
int jit_falls_to_end(const struct inline_ctx *ic, uint32_t pc)
{
    for (uint32_t i = pc + 1; i < ic->end; i++)
        if (!ic->reach || ic->reach[i - ic->start])
            return 0;
    return 1;
}
