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

/* ---- induction variables --------------------------------------------------
 *
 * A value of the form coef * i + base (coef a constant or an invariant,
 * base invariant), built in the straight-line top of the body from i (R1)
 * by mov, neg, mul, add, sub and lsh, becomes a register of its own that
 * the loop keeps up to date: set to coef * i + base where a copy of the
 * loop starts, += coef wherever i is incremented. The body reads it there,
 * and the instructions that only built it emit nothing: `j = i0 - i`
 * (a negative step) costs one add per iteration instead of mov, neg and
 * add, `i * j` (j the index, i invariant) an add instead of an imul. */

#define COEF_MAX (1 << 20)
#define OP_NONE 0xff    /* (BL_ADD is 0) */

struct affine {
    int ok;
    int coef_is_reg;
    int32_t coef;
    int coef_reg;
    int coef_neg;       /* the coefficient is minus coef_reg */
    struct operand base;
    int lazy;           /* base is la lop lb, computed where the loop starts */
    uint8_t lop;
    struct operand la, lb;
    uint32_t def;       /* the instruction that set it; UINT32_MAX: R1 itself */
};

/* a op b as an operand: folded when both are constants and it fits,
 * else computed before the loop (ok = 0 when out of registers) */
static struct operand opnd(struct hoist_plan *hp, uint8_t op, struct operand a, struct operand b,
                           const int *avail, int n_avail)
{
    if (a.is_imm && b.is_imm) {
        int64_t v;
        switch (op) {
        case BL_ADD: v = (int64_t)a.imm + b.imm; break;
        case BL_SUB: v = (int64_t)a.imm - b.imm; break;
        case BL_MUL: v = (int64_t)a.imm * b.imm; break;
        default: v = INT64_MAX; break;
        }
        if (v >= INT32_MIN && v <= INT32_MAX)
            return (struct operand){1, 1, -1, (int32_t)v, 0};
    }
    if (op == BL_ADD && a.is_imm && a.imm == 0)
        return b;
    if ((op == BL_ADD || op == BL_SUB) && b.is_imm && b.imm == 0)
        return a;
    if (op == BL_MUL && ((a.is_imm && a.imm == 0) || (b.is_imm && b.imm == 0)))
        return (struct operand){1, 1, -1, 0, 0};
    if (op == BL_MUL && b.is_imm && b.imm == 1)
        return a;
    if (op == BL_MUL && a.is_imm && a.imm == 1)
        return b;
    if (!hp)
        return (struct operand){0};              /* (only asking whether it folds) */
    int r = plan_op(hp, op, a, b, avail, n_avail);
    return r < 0 ? (struct operand){0} : (struct operand){1, 0, r, 0, 0};
}

/* base = a op b: folded if it can be, else left to compute where the loop
 * starts (a lazy base before it is computed first) */
static int set_base(struct hoist_plan *hp, struct affine *x, uint8_t op, struct operand a,
                    struct operand b, const int *avail, int n_avail)
{
    struct operand f = opnd(NULL, op, a, b, avail, n_avail);
    x->lazy = 0;
    if (f.ok) {
        x->base = f;
        return 1;
    }
    x->lazy = 1;
    x->lop = op;
    x->la = a;
    x->lb = b;
    x->base = (struct operand){1, 1, -1, 0, 0};
    (void)hp;
    return 1;
}

/* a lazy base computed now (before the loop), to build on it */
static int force_base(struct hoist_plan *hp, struct affine *x, const int *avail, int n_avail)
{
    if (!x->lazy)
        return 1;
    x->base = opnd(hp, x->lop, x->la, x->lb, avail, n_avail);
    x->lazy = 0;
    return x->base.ok;
}

