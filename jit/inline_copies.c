/* inline_copies.c - register liveness and copies in an inlined bpf_loop
 * body (inline_loop.c): which instructions of a copy of the body emit
 * nothing (dead definitions), and which register moves and address
 * computations wait in other x86 registers until a value is needed
 * (jit_emit_with_copies, which emits one instruction of the body through
 * jit_emit_insn).
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jit_internal.h"
#include "../stdlib/helpers.h"
#include "x86_emit.h"
#include "../vm/asm.h"

/* ---- liveness in an inlined body ---------------------------------------------
 *
 * Registers (bit r = Rr) each instruction reads and writes, and which are
 * live after it, so that the inlined copy can skip work whose result nobody
 * reads: a definition of a dead register (an ALU operation, lddw or load:
 * none of them can fail or touch memory in verified code), setting R1/R2
 * at the top of an iteration when the body does not read them, and R0 at an
 * exit that returns a known 0 (the loop then continues without testing it).
 * Conservative where unsure: a use too many only keeps code, a definition
 * is counted only where the instruction surely writes the register. */

void jit_use_def(const struct jit *j, uint32_t pc, uint32_t start, int ctx_base,
                 uint16_t *use, uint16_t *def)
{
    const struct bl_insn *in = &j->insns[pc];
    bl_insn_use_def(in, use, def);
    if (BL_CLASS(in->code) == BL_STX && BL_MODE(in->code) == BL_ATOMIC &&
        jit_atomic_is_noop(j, pc, ctx_base, start))
        *use = *def = 0;               /* emits nothing */
    else if (BL_CLASS(in->code) == BL_JMP && BL_OP(in->code) == BL_EXIT &&
             jit_exit_returns_zero(j, pc, start))
        *use = 0;                      /* the loop continues without reading R0 */
    else if (BL_CLASS(in->code) == BL_JMP && BL_OP(in->code) == BL_CALL)
        *use &= (uint16_t)~jit_loop_unread(j, pc, start);
    if (j->dead_store && j->dead_store[pc])
        *use = *def = 0;               /* a store nothing reads: emits nothing */
    *use |= 1u << BL_R10;
    *def &= (uint16_t)~(1u << BL_R10);
}

/* live_out[k]: registers live after instruction start + k of the callback
 * [start, end). Returns NULL when out of memory (then nothing is skipped).
 * folded (a hoist plan's kinds, or NULL): instructions the plan made a
 * copy of a value kept elsewhere read no register, those it made nothing
 * neither read nor write one. */
uint16_t *jit_body_liveness(const struct jit *j, uint32_t start, uint32_t end, int ctx_base,
                            const uint8_t *unchecked, const uint8_t *folded)
{
    uint32_t n = end - start;
    uint16_t *out = calloc(n, sizeof *out), *in = calloc(n + 1, sizeof *in);
    uint16_t *use = malloc(n * sizeof *use), *def = malloc(n * sizeof *def);
    if (!out || !in || !use || !def) {
        free(out);
        free(in);
        free(use);
        free(def);
        return NULL;
    }
    for (uint32_t k = 0; k < n; k++) {
        jit_use_def(j, start + k, start, ctx_base, &use[k], &def[k]);
        if (unchecked && unchecked[k])
            use[k] = def[k] = 0;       /* a dropped check: emits nothing */
        if (folded && (folded[k] == HOIST_IV || folded[k] == HOIST_ALIAS))
            use[k] = 0;                /* a copy of a value kept elsewhere */
        if (folded && folded[k] == HOIST_SKIP)
            use[k] = def[k] = 0;       /* nothing: a chain's skipped link leaves
                                          the register as the link before made it */
        if (bl_is_lddw(&j->insns[start + k]) && k + 1 < n) {
            k++;
            use[k] = def[k] = 0;
        }
    }
    in[n] = ALL_REGS;                  /* falling off the end: assume everything */
    for (int changed = 1; changed;) {
        changed = 0;
        for (uint32_t k = n; k-- > 0;) {
            const struct bl_insn *ins = &j->insns[start + k];
            uint8_t cls = BL_CLASS(ins->code), op = BL_OP(ins->code);
            uint16_t o = 0;
            if (k > 0 && bl_is_lddw(&j->insns[start + k - 1]))
                continue;              /* second slot */
            if (bl_is_lddw(ins)) {
                o = in[k + 2 <= n ? k + 2 : n];
            } else if (unchecked && unchecked[k] == 1) {
                o = in[k + 1];                         /* never taken */
            } else if (unchecked && unchecked[k] == 2) {
                int64_t t = (int64_t)k + 1 + ins->off; /* always taken */
                o = t >= 0 && t <= (int64_t)n ? in[t] : ALL_REGS;
            } else if ((cls == BL_JMP || cls == BL_JMP32) && op != BL_CALL) {
                if (op != BL_EXIT) {
                    int64_t t = (int64_t)k + 1 +
                                ((cls == BL_JMP32 && op == BL_JA) ? ins->imm : ins->off);
                    o = t >= 0 && t <= (int64_t)n ? in[t] : ALL_REGS;
                    if (op != BL_JA)
                        o |= in[k + 1];
                }
            } else {
                o = in[k + 1];
            }
            /* what jit_dead_insn skips uses nothing (faint, not only
             * dead: a chain that feeds only a dropped check goes too) */
            int pure = (cls == BL_ALU || cls == BL_ALU64 || cls == BL_LDX || bl_is_lddw(ins)) &&
                       ins->dst != BL_R10 && !(unchecked && unchecked[k]);
            uint16_t i2 = pure && !(o & (1u << ins->dst)) ? o
                                                          : (uint16_t)(use[k] | (o & ~def[k]));
            if (o != out[k] || i2 != in[k]) {
                out[k] = o;
                in[k] = i2;
                changed = 1;
            }
        }
    }
    free(in);
    free(use);
    free(def);
    return out;
}

