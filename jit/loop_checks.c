/* loop_checks.c - find the bounds checks of a loop body that one test
 * before the loop can settle (see loop_checks.h).
 *
 * Each register holds, as far as we know, a value of the form
 *
 *     a*i + b   [+ the 8 bytes at ctx + slot]
 *
 * or the ctx pointer itself, or something we do not follow. A callback's
 * jumps all go forward (the verifier rejects loops; a jump back ends the
 * search), so one pass in program order computes, for each instruction,
 * the forms every path into it agrees on: at a join a form survives only
 * when all edges bring the same one. Each form is then exact for every
 * execution that reaches the instruction, and a check anywhere in the body
 * (in a branch taken for some i only, too) is decided by the last
 * iteration. The coefficients stay small (|a| <= 2^16, |b| <= 2^31), and
 * i < 2^23, so no form ever wraps around 2^64: the integers we compute are
 * the register values. Calls keep R6-R9 and forget R0-R5. */
#include "loop_checks.h"

#include <stdlib.h>
#include <string.h>

enum { V_UNKNOWN, V_LIN, V_CTX };

struct lin {
    uint8_t kind;
    uint8_t has_slot;
    int16_t slot;
    int64_t a, b;
};

#define A_MAX (1 << 16)
#define B_MAX INT32_MAX

static struct lin unknown(void)
{
    struct lin v = {V_UNKNOWN, 0, 0, 0, 0};
    return v;
}

/* keeps a form only while its coefficients stay small */
static struct lin bounded(struct lin v)
{
    if (v.kind == V_LIN && (v.a > A_MAX || v.a < -A_MAX || v.b > B_MAX || v.b < -B_MAX))
        return unknown();
    return v;
}

static struct lin alu64(struct lin d, struct lin s, const struct bl_insn *in)
{
    uint8_t op = BL_OP(in->code);
    int x = BL_SRC(in->code) == BL_X;
    struct lin k = {V_LIN, 0, 0, 0, in->imm};
    if (!x)
        s = k;
    if (op == BL_MOV)
        return x && in->off != 0 ? unknown() : s;    /* (movsx: not followed) */
    if (d.kind != V_LIN || s.kind != V_LIN)
        return unknown();
    switch (op) {
    case BL_ADD:
        if (d.has_slot && s.has_slot)
            return unknown();
        d.a += s.a;
        d.b += s.b;
        if (s.has_slot) {
            d.has_slot = 1;
            d.slot = s.slot;
        }
        return bounded(d);
    case BL_SUB:
        if (s.has_slot)
            return unknown();
        d.a -= s.a;
        d.b -= s.b;
        return bounded(d);
    case BL_LSH:
        if (x || d.has_slot || in->imm < 0 || in->imm > 16)
            return unknown();
        d.a *= (int64_t)1 << in->imm;
        d.b *= (int64_t)1 << in->imm;
        return bounded(d);
    case BL_MUL:
        if (x || d.has_slot || in->imm < 0 || in->imm > A_MAX)
            return unknown();
        d.a *= in->imm;
        d.b *= in->imm;
        return bounded(d);
    default:
        return unknown();
    }
}

/* Is the jump at pc, given the forms of its operands, a check the loop's
 * last iteration decides? Fills c. */
static int as_check(const struct bl_insn *in, struct lin d, struct lin s, struct loop_check *c)
{
    uint8_t op = BL_OP(in->code);
    int x = BL_SRC(in->code) == BL_X;
    if (BL_CLASS(in->code) != BL_JMP)
        return 0;
    if (x && (op == BL_JLT || op == BL_JLE)) {   /* s < d is d > s */
        struct lin t = d;
        d = s;
        s = t;
        op = op == BL_JLT ? BL_JGT : BL_JGE;
    }
    if (op != BL_JGT && op != BL_JGE)
        return 0;
    if (d.kind != V_LIN || d.a < 0 || d.b < 0)
        return 0;
    c->strict = op == BL_JGE;
    c->a = (int32_t)d.a;
    c->b = (int32_t)d.b;
    if (!x) {
        if (d.has_slot)
            return 0;
        c->kind = LC_IMM;
        c->k = in->imm;
        return 1;
    }
    /* pointer + a*i + b against a slot's value as it is */
    if (!d.has_slot || s.kind != V_LIN || !s.has_slot || s.a != 0 || s.b != 0)
        return 0;
    c->kind = LC_PTR;
    c->lo = d.slot;
    c->hi = s.slot;
    return 1;
}