/* a * k for an invariant k (a constant or a register) */
static int affine_mul(struct hoist_plan *hp, struct affine a, struct operand k, struct affine *out,
                      const int *avail, int n_avail)
{
    if (!force_base(hp, &a, avail, n_avail))
        return 0;
    *out = a;
    if (!a.coef_is_reg && k.is_imm) {
        int64_t c = (int64_t)a.coef * k.imm;
        if (c < -COEF_MAX || c > COEF_MAX)
            return 0;
        out->coef = (int32_t)c;
    } else if (!a.coef_is_reg && (a.coef == 1 || a.coef == -1)) {
        out->coef_is_reg = 1;
        out->coef_reg = k.reg;
        out->coef_neg = a.coef < 0;
    } else if (a.coef_is_reg && k.is_imm && k.imm == -1) {
        out->coef_neg = !a.coef_neg;
    } else {
        if (a.coef_is_reg && a.coef_neg)
            return 0;
        struct operand c = a.coef_is_reg ? (struct operand){1, 0, a.coef_reg, 0, 0}
                                         : (struct operand){1, 1, -1, a.coef, 0};
        c = opnd(hp, BL_MUL, c, k, avail, n_avail);
        if (!c.ok)
            return 0;
        out->coef_neg = 0;
        if (c.is_imm) {
            if (c.imm < -COEF_MAX || c.imm > COEF_MAX)
                return 0;
            out->coef_is_reg = 0;
            out->coef = c.imm;
        } else {
            out->coef_is_reg = 1;
            out->coef_reg = c.reg;
        }
    }
    return set_base(hp, out, BL_MUL, a.base, k, avail, n_avail);
}

/* The affine value instruction `in` leaves in its dst, when it makes one
 * from affine and invariant operands (1), else 0. */
static int affine_step(struct hoist_plan *hp, const struct bl_insn *in, const struct affine *aff,
                       const struct operand *inv, struct affine *out, const int *avail,
                       int n_avail)
{
    uint8_t op = BL_OP(in->code);
    int x = BL_SRC(in->code) == BL_X, d = in->dst;
    if (BL_CLASS(in->code) != BL_ALU64 || (x && in->src == d))
        return 0;
    struct affine A = aff[d], S = x ? aff[in->src] : (struct affine){0};
    struct operand I = x ? inv[in->src] : (struct operand){1, 1, -1, in->imm, 0};
    struct operand D = inv[d];
    switch (op) {
    case BL_MOV:
        if (!x || in->off != 0 || !S.ok)
            return 0;
        *out = S;
        return 1;
    case BL_NEG:
        return A.ok && affine_mul(hp, A, (struct operand){1, 1, -1, -1, 0}, out, avail, n_avail);
    case BL_MUL:
        if (A.ok && I.ok)
            return affine_mul(hp, A, I, out, avail, n_avail);
        if (D.ok && S.ok)
            return affine_mul(hp, S, D, out, avail, n_avail);
        return 0;
    case BL_LSH:
        if (!A.ok || x || in->imm < 0 || in->imm > 20)
            return 0;
        return affine_mul(hp, A, (struct operand){1, 1, -1, 1 << in->imm, 0}, out, avail, n_avail);
    case BL_ADD:
    case BL_SUB:
        if (A.ok && I.ok) {
            if (!force_base(hp, &A, avail, n_avail))
                return 0;
            *out = A;
            return set_base(hp, out, op, A.base, I, avail, n_avail);
        }
        if (D.ok && S.ok) {                      /* invariant +- affine */
            if (op == BL_SUB &&
                !affine_mul(hp, S, (struct operand){1, 1, -1, -1, 0}, &S, avail, n_avail))
                return 0;
            if (!force_base(hp, &S, avail, n_avail))
                return 0;
            *out = S;
            return set_base(hp, out, BL_ADD, D, S.base, avail, n_avail);
        }
        if (A.ok && S.ok && !A.coef_is_reg && !S.coef_is_reg) {
            int64_t c = op == BL_ADD ? (int64_t)A.coef + S.coef : (int64_t)A.coef - S.coef;
            if (c < -COEF_MAX || c > COEF_MAX || !force_base(hp, &A, avail, n_avail) ||
                !force_base(hp, &S, avail, n_avail))
                return 0;
            *out = A;
            out->coef = (int32_t)c;
            return set_base(hp, out, op, A.base, S.base, avail, n_avail);
        }
        return 0;
    default:
        return 0;
    }
}

/* what an instruction past the top made of affine values: the values it
 * read (adef indices, -1 none, -2 i itself) and whether it is cheap as
 * written (a move, plus or minus a constant or an invariant register, a
 * shift by 1-3: an address form or one lea of its operand) */
struct made {
    int16_t from[2];
    uint8_t cheap;
};

static int free_coef(const struct affine *a)
{
    return !a->coef_is_reg && (a->coef == 1 || a->coef == 2 || a->coef == 4 || a->coef == 8);
}

