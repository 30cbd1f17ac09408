/* loop_checks.c - find the tests of a loop body that one computation
 * before the loop can settle (see loop_checks.h).
 *
 * Each register holds, as far as we know, a value of the form
 *
 *     a*i + b  +/- the 8 bytes at ctx + slot  (up to two slots)
 *
 * computed mod 2^64 as the register is, or the ctx pointer itself, or
 * something we do not follow. A callback's jumps all go forward (the
 * verifier rejects loops; a jump back ends the search), so one pass in
 * program order computes, for each instruction, the forms every path into
 * it agrees on: at a join a form survives only when all edges bring the
 * same one. Each form is then exact for every execution that reaches the
 * instruction, and a test anywhere in the body (in a branch taken for some
 * i only, too) can be settled for all i at once. The coefficients stay
 * small (|a| <= 2^16, |b| < 2^31) and i < 2^23, so a*i + b never wraps;
 * whether a side with slots wraps as i runs is for the code before the
 * loop to check (it compares the side at both ends). Calls keep R6-R9 and
 * forget R0-R5. */
#include "loop_checks.h"
#include "helpers.h"

#include <stdlib.h>
#include <string.h>

enum { V_UNKNOWN, V_LIN, V_CTX };

struct lin {
    uint8_t kind;
    uint8_t n_slots;
    int8_t sign[2];
    int16_t slot[2];
    int64_t a, b;
    uint8_t fwd;        /* made from a value stored in a slot on the way */
};

#define A_MAX (1 << 16)
#define B_MAX INT32_MAX

static struct lin unknown(void)
{
    struct lin v = {V_UNKNOWN, 0, {0, 0}, {0, 0}, 0, 0, 0};
    return v;
}

static struct lin constant(int64_t b)
{
    struct lin v = {V_LIN, 0, {0, 0}, {0, 0}, 0, b, 0};
    return v;
}

/* keeps a form only while its coefficients stay small */
static struct lin bounded(struct lin v)
{
    if (v.kind == V_LIN && (v.a > A_MAX || v.a < -A_MAX || v.b > B_MAX || v.b < -B_MAX))
        return unknown();
    return v;
}

/* d + sign * (the slots of s): slots that cancel go, more than two give up */
static int add_slots(struct lin *d, const struct lin *s, int sign)
{
    for (int k = 0; k < s->n_slots; k++) {
        int8_t sg = (int8_t)(s->sign[k] * sign);
        int q = 0;
        while (q < d->n_slots && !(d->slot[q] == s->slot[k] && d->sign[q] == -sg))
            q++;
        if (q < d->n_slots) {                    /* +x - x */
            d->n_slots--;
            d->slot[q] = d->slot[d->n_slots];
            d->sign[q] = d->sign[d->n_slots];
            continue;
        }
        if (d->n_slots == 2)
            return 0;
        d->slot[d->n_slots] = s->slot[k];
        d->sign[d->n_slots++] = sg;
    }
    return 1;
}

static struct lin alu64(struct lin d, struct lin s, const struct bl_insn *in)
{
    uint8_t op = BL_OP(in->code);
    int x = BL_SRC(in->code) == BL_X;
    if (!x)
        s = constant(in->imm);
    if (op != BL_MOV && op != BL_NEG)
        d.fwd |= s.fwd;
    if (op == BL_MOV)
        return x && in->off != 0 ? unknown() : s;    /* (movsx: not followed) */
    if (op == BL_NEG && d.kind == V_LIN) {
        d.a = -d.a;
        d.b = -d.b;
        for (int k = 0; k < d.n_slots; k++)
            d.sign[k] = (int8_t)-d.sign[k];
        return d;
    }
    if (d.kind != V_LIN || s.kind != V_LIN)
        return unknown();
    switch (op) {
    case BL_ADD:
    case BL_SUB: {
        int sign = op == BL_ADD ? 1 : -1;
        if (!add_slots(&d, &s, sign))
            return unknown();
        d.a += sign * s.a;
        d.b += sign * s.b;
        return bounded(d);
    }
    case BL_LSH:
        if (x || d.n_slots || in->imm < 0 || in->imm > 16)
            return unknown();
        d.a *= (int64_t)1 << in->imm;
        d.b *= (int64_t)1 << in->imm;
        return bounded(d);
    case BL_MUL:
        if (x || d.n_slots || in->imm < -A_MAX || in->imm > A_MAX)
            return unknown();
        d.a *= in->imm;
        d.b *= in->imm;
        return bounded(d);
    default:
        return unknown();
    }
}