static int same(const struct lin *x, const struct lin *y)
{
    return x->kind == y->kind && x->has_slot == y->has_slot && x->slot == y->slot &&
           x->a == y->a && x->b == y->b;
}

/* what is known on entry to instruction k: the meet over its edges (a
 * form both edges agree on, else unknown) */
struct entry {
    int seen;
    struct lin r[BL_NREGS];
};

static void flow_into(struct entry *e, const struct lin *r)
{
    if (!e->seen) {
        e->seen = 1;
        memcpy(e->r, r, sizeof e->r);
        return;
    }
    for (int k = 0; k < BL_NREGS; k++)
        if (!same(&e->r[k], &r[k]))
            e->r[k] = unknown();
}

int bl_loop_checks(const struct bl_insn *insns, uint32_t start, uint32_t end,
                   const uint8_t *is_target, struct loop_check *out)
{
    uint32_t len = end - start;
    int n = 0;
    if (!len || is_target[start])
        return 0;                                /* reached by a jump: a loop inside */
    struct entry *at = calloc(len, sizeof *at);
    if (!at)
        return 0;
    at[0].seen = 1;
    for (int k = 0; k < BL_NREGS; k++)
        at[0].r[k] = unknown();
    at[0].r[BL_R1] = (struct lin){V_LIN, 0, 0, 1, 0};
    at[0].r[BL_R2] = (struct lin){V_CTX, 0, 0, 0, 0};
    /* Forward jumps only (a jump back ends the search with nothing found),
     * so one pass in order sees every edge into k before k. */
    for (uint32_t k = 0; k < len; k++) {
        if (!at[k].seen)
            continue;                            /* unreachable, or lddw's second slot */
        const struct bl_insn *in = &insns[start + k];
        uint8_t cls = BL_CLASS(in->code), op = BL_OP(in->code), mode = BL_MODE(in->code);
        struct lin r[BL_NREGS];
        memcpy(r, at[k].r, sizeof r);
        int64_t next = (int64_t)k + 1, jump = -1;
        if (in->dst >= BL_NREGS || in->src >= BL_NREGS)
            goto give_up;
        switch (cls) {
        case BL_ALU64:
            r[in->dst] = alu64(r[in->dst], r[in->src], in);
            break;
        case BL_ALU:
            r[in->dst] = unknown();
            break;
        case BL_LD:
            if (bl_is_lddw(in)) {
                r[in->dst] = unknown();
                next = (int64_t)k + 2;
            } else {                             /* legacy packet loads call out */
                for (int q = BL_R0; q <= BL_R5; q++)
                    r[q] = unknown();
            }
            break;
        case BL_LDX:
            if (r[in->src].kind == V_CTX && in->code == (BL_LDX | BL_MEM | BL_DW))
                r[in->dst] = (struct lin){V_LIN, 1, in->off, 0, 0};
            else
                r[in->dst] = unknown();
            break;
        case BL_ST:
        case BL_STX:
            if (mode == BL_ATOMIC) {
                if (in->imm == BL_CMPXCHG)
                    r[BL_R0] = unknown();
                else if (in->imm & BL_FETCH)
                    r[in->src] = unknown();
            }
            break;
        default:                                 /* BL_JMP, BL_JMP32 */
            if (op == BL_EXIT) {
                next = -1;
            } else if (op == BL_CALL) {          /* R6-R9 survive a call */
                for (int q = BL_R0; q <= BL_R5; q++)
                    r[q] = unknown();
            } else {
                jump = (int64_t)k + 1 + ((cls == BL_JMP32 && op == BL_JA) ? in->imm : in->off);
                if (jump <= (int64_t)k)
                    goto give_up;                /* a loop inside the body */
                if (op == BL_JA)
                    next = -1;
                else if (n < LOOP_CHECKS_MAX && as_check(in, r[in->dst], r[in->src], &out[n]))
                    out[n++].pc = start + k;
            }
            break;
        }
        if (next >= 0 && next < (int64_t)len)
            flow_into(&at[next], r);
        if (jump >= 0 && jump < (int64_t)len)
            flow_into(&at[jump], r);
    }
    free(at);
    return n;
give_up:
    free(at);
    return 0;
}
