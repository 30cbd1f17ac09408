/* range_facts.c - decide the tests of a loop body that earlier tests of the
 * same iteration settle (see range_facts.h).
 *
 * Each register holds a linear form sum(c * s) + k (affine.h; mod 2^64, as
 * the register computes it) over symbols s, tags naming what defined them:
 * the loop index, the packet's start and length, the value a ctx slot held
 * on entry, and a fresh symbol for every other value an instruction or a
 * join defines (a byte loaded from the packet, a product, ...). A symbol
 * stands for an integer: the register's bits read as signed, or a smaller
 * range when the instruction that defines it says so (a 1-byte load is
 * 0..255). ctx slots hold forms too: a load of a slot gives the form
 * stored there last in this iteration, or the slot's entry symbol.
 *
 * A conditional jump adds its condition to the state of the way taken and
 * its negation to the other, as a 64-bit compare of two forms. Such a
 * compare says something about the integers only when both forms, as
 * integers, lie in the compare's range (no wrap): that may become known
 * later (`opt + 2 <= #pkt`, signed, means `opt + 2 - len <= 0` once the
 * compiler's `opt <= 65527` test has bounded opt), so conditions are kept
 * as compares and turned into linear facts `sum(c * s) + k <= 0` when a
 * jump is decided. A jump is decided when the difference of its two forms
 * (both in range) is bounded by the symbols' intervals and by a fact whose
 * terms it contains.
 *
 * Jumps all go forward (one going back ends the search), so one pass in
 * program order sees every edge into an instruction before it; at a join a
 * register keeps its form only when every edge brings the same one, and a
 * condition only when every edge brings it. Calls forget R0-R5; anything
 * that may write ctx's memory other than an 8-byte store through ctx (a
 * call, an atomic, a store through a pointer the verifier saw reach a
 * stack) forgets every slot. */
#include "range_facts.h"
#include "affine.h"
#include "helpers.h"
#include "../vm/verifier.h"

#include <stdlib.h>
#include <string.h>

typedef aff_i128 i128;

#define SLOTS_MAX 12
#define CONDS_MAX 12
#define IV_MAX 48
#define C_MAX (1 << 20)
#define K_MAX ((int64_t)1 << 62)
#define B_CTX 1                       /* the base of the ctx pointer (k = 0) */
#define IS_CTX(f) ((f).base == B_CTX)

enum { SYM_I = 1, SYM_DATA, SYM_LEN };
enum { TAG_ENTRY = 1, TAG_DEF, TAG_JOIN, TAG_SLOTJOIN, TAG_CLOBBER };
#define SYM(tag, k, x) (((uint64_t)(tag) << 48) | ((uint64_t)(k) << 16) | (uint16_t)(x))
#define SYM_TAG(s) ((unsigned)((s) >> 48))
#define SYM_K(s) ((uint32_t)((s) >> 16))
#define SYM_X(s) ((unsigned)((s) & 0xffff))

/* x < y (strict) or x <= y, compared as 64-bit signed or unsigned */
struct cond {
    struct aff x, y;
    uint8_t strict, sg;
};

struct st {
    struct aff r[BL_NREGS];
    uint8_t n_slots, havoc, n_conds; /* havoc: slots not listed are unknown */
    struct aff_slot slot[SLOTS_MAX];
    struct cond cond[CONDS_MAX];
};

struct rf {
    const struct bl_insn *insns;
    const struct bl_insn_aux *aux;
    uint32_t start;
};

/* facts sum(c * s) + k <= 0, as integers, and the intervals they give */
struct facts {
    const struct rf *rf;
    int n, n_iv;
    struct aff_sum f[2 * CONDS_MAX];
    struct { uint64_t sym; i128 lo, hi; } iv[IV_MAX];
};

/* d += m * s: 0 when the result leaves the forms we keep */
static int fadd(struct aff *d, const struct aff *s, int64_t m)
{
    struct aff_sum l;
    if (d->base || s->base)
        return 0;
    jit_aff_sum_of(&l, d);
    return jit_aff_sum_add_form(&l, s, m) && jit_aff_narrow(&l, d, C_MAX, K_MAX);
}

/* ---- intervals and facts ---------------------------------------------------- */

#define S64_MIN (-((i128)1 << 63))
#define S64_MAX (((i128)1 << 63) - 1)