/* how many induction variables the plan needs: the values read (used)
 * but for the free forms, i * 2^s + c (s <= 3), which stay as written
 * (a form of i's register is free as part of an address, a register of
 * its own would only add a step to the loop: compiled checksum's i * 2,
 * 172 -> 181 ns), and then so does everything in the top that builds on
 * i (*free_forms). Past the top (index top on, made[] from walk_rest), a
 * value read whose instruction is cheap as written stays as written (the
 * address `data + j` of lastnz_neg's read, j = start - i a variable of
 * its own), and what it is made from is read: the product `i * j` gets
 * a register of its own, a move of j on the way to it nothing. */
static int plan_need(struct affine *adef, uint8_t *used, uint32_t n, uint32_t top,
                     const struct made *made, int *free_forms)
{
    int need = 0;
    *free_forms = 0;
    for (uint32_t k = n; made && k-- > top;) {
        if (!adef[k].ok || !made[k].cheap || !used[k])
            continue;
        adef[k].ok = 0;                      /* (as written) */
        for (int q = 0; q < 2; q++)
            if (made[k].from[q] >= 0)
                used[made[k].from[q]] = 1;
    }
    for (uint32_t k = 0; k < n; k++) {
        struct affine *a = &adef[k];
        if (k < top && a->ok && used[k] && !a->lazy && a->base.is_imm && free_coef(a)) {
            a->ok = 0;
            *free_forms = 1;
        }
        need += a->ok && used[k];
    }
    return need;
}

/* ---- past the straight-line top ---------------------------------------------
 *
 * An induction variable is a value, not a place: `coef * i + base` holds
 * on every path through the body, so the instruction that makes one after
 * an if/else or a break (`i * j` in one arm, j the index + 1) can read it
 * from the variable's register as well as one in the top. walk_rest
 * follows the rest of the body in program order (its jumps all go
 * forward), each register naming the instruction whose affine value it
 * holds (rstate.a); where ways join, a register keeps that name only when
 * every way brings the same one, and one live there with different names
 * is read (each of them gets its register). The blocks that only lead out
 * of the loop (a return, a break: once per loop at most) make no value:
 * a step per iteration for them would cost more than they save. */
struct rstate {
    int has;
    int16_t a[BL_NREGS];           /* -1 none, -2 i itself (R1), else adef index */
    struct operand inv[BL_NREGS];
};

static struct affine aff_of(const struct affine *adef, int16_t a)
{
    if (a == -2)
        return (struct affine){.ok = 1, .coef = 1, .coef_reg = -1, .base = {1, 1, -1, 0, 0},
                               .def = UINT32_MAX};
    return a >= 0 ? adef[a] : (struct affine){0};
}

static void rs_merge(const struct jit *j, const struct inline_ctx *ic, struct rstate *to,
                     const struct rstate *from, uint32_t at, uint8_t *used)
{
    if (!to->has) {
        *to = *from;
        return;
    }
    uint16_t live = jit_live_in_at(j, ic, at);
    for (int r = 0; r < BL_NREGS; r++) {
        if (to->a[r] != from->a[r]) {
            if ((live >> r) & 1) {
                if (to->a[r] >= 0)
                    used[to->a[r]] = 1;
                if (from->a[r] >= 0)
                    used[from->a[r]] = 1;
            }
            to->a[r] = -1;
        }
        const struct operand *x = &to->inv[r], *y = &from->inv[r];
        if (x->ok && !(y->ok && x->is_imm == y->is_imm &&
                       (x->is_imm ? x->imm == y->imm : x->reg == y->reg)))
            to->inv[r].ok = 0;
    }
}

