/* loop_checks.c - find the bounds checks of a loop body that one test
 * before the loop can settle (see loop_checks.h).
 *
 * Each register holds, as far as we know, a value of the form
 *
 *     a*i + b   [+ the 8 bytes at ctx + slot]
 *
 * or the ctx pointer itself, or something we do not follow. The walk is
 * forward over one straight line of code, so each form is exact for every
 * execution that reaches the instruction: no joins, no widening. The
 * coefficients stay small (|a| <= 2^16, |b| <= 2^31), and i < 2^23, so no
 * form ever wraps around 2^64: the integers we compute are the register
 * values. */
#include "loop_checks.h"

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

int bl_loop_checks(const struct bl_insn *insns, uint32_t start, uint32_t end,
                   const uint8_t *is_target, struct loop_check *out)
{
    struct lin r[BL_NREGS];
    int n = 0;
    for (int k = 0; k < BL_NREGS; k++)
        r[k] = unknown();
    r[BL_R1] = (struct lin){V_LIN, 0, 0, 1, 0};
    r[BL_R2] = (struct lin){V_CTX, 0, 0, 0, 0};
    for (uint32_t pc = start; pc < end; pc++) {
        const struct bl_insn *in = &insns[pc];
        uint8_t cls = BL_CLASS(in->code), op = BL_OP(in->code), mode = BL_MODE(in->code);
        if (is_target[pc])
            break;                               /* a join (or a loop back to the
                                                    start): forms may differ */
        if (in->dst >= BL_NREGS || in->src >= BL_NREGS)
            break;
        switch (cls) {
        case BL_ALU64:
            r[in->dst] = alu64(r[in->dst], r[in->src], in);
            break;
        case BL_ALU:
            r[in->dst] = unknown();
            break;
        case BL_LD:
            r[in->dst] = unknown();
            if (!bl_is_lddw(in))
                return n;                        /* legacy packet loads: calls */
            pc++;
            break;
        case BL_LDX:
            if (r[in->src].kind == V_CTX && mode == BL_MEM && in->code == (BL_LDX | BL_MEM | BL_DW))
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
            if (op == BL_CALL || op == BL_EXIT || op == BL_JA)
                return n;
            if (n < LOOP_CHECKS_MAX && as_check(in, r[in->dst], r[in->src], &out[n])) {
                out[n].pc = pc;
                n++;
            }
            break;
        }
    }
    return n;
}