/* what the instruction that defines a symbol says of its range */
static void base_range(const struct rf *rf, uint64_t s, i128 *lo, i128 *hi)
{
    *lo = S64_MIN;
    *hi = S64_MAX;
    if (s == SYM_I) {
        *lo = 0;
        *hi = (1 << 23) - 1;
    } else if (s == SYM_DATA) {
        *lo = 0;
        *hi = (i128)1 << 57;
    } else if (s == SYM_LEN) {
        *lo = 0;
        *hi = (i128)1 << 32;
    } else if (SYM_TAG(s) == TAG_DEF) {
        const struct bl_insn *in = &rf->insns[rf->start + SYM_K(s)];
        uint8_t cls = BL_CLASS(in->code), op = BL_OP(in->code);
        if (in->dst != SYM_X(s))
            return;
        if (cls == BL_LDX && BL_MODE(in->code) == BL_MEM && BL_SIZE(in->code) != BL_DW) {
            *lo = 0;
            *hi = ((i128)1 << (8 * (BL_SIZE(in->code) == BL_B ? 1 : BL_SIZE(in->code) == BL_H ? 2 : 4))) - 1;
        } else if (cls == BL_ALU) {
            *lo = 0;
            *hi = ((i128)1 << 32) - 1;
        } else if (cls == BL_ALU64 && BL_SRC(in->code) == BL_K) {
            if (op == BL_AND && in->imm >= 0) {
                *lo = 0;
                *hi = in->imm;
            } else if (op == BL_RSH && in->imm > 0 && in->imm < 64) {
                *lo = 0;
                *hi = ((i128)1 << (64 - in->imm)) - 1;
            } else if (op == BL_MOD && in->imm > 0) {
                *lo = 0;
                *hi = in->imm - 1;
            }
        }
    }
}

static int iv_find(struct facts *F, uint64_t s)
{
    for (int q = 0; q < F->n_iv; q++)
        if (F->iv[q].sym == s)
            return q;
    if (F->n_iv == IV_MAX)
        return -1;
    F->iv[F->n_iv].sym = s;
    base_range(F->rf, s, &F->iv[F->n_iv].lo, &F->iv[F->n_iv].hi);
    return F->n_iv++;
}

/* (an aff_range_fn: env is the facts) */
static void range_of(void *env, uint64_t s, i128 *lo, i128 *hi)
{
    struct facts *F = env;
    int q = iv_find(F, s);
    if (q >= 0) {
        *lo = F->iv[q].lo;
        *hi = F->iv[q].hi;
    } else {
        base_range(F->rf, s, lo, hi);
    }
}

/* x - y + extra */
static void diff(const struct aff *x, const struct aff *y, i128 extra, struct aff_sum *d)
{
    jit_aff_sum_of(d, x);
    jit_aff_sum_add_form(d, y, -1);     /* (at most 2 * AFF_TERMS terms within 2^21: it fits) */
    d->k += extra;
}

static void add_fact(struct facts *F, const struct aff_sum *f)
{
    if (F->n < (int)(sizeof F->f / sizeof F->f[0]))
        F->f[F->n++] = *f;
}

static i128 floor_div(i128 a, i128 b)     /* b > 0 */
{
    i128 q = a / b;
    return (a % b != 0 && a < 0) ? q - 1 : q;
}

/* each fact bounds each of its symbols by the others' ranges */
static void tighten(struct facts *F)
{
    for (int x = 0; x < F->n; x++) {
        const struct aff_sum *f = &F->f[x];
        for (int j = 0; j < f->n; j++) {
            i128 rest = f->k, a, b;
            for (int q = 0; q < f->n; q++) {
                if (q == j)
                    continue;
                range_of(F, f->sym[q], &a, &b);
                rest += f->c[q] > 0 ? f->c[q] * a : f->c[q] * b;
            }
            /* c_j * s_j <= -rest */
            int v = iv_find(F, f->sym[j]);
            if (v < 0)
                continue;
            if (f->c[j] > 0) {
                i128 h = floor_div(-rest, f->c[j]);
                if (h < -((i128)1 << 64))
                    h = -((i128)1 << 64);        /* (no state: keep numbers small) */
                if (h < F->iv[v].hi)
                    F->iv[v].hi = h;
            } else {                             /* s_j >= ceil(rest / |c_j|) */
                i128 lb = -floor_div(-rest, -f->c[j]);
                if (lb > ((i128)1 << 64))
                    lb = (i128)1 << 64;
                if (lb > F->iv[v].lo)
                    F->iv[v].lo = lb;
            }
        }
    }
}