/* Can the inlined copy skip instruction pc: it only defines a register
 * nobody reads afterwards, and has no other effect? */
int jit_dead_insn(const struct jit *j, const struct inline_ctx *ic, uint32_t pc)
{
    if (!ic->live_out)
        return 0;
    const struct bl_insn *in = &j->insns[pc];
    uint8_t cls = BL_CLASS(in->code);
    if (in->dst == BL_R10)
        return 0;                      /* refused by jit_emit_insn */
    if (cls != BL_ALU && cls != BL_ALU64 && cls != BL_LDX && !(cls == BL_LD && bl_is_lddw(in)))
        return 0;
    return !(ic->live_out[pc - ic->start] & (1u << in->dst));
}

/* ---- copies in inlined bodies ------------------------------------------------
 *
 * In an inlined body, a 64-bit `mov dst, src`, the load of a ctx slot kept
 * in a register and R1 = i (R2 = ctx) at the top of an iteration emit no
 * code: j->alias[dst] records the x86 register that holds dst's value, and
 * instructions that read dst read it there (j->rmap). The copy is made
 * (`mov home(dst), alias`) only when needed: before dst is modified in
 * place, before the x86 register holding it is written, before a jump for
 * the registers live at its target, before a label for those live there,
 * before anything else (calls, atomics, division...) for those live then.
 * Invariant: when alias[r] >= 0, no register is a copy living in r's own
 * x86 register, so making a copy never destroys another.
 *
 * An address computed from such values (`r = i << 1`, `r = data + r`,
 * `r += 2`) is kept the same way, as a form [base + index*scale + disp]
 * of x86 registers (j->form[r]): a load or store through r uses it as its
 * addressing mode, and only a read of r as a value computes it (one lea
 * into r's own register). A form never names r's own register, and
 * writing an x86 register first computes the forms that name it. */

void jit_alias_clear(struct jit *j)
{
    memset(j->alias, -1, sizeof j->alias);
    memset(j->form, 0, sizeof j->form);
}

int jit_has_form(const struct jit *j, int r)
{
    return j->form[r].scale != 0;
}

/* r's value is about to be redefined: forget where it was */
void jit_alias_forget(struct jit *j, int r)
{
    j->alias[r] = -1;
    j->form[r].scale = 0;
}

static void alias_materialize(struct jit *j, int r)
{
    if (jit_has_form(j, r)) {
        x86_lea_m(&j->e, jit_register_map[r], &j->form[r]);
        j->form[r].scale = 0;
    } else if (j->alias[r] >= 0) {
        x86_mov_rr(&j->e, 1, jit_register_map[r], j->alias[r]);
        j->alias[r] = -1;
    }
}

static int form_names(const struct x86_mem *f, int x)
{
    return f->scale && (f->base == x || f->index == x);
}