/* Does the way from body instruction t go straight to an exit: 1 when it
 * returns a nonzero constant (stops the loop), 2 when it returns
 * something else (0: the next iteration), 0 when it does not go straight
 * there. Stores, loads and ALU on the way are fine (a return stores its
 * value first); a conditional jump or a call is not straight. */
static int stops_loop(const struct bl_insn *insns, uint32_t start, uint32_t end, int64_t t)
{
    int r0 = 0;                                  /* R0 known nonzero */
    for (int steps = 0; steps < 16 && t >= (int64_t)start && t < (int64_t)end; steps++) {
        const struct bl_insn *in = &insns[t];
        uint8_t cls = BL_CLASS(in->code), op = BL_OP(in->code);
        if (in->code == (BL_JMP | BL_EXIT))
            return r0 ? 1 : 2;
        if (in->code == (BL_JMP | BL_JA) || in->code == (BL_JMP32 | BL_JA)) {
            t += 1 + (cls == BL_JMP32 ? in->imm : in->off);
            continue;
        }
        if (cls == BL_JMP || cls == BL_JMP32 || cls == BL_LD ||
            ((cls == BL_STX || cls == BL_ST) && BL_MODE(in->code) == BL_ATOMIC))
            return 0;
        if (in->dst == BL_R0 && cls != BL_ST && cls != BL_STX)
            r0 = cls == BL_ALU64 && op == BL_MOV && BL_SRC(in->code) == BL_K && in->imm != 0;
        t++;
    }
    return 0;
}

static const uint8_t mirror[4] = {LR_LT, LR_LE, LR_GT, LR_GE};   /* d R s is s R' d */
static const uint8_t inverse[4] = {LR_LE, LR_LT, LR_GE, LR_GT};  /* not (d R s) */

static struct loop_side side_of(const struct lin *v)
{
    struct loop_side sd = {(int32_t)v->a, (int32_t)v->b, v->n_slots,
                           {v->sign[0], v->sign[1]}, {v->slot[0], v->slot[1]}, 0};
    return sd;
}

/* Is the jump at pc (body [start, end)), given the forms of its operands,
 * a test the code before the loop can settle? Fills c. */
static int as_check(const struct bl_insn *insns, uint32_t start, uint32_t end, uint32_t pc,
                    struct lin d, struct lin s, struct loop_check *c)
{
    const struct bl_insn *in = &insns[pc];
    uint8_t op = BL_OP(in->code);
    if (BL_CLASS(in->code) != BL_JMP)
        return 0;
    switch (op) {
    case BL_JGT: c->rel = LR_GT, c->is_signed = 0; break;
    case BL_JGE: c->rel = LR_GE, c->is_signed = 0; break;
    case BL_JLT: c->rel = LR_LT, c->is_signed = 0; break;
    case BL_JLE: c->rel = LR_LE, c->is_signed = 0; break;
    case BL_JSGT: c->rel = LR_GT, c->is_signed = 1; break;
    case BL_JSGE: c->rel = LR_GE, c->is_signed = 1; break;
    case BL_JSLT: c->rel = LR_LT, c->is_signed = 1; break;
    case BL_JSLE: c->rel = LR_LE, c->is_signed = 1; break;
    /* x == 0 is x <= 0 unsigned, x != 0 is x > 0: the null test of a map
     * value's pointer kept in a slot, made again in every iteration */
    case BL_JEQ:
    case BL_JNE:
        if (BL_SRC(in->code) != BL_K || in->imm != 0)
            return 0;
        c->rel = op == BL_JEQ ? LR_LE : LR_GT, c->is_signed = 0;
        break;
    default: return 0;
    }
    if (BL_SRC(in->code) == BL_K)
        s = constant(in->imm);
    if (d.kind != V_LIN || s.kind != V_LIN)
        return 0;
    /* (a test on a value stored in a slot on the way, such as the index
     * of a loop with loops inside, only where it stops the loop: the
     * compiler's range test that skips an inner loop is no reason to
     * version the loop around it) */
    d.fwd |= s.fwd;
    /* the way that stops the loop (or at least ends the iteration: the
     * compiler's checks may return 0) is the one whose condition must
     * not hold; a plain if, whose ways both go on, is no test */
    int taken = stops_loop(insns, start, end, (int64_t)pc + 1 + in->off);
    int fall = stops_loop(insns, start, end, (int64_t)pc + 1);
    if (fall == 1 && taken != 1)
        c->always = 1;
    else if (taken && fall != 1 && !(d.fwd && taken != 1))
        c->always = 0;
    else
        return 0;
    if (c->always)
        c->rel = inverse[c->rel];
    if (d.a == 0 && s.a != 0) {                  /* the varying side first */
        struct lin t = d;
        d = s;
        s = t;
        c->rel = mirror[c->rel];
    }
    if (s.a != 0)
        return 0;
    c->d = side_of(&d);
    c->s = side_of(&s);
    return 1;
}
static int same(const struct lin *x, const struct lin *y)
{
    if (x->kind != y->kind || x->n_slots != y->n_slots || x->a != y->a || x->b != y->b ||
        x->fwd != y->fwd)
        return 0;
    for (int k = 0; k < x->n_slots; k++)
        if (x->slot[k] != y->slot[k] || x->sign[k] != y->sign[k])
            return 0;
    return 1;
}