/* the integers a compare of x and y sees */
static int in_domain(i128 lo, i128 hi, int sg)
{
    return sg ? jit_aff_in_s64(lo, hi) : jit_aff_in_u64(lo, hi);
}

/* A condition as linear facts, when what is known of the ranges of its
 * sides says no side wraps; an unsigned `s + k <= K` bounds s even when
 * nothing is known of it (s is an integer of [-2^63, 2^63): s + k below 0
 * would read as at least 2^64 - 2^62). */
static int convert(struct facts *F, const struct cond *c)
{
    i128 xl, xh, yl, yh;
    struct aff_sum f;
    jit_aff_range(&c->x, range_of, F, &xl, &xh);
    jit_aff_range(&c->y, range_of, F, &yl, &yh);
    if (in_domain(xl, xh, c->sg) && in_domain(yl, yh, c->sg)) {
        diff(&c->x, &c->y, c->strict, &f);
        add_fact(F, &f);
        return 1;
    }
    if (!c->sg && c->x.n == 1 && c->x.c[0] == 1 && c->y.n == 0 && c->y.k >= 0 &&
        c->y.k < K_MAX && c->x.k > -K_MAX && c->x.k < K_MAX) {
        f.n = 1;
        f.sym[0] = c->x.sym[0];
        f.c[0] = -1;
        f.k = -(i128)c->x.k;                    /* s + k >= 0 */
        add_fact(F, &f);
        f.c[0] = 1;
        f.k = (i128)c->x.k - c->y.k + c->strict; /* s + k <= K */
        add_fact(F, &f);
        return 1;
    }
    return 0;
}

/* the facts of a state's conditions: a condition whose sides may wrap
 * under the ranges known so far may not once others have bounded them */
static void build(struct facts *F, const struct rf *rf, const struct st *s)
{
    uint8_t done[CONDS_MAX] = {0};
    F->rf = rf;
    F->n = F->n_iv = 0;
    for (int round = 0; round < 3; round++) {
        int more = 0;
        for (int q = 0; q < s->n_conds; q++)
            if (!done[q] && convert(F, &s->cond[q]))
                done[q] = more = 1;
        if (!more)
            break;
        tighten(F);
        tighten(F);
    }
}

/* Is sum(c * s) + k (d) bounded by the fact f, whose terms it contains
 * (sign 1) or contains negated (sign -1)? Then *rest is what remains of
 * d's terms. */
static int contains(const struct aff_sum *d, const struct aff_sum *f, int sign,
                    struct aff_sum *rest)
{
    rest->n = 0;
    int q = 0;
    for (int p = 0; p < d->n; p++) {
        if (q < f->n && f->sym[q] == d->sym[p]) {
            if (sign * f->c[q] != d->c[p])
                return 0;
            q++;
        } else {
            rest->sym[rest->n] = d->sym[p];
            rest->c[rest->n++] = d->c[p];
        }
    }
    return q == f->n && f->n > 0;
}

/* 1: x < y (x <= y) holds whenever the jump is reached, -1: it never
 * holds, 0: either may be */
static int decide(const struct rf *rf, const struct st *s, const struct cond *c)
{
    struct facts F;
    build(&F, rf, s);
    i128 xl, xh, yl, yh, lo, hi, a, b;
    jit_aff_range(&c->x, range_of, &F, &xl, &xh);
    jit_aff_range(&c->y, range_of, &F, &yl, &yh);
    if (!in_domain(xl, xh, c->sg) || !in_domain(yl, yh, c->sg))
        return 0;
    struct aff_sum d, rest;
    diff(&c->x, &c->y, 0, &d);
    jit_aff_sum_range(&d, range_of, &F, &lo, &hi);
    for (int q = 0; q < F.n; q++) {
        const struct aff_sum *f = &F.f[q];
        if (contains(&d, f, 1, &rest)) {        /* d = f's terms + rest + k */
            rest.k = d.k - f->k;
            jit_aff_sum_range(&rest, range_of, &F, &a, &b);
            if (b < hi)
                hi = b;
        }
        if (contains(&d, f, -1, &rest)) {       /* d = -(f's terms) + rest + k */
            rest.k = d.k + f->k;
            jit_aff_sum_range(&rest, range_of, &F, &a, &b);
            if (a > lo)
                lo = a;
        }
    }
    int v = jit_aff_decide(c->strict ? BL_JLT : BL_JLE, lo, hi);   /* of x - y against 0 */
    return v == 2 ? 1 : v == 1 ? -1 : 0;
}