/* x86 register x is about to be written: copies living in it move home,
 * forms naming it are computed */
static void alias_release(struct jit *j, int x, int except)
{
    for (int r = 0; r < BL_NREGS; r++)
        if (r != except && (j->alias[r] == x || form_names(&j->form[r], x)))
            alias_materialize(j, r);
}

/* registers in `live` back in their own registers */
void jit_alias_sync(struct jit *j, uint16_t live)
{
    for (int r = 0; r < BL_NREGS; r++)
        if ((live >> r) & 1)
            alias_materialize(j, r);
}

uint16_t jit_live_in_at(const struct jit *j, const struct inline_ctx *ic, uint32_t pc)
{
    uint16_t u, d;
    if (ic->unchecked && ic->unchecked[pc - ic->start])
        return ic->live_out[pc - ic->start];
    jit_use_def(j, pc, ic->start, ic->stack_base, &u, &d);
    return (uint16_t)(u | (ic->live_out[pc - ic->start] & ~d));
}

static int alias_loc(const struct jit *j, int r)
{
    return j->alias[r] >= 0 ? j->alias[r] : jit_register_map[r];
}

/* where r's value can be read as a value (a form is computed first) */
static int value_loc(struct jit *j, int r)
{
    if (jit_has_form(j, r))
        alias_materialize(j, r);
    return alias_loc(j, r);
}

/* r's value as a form: its form, or [x] for the register x holding it */
static struct x86_mem form_of(const struct jit *j, int r)
{
    if (jit_has_form(j, r))
        return j->form[r];
    return (struct x86_mem){(int8_t)alias_loc(j, r), -1, 1, 0};
}

/* Keeps `d op= src/imm` (64-bit add/sub of a constant, add of a register,
 * shift left by 1-3) as a form, when d's value is a copy or a form and
 * the result is one addressing mode that does not name d's own register.
 * Returns 1 when it did (nothing emitted). */
static int alu_to_form(struct jit *j, const struct bl_insn *in)
{
    uint8_t op = BL_OP(in->code);
    int d = in->dst, x = BL_SRC(in->code) == BL_X, home = jit_register_map[d];
    if (BL_CLASS(in->code) != BL_ALU64 || (j->alias[d] < 0 && !jit_has_form(j, d)))
        return 0;
    struct x86_mem f = form_of(j, d);
    if (!x && (op == BL_ADD || op == BL_SUB)) {
        int64_t disp = (int64_t)f.disp + (op == BL_ADD ? (int64_t)in->imm : -(int64_t)in->imm);
        if (disp < -(1 << 30) || disp > (1 << 30))
            return 0;
        f.disp = (int32_t)disp;
    } else if (!x && op == BL_LSH && in->imm >= 1 && in->imm <= 3) {
        if (f.index < 0) {                       /* [b + disp] -> [b*2^k + disp*2^k] */
            f.index = f.base;
            f.base = -1;
        }
        if (f.base >= 0 || f.scale << in->imm > 8 || f.disp > (1 << 26) || f.disp < -(1 << 26))
            return 0;
        f.scale = (uint8_t)(f.scale << in->imm);
        f.disp *= 1 << in->imm;
    } else if (x && op == BL_ADD && in->src != d && in->src != BL_R10) {
        /* the terms (register, scale) of both: at most two, one scaled */
        struct x86_mem g = form_of(j, in->src);
        int64_t disp = (int64_t)f.disp + g.disp;
        int reg[4], sc[4], n = 0;
        const struct x86_mem *both[2] = {&f, &g};
        for (int k = 0; k < 2; k++) {
            if (both[k]->base >= 0) {
                reg[n] = both[k]->base;
                sc[n++] = 1;
            }
            if (both[k]->index >= 0) {
                reg[n] = both[k]->index;
                sc[n++] = both[k]->scale;
            }
        }
        if (n == 3 && f.index < 0 && jit_has_form(j, in->src) && f.base != jit_register_map[in->src] &&
            jit_register_map[in->src] != home) {
            /* [b] + [x + y]: compute the source's form into its own
             * register (it is read as a value anyway), then [b + src] */
            value_loc(j, in->src);
            g = form_of(j, in->src);
            disp = (int64_t)f.disp + g.disp;
            n = 0;
            for (int k = 0; k < 2; k++) {
                if (both[k]->base >= 0) {
                    reg[n] = both[k]->base;
                    sc[n++] = 1;
                }
                if (both[k]->index >= 0) {
                    reg[n] = both[k]->index;
                    sc[n++] = both[k]->scale;
                }
            }
        }
        if (n != 2 || (sc[0] > 1 && sc[1] > 1) || disp < -(1 << 30) || disp > (1 << 30))
            return 0;
        int b = sc[0] == 1 ? 0 : 1;             /* the unscaled term is the base */
        f = (struct x86_mem){(int8_t)reg[b], (int8_t)reg[1 - b], (uint8_t)sc[1 - b], (int32_t)disp};
    } else {
        return 0;
    }
    if (f.base < 0 && f.scale == 1) {            /* [i + disp] */
        f.base = f.index;
        f.index = -1;
    }
    if (f.base == home || f.index == home || f.index == RSP)
        return 0;
    alias_release(j, home, d);
    j->alias[d] = -1;
    j->form[d] = f;
    return 1;
}