/* What the body stored in 8-byte ctx slots on the way (the compiler
 * keeps a loop variable there for the loops inside, `stxdw [r9+56], r1;
 * ldxdw r3, [r9+56]` before rec_stats's bounds checks): a load of such a
 * slot reads the stored form, not the slot's value on entry. Forgotten
 * when anything else may write the slot: a store through ctx that
 * overlaps it, a store or atomic through any other pointer, a call (an
 * atomic add of a known 0, the compiler's launder, writes nothing).
 * Also the byte ranges of ctx any store through it may have written since
 * the body's start (dirty): a slot loaded there is no longer the value it
 * had when the iteration began. */
#define FWD_MAX 4
#define DIRTY_MAX 8
struct fwd {
    int n;
    int16_t off[FWD_MAX];
    struct lin v[FWD_MAX];
    int nd;                     /* -1: any byte */
    int16_t dlo[DIRTY_MAX], dhi[DIRTY_MAX];
};

/* slots the body steps: on every way to an exit that goes on, what it
 * stores there last is the value the slot had when the iteration began
 * plus c, so in iteration i the slot holds its value before the loop plus
 * c * i (`off = off + 4` of a while loop written as a for) */
struct steps {
    int n;
    int16_t off[FWD_MAX];
    int64_t c[FWD_MAX];
};

static int store_size(uint8_t code)
{
    switch (BL_SIZE(code)) {
    case BL_B: return 1;
    case BL_H: return 2;
    case BL_W: return 4;
    default: return 8;
    }
}

static void fwd_forget(struct fwd *f, int lo, int hi)
{
    for (int q = 0; q < f->n;)
        if (f->off[q] < hi && f->off[q] + 8 > lo) {
            f->n--;
            f->off[q] = f->off[f->n];
            f->v[q] = f->v[f->n];
        } else {
            q++;
        }
}

static void dirty_add(struct fwd *f, int lo, int hi)
{
    if (f->nd < 0)
        return;
    for (int q = 0; q < f->nd; q++)
        if (f->dlo[q] == lo && f->dhi[q] == hi)
            return;
    if (f->nd == DIRTY_MAX) {
        f->nd = -1;
        return;
    }
    f->dlo[f->nd] = (int16_t)lo;
    f->dhi[f->nd++] = (int16_t)hi;
}

static int dirty(const struct fwd *f, int lo, int hi)
{
    if (f->nd < 0)
        return 1;
    for (int q = 0; q < f->nd; q++)
        if (f->dlo[q] < hi && f->dhi[q] > lo)
            return 1;
    return 0;
}

/* what is known on entry to instruction k: the meet over its edges (a
 * form both edges agree on, else unknown) */
struct entry {
    int seen;
    struct lin r[BL_NREGS];
    struct fwd f;
};