/* ---- states ------------------------------------------------------------------ */

/* the form slot off holds: 1, or 0 when unknown (forgotten) */
static int slot_get(const struct st *s, int16_t off, struct aff *f)
{
    int q = jit_aff_slot_find(s->slot, s->n_slots, B_CTX, off);
    if (q >= 0) {
        *f = s->slot[q].v;
        return 1;
    }
    if (s->havoc)
        return 0;
    *f = jit_aff_sym(SYM(TAG_ENTRY, 0, off));
    return 1;
}

static void slot_set(struct st *s, int16_t off, const struct aff *f)
{
    int q = jit_aff_slot_find(s->slot, s->n_slots, B_CTX, off);
    if (q < 0 && s->n_slots == SLOTS_MAX) {
        s->havoc = 1;                        /* (off: unknown from now on) */
        return;
    }
    if (q < 0)
        q = s->n_slots++;
    s->slot[q].base = B_CTX;
    s->slot[q].off = off;
    s->slot[q].v = *f;
}

static void forget_slots(struct st *s)
{
    s->n_slots = 0;
    s->havoc = 1;
}

static void add_cond(struct st *s, const struct cond *c)
{
    if (s->n_conds == CONDS_MAX) {           /* the oldest goes */
        memmove(&s->cond[0], &s->cond[1], sizeof s->cond[0] * (CONDS_MAX - 1));
        s->n_conds--;
    }
    s->cond[s->n_conds++] = *c;
}

static int cond_equal(const struct cond *a, const struct cond *b)
{
    return a->strict == b->strict && a->sg == b->sg && jit_aff_equal(&a->x, &b->x) &&
           jit_aff_equal(&a->y, &b->y);
}

/* d = what both d and s (two edges into body instruction k) agree on */
static void meet(struct st *d, const struct st *s, uint32_t k)
{
    for (int r = 0; r < BL_NREGS; r++)
        if (!jit_aff_equal(&d->r[r], &s->r[r]))
            d->r[r] = jit_aff_sym(SYM(TAG_JOIN, k, r));
    struct st m;
    m.n_slots = 0;
    m.havoc = d->havoc | s->havoc;
    int16_t offs[2 * SLOTS_MAX];
    int n = 0;
    for (int q = 0; q < d->n_slots; q++)
        offs[n++] = d->slot[q].off;
    for (int q = 0; q < s->n_slots; q++)
        offs[n++] = s->slot[q].off;
    for (int q = 0; q < n; q++) {
        int dup = 0;
        for (int p = 0; p < q; p++)
            dup |= offs[p] == offs[q];
        if (dup)
            continue;
        struct aff a, b;
        int ka = slot_get(d, offs[q], &a), kb = slot_get(s, offs[q], &b);
        if (!(ka && kb && jit_aff_equal(&a, &b)))
            a = jit_aff_sym(SYM(TAG_SLOTJOIN, k, offs[q]));
        if (m.n_slots < SLOTS_MAX) {
            m.slot[m.n_slots].base = B_CTX;
            m.slot[m.n_slots].off = offs[q];
            m.slot[m.n_slots++].v = a;
        } else {
            m.havoc = 1;
        }
    }
    d->n_slots = m.n_slots;
    d->havoc = m.havoc;
    memcpy(d->slot, m.slot, sizeof m.slot);
    int nc = 0;
    for (int q = 0; q < d->n_conds; q++) {
        int both = 0;
        for (int p = 0; p < s->n_conds && !both; p++)
            both = cond_equal(&d->cond[q], &s->cond[p]);
        if (both)
            d->cond[nc++] = d->cond[q];
    }
    d->n_conds = (uint8_t)nc;
}

/* an edge into body instruction t */
static int flow(struct st **at, uint32_t t, const struct st *s)
{
    if (at[t]) {
        meet(at[t], s, t);
        return 1;
    }
    at[t] = malloc(sizeof *at[t]);
    if (!at[t])
        return 0;
    memcpy(at[t], s, sizeof *s);
    return 1;
}

/* ---- the pass ---------------------------------------------------------------- */

static int may_reach_stack(const struct rf *rf, uint32_t pc)
{
    if (!rf->aux || !rf->aux[pc].seen || !rf->aux[pc].mem_kinds)
        return 1;
    return (rf->aux[pc].mem_kinds & BL_MEMK_STACK) != 0;
}