static int walk_rest(struct hoist_plan *hp, const struct jit *j, const struct inline_ctx *ic,
                     uint32_t stop, const struct affine *aff0, const struct operand *inv0,
                     struct affine *adef, uint8_t *used, struct made *made,
                     const int *avail, int n_avail)
{
    uint32_t n = ic->end - ic->start;
    int16_t *pend = malloc(n * sizeof *pend);
    uint8_t *stays = calloc(n + 1, 1);       /* can reach an exit that goes on */
    int n_pend = 0;
    for (uint32_t pc = stop; pend && pc < ic->end; pc++)
        n_pend += j->is_target[pc];
    struct rstate *ps = calloc((size_t)n_pend + 1, sizeof *ps), cur;
    int ok = pend && stays && ps;
    for (uint32_t k = 0; ok && k < n; k++)
        pend[k] = -1;
    for (uint32_t pc = stop, q = 0; ok && pc < ic->end; pc++)
        if (j->is_target[pc])
            pend[pc - ic->start] = (int16_t)q++;
    /* stays[], backwards (jumps go forward) */
    for (uint32_t pc = ic->end; ok && pc-- > stop;) {
        const struct bl_insn *in = &j->insns[pc];
        uint8_t cls = BL_CLASS(in->code), op = BL_OP(in->code);
        uint32_t k = pc - ic->start, t = pc + 1 + (uint32_t)(int32_t)in->off;
        int jmp = (cls == BL_JMP || cls == BL_JMP32) && op != BL_CALL && op != BL_EXIT;
        if (jmp && (in->off < 0 || t >= ic->end || (cls == BL_JMP32 && op == BL_JA)))
            ok = 0;
        else if (cls == BL_JMP && op == BL_EXIT)
            stays[k] = (uint8_t)jit_exit_returns_zero(j, pc, ic->start);
        else if (jmp && op == BL_JA)
            stays[k] = stays[t - ic->start];
        else if (jmp)
            stays[k] = stays[k + 1] | stays[t - ic->start];
        else
            stays[k] = stays[k + 1];
        if (pc > stop && bl_is_lddw(&j->insns[pc - 1]))
            stays[k - 1] = stays[k], pc--;
    }
    cur.has = 1;
    for (int r = 0; r < BL_NREGS; r++) {
        cur.a[r] = !aff0[r].ok ? -1 : aff0[r].def == UINT32_MAX ? -2
                                                                : (int16_t)(aff0[r].def - ic->start);
        cur.inv[r] = inv0[r];
    }
    for (uint32_t pc = stop; ok && pc < ic->end; pc++) {
        const struct bl_insn *in = &j->insns[pc];
        uint32_t k = pc - ic->start;
        if (pend[k] >= 0) {
            struct rstate *p = &ps[pend[k]];
            if (cur.has)
                rs_merge(j, ic, p, &cur, pc, used);
            cur = *p;
        }
        int lddw = bl_is_lddw(in);
        if (!cur.has) {
            pc += lddw;
            continue;
        }
        uint8_t cls = BL_CLASS(in->code), op = BL_OP(in->code);
        uint16_t u, df;
        jit_use_def(j, pc, ic->start, ic->stack_base, &u, &df);
        uint8_t chk = ic->unchecked ? ic->unchecked[k] : 0;
        if (chk)
            u = df = 0;
        struct affine na;
        int prop = 0;
        if (!lddw && cls == BL_ALU64 && stays[k]) {
            struct affine aff[BL_NREGS];
            for (int r = 0; r < BL_NREGS; r++)
                aff[r] = aff_of(adef, cur.a[r]);
            prop = affine_step(NULL, in, aff, cur.inv, &na, avail, n_avail);
        }
        int d = in->dst;
        if (prop) {                          /* (what it is made from) */
            int x = BL_SRC(in->code) == BL_X;
            made[k].from[0] = op == BL_MOV ? -1 : cur.a[d];
            made[k].from[1] = x ? cur.a[in->src] : -1;
            int d_aff = cur.a[d] != -1, s_aff = x && cur.a[in->src] != -1;
            made[k].cheap = (uint8_t)(op == BL_MOV || (op == BL_LSH && in->imm <= 3) ||
                                      ((op == BL_ADD || op == BL_SUB) && (!x || !s_aff)) ||
                                      (op == BL_ADD && x && !d_aff));
        }
        for (int r = 0; r < BL_NREGS; r++) {
            if (((u >> r) & 1) && cur.a[r] >= 0 && !prop)
                used[cur.a[r]] = 1;
            if ((df >> r) & 1)
                cur.a[r] = -1;
        }
        if (prop) {
            na.def = pc;
            adef[k] = na;
            cur.a[d] = (int16_t)k;
        }
        /* invariant operands, as in the top (nothing planned from them) */
        int slot = cls == BL_LDX && BL_MODE(in->code) == BL_MEM && in->src == ic->base &&
                           jit_size_of(in->code) == 8
                       ? jit_promoted_slot(ic, in->off)
                       : -1;
        if (slot >= 0)
            cur.inv[d] = (struct operand){!ic->slot_dirty[slot], 0, ic->slot_reg[slot], 0, pc};
        else if (cls == BL_ALU64 && op == BL_MOV && in->off == 0 && BL_SRC(in->code) == BL_K)
            cur.inv[d] = (struct operand){1, 1, -1, in->imm, pc};
        else if (cls == BL_ALU64 && op == BL_MOV && in->off == 0 && in->src != d)
            cur.inv[d] = cur.inv[in->src];
        else
            for (int r = 0; r < BL_NREGS; r++)
                if ((df >> r) & 1)
                    cur.inv[r].ok = 0;
        if (lddw) {
            cur.inv[d].ok = 0;
            pc++;
            continue;
        }
        if (cls != BL_JMP && cls != BL_JMP32)
            continue;
        if (op == BL_EXIT) {
            cur.has = 0;
            continue;
        }
        if (op == BL_CALL || chk == 1)
            continue;
        uint32_t t = pc + 1 + (uint32_t)(int32_t)in->off;
        if (t < ic->end && pend[t - ic->start] >= 0)
            rs_merge(j, ic, &ps[pend[t - ic->start]], &cur, t, used);
        else
            ok = 0;
        if (op == BL_JA || chk == 2)
            cur.has = 0;
    }
    free(pend);
    free(stays);
    free(ps);
    return ok;
}