static void flow_into(struct entry *e, const struct lin *r, const struct fwd *f)
{
    if (!e->seen) {
        e->seen = 1;
        memcpy(e->r, r, sizeof e->r);
        e->f = *f;
        return;
    }
    for (int k = 0; k < BL_NREGS; k++)
        if (!same(&e->r[k], &r[k]))
            e->r[k] = unknown();
    for (int q = 0; q < e->f.n;) {
        int keep = 0;
        for (int t = 0; t < f->n && !keep; t++)
            keep = f->off[t] == e->f.off[q] && same(&f->v[t], &e->f.v[q]);
        if (keep) {
            q++;
        } else {
            e->f.n--;
            e->f.off[q] = e->f.off[e->f.n];
            e->f.v[q] = e->f.v[e->f.n];
        }
    }
    if (f->nd < 0)
        e->f.nd = -1;
    for (int q = 0; q < f->nd; q++)
        dirty_add(&e->f, f->dlo[q], f->dhi[q]);
}

/* At an exit that goes on (R0 a known 0): the slots whose last store is
 * their value at the iteration's start plus c; kept in *st only while
 * every such exit agrees (first: the first exit seen) */
static void steps_at_exit(const struct fwd *f, struct steps *st, int *first)
{
    struct steps here = {0};
    for (int q = 0; q < f->n; q++) {
        const struct lin *v = &f->v[q];
        if (v->kind == V_LIN && v->a == 0 && v->n_slots == 1 && v->slot[0] == f->off[q] &&
            v->sign[0] == 1 && v->b != 0 && v->b >= -A_MAX && v->b <= A_MAX) {
            here.off[here.n] = f->off[q];
            here.c[here.n++] = v->b;
        }
    }
    if (*first) {
        *st = here;
        *first = 0;
        return;
    }
    int m = 0;
    for (int q = 0; q < st->n; q++) {
        int keep = 0;
        for (int t = 0; t < here.n && !keep; t++)
            keep = here.off[t] == st->off[q] && here.c[t] == st->c[q];
        if (keep) {
            st->off[m] = st->off[q];
            st->c[m++] = st->c[q];
        }
    }
    st->n = m;
}

/* One walk of the body: the checks (out), and (found, when not NULL) the
 * slots it steps; loads of the slots in *steps (a slot the body steps,
 * found by an earlier walk) read c * i + the slot's value before the loop
 * until something may have stored there in this iteration. */
