/* inline_hoist.c - values an inlined loop body computes the same way in
 * every iteration, computed once before the loop.
 *
 * In the straight-line code at the top of the body (up to its first jump
 * or jump target), a register is invariant when it holds a constant, a
 * copy of an invariant register, a promoted ctx slot the body never
 * writes (its register holds the same 8 bytes in every iteration: no
 * call, no store through another pointer that may reach it, see
 * inline_loop.c), or an ALU result of invariant operands. Such an ALU
 * result is computed before the loop into a spare register of the loop's
 * pool, and the body reads it there (a copy, as inline_copies.c keeps
 * them): no code in the loop.
 *
 * Chains of one associative and commutative operation (add, xor, or, and,
 * mul, mod 2^64) on one register, `d = a; d op= b; d op= c ...` with
 * nothing else reading d in between, are regrouped: the invariant
 * operands are combined before the loop and the chain applies that
 * combination once (`acc + (i ~ j ~ k ~ seed)` in a loop on k: i ~ j ~
 * seed before the loop, one xor with k inside). The value of d where
 * anything reads it is the same, only the order of the operations
 * changes.
 */
#include <stdlib.h>
#include <string.h>

#include "jit_internal.h"
#include "x86_emit.h"
#include "../core/insn.h"

/* an invariant value: a register holding it, or a constant */
struct operand {
    int ok;         /* invariant */
    int is_imm;
    int reg;
    int32_t imm;
    uint32_t def;   /* the instruction that set it */
};

/* a chain of one operation on a register, its invariant part in `part` */
struct chain {
    int active;
    uint8_t op;
    int from_inv;   /* it started from an invariant value (defined at pc), else at a
                       variant one whose first invariant operand is applied at pc */
    uint32_t pc;
    struct operand part;
    int folded;     /* more than one invariant operand combined into part */
};

static int assoc(uint8_t op)
{
    return op == BL_ADD || op == BL_XOR || op == BL_OR || op == BL_AND || op == BL_MUL;
}

static int computable(const struct bl_insn *in)
{
    uint8_t op = BL_OP(in->code);
    int x = BL_SRC(in->code) == BL_X;
    if (assoc(op) || op == BL_SUB)
        return 1;
    return !x && (op == BL_LSH || op == BL_RSH || op == BL_ARSH);
}

/* dst = a op b, before the loop */
static int plan_op(struct hoist_plan *hp, uint8_t op, struct operand a, struct operand b,
                   const int *avail, int n_avail)
{
    if (hp->n_ops == HOIST_MAX || hp->n_regs == n_avail)
        return -1;
    int r = avail[hp->n_regs++];
    hp->ops[hp->n_ops].dst = (int8_t)r;
    hp->ops[hp->n_ops].op = op;
    hp->ops[hp->n_ops].a_imm = a.is_imm;
    hp->ops[hp->n_ops].a = a.is_imm ? a.imm : a.reg;
    hp->ops[hp->n_ops].b_imm = b.is_imm;
    hp->ops[hp->n_ops].b = b.is_imm ? b.imm : b.reg;
    hp->n_ops++;
    return r;
}

/* Is reg one this plan computes, read in the loop only by the chain's own
 * instruction at k (no other register's invariant value lives in it)? */
static int only_chain_reads(const struct hoist_plan *hp, const struct operand *inv, int d, int reg,
                            uint32_t k, uint32_t n, const int *avail)
{
    int mine = 0;
    for (int q = 0; q < hp->n_regs; q++)
        mine |= avail[q] == reg;
    if (!mine)
        return 0;
    for (int r = 0; r < BL_NREGS; r++)
        if (r != d && inv[r].ok && !inv[r].is_imm && inv[r].reg == reg)
            return 0;
    for (uint32_t q = 0; q < n; q++)
        if (q != k && hp->kind[q] && hp->kind[q] != HOIST_SKIP && hp->reg[q] == reg)
            return 0;
    return 1;
}