/* d *= k for k = 3, 5, 9 (one lea) or, when d is a copy of another
 * register x, k = 2^s - 1 (d = x << s; d -= x): 1-2 cycles of latency
 * where imul takes 3 (a hash step `acc * 31 + ...` in a loop is a chain
 * of them: mix32 1.20 -> 1.0x clang, which does the same). Returns 1
 * when it emitted the multiplication. */
static int mul_by_shift_add(struct jit *j, int d, int32_t k)
{
    int home = jit_register_map[d], x = j->alias[d];
    if (jit_has_form(j, d))
        return 0;
    if (k == 3 || k == 5 || k == 9) {
        int src = x >= 0 ? x : home;
        x86_lea_m(&j->e, home, &(struct x86_mem){(int8_t)src, (int8_t)src, (uint8_t)(k - 1), 0});
        jit_alias_forget(j, d);
        return 1;
    }
    if (x < 0 || k < 3 || k > (1 << 30) || (k & (k + 1)))
        return 0;
    x86_mov_rr(&j->e, 1, home, x);
    x86_shift_ri(&j->e, 1, SHIFT_SHL, home, (uint8_t)__builtin_ctz((uint32_t)k + 1));
    x86_alu_rr(&j->e, 1, ALU_SUB, home, x);
    jit_alias_forget(j, d);
    return 1;
}

/* Is instruction pc (an ALU op on d, a copy of a promoted slot's register)
 * followed right away by the store of d into that same slot (8 bytes, or
 * 4 into a 4-byte slot: the store then truncates the slot's register, and
 * d, if live, is first moved out of it)? */
static int updates_own_slot(const struct jit *j, const struct inline_ctx *ic, uint32_t pc)
{
    const struct bl_insn *in = &j->insns[pc], *next = &j->insns[pc + 1];
    if (pc + 1 >= ic->end || j->is_target[pc + 1] ||
        (next->code != (BL_STX | BL_MEM | BL_DW) && next->code != (BL_STX | BL_MEM | BL_W)) ||
        next->src != in->dst || next->dst == in->dst)
        return 0;
    int slot = jit_promoted_reg(j, next->dst, jit_size_of(next->code), next->off);
    return slot >= 0 && slot == j->alias[in->dst];
}

/* Is instruction pc (an ALU op on d, a copy) followed, past instructions
 * that emit nothing because nothing reads what they define, by the store
 * of d into another promoted slot (8 bytes)? Its register, or -1. */
static int stores_to_slot(const struct jit *j, const struct inline_ctx *ic, uint32_t pc)
{
    const struct bl_insn *in = &j->insns[pc];
    uint32_t q = pc + 1;
    while (q < ic->end && !j->is_target[q] && jit_dead_insn(j, ic, q) &&
           !bl_is_lddw(&j->insns[q]))
        q++;
    if (q >= ic->end || j->is_target[q])
        return -1;
    const struct bl_insn *st = &j->insns[q];
    if (st->code != (BL_STX | BL_MEM | BL_DW) || st->src != in->dst || st->dst == in->dst)
        return -1;
    int slot = jit_promoted_reg(j, st->dst, 8, st->off);
    return slot >= 0 && slot != j->alias[in->dst] ? slot : -1;
}

/* `d = ...; *slot = d` where the slot lives in register into: pc's
 * result goes straight into that register and d becomes a copy of it
 * (the store then moves nothing). src, when >= 0, is a register pc reads
 * as an address, taken from where it lives once the registers pc
 * overwrites are released. */