static int walk(const struct bl_insn *insns, uint32_t start, uint32_t end, struct entry *at,
                const struct steps *steps, struct steps *found, struct loop_check *out)
{
    uint32_t len = end - start;
    int n = 0, first_exit = 1;
    for (uint32_t k = 1; k < len; k++)
        at[k].seen = 0;
    at[0].seen = 1;
    for (int k = 0; k < BL_NREGS; k++)
        at[0].r[k] = unknown();
    at[0].r[BL_R1] = (struct lin){V_LIN, 0, {0, 0}, {0, 0}, 1, 0, 0};
    at[0].r[BL_R2] = (struct lin){V_CTX, 0, {0, 0}, {0, 0}, 0, 0, 0};
    at[0].f.n = 0;
    at[0].f.nd = 0;
    /* (no forwarding in a body that calls: in a nest the stored value is
     * the index the inner loops read, and the tests it would give are the
     * compiler's trip-count limits of those loops, which the ranges drop
     * anyway; versioning the nest's loop for them doubles its code) */
    int fwd_ok = 1;
    for (uint32_t k = 0; k < len; k++)
        fwd_ok &= insns[start + k].code != (BL_JMP | BL_CALL);
    if (found)
        found->n = 0;
    /* Forward jumps only (a jump back ends the search with nothing found),
     * so one pass in order sees every edge into k before k. */
    for (uint32_t k = 0; k < len; k++) {
        if (!at[k].seen)
            continue;                            /* unreachable, or lddw's second slot */
        const struct bl_insn *in = &insns[start + k];
        uint8_t cls = BL_CLASS(in->code), op = BL_OP(in->code), mode = BL_MODE(in->code);
        struct lin r[BL_NREGS];
        memcpy(r, at[k].r, sizeof r);
        struct fwd f = at[k].f;
        int64_t next = (int64_t)k + 1, jump = -1;
        if (in->dst >= BL_NREGS || in->src >= BL_NREGS)
            return -1;
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
            if (r[in->src].kind == V_CTX && in->code == (BL_LDX | BL_MEM | BL_DW)) {
                int q = 0, t = 0;
                while (q < f.n && f.off[q] != in->off)
                    q++;
                while (steps && t < steps->n && steps->off[t] != in->off)
                    t++;
                r[in->dst] = (struct lin){V_LIN, 1, {1, 0}, {in->off, 0}, 0, 0, 0};
                if (q < f.n) {
                    r[in->dst] = f.v[q];
                    r[in->dst].fwd = 1;
                } else if (fwd_ok && dirty(&f, in->off, in->off + 8)) {
                    r[in->dst] = unknown();
                } else if (fwd_ok && steps && t < steps->n) {
                    r[in->dst].a = steps->c[t];
                    r[in->dst].fwd = 1;
                }
            } else {
                r[in->dst] = unknown();
            }
            break;
        case BL_ST:
        case BL_STX: {
            struct lin v = cls == BL_ST ? constant(in->imm) : r[in->src];
            struct lin zero = constant(0);
            if (mode == BL_ATOMIC && in->imm == BL_ADD && same(&r[in->src], &zero))
                break;                           /* adds 0: the launder */
            if (r[in->dst].kind != V_CTX || mode == BL_ATOMIC) {
                f.n = 0;
                if (r[in->dst].kind == V_CTX)
                    dirty_add(&f, in->off, in->off + store_size(in->code));
            } else {
                fwd_forget(&f, in->off, in->off + store_size(in->code));
                dirty_add(&f, in->off, in->off + store_size(in->code));
            }
            if (fwd_ok && r[in->dst].kind == V_CTX && mode == BL_MEM &&
                BL_SIZE(in->code) == BL_DW && v.kind == V_LIN && f.n < FWD_MAX) {
                f.off[f.n] = in->off;
                f.v[f.n++] = v;
            }
            if (mode == BL_ATOMIC) {
                if (in->imm == BL_CMPXCHG)
                    r[BL_R0] = unknown();
                else if (in->imm & BL_FETCH)
                    r[in->src] = unknown();
            }
            break;
        }
        default:                                 /* BL_JMP, BL_JMP32 */
            if (op == BL_EXIT) {
                struct lin zero = constant(0);
                if (found && fwd_ok && same(&r[BL_R0], &zero))
                    steps_at_exit(&f, found, &first_exit);
                next = -1;
            } else if (op == BL_CALL) {          /* R6-R9 survive a call */
                /* a helper that moves the packet changes what the ctx
                 * slots hold: no test before the loop can stand for it */
                if (in->src == BL_CALL_HELPER && bl_helper_changes_pkt_data((uint32_t)in->imm))
                    return -1;
                for (int q = BL_R0; q <= BL_R5; q++)
                    r[q] = unknown();
                f.n = 0;
                f.nd = -1;
            } else {
                jump = (int64_t)k + 1 + ((cls == BL_JMP32 && op == BL_JA) ? in->imm : in->off);
                if (jump <= (int64_t)k)
                    return -1;                   /* a loop inside the body */
                if (op == BL_JA)
                    next = -1;
                else if (n < LOOP_CHECKS_MAX &&
                         as_check(insns, start, end, start + k, r[in->dst], r[in->src], &out[n]))
                    out[n++].pc = start + k;
            }
            break;
        }
        if (next >= 0 && next < (int64_t)len)
            flow_into(&at[next], r, &f);
        if (jump >= 0 && jump < (int64_t)len)
            flow_into(&at[jump], r, &f);
    }
    return n;
}

int bl_loop_checks(const struct bl_insn *insns, uint32_t start, uint32_t end,
                   const uint8_t *is_target, struct loop_check *out)
{
    uint32_t len = end - start;
    if (!len || is_target[start])
        return 0;                                /* reached by a jump: a loop inside */
    /* (only seen needs a value: flow_into fills r on the first edge; not
     * zeroing ~360 bytes per instruction was 5% of a nest's compile) */
    struct entry *at = malloc(len * sizeof *at);
    if (!at)
        return 0;
    struct steps st;
    int n = walk(insns, start, end, at, NULL, &st, out);
    if (n >= 0 && st.n)                          /* again, the stepped slots known */
        n = walk(insns, start, end, at, &st, NULL, out);
    free(at);
    if (n > 0 && st.n)
        for (int k = 0; k < n; k++)
            for (int q = 0; q < 2; q++) {
                struct loop_side *sd = q ? &out[k].s : &out[k].d;
                sd->stepped = 0;
                for (int m = 0; m < sd->n_slots; m++)
                    for (int t = 0; t < st.n; t++)
                        if (sd->slot[m] == st.off[t])
                            sd->stepped |= (uint8_t)(1u << m);
            }
    return n < 0 ? 0 : n;
}