int jit_hoist_plan(const struct jit *j, const struct inline_ctx *ic, uint32_t first,
                   const int *avail, int n_avail, struct hoist_plan *hp)
{
    uint32_t n = ic->end - ic->start;
    memset(hp, 0, sizeof *hp);
    if (!ic->live_out || j->is_target[ic->start] || n_avail <= 0)
        return 0;
    hp->kind = calloc(n, 1);
    hp->reg = calloc(n, 1);
    if (!hp->kind || !hp->reg) {
        jit_hoist_free(hp);
        return 0;
    }
    struct operand inv[BL_NREGS];
    struct chain ch[BL_NREGS];
    memset(inv, 0, sizeof inv);
    memset(ch, 0, sizeof ch);
    for (uint32_t pc = first; pc < ic->end; pc++) {
        const struct bl_insn *in = &j->insns[pc];
        uint8_t cls = BL_CLASS(in->code), op = BL_OP(in->code);
        int x = BL_SRC(in->code) == BL_X, d = in->dst;
        if ((pc > first && j->is_target[pc]) || cls == BL_JMP || cls == BL_JMP32)
            break;
        if (bl_is_lddw(in)) {
            inv[d].ok = 0;
            ch[d].active = 0;
            pc++;
            continue;
        }
        uint16_t use, def;
        bl_insn_use_def(in, &use, &def);
        /* a chain ends where anything but its next link reads its register */
        int link = cls == BL_ALU64 && ch[d].active && op == ch[d].op && (!x || in->src != d);
        for (int r = 0; r < BL_NREGS; r++)
            if (((use >> r) & 1) && ch[r].active && !(link && r == d))
                ch[r].active = 0;
        struct operand s = {0};
        if (cls == BL_ALU64 && x && in->src != d)
            s = inv[in->src];
        else if (cls == BL_ALU64 && !x)
            s = (struct operand){1, 1, -1, in->imm, pc};
        int slot = -1;
        if (cls == BL_LDX && BL_MODE(in->code) == BL_MEM && in->src == ic->base &&
            jit_size_of(in->code) == 8)
            for (int k = 0; k < ic->n_promoted; k++)
                if (ic->slot_off[k] == in->off)
                    slot = k;
        if (slot >= 0) {
            inv[d] = (struct operand){!ic->slot_dirty[slot], 0, ic->slot_reg[slot], 0, pc};
            ch[d].active = 0;
        } else if (cls == BL_ALU64 && op == BL_MOV && in->off == 0) {
            inv[d] = s;
            inv[d].def = pc;
            ch[d].active = 0;
        } else if (link && s.ok && assoc(op)) {
            /* one more invariant operand of a chain: into its part (in
             * place when nothing else reads the register holding it) */
            int r = -1;
            if (!ch[d].part.is_imm && hp->n_ops < HOIST_MAX &&
                only_chain_reads(hp, inv, d, ch[d].part.reg, ch[d].pc - ic->start, n, avail)) {
                r = ch[d].part.reg;
                hp->ops[hp->n_ops++] = (struct hoist_op){(int8_t)r, op, 0, (uint8_t)s.is_imm,
                                                            r, s.is_imm ? s.imm : s.reg};
            } else {
                r = plan_op(hp, op, ch[d].part, s, avail, n_avail);
            }
            if (r < 0) {
                ch[d].active = 0;
                inv[d].ok = 0;
                continue;
            }
            ch[d].part = (struct operand){1, 0, r, 0, 0};
            ch[d].folded = 1;
            hp->kind[ch[d].pc - ic->start] = ch[d].from_inv ? HOIST_ALIAS : HOIST_APPLY;
            hp->reg[ch[d].pc - ic->start] = (int8_t)r;
            hp->kind[pc - ic->start] = HOIST_SKIP;
            inv[d].ok = 0;
        } else if (link) {
            inv[d].ok = 0;                       /* a variant operand: the chain goes on */
        } else if (cls == BL_ALU64 && computable(in) && inv[d].ok && s.ok) {
            int r = plan_op(hp, op, inv[d], s, avail, n_avail);
            if (r < 0) {
                inv[d].ok = 0;
                ch[d].active = 0;
                continue;
            }
            hp->kind[pc - ic->start] = HOIST_ALIAS;
            hp->reg[pc - ic->start] = (int8_t)r;
            inv[d] = (struct operand){1, 0, r, 0, pc};
            ch[d].active = 0;
        } else if (cls == BL_ALU64 && assoc(op) && (inv[d].ok || s.ok)) {
            /* a chain starts: invariant d with a variant operand, or
             * variant d with an invariant one */
            int from_inv = inv[d].ok;
            ch[d] = (struct chain){1, op, from_inv, from_inv ? inv[d].def : pc,
                                   from_inv ? inv[d] : s, 0};
            /* a chain from a constant or a computed value is folded at
             * its definition, which must be one this plan may replace: a
             * promoted slot's load, a mov or an ALU op planned here */
            if (from_inv) {
                const struct bl_insn *dd = &j->insns[inv[d].def];
                uint8_t dc = BL_CLASS(dd->code);
                if (dd->dst != d || !(dc == BL_LDX || dc == BL_ALU64))
                    ch[d].active = 0;
            }
            inv[d].ok = 0;
        } else {
            for (int r = 0; r < BL_NREGS; r++)
                if ((def >> r) & 1) {
                    inv[r].ok = 0;
                    ch[r].active = 0;
                }
        }
    }
    return hp->n_regs;
}

void jit_hoist_emit(struct jit *j, const struct hoist_plan *hp)
{
    struct x86_emit *e = &j->e;
    for (int k = 0; k < hp->n_ops; k++) {
        int r = hp->ops[k].dst, b = hp->ops[k].b;
        if (hp->ops[k].a_imm)
            x86_mov_ri(e, r, (uint64_t)(int64_t)hp->ops[k].a);
        else
            x86_mov_rr(e, 1, r, hp->ops[k].a);
        static const enum x86_alu alu[16] = {[BL_ADD >> 4] = ALU_ADD, [BL_SUB >> 4] = ALU_SUB,
                                             [BL_OR >> 4] = ALU_OR, [BL_AND >> 4] = ALU_AND,
                                             [BL_XOR >> 4] = ALU_XOR};
        switch (hp->ops[k].op) {
        case BL_MUL:
            if (hp->ops[k].b_imm)
                x86_imul_ri(e, 1, r, r, b);
            else
                x86_imul_rr(e, 1, r, b);
            break;
        case BL_LSH:
            x86_shift_ri(e, 1, SHIFT_SHL, r, (uint8_t)(b & 63));
            break;
        case BL_RSH:
            x86_shift_ri(e, 1, SHIFT_SHR, r, (uint8_t)(b & 63));
            break;
        case BL_ARSH:
            x86_shift_ri(e, 1, SHIFT_SAR, r, (uint8_t)(b & 63));
            break;
        default:
            if (hp->ops[k].b_imm)
                x86_alu_ri(e, 1, alu[hp->ops[k].op >> 4], r, b);
            else
                x86_alu_rr(e, 1, alu[hp->ops[k].op >> 4], r, b);
            break;
        }
    }
}

void jit_hoist_free(struct hoist_plan *hp)
{
    free(hp->kind);
    free(hp->reg);
    hp->kind = NULL;
    hp->reg = NULL;
}