static void emit_into_slot_reg(struct jit *j, uint32_t pc, int into, int src)
{
    int d = j->insns[pc].dst;
    alias_release(j, into, -1);
    alias_release(j, jit_register_map[d], d);
    if (src >= 0)
        j->rmap[src] = (uint8_t)alias_loc(j, src);
    j->rmap[d] = (uint8_t)into;
    jit_emit_insn(j, pc);
    memcpy(j->rmap, jit_register_map, sizeof j->rmap);
    jit_alias_forget(j, d);
    j->alias[d] = (int8_t)into;
}

/* jit_emit_insn for instruction pc of the inlined body ic, with copies */
void jit_emit_with_copies(struct jit *j, const struct inline_ctx *ic, uint32_t pc)
{
    const struct bl_insn *in = &j->insns[pc];
    uint8_t cls = BL_CLASS(in->code), op = BL_OP(in->code), mode = BL_MODE(in->code);
    int x = BL_SRC(in->code) == BL_X;
    int8_t *al = j->alias;
    int d = in->dst;
    if (!ic->live_out || pc == j->fused_ja) {
        /* (a `ja` the jump before it took over emits nothing, and the
         * copies go on to pc + 1: that jump's fall-through, whose live
         * values the ja's own target does not name) */
        jit_emit_insn(j, pc);
        return;
    }
    switch (cls) {
    case BL_ALU:
    case BL_ALU64:
        if (d == BL_R10 || op == BL_DIV || op == BL_MOD ||
            (x && (op == BL_LSH || op == BL_RSH || op == BL_ARSH)))
            break;
        if (cls == BL_ALU64 && !x && in->imm == 0 &&
            (op == BL_ADD || op == BL_SUB || op == BL_OR || op == BL_XOR))
            return;                           /* d unchanged, wherever it lives */
        if (cls == BL_ALU64 && op == BL_MOV && x && in->off == 0) {
            if (in->src == d)
                return;
            if (jit_has_form(j, in->src) && !form_names(&j->form[in->src], jit_register_map[d])) {
                struct x86_mem f = j->form[in->src];
                alias_release(j, jit_register_map[d], d);
                jit_alias_forget(j, d);
                j->form[d] = f;               /* the same address */
                return;
            }
            int loc = value_loc(j, in->src);
            alias_release(j, jit_register_map[d], d);
            jit_alias_forget(j, d);
            al[d] = (int8_t)(loc == jit_register_map[d] ? -1 : loc);
            return;
        }
        if (op != BL_MOV && al[d] >= 0 && updates_own_slot(j, ic, pc)) {
            /* `d op= x; *slot = d` where d is a copy of that slot's
             * register: compute in the slot's register (nothing reads the
             * slot in between) */
            int slot = al[d];
            if (x && op != BL_END && op != BL_NEG)
                value_loc(j, in->src);
            alias_release(j, slot, d);
            if (x && op != BL_END && op != BL_NEG)
                j->rmap[in->src] = (uint8_t)alias_loc(j, in->src);
            j->rmap[d] = (uint8_t)slot;
            jit_emit_insn(j, pc);
            memcpy(j->rmap, jit_register_map, sizeof j->rmap);
            return;
        }
        int to_slot = op != BL_MOV && op != BL_END && op != BL_NEG && cls == BL_ALU64 &&
                      al[d] >= 0 ? stores_to_slot(j, ic, pc) : -1;
        if (to_slot >= 0 && (!x || (in->src != d && !jit_has_form(j, in->src) &&
                                    alias_loc(j, in->src) != to_slot))) {
            /* `d = copy; d op= x; (dead code); *other_slot = d`: d is
             * computed in that slot's register, the store then emits
             * nothing (`mov r11, rbx; and $3, rbx; mov rbx, rbp`, a nest's
             * inner start from the outer index, is `mov r11, rbp; and $3,
             * rbp`). Nothing between reads the slot: only instructions
             * whose results are dead. */
            int from = al[d];
            alias_release(j, to_slot, d);
            x86_mov_rr(&j->e, 1, to_slot, from);
            jit_alias_forget(j, d);
            al[d] = (int8_t)to_slot;
            if (x)
                j->rmap[in->src] = (uint8_t)alias_loc(j, in->src);
            j->rmap[d] = (uint8_t)to_slot;
            jit_emit_insn(j, pc);
            memcpy(j->rmap, jit_register_map, sizeof j->rmap);
            return;
        }
        if (alu_to_form(j, in))
            return;                           /* an address, computed when read */
        if (cls == BL_ALU64 && op == BL_MOV && !x && in->off == 0 && pc + 1 < ic->end &&
            !j->is_target[pc + 1] && j->insns[pc + 1].code == (BL_STX | BL_MEM | BL_DW) &&
            j->insns[pc + 1].src == d && j->insns[pc + 1].dst != d) {
            /* `mov d, K; *slot = d`: K straight into the slot's register,
             * d a copy of it (the store then moves nothing) */
            int into = jit_promoted_reg(j, j->insns[pc + 1].dst, 8, j->insns[pc + 1].off);
            if (into >= 0) {
                emit_into_slot_reg(j, pc, into, -1);
                return;
            }
        }
        alias_release(j, jit_register_map[d], d);
        if (cls == BL_ALU64 && op == BL_MUL && !x && mul_by_shift_add(j, d, in->imm))
            return;
        if (cls == BL_ALU64 && al[d] >= 0 &&
            ((op == BL_ADD && (x || in->imm != 0)) || (op == BL_SUB && !x && in->imm != INT32_MIN))) {
            /* d = copy + x in one lea, no copy first */
            if (!x) {
                x86_lea(&j->e, jit_register_map[d], al[d], op == BL_ADD ? in->imm : -in->imm);
            } else {
                int src = value_loc(j, in->src);
                x86_lea_bi(&j->e, jit_register_map[d], al[d], src);
            }
            jit_alias_forget(j, d);
            return;
        }
        if (op != BL_MOV || (x && in->src == d))
            alias_materialize(j, d);          /* read in place */
        if (x && op != BL_END && op != BL_NEG)
            j->rmap[in->src] = (uint8_t)value_loc(j, in->src);
        j->rmap[d] = jit_register_map[d];
        jit_emit_insn(j, pc);
        jit_alias_forget(j, d);
        memcpy(j->rmap, jit_register_map, sizeof j->rmap);
        return;
    case BL_LDX: {
        if ((mode != BL_MEM && mode != BL_MEMSX) || d == BL_R10)
            break;
        int slot =
            jit_promoted_reg(j, in->src, mode == BL_MEMSX ? 0 : jit_size_of(in->code), in->off);
        const struct bl_insn *st = pc > ic->start ? &j->insns[pc - 1] : NULL;
        if (slot < 0 && mode == BL_MEM && in->code == (BL_LDX | BL_MEM | BL_DW) && st &&
            !j->is_target[pc] && st->code == (BL_STX | BL_MEM | BL_DW) && st->dst == in->src &&
            st->off == in->off) {
            /* right after `*(u64 *)(b + off) = s`, the load of those 8
             * bytes through b is a copy of s (the compiler stores a loop
             * index to its slot and loads it back) */
            if (st->src != d) {
                int loc = value_loc(j, st->src);
                alias_release(j, jit_register_map[d], d);
                jit_alias_forget(j, d);
                al[d] = (int8_t)(loc == jit_register_map[d] ? -1 : loc);
            }
            return;
        }
        const struct bl_insn *nx = pc + 1 < ic->end ? &j->insns[pc + 1] : NULL;
        int into = slot < 0 && mode == BL_MEM && nx && !j->is_target[pc + 1] &&
                           nx->code == (BL_STX | BL_MEM | BL_DW) && nx->src == d && nx->dst != d
                       ? jit_promoted_reg(j, nx->dst, 8, nx->off)
                       : -1;
        if (into >= 0) {
            /* `ldx d, [..]; *slot = d`: loaded straight into the slot's
             * register, d a copy of it (the store then moves nothing); the
             * address read where it lives (or its form) */
            emit_into_slot_reg(j, pc, into, in->src);
            return;
        }
        if (in->src == d && al[d] >= 0 && slot < 0) {
            /* `ldx d, [d]` with d a copy: the address as a form, so that
             * the base is read where it lives and d lands in its own */
            j->form[d] = (struct x86_mem){al[d], -1, 1, 0};
            al[d] = -1;
        }
        alias_release(j, jit_register_map[d], d);
        if (slot >= 0) {
            jit_alias_forget(j, d);
            al[d] = (int8_t)slot;
            return;
        }
        j->rmap[in->src] = (uint8_t)alias_loc(j, in->src);   /* (or its form) */
        j->rmap[d] = jit_register_map[d];
        jit_emit_insn(j, pc);
        jit_alias_forget(j, d);
        memcpy(j->rmap, jit_register_map, sizeof j->rmap);
        return;
    }
    case BL_ST:
    case BL_STX: {
        /* the compiler's launder (`lock add [slot], 0`) emits nothing and
         * changes no value: the copies stay (short_ret's `acc > K` after
         * it read acc's copy where it lives, no move per iteration) */
        if (cls == BL_STX && mode == BL_ATOMIC && jit_atomic_is_noop(j, pc, ic->stack_base, ic->start))
            return;
        if (mode != BL_MEM)
            break;
        int size = jit_size_of(in->code);
        int slot = jit_promoted_reg(j, d, size, in->off);
        if (cls == BL_STX && slot >= 0 && size == 8 && !ic->write_through && in->src != d &&
            jit_has_form(j, in->src) && !((ic->live_out[pc - ic->start] >> in->src) & 1)) {
            /* an address stored into a promoted slot, dead after: computed
             * straight into the slot's register (`lea r11, [r12*8]`, no
             * lea into src's own and a move) */
            alias_release(j, slot, -1);
            if (jit_has_form(j, in->src)) {
                x86_lea_m(&j->e, slot, &j->form[in->src]);
                jit_alias_forget(j, in->src);
                return;
            }
        }
        if (cls == BL_STX)
            value_loc(j, in->src);
        /* (a src living in the slot's register stays: the value does not
         * change; a 4-byte slot's store truncates it, so there only a src
         * dead after the store stays, forgotten after it) */
        int keep = slot >= 0 && cls == BL_STX && al[in->src] == slot ? in->src : -1;
        if (keep >= 0 && size != 8 &&
            (!ic->live_out || ((ic->live_out[pc - ic->start] >> keep) & 1)))
            keep = -1;
        if (slot >= 0)
            alias_release(j, slot, keep);
        j->rmap[d] = (uint8_t)alias_loc(j, d);            /* (or its form) */
        if (cls == BL_STX)
            j->rmap[in->src] = (uint8_t)alias_loc(j, in->src);
        jit_emit_insn(j, pc);
        memcpy(j->rmap, jit_register_map, sizeof j->rmap);
        if (keep >= 0 && size != 8)
            jit_alias_forget(j, keep);
        return;
    }
    case BL_LD:
        if (!bl_is_lddw(in) || d == BL_R10)
            break;
        alias_release(j, jit_register_map[d], d);
        jit_emit_insn(j, pc);
        jit_alias_forget(j, d);
        return;
    default:                                  /* jumps */
        if (op == BL_CALL && !x && in->src == 0 && in->imm == BL_HELPER_LOOP && al[BL_R3] >= 0 &&
            !jit_has_form(j, BL_R3) &&
            (al[BL_R3] == RBX || (al[BL_R3] >= R13 && al[BL_R3] <= R15))) {
            /* bpf_loop's ctx a copy of R6-R9's register (`mov r3, r9`):
             * the loop takes it from there, no move into rdx first */
            uint16_t live = jit_live_in_at(j, ic, pc) & (uint16_t)~(1u << BL_R3);
            /* nr (R1) a copy or a form: computed into rdi only where the
             * loop reads it (jit_loop_n_home; a loop that ends by an
             * induction variable's sign never does), unless a register
             * the sync writes holds part of it */
            struct x86_mem n = form_of(j, BL_R1);
            int defer = j->helper_find == bl_helper_find && ((live >> BL_R1) & 1) &&
                        (al[BL_R1] >= 0 || jit_has_form(j, BL_R1));
            for (int r = 0; defer && r < BL_NREGS; r++)
                if (r != BL_R1 && ((live >> r) & 1) && (al[r] >= 0 || jit_has_form(j, r)))
                    defer = !form_names(&n, jit_register_map[r]);
            if (defer) {
                live &= (uint16_t)~(1u << BL_R1);
                j->loop_n = n;
            }
            jit_alias_sync(j, live);
            j->loop_ctx = al[BL_R3];
            jit_alias_clear(j);
            jit_emit_insn(j, pc);
            j->loop_ctx = 0;
            j->loop_n.scale = 0;
            return;
        }
        if (op == BL_CALL)
            break;
        if (op == BL_EXIT) {
            if (!jit_exit_returns_zero(j, pc, ic->start))
                alias_materialize(j, BL_R0);
            jit_emit_insn(j, pc);
            jit_alias_clear(j);
            return;
        }
        {
            int64_t t = (int64_t)pc + 1 + ((cls == BL_JMP32 && op == BL_JA) ? in->imm : in->off);
            uint32_t fused = op == BL_JA ? UINT32_MAX : jit_fused_ja_target(j, pc);
            if (fused != UINT32_MAX)
                t = fused;                    /* the jump goes where the `ja` after it went */
            if (t < ic->start || t >= ic->end)
                break;
            /* (a jump to code out of line takes the copies with it) */
            if (pc != j->cold_jump)
                jit_alias_sync(j, jit_live_in_at(j, ic, (uint32_t)t));
            /* an operand kept as a form is computed into its own register
             * for the compare and stays a form too: an access through it
             * later (`if opt + 1 > 65527 goto fault` before a read at data
             * + opt + 1) still uses the addressing mode, not the register
             * the compare waited for (tcpopts: a lea less on the chain
             * from one option's length to the next's) */
            struct x86_mem fd = j->form[d], fs = x ? j->form[in->src] : (struct x86_mem){0};
            if (op != BL_JA) {
                value_loc(j, d);
                if (x)
                    value_loc(j, in->src);
                j->rmap[d] = (uint8_t)alias_loc(j, d);
                if (x)
                    j->rmap[in->src] = (uint8_t)alias_loc(j, in->src);
            }
            jit_emit_insn(j, pc);
            memcpy(j->rmap, jit_register_map, sizeof j->rmap);
            if (op != BL_JA) {
                j->form[d] = fd;
                if (x)
                    j->form[in->src] = fs;
            }
            if (op == BL_JA)
                jit_alias_clear(j);
            return;
        }
    }
    /* anything else: what is live before it, home; the rest forgotten */
    jit_alias_sync(j, jit_live_in_at(j, ic, pc));
    jit_alias_clear(j);
    jit_emit_insn(j, pc);
}