static int is_slot_access(const struct st *s, const struct bl_insn *in, int base)
{
    return IS_CTX(s->r[base]) && BL_SIZE(in->code) == BL_DW && in->off % 8 == 0;
}

static void alu64(struct st *s, const struct bl_insn *in, uint64_t def)
{
    struct aff *d = &s->r[in->dst];
    struct aff v = BL_SRC(in->code) == BL_X ? s->r[in->src] : jit_aff_num(in->imm);
    struct aff_sum l;
    if (BL_OP(in->code) == BL_MOV && (BL_SRC(in->code) == BL_K || in->off == 0))
        *d = v;
    else if (!jit_aff_alu64(in, d, &v, &l) || !jit_aff_narrow(&l, d, C_MAX, K_MAX))
        *d = jit_aff_sym(def);
}

int bl_range_facts(const struct bl_insn *insns, const struct bl_insn_aux *aux, uint32_t start,
                   uint32_t end, uint8_t *decided)
{
    uint32_t n = end - start;
    struct rf rf = {insns, aux, start};
    struct st **at = calloc(n + 1, sizeof *at), *cur = malloc(sizeof *cur);
    int found = 0, live = 1;
    if (!at || !cur)
        goto done;
    memset(cur, 0, sizeof *cur);
    for (int r = 0; r < BL_NREGS; r++)
        cur->r[r] = jit_aff_sym(SYM(TAG_JOIN, n, r));   /* entry values, unknown */
    cur->r[BL_R1] = jit_aff_sym(SYM_I);
    cur->r[BL_R2] = jit_aff_ptr(B_CTX, 0);
    for (uint32_t k = 0; k < n; k++) {
        if (at[k]) {                             /* a join */
            if (live)
                meet(at[k], cur, k);
            memcpy(cur, at[k], sizeof *cur);
            free(at[k]);
            at[k] = NULL;
            live = 1;
        }
        if (!live)
            continue;
        uint32_t pc = start + k;
        const struct bl_insn *in = &insns[pc];
        uint8_t cls = BL_CLASS(in->code), op = BL_OP(in->code), mode = BL_MODE(in->code);
        uint64_t def = SYM(TAG_DEF, k, in->dst);
        if (in->dst >= BL_NREGS || in->src >= BL_NREGS)
            goto give_up;
        switch (cls) {
        case BL_ALU64:
            alu64(cur, in, def);
            break;
        case BL_ALU:
            if (op == BL_MOV && BL_SRC(in->code) == BL_K && in->off == 0)
                cur->r[in->dst] = jit_aff_num((int64_t)(uint32_t)in->imm);
            else
                cur->r[in->dst] = jit_aff_sym(def);
            break;
        case BL_LD:
            if (bl_is_lddw(in)) {
                int64_t v = (int64_t)(((uint64_t)(uint32_t)in[1].imm << 32) | (uint32_t)in->imm);
                cur->r[in->dst] =
                    in->src == 0 && v > -K_MAX && v < K_MAX ? jit_aff_num(v) : jit_aff_sym(def);
                k++;                             /* (its second slot) */
            } else {                             /* legacy packet loads call out */
                for (int r = BL_R0; r <= BL_R5; r++)
                    cur->r[r] = jit_aff_sym(SYM(TAG_DEF, k, r));
            }
            break;
        case BL_LDX: {
            uint8_t lv = aux && aux[pc].seen ? aux[pc].ld_val : 0;
            struct aff f;
            if (lv == BL_LDV_DATA) {
                f = jit_aff_sym(SYM_DATA);
            } else if (lv == BL_LDV_DATA_END) {
                f = jit_aff_sym(SYM_DATA);
                struct aff len = jit_aff_sym(SYM_LEN);
                fadd(&f, &len, 1);
            } else if (mode == BL_MEM && is_slot_access(cur, in, in->src)) {
                if (!slot_get(cur, in->off, &f)) {
                    f = jit_aff_sym(SYM(TAG_CLOBBER, k, in->off));
                    slot_set(cur, in->off, &f);
                }
            } else {
                f = jit_aff_sym(def);
            }
            cur->r[in->dst] = f;
            break;
        }
        case BL_ST:
        case BL_STX:
            if (mode == BL_ATOMIC) {
                int noop = cls == BL_STX && jit_aff_is_num(&cur->r[in->src]) &&
                           cur->r[in->src].k == 0 &&
                           (in->imm == BL_ADD || in->imm == BL_OR || in->imm == BL_XOR);
                if (!noop)
                    forget_slots(cur);
                if (in->imm == BL_CMPXCHG)
                    cur->r[BL_R0] = jit_aff_sym(SYM(TAG_DEF, k, BL_R0));
                else if (in->imm & BL_FETCH)
                    cur->r[in->src] = jit_aff_sym(SYM(TAG_DEF, k, in->src));
            } else if (IS_CTX(cur->r[in->dst])) {
                struct aff v = cls == BL_ST ? jit_aff_num(in->imm) : cur->r[in->src];
                if (is_slot_access(cur, in, in->dst) && !IS_CTX(v)) {
                    slot_set(cur, in->off, &v);
                } else if (is_slot_access(cur, in, in->dst)) {
                    v = jit_aff_sym(SYM(TAG_CLOBBER, k, in->off));
                    slot_set(cur, in->off, &v);
                } else {
                    forget_slots(cur);
                }
            } else if (may_reach_stack(&rf, pc)) {
                forget_slots(cur);
            }
            break;
        default:                                 /* BL_JMP, BL_JMP32 */
            if (op == BL_EXIT) {
                live = 0;
            } else if (op == BL_CALL) {
                if (in->src == BL_CALL_HELPER && bl_helper_changes_pkt_data((uint32_t)in->imm))
                    goto give_up;
                for (int r = BL_R0; r <= BL_R5; r++)
                    cur->r[r] = jit_aff_sym(SYM(TAG_DEF, k, r));
                forget_slots(cur);
            } else {
                int64_t t = (int64_t)k + 1 + ((cls == BL_JMP32 && op == BL_JA) ? in->imm : in->off);
                if (t <= (int64_t)k)
                    goto give_up;                /* a loop inside the body */
                if (t > (int64_t)n)
                    t = n;                       /* (nowhere: at[n] is never read) */
                if (op == BL_JA) {
                    if (!flow(at, (uint32_t)t, cur))
                        goto give_up;
                    live = 0;
                    break;
                }
                struct cond c;
                int rel = -1;
                switch (op) {
                case BL_JGT: case BL_JSGT: rel = 0; break;
                case BL_JGE: case BL_JSGE: rel = 1; break;
                case BL_JLT: case BL_JSLT: rel = 2; break;
                case BL_JLE: case BL_JSLE: rel = 3; break;
                default: break;
                }
                struct aff y = BL_SRC(in->code) == BL_X ? cur->r[in->src] : jit_aff_num(in->imm);
                if (cls != BL_JMP || rel < 0 || IS_CTX(cur->r[in->dst]) || IS_CTX(y)) {
                    if (!flow(at, (uint32_t)t, cur))
                        goto give_up;
                    break;
                }
                /* the jump's condition as x < y or x <= y */
                c.sg = op == BL_JSGT || op == BL_JSGE || op == BL_JSLT || op == BL_JSLE;
                c.strict = rel == 0 || rel == 2;
                c.x = rel <= 1 ? y : cur->r[in->dst];
                c.y = rel <= 1 ? cur->r[in->dst] : y;
                struct cond neg = {c.y, c.x, (uint8_t)!c.strict, c.sg};
                int v = decide(&rf, cur, &c);
                if (v) {
                    decided[k] = v > 0 ? 2 : 1;
                    found++;
                }
                if (v >= 0) {                    /* taken */
                    struct st *tk = at[t] ? NULL : cur;
                    if (tk) {                    /* (the first edge: copy, then add) */
                        if (!flow(at, (uint32_t)t, cur))
                            goto give_up;
                        add_cond(at[t], &c);
                    } else {
                        struct st *tmp = malloc(sizeof *tmp);
                        if (!tmp)
                            goto give_up;
                        memcpy(tmp, cur, sizeof *tmp);
                        add_cond(tmp, &c);
                        meet(at[t], tmp, (uint32_t)t);
                        free(tmp);
                    }
                }
                if (v <= 0)
                    add_cond(cur, &neg);
                else
                    live = 0;
            }
            break;
        }
    }
    goto done;
give_up:
    memset(decided, 0, n);
    found = 0;
done:
    if (at)
        for (uint32_t k = 0; k <= n; k++)
            free(at[k]);
    free(at);
    free(cur);
    return found;
}