int jit_hoist_plan(const struct jit *j, const struct inline_ctx *ic, uint32_t first,
                   const int *avail, int n_avail, int n_cheap, const int *iv_extra, int n_extra,
                   struct hoist_plan *hp)
{
    uint32_t n = ic->end - ic->start;
    memset(hp, 0, sizeof *hp);
    if (!ic->live_out || j->is_target[ic->start] || n_avail + n_extra <= 0)
        return 0;
    hp->kind = calloc(n, 1);
    hp->reg = calloc(n, 1);
    if (!hp->kind || !hp->reg) {
        jit_hoist_free(hp);
        return 0;
    }
    struct operand inv[BL_NREGS];
    struct chain ch[BL_NREGS];
    struct affine aff[BL_NREGS];
    memset(inv, 0, sizeof inv);
    memset(ch, 0, sizeof ch);
    memset(aff, 0, sizeof aff);
    /* R1 = i at the top (when nothing jumps there, checked above) */
    aff[BL_R1] = (struct affine){.ok = 1, .coef = 1, .coef_reg = -1,
                                 .base = {1, 1, -1, 0, 0}, .def = UINT32_MAX};
    struct affine *adef = calloc(n, sizeof *adef);  /* the affine value each insn makes */
    uint8_t *used = calloc(n, 1);                     /* read other than to make another */
    if (!adef || !used) {
        free(adef);
        free(used);
        jit_hoist_free(hp);
        return 0;
    }
    uint32_t stop = ic->end;
    /* read_since_def[r]: something read Rr since its last definition (a
     * chain folded at that definition would change what it read) */
    uint8_t read_since_def[BL_NREGS] = {0};
    for (uint32_t pc = first; pc < ic->end; pc++) {
        const struct bl_insn *in = &j->insns[pc];
        uint8_t cls = BL_CLASS(in->code), op = BL_OP(in->code);
        int x = BL_SRC(in->code) == BL_X, d = in->dst;
        if ((pc > first && j->is_target[pc]) || cls == BL_JMP || cls == BL_JMP32) {
            stop = pc;
            break;
        }
        int d_read = read_since_def[d];
        {
            uint16_t u0, d0;
            bl_insn_use_def(in, &u0, &d0);
            for (int r = 0; r < BL_NREGS; r++) {
                if ((u0 >> r) & 1)
                    read_since_def[r] = 1;
                if ((d0 >> r) & 1)
                    read_since_def[r] = 0;
            }
        }
        {
            /* affine values of i: made from others, or read (used) */
            struct affine na;
            uint16_t u, df;
            bl_insn_use_def(in, &u, &df);
            int prop = !bl_is_lddw(in) && affine_step(hp, in, aff, inv, &na, avail, n_avail);
            for (int r = 0; r < BL_NREGS; r++)
                if (((u >> r) & 1) && aff[r].ok && aff[r].def != UINT32_MAX && !prop)
                    used[aff[r].def - ic->start] = 1;
            for (int r = 0; r < BL_NREGS; r++)
                if ((df >> r) & 1)
                    aff[r].ok = 0;
            if (prop) {
                na.def = pc;
                aff[d] = na;
                adef[pc - ic->start] = na;
                inv[d].ok = 0;
                for (int r = 0; r < BL_NREGS; r++)      /* (reads end chains, as below) */
                    if (((u >> r) & 1) && ch[r].active)
                        ch[r].active = 0;
                ch[d].active = 0;
                continue;
            }
        }
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
        int slot = cls == BL_LDX && BL_MODE(in->code) == BL_MEM && in->src == ic->base &&
                           jit_size_of(in->code) == 8
                       ? jit_promoted_slot(ic, in->off)
                       : -1;
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
                if (dd->dst != d || !(dc == BL_LDX || dc == BL_ALU64) || d_read)
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
    /* what is live where the straight line ends reads it too (the plan
     * of the top alone), or, better, the reads of the rest of the body,
     * walked (walk_rest); the plan of the top alone when the walk fails
     * or finds more values than there are registers */
    uint8_t *used_top = malloc(n), *ok_top = malloc(n);
    struct made *made = malloc(n * sizeof *made);
    int n_ops0 = hp->n_ops, n_regs0 = hp->n_regs;
    int rest = 0;
    if (used_top && ok_top && made) {
        memcpy(used_top, used, n);
        for (uint32_t k = 0; k < n; k++)
            ok_top[k] = (uint8_t)adef[k].ok;
        rest = stop < ic->end &&
               walk_rest(hp, j, ic, stop, aff, inv, adef, used, made, avail, n_avail);
    }
    uint8_t *u_top = used_top ? used_top : used;
    uint16_t live = stop < ic->end ? jit_live_in_at(j, ic, stop) : ALL_REGS;
    for (int r = 0; r < BL_NREGS; r++)
        if (((live >> r) & 1) && aff[r].ok && aff[r].def != UINT32_MAX)
            u_top[aff[r].def - ic->start] = 1;
    int free_forms = 0, need = 0;
    for (int pass = rest ? 0 : 1; pass < 2; pass++) {
        if (pass == 1 && used_top) {
            hp->n_ops = n_ops0;
            hp->n_regs = n_regs0;
            for (uint32_t k = 0; k < n; k++)
                adef[k].ok = ok_top[k];
            memcpy(used, used_top, n);
        }
        need = plan_need(adef, used, n, stop - ic->start, pass == 0 ? made : NULL,
                         &free_forms);
        if (need <= IV_MAX && hp->n_regs + need <= n_avail + n_extra)
            break;
    }
    free(used_top);
    free(ok_top);
    free(made);
    /* (iv_extra: registers of promoted slots the caller frees for
     * induction variables when nothing in the loop reads them) */
    if (need && need <= IV_MAX && hp->n_regs + need <= n_avail + n_extra) {
        for (uint32_t k = 0; k < n; k++) {
            if (!adef[k].ok)
                continue;
            if (!used[k]) {
                if (!free_forms)
                    hp->kind[k] = HOIST_SKIP;
                continue;
            }
            struct hoist_iv *iv = &hp->iv[hp->n_iv];
            int from_pool = hp->n_regs < n_avail &&
                            (hp->n_regs < n_cheap || hp->n_extra == n_extra);
            iv->v = (int8_t)(from_pool ? avail[hp->n_regs++] : iv_extra[hp->n_extra++]);
            iv->coef_reg = (int8_t)(adef[k].coef_is_reg ? adef[k].coef_reg : -1);
            iv->coef_neg = (uint8_t)(adef[k].coef_is_reg && adef[k].coef_neg);
            iv->coef = adef[k].coef;
            struct operand ba = adef[k].lazy ? adef[k].la : adef[k].base;
            iv->lop = adef[k].lazy ? adef[k].lop : OP_NONE;
            iv->a_imm = (uint8_t)ba.is_imm;
            iv->a = ba.is_imm ? ba.imm : ba.reg;
            iv->b_imm = (uint8_t)adef[k].lb.is_imm;
            iv->b = adef[k].lb.is_imm ? adef[k].lb.imm : adef[k].lb.reg;
            hp->kind[k] = HOIST_IV;
            hp->reg[k] = (int8_t)hp->n_iv++;
        }
    }
    free(adef);
    free(used);
    return hp->n_regs;
}

/* v = a op b, as jit_hoist_emit computes its values */
static void emit_op(struct jit *j, int r, uint8_t op, int a_imm, int32_t a, int b_imm, int32_t b)
{
    struct x86_emit *e = &j->e;
    if (a_imm)
        x86_mov_ri(e, r, (uint64_t)(int64_t)a);
    else if (a != r)
        x86_mov_rr(e, 1, r, a);
    static const enum x86_alu alu[16] = {[BL_ADD >> 4] = ALU_ADD, [BL_SUB >> 4] = ALU_SUB,
                                         [BL_OR >> 4] = ALU_OR, [BL_AND >> 4] = ALU_AND,
                                         [BL_XOR >> 4] = ALU_XOR};
    switch (op) {
    case OP_NONE:
        break;
    case BL_MUL:
        if (b_imm)
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
        if (b_imm)
            x86_alu_ri(e, 1, alu[op >> 4], r, b);
        else
            x86_alu_rr(e, 1, alu[op >> 4], r, b);
        break;
    }
}

/* where a copy of the loop starts (i in i_reg, or at [rsp + i_disp]):
 * v = coef * i + base, with rax (free there: R0 is unset at the top of
 * an iteration) for coef * i */
void jit_iv_init(struct jit *j, const struct hoist_plan *hp, int i_reg, int32_t i_disp,
                 int i_zero)
{
    struct x86_emit *e = &j->e;
    for (int q = 0; q < hp->n_iv; q++) {
        const struct hoist_iv *iv = &hp->iv[q];
        int v = iv->v, src = i_reg;
        if (i_zero) {                        /* (a copy starting at i = 0: the base) */
            emit_op(j, v, iv->lop, iv->a_imm, iv->a, iv->b_imm, iv->b);
            continue;
        }
        if (src < 0) {
            x86_load(e, 8, 0, RAX, RSP, i_disp);
            src = RAX;
        }
        if (iv->coef_reg >= 0) {
            if (src != RAX)
                x86_mov_rr(e, 1, RAX, src);
            x86_imul_rr(e, 1, RAX, iv->coef_reg);
        } else {
            x86_imul_ri(e, 1, RAX, src, iv->coef);
        }
        emit_op(j, v, iv->lop, iv->a_imm, iv->a, iv->b_imm, iv->b);   /* base */
        x86_alu_rr(e, 1, iv->coef_neg ? ALU_SUB : ALU_ADD, v, RAX);
    }
}

/* where i += times (1 or 2): v += times * coef */
static void iv_step(struct jit *j, const struct hoist_iv *iv, int times)
{
    if (iv->coef_reg < 0)
        x86_alu_ri(&j->e, 1, ALU_ADD, iv->v, iv->coef * times);
    else if (times == 2 && !iv->coef_neg)
        x86_lea_m(&j->e, iv->v, &(struct x86_mem){iv->v, iv->coef_reg, 2, 0});
    else
        for (int t = 0; t < times; t++)
            x86_alu_rr(&j->e, 1, iv->coef_neg ? ALU_SUB : ALU_ADD, iv->v, iv->coef_reg);
}

void jit_iv_step(struct jit *j, const struct hoist_plan *hp, int times)
{
    for (int q = 0; hp && q < hp->n_iv; q++)
        iv_step(j, &hp->iv[q], times);
}

void jit_iv_step_last(struct jit *j, const struct hoist_plan *hp, int last)
{
    for (int q = 0; hp && q < hp->n_iv; q++)
        if (q != last)
            iv_step(j, &hp->iv[q], 1);
    if (hp && last >= 0 && last < hp->n_iv)
        iv_step(j, &hp->iv[last], 1);
}

void jit_hoist_emit(struct jit *j, const struct hoist_plan *hp)
{
    for (int k = 0; k < hp->n_ops; k++)
        emit_op(j, hp->ops[k].dst, hp->ops[k].op, hp->ops[k].a_imm, hp->ops[k].a,
                hp->ops[k].b_imm, hp->ops[k].b);
}

void jit_hoist_free(struct hoist_plan *hp)
{
    free(hp->kind);
    free(hp->reg);
    hp->kind = NULL;
    hp->reg = NULL;
}