/* instruction pc of the body as inline_hoist.c planned it: dst becomes a
 * copy of the value computed before the loop, nothing (folded into
 * another), or dst op= that value */
void jit_emit_hoisted(struct jit *j, const struct inline_ctx *ic, uint32_t pc, int i_plus)
{
    const struct bl_insn *in = &j->insns[pc];
    uint8_t kind = ic->hoist->kind[pc - ic->start];
    int d = in->dst, home = jit_register_map[d], h = ic->hoist->reg[pc - ic->start];
    if (kind == HOIST_SKIP)
        return;
    alias_release(j, home, d);
    if (kind == HOIST_IV) {
        /* the induction variable's register; in an unrolled copy reading
         * i + 1, that plus one step, as a form */
        const struct hoist_iv *iv = &ic->hoist->iv[h];
        jit_alias_forget(j, d);
        if (!i_plus) {
            j->alias[d] = iv->v;
        } else if (iv->coef_reg < 0) {
            j->form[d] = (struct x86_mem){iv->v, -1, 1, iv->coef * i_plus};
        } else if (!iv->coef_neg) {
            j->form[d] = (struct x86_mem){iv->v, iv->coef_reg, 1, 0};
        } else {                              /* v - c: no addressing mode */
            x86_mov_rr(&j->e, 1, home, iv->v);
            x86_alu_rr(&j->e, 1, ALU_SUB, home, iv->coef_reg);
        }
        return;
    }
    if (kind == HOIST_ALIAS) {
        jit_alias_forget(j, d);
        j->alias[d] = (int8_t)h;
        return;
    }
    alias_materialize(j, d);                  /* d op= h, in d's own register */
    switch (BL_OP(in->code)) {
    case BL_MUL:
        x86_imul_rr(&j->e, 1, home, h);
        break;
    case BL_ADD:
        x86_alu_rr(&j->e, 1, ALU_ADD, home, h);
        break;
    case BL_OR:
        x86_alu_rr(&j->e, 1, ALU_OR, home, h);
        break;
    case BL_AND:
        x86_alu_rr(&j->e, 1, ALU_AND, home, h);
        break;
    default:
        x86_alu_rr(&j->e, 1, ALU_XOR, home, h);
        break;
    }
    jit_alias_forget(j, d);
}
