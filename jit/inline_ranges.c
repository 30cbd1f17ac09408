/* inline_ranges.c - what values a function and the loop bodies it runs
 * hold, for dropping the tests of inlined bodies that always go one way.
 *
 * A nest's inner loop start runs the compiler's range test (`if start >
 * stop goto skip`), its trip-count limit (`if stop - start >= 2^23 goto
 * fault`) and, after the loop, the status test (`if [area] != 0 goto
 * leave`). None of them can fire when the outer loop's facts bound the
 * inner bound: `for j = 0, i` with i in [0, 15], `for k = j, 0, -1` with
 * j = i0 - index. This file proves that.
 *
 * A forward pass over a function (its jumps all go forward: loops are
 * bpf_loop callbacks) and, at each bpf_loop with a callback known at the
 * call site, over the callback's body (a node, recursively). A register
 * holds an affine form (affine.h) c + sum coef * sym over symbols with
 * known intervals (the node's table: a symbol is its index there): the
 * body's index I (in [0, n - 1], where n is itself a form of the body's
 * symbols when the caller's trip count is one), the values
 * the slots of the body's ctx held at the call (slots invariant across
 * iterations), and fresh symbols for what is only known as an interval (a
 * byte load, x & 255, x / 3, a join of two forms). Every form's value
 * stays within +-2^40, so the register (mod 2^64) equals it as a signed
 * integer: comparisons of two forms are decided on the interval of their
 * difference, in which equal symbols cancel (start - index against 0 with
 * index <= start - stop).
 *
 * Slots: 8-byte values stored through the frame pointer (in a function)
 * or through ctx (in a body), by offset. A slot of the body's ctx is
 * invariant when every exit that may continue the loop (R0 may be 0)
 * leaves it holding the value it had at the body's entry; this is
 * assumed, checked at the exits, and the slots that fail are dropped and
 * the body analysed again (induction over the iterations: each starts
 * with the values the call had). After a nested bpf_loop, a slot keeps its
 * value when the inner body never writes it, or writes it only on paths
 * that break out while restoring it on every path that goes on.
 *
 * Results, per body at one call site (a node): which conditional jumps
 * never (1) or always (2) go to their target, the range of the trip
 * count at the call (no n == 0 or E2BIG test when in [1, 2^23]).
 */
#include <stdlib.h>
#include <string.h>

#include "affine.h"
#include "jit_internal.h"
#include "../core/insn.h"
#include "../stdlib/helpers.h"

#define MAX_SYMS 160
#define MAX_SLOTS 24
#define MAX_WRITES 32
#define LIM ((int64_t)1 << 40)    /* |value| of every form and symbol */
#define COEF ((int64_t)1 << 16)   /* |coefficient| of a form */
#define COEF2 ((int64_t)1 << 20)  /* |coefficient| while combining */
#define SUM ((int64_t)1 << 61)    /* |constant| and |interval| while combining */
#define MAX_DEPTH 5
#define MAX_FUNC_INSNS 4096
#define WORK 60000                /* instructions analysed per function, nests included */
#define PASSES 4
#define MAX_FACTS 6               /* linear facts a state carries */
#define PLIM ((int64_t)1 << 58)   /* |value| of a form with the packet's start */
/* Symbols every node has: the packet's start (a user-space address: it
 * makes a form's value larger than LIM, never larger than PLIM) and its
 * length; data_end is SYM_DATA + SYM_LEN. One value for the whole program
 * when no helper moves the packet, so a slot holding a form of these two
 * holds the same form in a loop body. */
#define SYM_DATA 1
#define SYM_LEN 2
#define SYMS0 3

/* Registers and slots hold affine forms (affine.h) whose symbols index a
 * node's interval table; a pointer's base is one of: the function's frame,
 * the body's ctx, the body's own frame, a function's arguments R1-R5
 * (pointers into its caller's memory, maybe the same memory: no slots are
 * kept for them, their writes are noted) */
enum { P_FP = 1, P_CTX, P_OWN, P_A1 };
#define IS_ARG(p) ((p) >= P_A1 && (p) != AFF_TOP)
#define IS_PTR(f) ((f)->base != 0 && (f)->base != AFF_TOP)

struct state {
    struct aff r[BL_NREGS];
    int n_slots;
    struct aff_slot s[MAX_SLOTS];
    int n_facts;                   /* facts[k] <= 0 as integers: relations */
    struct aff facts[MAX_FACTS];   /* between symbols (never invalidated) */
};

struct range_node {
    uint32_t call_pc, start, end;
    int body;                      /* a loop body (else a function) */
    uint8_t *proved;               /* per instruction: 1 never taken, 2 always */
    int n_known;                   /* the trip count at the call is in [n_lo, n_hi] */
    int64_t n_lo, n_hi;
    int n_len;                     /* the trip count's form has the packet's length */
    int known;                     /* the analysis finished: the results hold */
    int can_break;                 /* a reachable exit may return nonzero */
    int writes_all;                /* may write any stack memory */
    int n_writes;
    struct { int16_t off; uint8_t size, ptr; } writes[MAX_WRITES];   /* through ctx, arguments */
    int n_inv;                     /* ctx slots restored at every exit going on */
    int16_t inv[MAX_SLOTS];
    int n_kids, n_old;
    struct range_node **kids;
    struct range_node **old;       /* the kids of the last pass (their slots found changed) */
    /* the analysis */
    int n_syms;
    int64_t lo[MAX_SYMS], hi[MAX_SYMS];
    int i_rel;                     /* I <= nm1 (a form without I) */
    struct aff nm1;
    int n_cand;
    int16_t cand[MAX_SLOTS];       /* assumed invariant: symbol cand_sym[k] */
    int16_t cand_sym[MAX_SLOTS];   /* (-1: a form of the packet's symbols) */
    struct aff cand_form[MAX_SLOTS];   /* what the slot holds at entry */
    struct aff *after;             /* (a body) per instruction: its dst's form after it */
};

struct ra {
    const struct jit *j;
    int pkt;                       /* the packet never moves: SYM_DATA, SYM_LEN */
    int64_t len_hi;                /* the packet's length is at most this */
    long work;
    uint32_t stack[MAX_DEPTH + 1];
    int depth;
    int n_free;                    /* states to reuse: ~2 KiB each, past */
    struct state *free_st[32];     /* malloc's small-size caches */
};

static struct state *st_new(struct ra *ra)
{
    return ra->n_free ? ra->free_st[--ra->n_free] : malloc(sizeof(struct state));
}

static void st_free(struct ra *ra, struct state *s)
{
    if (s && ra->n_free < (int)(sizeof ra->free_st / sizeof ra->free_st[0]))
        ra->free_st[ra->n_free++] = s;
    else
        free(s);
}

static int in_lim(int64_t v)
{
    return v >= -LIM && v <= LIM;
}

static void init_syms(const struct ra *ra, struct range_node *nd)
{
    nd->lo[SYM_DATA] = 1;
    nd->hi[SYM_DATA] = (int64_t)1 << 56;
    nd->lo[SYM_LEN] = 0;
    nd->hi[SYM_LEN] = ra->len_hi;
    nd->n_syms = SYMS0;
}

/* a form of the packet's symbols only */
static int pkt_form(const struct aff *f)
{
    if (f->base != 0 || f->n == 0)
        return 0;
    for (int q = 0; q < f->n; q++)
        if (f->sym[q] != SYM_DATA && f->sym[q] != SYM_LEN)
            return 0;
    return 1;
}

static int new_sym(struct range_node *nd, int64_t lo, int64_t hi)
{
    if (nd->n_syms >= MAX_SYMS || !in_lim(lo) || !in_lim(hi) || lo > hi)
        return -1;
    nd->lo[nd->n_syms] = lo;
    nd->hi[nd->n_syms] = hi;
    return nd->n_syms++;
}

/* ---- forms -------------------------------------------------------------------- */

static void sym_range(void *env, uint64_t sym, aff_i128 *lo, aff_i128 *hi)
{
    const struct range_node *nd = env;
    *lo = nd->lo[sym];
    *hi = nd->hi[sym];
}

/* l += m * f within this analysis's limits */
static int lin_add(struct aff_sum *l, const struct aff *f, int64_t m)
{
    return m <= COEF && m >= -COEF && in_lim(f->k) && jit_aff_sum_add_form(l, f, m) &&
           jit_aff_sum_within(l, COEF2, SUM);
}

/* the interval of l with every symbol free in its own interval */
static int plain_iv(const struct range_node *nd, const struct aff_sum *l, int64_t *lo, int64_t *hi)
{
    aff_i128 a, b;
    jit_aff_sum_range(l, sym_range, (void *)nd, &a, &b);
    if (a < -SUM || b > SUM)
        return 0;
    *lo = (int64_t)a;
    *hi = (int64_t)b;
    return 1;
}

/* the interval of l: I at both ends of [0, n - 1] when n is a form */
static int lin_iv(const struct range_node *nd, const struct aff_sum *l, int64_t *lo, int64_t *hi)
{
    if (!nd->body || !nd->i_rel || l->n == 0 || l->sym[0] != 0)
        return plain_iv(nd, l, lo, hi);      /* (I, symbol 0, comes first) */
    int64_t a = l->c[0];
    struct aff_sum l0 = *l, l1;
    int64_t lo0, hi0, lo1, hi1;
    if (!jit_aff_sum_add_form(&l0, &(struct aff){1, 0, {1}, {0}, 0}, -a))
        return plain_iv(nd, l, lo, hi);
    l1 = l0;
    if (!lin_add(&l1, &nd->nm1, a) || !plain_iv(nd, &l0, &lo0, &hi0) ||
        !plain_iv(nd, &l1, &lo1, &hi1))
        return plain_iv(nd, l, lo, hi);
    /* (0 <= I <= n - 1 wherever the body runs: l lies between its
     * values at both ends, the one at I = 0 the lower when a > 0) */
    *lo = a > 0 ? lo0 : lo1;
    *hi = a > 0 ? hi1 : hi0;
    return 1;
}

static int form_iv(const struct range_node *nd, const struct aff *f, int64_t *lo, int64_t *hi)
{
    if (f->base != 0)
        return 0;
    struct aff_sum l;
    jit_aff_sum_of(&l, f);
    return lin_iv(nd, &l, lo, hi);
}

/* ---- facts ------------------------------------------------------------------------
 * A state carries linear facts `f <= 0` over the node's symbols, from the
 * compares on the way to it (`if n - 8 < 0 goto skip`), a division's
 * quotient (8q <= x <= 8q + 7) and, in a body, from the caller's facts at
 * the call (its symbols the body's slot symbols, `m * (n - 1)` becoming `m
 * * I`). Symbols are values, so a fact once true stays true on its path;
 * at a join only the facts both ways bring survive. They narrow the
 * interval of a form that contains a fact's terms (times m): `j + 1 - len`
 * with `j0 + 8 - len <= 0` and j = j0 + I, I <= 7, is never above 0. */

static void fact_add(struct state *s, const struct aff_sum *l)
{
    struct aff f;
    if (l->n == 0 || s->n_facts == MAX_FACTS || !jit_aff_narrow(l, &f, COEF, LIM))
        return;
    for (int k = 0; k < s->n_facts; k++)
        if (jit_aff_equal(&s->facts[k], &f))
            return;
    s->facts[s->n_facts++] = f;
}

/* m with l's terms on f's symbols m times f's (0: none) */
static int64_t fact_multiple(const struct aff_sum *l, const struct aff *f)
{
    int64_t m = 0;
    for (int q = 0; q < f->n; q++) {
        int64_t c = 0;
        for (int p = 0; p < l->n; p++)
            if (l->sym[p] == f->sym[q])
                c = l->c[p];
        if (q == 0) {
            if (c == 0 || c % f->c[0] != 0)
                return 0;
            m = c / f->c[0];
        } else if (c != m * f->c[q]) {
            return 0;
        }
    }
    return m;
}

/* the interval of l, narrowed by the facts of s */
static int fact_iv(const struct range_node *nd, const struct state *s, const struct aff_sum *l,
                   int64_t *lo, int64_t *hi)
{
    int known = lin_iv(nd, l, lo, hi);
    if (!known) {
        *lo = INT64_MIN;
        *hi = INT64_MAX;
    }
    /* l = rest + m * f, f <= 0: for m > 0, l <= max(rest), for m < 0, l
     * >= min(rest). m cancels a term f shares with l; rest may then hold
     * terms of f that l has not (`j + 1 - 65528` with `j0 + 16 - len <=
     * 0`, j = j0 + I: rest is `I + len - 65543`, at most 0 when len <=
     * 65528 and I <= 15) */
    for (int k = 0; s && k < s->n_facts; k++) {
        const struct aff *f = &s->facts[k];
        int64_t tried[AFF_TERMS];
        int n_tried = 0;
        for (int q = 0; q < f->n; q++) {
            int64_t c = 0, m, a, b;
            for (int p = 0; p < l->n; p++)
                if (l->sym[p] == f->sym[q])
                    c = l->c[p];
            if (c == 0 || c % f->c[q] != 0)
                continue;
            m = c / f->c[q];
            int seen = 0;
            for (int t = 0; t < n_tried; t++)
                seen |= tried[t] == m;
            if (seen)
                continue;
            tried[n_tried++] = m;
            struct aff_sum rest = *l;
            if (!lin_add(&rest, f, -m) || !lin_iv(nd, &rest, &a, &b))
                continue;
            if (m > 0 && b < *hi)
                *hi = b;
            if (m < 0 && a > *lo)
                *lo = a;
        }
    }
    return *lo >= -SUM && *hi <= SUM && *lo <= *hi;
}

static int form_fiv(const struct range_node *nd, const struct state *s, const struct aff *f,
                    int64_t *lo, int64_t *hi)
{
    if (f->base != 0)
        return 0;
    struct aff_sum l;
    jit_aff_sum_of(&l, f);
    return fact_iv(nd, s, &l, lo, hi);
}

/* the facts of the way a conditional jump goes (taken or not) */
static void jump_facts(const struct range_node *nd, struct state *s, const struct bl_insn *in,
                       int taken)
{
    uint8_t op = BL_OP(in->code);
    struct aff kf = jit_aff_num(in->imm);
    const struct aff *x = &s->r[in->dst], *y = BL_SRC(in->code) == BL_K ? &kf : &s->r[in->src];
    int64_t xl, xh, yl, yh;
    if (BL_CLASS(in->code) != BL_JMP || !form_fiv(nd, s, x, &xl, &xh) ||
        !form_fiv(nd, s, y, &yl, &yh))
        return;
    int unsig = op == BL_JGT || op == BL_JGE || op == BL_JLT || op == BL_JLE;
    if (unsig && !(xl >= 0 && yl >= 0) && !(xh < 0 && yh < 0))
        return;                                /* (the unsigned compare is not the integers') */
    /* x - y > 0 (gt), >= 0 (ge), < 0, <= 0, == 0 */
    enum { GT, GE, LT, LE, EQ, NE } rel;
    switch (op) {
    case BL_JGT: case BL_JSGT: rel = GT; break;
    case BL_JGE: case BL_JSGE: rel = GE; break;
    case BL_JLT: case BL_JSLT: rel = LT; break;
    case BL_JLE: case BL_JSLE: rel = LE; break;
    case BL_JEQ: rel = EQ; break;
    case BL_JNE: rel = NE; break;
    default: return;
    }
    if (!taken)
        rel = rel == GT ? LE : rel == GE ? LT : rel == LT ? GE : rel == LE ? GT : rel == EQ ? NE : EQ;
    struct aff_sum l, nl = {0};
    jit_aff_sum_of(&l, x);
    if (rel == NE || !lin_add(&l, y, -1) || !jit_aff_sum_add(&nl, &l, -1))
        return;
    if (rel == GT || rel == GE || rel == EQ) {   /* -(x - y) (+ 1) <= 0 */
        nl.k += rel == GT;
        fact_add(s, &nl);
    }
    if (rel == LT || rel == LE || rel == EQ) {   /* x - y (+ 1) <= 0 */
        l.k += rel == LT;
        fact_add(s, &l);
    }
}

/* a value known only as [lo, hi]: a fresh symbol */
static struct aff f_range(struct range_node *nd, int64_t lo, int64_t hi)
{
    if (lo == hi && in_lim(lo))
        return jit_aff_num(lo);
    int s = new_sym(nd, lo, hi);
    return s < 0 ? jit_aff_top : jit_aff_sym((uint64_t)s);
}

/* l as a form: as it is when small, else its interval, else unknown */
static struct aff form_of(struct range_node *nd, const struct aff_sum *l)
{
    int64_t lo, hi;
    struct aff f;
    if (!lin_iv(nd, l, &lo, &hi) || lo < -PLIM || hi > PLIM)
        return jit_aff_top;
    return jit_aff_narrow(l, &f, COEF, LIM) ? f : f_range(nd, lo, hi);
}

/* a + m * b (m = +-1) */
static struct aff f_add(struct range_node *nd, const struct aff *a, const struct aff *b, int m)
{
    if (IS_PTR(a) && jit_aff_is_num(b)) {
        struct aff f = *a;
        f.k += m * b->k;
        return in_lim(f.k) ? f : jit_aff_top;
    }
    struct aff_sum l;
    if (a->base || b->base)
        return jit_aff_top;
    jit_aff_sum_of(&l, a);
    return lin_add(&l, b, m) ? form_of(nd, &l) : jit_aff_top;
}

/* ---- states ------------------------------------------------------------------- */

static int slot_find(const struct state *s, uint8_t ptr, int64_t off)
{
    return jit_aff_slot_find(s->s, s->n_slots, ptr, off);
}

static void slot_drop(struct state *s, int k)
{
    s->s[k] = s->s[--s->n_slots];
}

static void slot_set(struct state *s, uint8_t ptr, int64_t off, const struct aff *v)
{
    jit_aff_slot_clobber(s->s, &s->n_slots, ptr, off, 8);
    if (v->base == AFF_TOP || IS_ARG(ptr) || s->n_slots == MAX_SLOTS || off < -32768 ||
        off > 32767)
        return;
    s->s[s->n_slots].base = ptr;
    s->s[s->n_slots].off = (int16_t)off;
    s->s[s->n_slots++].v = *v;
}

static void note_write(struct range_node *nd, uint8_t ptr, int64_t off, int size)
{
    if (ptr != P_CTX && !IS_ARG(ptr))
        return;                              /* (the node's own frame) */
    if (nd->n_writes == MAX_WRITES || off < -32768 || off > 32767) {
        nd->writes_all = 1;
        return;
    }
    nd->writes[nd->n_writes].off = (int16_t)off;
    nd->writes[nd->n_writes].ptr = ptr;
    nd->writes[nd->n_writes++].size = (uint8_t)size;
}

/* a store of size bytes at ptr + off */
static void store_at(struct range_node *nd, struct state *s, uint8_t ptr, int64_t off, int size,
                     const struct aff *v)
{
    if (ptr == P_OWN)
        return;
    note_write(nd, ptr, off, size);
    if (IS_ARG(ptr)) {
        for (int k = s->n_slots; k-- > 0;)
            if (IS_ARG(s->s[k].base))
                slot_drop(s, k);
    } else if (v && size == 8) {
        slot_set(s, ptr, off, v);
    } else {
        jit_aff_slot_clobber(s->s, &s->n_slots, ptr, off, size);
    }
}

/* the state reaching an instruction from another edge */
static void merge(struct range_node *nd, struct state *into, const struct state *s)
{
    for (int r = 0; r < BL_NREGS; r++) {
        struct aff *a = &into->r[r];
        const struct aff *b = &s->r[r];
        if (jit_aff_equal(a, b))
            continue;
        int64_t la, ha, lb, hb;
        if (form_iv(nd, a, &la, &ha) && form_iv(nd, b, &lb, &hb))
            *a = f_range(nd, la < lb ? la : lb, ha > hb ? ha : hb);
        else
            *a = jit_aff_top;
    }
    for (int k = into->n_slots; k-- > 0;) {
        int q = slot_find(s, into->s[k].base, into->s[k].off);
        if (q < 0 || !jit_aff_equal(&into->s[k].v, &s->s[q].v))
            slot_drop(into, k);
    }
    for (int k = into->n_facts; k-- > 0;) {
        int q = 0;
        while (q < s->n_facts && !jit_aff_equal(&into->facts[k], &s->facts[q]))
            q++;
        if (q == s->n_facts)
            into->facts[k] = into->facts[--into->n_facts];
    }
}

/* ---- instructions ------------------------------------------------------------- */

static unsigned kinds_at(const struct jit *j, uint32_t pc)
{
    if (!j->aux || !j->aux[pc].seen || !j->aux[pc].mem_kinds)
        return 0xff;
    return j->aux[pc].mem_kinds;
}

/* a store or atomic through a pointer this pass does not follow */
static void unknown_store(struct range_node *nd, struct state *s, const struct jit *j,
                          uint32_t pc)
{
    if (!(kinds_at(j, pc) & BL_MEMK_STACK))
        return;
    s->n_slots = 0;
    nd->writes_all = 1;
}

static struct aff alu(struct range_node *nd, const struct state *s, const struct bl_insn *in,
                      const struct aff *d, const struct aff *src)
{
    uint8_t op = BL_OP(in->code);
    int is_k = BL_SRC(in->code) == BL_K;
    struct aff kf = jit_aff_num(in->imm);
    const struct aff *b = is_k ? &kf : src;
    int64_t lo = 0, hi = 0, blo = 0, bhi = 0;
    int d_iv = 0, b_iv = 0;
    /* (the operands' intervals only where they are read: not for the
     * affine mov, add, sub, neg and lsh, most of a body) */
    int need = BL_CLASS(in->code) == BL_ALU
                   ? op == BL_MOV && in->off == 0 && !is_k
                   : op != BL_MOV && op != BL_ADD && op != BL_SUB && op != BL_NEG && op != BL_LSH;
    if (need) {
        d_iv = form_iv(nd, d, &lo, &hi);
        b_iv = form_iv(nd, b, &blo, &bhi);
    }
    struct aff_sum l;
    if (BL_CLASS(in->code) == BL_ALU) {            /* 32-bit: zero-extended */
        if (op == BL_MOV && is_k && in->off == 0)
            return jit_aff_num((int64_t)(uint32_t)in->imm);
        if (op == BL_MOV && in->off == 0 && d_iv && b_iv && blo >= 0 && bhi <= 0xffffffffLL)
            return *b;
        return op == BL_END ? jit_aff_top : f_range(nd, 0, 0xffffffffLL);
    }
    switch (op) {
    case BL_MOV:
        return in->off == 0 ? *b : jit_aff_top;
    case BL_ADD:
    case BL_SUB:
        return f_add(nd, d, b, op == BL_ADD ? 1 : -1);
    case BL_MUL:
        if (jit_aff_alu64(in, d, b, &l) || jit_aff_is_num(b) || jit_aff_is_num(d))
            break;
        if (d_iv && b_iv && lo >= -(1 << 20) && hi <= 1 << 20 && blo >= -(1 << 20) &&
            bhi <= 1 << 20) {
            int64_t p[4] = {lo * blo, lo * bhi, hi * blo, hi * bhi}, mn = p[0], mx = p[0];
            for (int k = 1; k < 4; k++) {
                mn = p[k] < mn ? p[k] : mn;
                mx = p[k] > mx ? p[k] : mx;
            }
            return f_range(nd, mn, mx);
        }
        return jit_aff_top;
    case BL_NEG:
    case BL_LSH:
        break;
    case BL_RSH:
    case BL_ARSH:
        if (is_k && in->imm >= 0 && in->imm < 64 && d_iv && lo >= 0)
            return f_range(nd, lo >> in->imm, hi >> in->imm);
        if (op == BL_RSH && is_k && in->imm >= 24 && in->imm < 64)
            return f_range(nd, 0, (int64_t)(UINT64_MAX >> in->imm));
        return jit_aff_top;
    case BL_DIV:
    case BL_MOD:
        d_iv = form_fiv(nd, s, d, &lo, &hi);     /* (x >= 0 may be a fact) */
        if (in->off != 0 || !d_iv || lo < 0 || !b_iv || blo <= 0)
            return jit_aff_top;
        if (op == BL_DIV)
            return f_range(nd, lo / bhi, hi / blo);
        return f_range(nd, 0, hi < bhi - 1 ? hi : bhi - 1);
    case BL_AND:
        if (b_iv && blo >= 0)
            return f_range(nd, 0, d_iv && lo >= 0 && hi < bhi ? hi : bhi);
        if (d_iv && lo >= 0)
            return f_range(nd, 0, hi);
        return jit_aff_top;
    case BL_OR:
    case BL_XOR:
        if (d_iv && b_iv && lo >= 0 && blo >= 0) {
            int64_t m = hi > bhi ? hi : bhi, p = 1;
            while (p <= m)
                p <<= 1;
            return f_range(nd, 0, p - 1);
        }
        return jit_aff_top;
    default:
        return jit_aff_top;
    }
    /* multiply by a constant, negate, shift left: affine */
    if (!jit_aff_alu64(in, d, b, &l) || !jit_aff_sum_within(&l, COEF2, SUM))
        return jit_aff_top;
    return form_of(nd, &l);
}

/* 1: the jump at in is never taken, 2: always, 0: either */
static int decide(const struct range_node *nd, const struct state *s, const struct bl_insn *in,
                  const struct aff *a, const struct aff *b)
{
    int64_t alo, ahi, blo, bhi, lo, hi;
    if (a->base != 0 || b->base != 0)
        return 0;                                  /* (a pointer, or unknown) */
    struct aff_sum l;
    jit_aff_sum_of(&l, a);
    if (!lin_add(&l, b, -1) || !fact_iv(nd, s, &l, &lo, &hi))
        return 0;
    uint8_t op = BL_OP(in->code);
    int is32 = BL_CLASS(in->code) == BL_JMP32;
    int unsig = op == BL_JGT || op == BL_JGE || op == BL_JLT || op == BL_JLE;
    if (!is32 && !unsig)
        return jit_aff_decide(op, lo, hi);         /* (signed, or equal: the integers) */
    if (!form_iv(nd, a, &alo, &ahi) || !form_iv(nd, b, &blo, &bhi))
        return 0;
    int nonneg = alo >= 0 && blo >= 0, neg = ahi < 0 && bhi < 0;
    if (is32 && !(nonneg && ahi <= INT32_MAX && bhi <= INT32_MAX))
        return 0;
    if (unsig && !nonneg && !neg)
        return 0;
    return jit_aff_decide(op, lo, hi);             /* (no wrap: every form within 2^40) */
}

static void free_node(struct range_node *nd);
static struct range_node *analyse_call(struct ra *ra, struct range_node *nd, struct state *s,
                                       uint32_t pc);

static void call_effects(struct range_node *nd, struct state *s, int all)
{
    for (int r = BL_R0; r <= BL_R5; r++)
        s->r[r] = jit_aff_top;
    if (all) {
        s->n_slots = 0;
        nd->writes_all = 1;
    }
}

/* Helpers that write no memory through their arguments (map values are
 * never a stack) */
static int helper_keeps_stack(int32_t id)
{
    return id == 1 || id == 2 || id == 3 || id == 5 || id == 7 || id == 8;
}

static struct range_node *analyse_function(struct ra *ra, uint32_t f, int args);

/* The function starting at target, called from nd with state s: when it
 * writes nothing but its own frame and memory its pointer arguments reach
 * at known offsets, those writes are applied to s (and noted in nd) and 1
 * returned; else 0 (it may write anything). */
static int callee_writes(struct ra *ra, struct range_node *nd, struct state *s, int64_t target)
{
    if (target < 0 || target >= ra->j->n || ra->depth >= MAX_DEPTH)
        return 0;
    uint32_t f = jit_func_index(ra->j, (uint32_t)target);
    for (int d = 0; d <= ra->depth; d++)
        if (ra->stack[d] == (uint32_t)target)
            return 0;
    if (f == UINT32_MAX)
        return 0;
    ra->stack[++ra->depth] = (uint32_t)target;
    struct range_node *cn = analyse_function(ra, f, 1);
    ra->depth--;
    int ok = cn && cn->known && !cn->writes_all;
    for (int k = 0; ok && k < cn->n_writes; k++) {
        const struct aff *a = &s->r[BL_R1 + cn->writes[k].ptr - P_A1];
        if (!IS_PTR(a))
            ok = 0;
        else
            store_at(nd, s, a->base, a->k + cn->writes[k].off, cn->writes[k].size, NULL);
    }
    free_node(cn);
    return ok;
}

/* q = x / K (or x >> k), x >= 0, q a fresh symbol: K * q <= x <= K * q + K - 1 */
static void div_facts(const struct range_node *nd, struct state *s, const struct bl_insn *in,
                      const struct aff *x)
{
    const struct aff *q = &s->r[in->dst];
    uint8_t op = BL_OP(in->code);
    int64_t k = op == BL_DIV ? in->imm : op == BL_RSH && in->imm >= 0 && in->imm <= 16
                                             ? (int64_t)1 << in->imm : 0;
    if (BL_CLASS(in->code) != BL_ALU64 || BL_SRC(in->code) != BL_K || in->off != 0 || k <= 1 ||
        x->base != 0 || q->base != 0 || q->n != 1 || q->c[0] != 1 || q->k != 0 || x->n == 0)
        return;
    (void)nd;
    struct aff_sum l = {0};
    if (!jit_aff_sum_add_form(&l, q, k) || !jit_aff_sum_add_form(&l, x, -1))
        return;
    fact_add(s, &l);                             /* K q - x <= 0 */
    struct aff_sum h = {0};
    if (!jit_aff_sum_add(&h, &l, -1))
        return;
    h.k -= k - 1;
    fact_add(s, &h);                             /* x - K q - (K - 1) <= 0 */
}

/* One instruction: s becomes the state after it. *take: which way a
 * conditional jump goes (bit 0: falls through, bit 1: taken). */
static void step(struct ra *ra, struct range_node *nd, struct state *s, uint32_t pc, int *take)
{
    const struct jit *j = ra->j;
    const struct bl_insn *in = &j->insns[pc];
    uint8_t cls = BL_CLASS(in->code), op = BL_OP(in->code), mode = BL_MODE(in->code);
    int size = jit_size_of(in->code);
    *take = 1;
    if (bl_is_lddw(in)) {
        s->r[in->dst] = in->src == 0 ? jit_aff_num((int64_t)((uint64_t)(uint32_t)in->imm |
                                                         (uint64_t)in[1].imm << 32))
                                     : jit_aff_top;
        if (s->r[in->dst].base == 0 && !in_lim(s->r[in->dst].k))
            s->r[in->dst] = jit_aff_top;
        return;
    }
    switch (cls) {
    case BL_ALU:
    case BL_ALU64:
    {
        struct aff x = s->r[in->dst];
        s->r[in->dst] = alu(nd, s, in, &s->r[in->dst], &s->r[in->src]);
        div_facts(nd, s, in, &x);
        return;
    }
    case BL_LDX: {
        const struct aff *p = &s->r[in->src];
        int q = IS_PTR(p) && size == 8 && mode == BL_MEM
                    ? slot_find(s, p->base, p->k + in->off)
                    : -1;
        uint8_t lv = ra->pkt && j->aux[pc].seen ? j->aux[pc].ld_val : 0;
        if (lv == BL_LDV_DATA || lv == BL_LDV_DATA_END)
            s->r[in->dst] = (struct aff){lv == BL_LDV_DATA ? 1 : 2, 0, {1, 1},
                                         {SYM_DATA, SYM_LEN}, 0};
        else if (q >= 0)
            s->r[in->dst] = s->s[q].v;
        else if (mode == BL_MEM && size < 8)
            s->r[in->dst] = f_range(nd, 0, ((int64_t)1 << (8 * size)) - 1);
        else
            s->r[in->dst] = jit_aff_top;
        return;
    }
    case BL_ST:
    case BL_STX: {
        const struct aff *p = &s->r[in->dst];
        if (!IS_PTR(p)) {
            unknown_store(nd, s, j, pc);
        } else {
            int64_t off = p->k + in->off;
            if (mode == BL_ATOMIC) {
                int64_t lo, hi;
                int noop = (in->imm == BL_ADD || in->imm == BL_OR || in->imm == BL_XOR) &&
                           form_iv(nd, &s->r[in->src], &lo, &hi) && lo == 0 && hi == 0;
                if (!noop)
                    store_at(nd, s, p->base, off, size, NULL);
            } else {
                struct aff v = cls == BL_ST ? jit_aff_num(in->imm) : s->r[in->src];
                store_at(nd, s, p->base, off, size, mode == BL_MEM ? &v : NULL);
            }
        }
        if (mode == BL_ATOMIC && in->imm == BL_CMPXCHG)
            s->r[BL_R0] = jit_aff_top;
        else if (mode == BL_ATOMIC && (in->imm & BL_FETCH))
            s->r[in->src] = jit_aff_top;
        return;
    }
    case BL_LD:                                  /* legacy packet loads: a call */
        call_effects(nd, s, 0);
        return;
    default:
        break;
    }
    /* jumps */
    if (op == BL_JA || op == BL_EXIT) {
        *take = op == BL_JA ? 2 : 0;
        return;
    }
    if (op == BL_CALL) {
        if (BL_SRC(in->code) == BL_K && in->src == 0 && in->imm == BL_HELPER_LOOP) {
            struct range_node *kid = analyse_call(ra, nd, s, pc);
            if (kid)
                return;
        }
        int keeps = BL_SRC(in->code) != BL_K ? 0
                    : in->src == 0 ? helper_keeps_stack(in->imm)
                    : in->src == BL_PSEUDO_CALL && callee_writes(ra, nd, s, pc + 1 + (int64_t)in->imm);
        call_effects(nd, s, !keeps);
        return;
    }
    struct aff kf = jit_aff_num(in->imm);
    int d = decide(nd, s, in, &s->r[in->dst], BL_SRC(in->code) == BL_K ? &kf : &s->r[in->src]);
    if (nd->body && nd->proved)
        nd->proved[pc - nd->start] = (uint8_t)d;
    *take = d == 1 ? 1 : d == 2 ? 2 : 3;
}

/* ---- nodes -------------------------------------------------------------------- */

static void free_kids(struct range_node *nd)
{
    for (int k = 0; k < nd->n_kids; k++)
        free_node(nd->kids[k]);
    free(nd->kids);
    nd->kids = NULL;
    nd->n_kids = 0;
}

static void free_old(struct range_node *nd)
{
    for (int k = 0; k < nd->n_old; k++)
        free_node(nd->old[k]);
    free(nd->old);
    nd->old = NULL;
    nd->n_old = 0;
}

/* the kids of a pass, kept while the next one runs */
static void kids_to_old(struct range_node *nd)
{
    free_old(nd);
    nd->old = nd->kids;
    nd->n_old = nd->n_kids;
    nd->kids = NULL;
    nd->n_kids = 0;
}

static void free_node(struct range_node *nd)
{
    if (!nd)
        return;
    free_kids(nd);
    free_old(nd);
    free(nd->proved);
    free(nd->after);
    free(nd);
}

/* Is the ctx slot at off (8 bytes) unchanged by the loop of kid? */
static int kid_keeps(const struct range_node *kid, int64_t off)
{
    if (!kid->known || kid->writes_all)
        return 0;
    for (int k = 0; k < kid->n_writes; k++)
        if (kid->writes[k].off < off + 8 && off < kid->writes[k].off + kid->writes[k].size) {
            if (kid->can_break)
                return 0;
            for (int q = 0; q < kid->n_inv; q++)
                if (kid->inv[q] == off)
                    return 1;
            return 0;
        }
    return 1;
}

/* An exit of a body in state s: may it break, and which candidate slots
 * does it leave changed when it goes on (bad[])? */
static void exit_state(struct range_node *nd, const struct state *s, uint8_t *bad)
{
    int64_t lo, hi;
    int known = form_iv(nd, &s->r[BL_R0], &lo, &hi);
    if (!known || lo != 0 || hi != 0)
        nd->can_break = 1;
    if (known && (lo > 0 || hi < 0))
        return;                                /* a break: the loop ends */
    for (int c = 0; c < nd->n_cand; c++) {
        int q = slot_find(s, P_CTX, nd->cand[c]);
        const struct aff *v = q >= 0 ? &s->s[q].v : NULL;
        int sym = nd->cand_sym[c];
        int same = v && (jit_aff_equal(v, &nd->cand_form[c]) ||
                         (sym >= 0 && jit_aff_is_num(v) && nd->lo[sym] == v->k &&
                          nd->hi[sym] == v->k));
        if (!same)
            bad[c] = 1;
    }
}

/* One pass over [start, end) from entry; 0 when the work budget ran out. */
static int run_pass(struct ra *ra, struct range_node *nd, const struct state *entry,
                    uint8_t *bad)
{
    uint32_t n = nd->end - nd->start;
    struct state **in = calloc(n + 1, sizeof *in);
    int ok = in != NULL;
    if (ok) {
        in[0] = st_new(ra);
        ok = in[0] != NULL;
        if (ok)
            *in[0] = *entry;
    }
    for (uint32_t k = 0; ok && k < n; k++) {
        struct state *cur = in[k];           /* (this instruction's state, owned) */
        if (!cur)
            continue;
        in[k] = NULL;
        if (++ra->work > WORK) {
            st_free(ra, cur);
            ok = 0;
            break;
        }
        uint32_t pc = nd->start + k;
        const struct bl_insn *ins = &ra->j->insns[pc];
        int take;
        step(ra, nd, cur, pc, &take);
        if (nd->after)
            nd->after[k] = cur->r[ins->dst < BL_NREGS ? ins->dst : 0];
        uint32_t succ[2] = {UINT32_MAX, UINT32_MAX};
        uint8_t cls = BL_CLASS(ins->code);
        struct state *tk = NULL;                /* the way taken, when both may be */
        if (ins->code == (BL_JMP | BL_EXIT)) {
            if (nd->body)
                exit_state(nd, cur, bad);
        } else if ((cls == BL_JMP || cls == BL_JMP32) && BL_OP(ins->code) != BL_CALL) {
            int64_t t = (int64_t)k + 1 +
                        ((cls == BL_JMP32 && BL_OP(ins->code) == BL_JA) ? ins->imm : ins->off);
            if (t <= (int64_t)k || t >= (int64_t)n)
                ok = 0;                        /* (not a body of forward jumps) */
            succ[0] = (take & 2) ? (uint32_t)t : UINT32_MAX;
            succ[1] = (take & 1) ? k + 1 : UINT32_MAX;
            if (take == 3 && ok && BL_OP(ins->code) != BL_JA && t < (int64_t)n &&
                (tk = st_new(ra)) != NULL) {
                *tk = *cur;
                jump_facts(nd, tk, ins, 1);
                jump_facts(nd, cur, ins, 0);
            }
        } else {
            succ[1] = k + (bl_is_lddw(ins) ? 2 : 1);
        }
        for (int q = 0; ok && q < 2; q++) {
            uint32_t t = succ[q];
            struct state **src = q == 0 && tk ? &tk : &cur;
            if (t >= n)
                continue;                      /* (falling off the end: verified code does not) */
            if (in[t]) {
                merge(nd, in[t], *src);
            } else if (!tk && q == 0 && succ[1] < n) {
                in[t] = st_new(ra);
                if (!in[t])
                    ok = 0;
                else
                    *in[t] = *cur;
            } else {
                in[t] = *src;                  /* (the last use: handed on) */
                *src = NULL;
            }
        }
        st_free(ra, tk);
        st_free(ra, cur);
    }
    for (uint32_t k = 0; in && k <= n; k++)
        st_free(ra, in[k]);
    free(in);
    return ok;
}

/* Analyse nd (a body with candidate slots set up, or a function) to a
 * consistent set of invariant slots. */
static void analyse_node(struct ra *ra, struct range_node *nd, struct state *entry)
{
    int syms0 = nd->n_syms;
    for (int pass = 0; pass < PASSES; pass++) {
        uint8_t bad[MAX_SLOTS] = {0};
        kids_to_old(nd);
        nd->n_syms = syms0;
        nd->can_break = nd->writes_all = 0;
        nd->n_writes = 0;
        if (nd->proved)
            memset(nd->proved, 0, nd->end - nd->start);
        if (nd->after)
            memset(nd->after, 0, (nd->end - nd->start) * sizeof *nd->after);
        if (!run_pass(ra, nd, entry, bad))
            break;
        int n_bad = 0;
        for (int c = 0; c < nd->n_cand; c++)
            n_bad += bad[c];
        if (!n_bad) {
            free_old(nd);
            nd->known = 1;
            nd->n_inv = nd->n_cand;
            memcpy(nd->inv, nd->cand, sizeof nd->cand[0] * (size_t)nd->n_cand);
            return;
        }
        /* a slot found changed at an exit stops being a symbol at the
         * entry: again without it */
        for (int c = nd->n_cand; c-- > 0;)
            if (bad[c]) {
                int q = slot_find(entry, P_CTX, nd->cand[c]);
                if (q >= 0)
                    slot_drop(entry, q);
                nd->cand[c] = nd->cand[nd->n_cand - 1];
                nd->cand_form[c] = nd->cand_form[nd->n_cand - 1];
                nd->cand_sym[c] = nd->cand_sym[--nd->n_cand];
                bad[c] = bad[nd->n_cand];
            }
    }
    free_kids(nd);
    free_old(nd);
    if (nd->proved)
        memset(nd->proved, 0, nd->end - nd->start);
    nd->known = 0;
}

/* The caller's facts at the call as facts of the body's entry e: each
 * symbol the value of a candidate slot (c * sym + d, c dividing the fact's
 * coefficient), and m * (n - 1) (m > 0, n the trip count's form) as m * I:
 * I <= n - 1 in every iteration. */
static void call_facts(const struct range_node *nd, const struct range_node *kid,
                       const struct state *s, struct state *e, const int16_t *pslot, int n_exact)
{
    const struct aff *nr = &s->r[BL_R1];
    for (int k = 0; k < s->n_facts; k++) {
        struct aff f = s->facts[k];
        struct aff_sum l = {0}, rest;
        jit_aff_sum_of(&rest, &f);
        int64_t m = n_exact && nr->base == 0 && nr->n ? fact_multiple(&rest, nr) : 0;
        if (m > 0) {                             /* f = m * (n - 1) + (f - m * (n - 1)) */
            struct aff_sum nm1;
            jit_aff_sum_of(&nm1, nr);
            nm1.k -= 1;
            struct aff i = jit_aff_sym(0);
            if (!jit_aff_sum_add(&rest, &nm1, -m) || !lin_add(&l, &i, m))
                continue;
        }
        l.k = rest.k;
        int ok = 1;
        for (int t = 0; ok && t < rest.n; t++) {
            ok = 0;
            if (rest.sym[t] == SYM_DATA || rest.sym[t] == SYM_LEN) {
                struct aff g = jit_aff_sym(rest.sym[t]);   /* (the same in every node) */
                ok = lin_add(&l, &g, rest.c[t]);
                continue;
            }
            for (int c = 0; c < kid->n_cand && !ok; c++) {
                const struct aff *v = &s->s[pslot[c]].v;
                if (kid->cand_sym[c] < 0 || v->base != 0 || v->n != 1 || v->sym[0] != rest.sym[t] ||
                    rest.c[t] % v->c[0] != 0)
                    continue;
                int64_t mc = rest.c[t] / v->c[0];  /* c * sym = S - d */
                struct aff sc = jit_aff_sym((uint64_t)kid->cand_sym[c]);
                ok = lin_add(&l, &sc, mc);
                l.k -= (aff_i128)mc * v->k;
            }
        }
        if (ok && jit_aff_sum_within(&l, COEF2, SUM))
            fact_add(e, &l);
    }
    (void)nd;
}

/* The bpf_loop at pc in nd, reached with state s: its body's node (added
 * to nd's kids), and s after the call. NULL: an unknown callback (s is
 * left for the caller to clobber). */
static struct range_node *analyse_call(struct ra *ra, struct range_node *nd, struct state *s,
                                       uint32_t pc)
{
    const struct jit *j = ra->j;
    uint32_t cb = jit_static_callback(j, pc);
    uint32_t f = cb == UINT32_MAX ? UINT32_MAX : jit_func_index(j, cb);
    if (f == UINT32_MAX || f == 0 || ra->depth >= MAX_DEPTH)
        return NULL;
    for (int d = 0; d <= ra->depth; d++)
        if (ra->stack[d] == cb)
            return NULL;
    const struct jfunc *fn = &j->funcs[f];
    struct range_node *kid = calloc(1, sizeof *kid);
    struct range_node **kids = realloc(nd->kids, (size_t)(nd->n_kids + 1) * sizeof *kids);
    struct state *e = st_new(ra);
    if (kid) {
        kid->proved = calloc(fn->end - fn->start, 1);
        kid->after = calloc(fn->end - fn->start, sizeof *kid->after);
    }
    if (!kid || !kids || !e || !kid->proved || !kid->after) {
        if (kids)
            nd->kids = kids;
        free_node(kid);
        st_free(ra, e);
        return NULL;
    }
    nd->kids = kids;
    kids[nd->n_kids++] = kid;
    kid->call_pc = pc;
    kid->start = fn->start;
    kid->end = fn->end;
    kid->body = 1;
    /* the trip count: its interval, and as a form of the body's symbols
     * when the (u32) trip count is that value */
    int64_t nlo = 0, nhi = BL_MAX_LOOPS;
    const struct aff *nr = &s->r[BL_R1];
    int n_exact = form_fiv(nd, s, nr, &nlo, &nhi) && nlo >= 0 && nhi <= BL_MAX_LOOPS;
    if (!n_exact) {
        nlo = 0;
        nhi = BL_MAX_LOOPS;
    }
    kid->n_known = n_exact;
    kid->n_len = 0;
    for (int q = 0; q < nr->n; q++)
        kid->n_len |= nr->sym[q] == SYM_LEN;
    kid->n_lo = nlo;
    kid->n_hi = nhi;
    kid->lo[0] = 0;
    kid->hi[0] = nhi > 0 ? nhi - 1 : 0;
    init_syms(ra, kid);
    /* ctx: R3, a pointer this pass follows; its slots are the body's
     * candidates, each a symbol with the interval its form has here */
    struct aff ctx = s->r[BL_R3];
    memset(e, 0, sizeof *e);
    for (int r = 0; r < BL_NREGS; r++)
        e->r[r] = jit_aff_top;
    e->r[BL_R1] = jit_aff_sym(0);                /* I: symbol 0 */
    e->r[BL_R2] = jit_aff_ptr(P_CTX, 0);
    e->r[BL_R10] = jit_aff_ptr(P_OWN, 0);
    /* (the slots this call's body changed in the caller's last pass are
     * no candidates: with less known now, it changes them again) */
    const struct range_node *prev = NULL;
    for (int k = 0; k < nd->n_old && !prev; k++)
        if (nd->old[k]->call_pc == pc && nd->old[k]->known)
            prev = nd->old[k];
    int16_t pslot[MAX_SLOTS];                 /* the caller's slot of each candidate */
    for (int k = 0; IS_PTR(&ctx) && ctx.base != P_OWN && k < s->n_slots; k++) {
        const struct aff_slot *sl = &s->s[k];
        int64_t lo, hi, off = sl->off - ctx.k;
        if (sl->base != ctx.base || !form_fiv(nd, s, &sl->v, &lo, &hi) || off < -32768 ||
            off > 32767)
            continue;
        int was = !prev;
        for (int q = 0; prev && q < prev->n_inv; q++)
            was |= prev->inv[q] == off;
        if (!was)
            continue;
        /* (slots holding the same value get the same symbol: they cancel;
         * a form of the packet's symbols stays that form) */
        int sym = -1, glob = pkt_form(&sl->v);
        for (int c = 0; c < kid->n_cand && sym < 0 && !glob; c++)
            if (kid->cand_sym[c] >= 0 && jit_aff_equal(&s->s[pslot[c]].v, &sl->v))
                sym = kid->cand_sym[c];
        if (sym < 0 && !glob)
            sym = new_sym(kid, lo, hi);
        if (sym < 0 && !glob)
            break;
        struct aff v = glob ? sl->v : jit_aff_sym((uint64_t)sym);
        pslot[kid->n_cand] = (int16_t)k;
        kid->cand[kid->n_cand] = (int16_t)off;
        kid->cand_form[kid->n_cand] = v;
        kid->cand_sym[kid->n_cand++] = (int16_t)sym;
        slot_set(e, P_CTX, off, &v);
    }
    /* n - 1 in the body's symbols: each of the caller's symbols in n's
     * form must be the value of a candidate slot (+-1 times it plus a
     * constant) */
    int whole = -1, wm = 1;                   /* n = wm * (a slot's value) + d */
    for (int c = 0; n_exact && nr->base == 0 && nr->n && c < kid->n_cand && whole < 0; c++)
        for (int m = -1; m <= 1 && whole < 0 && kid->cand_sym[c] >= 0; m += 2) {
            struct aff d = f_add(nd, nr, &s->s[pslot[c]].v, -m);
            if (jit_aff_is_num(&d)) {
                whole = c;
                wm = m;
            }
        }
    if (whole >= 0) {
        struct aff d = f_add(nd, nr, &s->s[pslot[whole]].v, -wm);
        struct aff_sum l = {1, {wm}, {(uint64_t)kid->cand_sym[whole]}, (aff_i128)d.k - 1};
        kid->nm1 = form_of(kid, &l);
        kid->i_rel = kid->nm1.base == 0;
    } else if (n_exact && nr->base == 0) {
        struct aff_sum l = {0, {0}, {0}, (aff_i128)nr->k - 1};
        int ok = 1;
        for (int t = 0; ok && t < nr->n; t++) {
            int found = -1;
            if (nr->sym[t] == SYM_DATA || nr->sym[t] == SYM_LEN) {
                struct aff g = jit_aff_sym(nr->sym[t]);   /* (the same in every node) */
                ok = lin_add(&l, &g, nr->c[t]);
                continue;
            }
            for (int c = 0; c < kid->n_cand && found < 0; c++) {
                const struct aff *v = &s->s[pslot[c]].v;
                if (v->n == 1 && v->sym[0] == nr->sym[t] && (v->c[0] == 1 || v->c[0] == -1) &&
                    kid->cand_sym[c] >= 0)
                    found = c;
            }
            if (found < 0) {
                ok = 0;
                break;
            }
            /* the slot holds v = m * sym + d (m = +-1): sym = m * (S - d) */
            const struct aff *v = &s->s[pslot[found]].v;
            struct aff ls = jit_aff_sym((uint64_t)kid->cand_sym[found]);
            ls.c[0] = v->c[0];
            ls.k = -v->c[0] * v->k;
            ok = lin_add(&l, &ls, nr->c[t]);
        }
        if (ok) {
            kid->nm1 = form_of(kid, &l);
            kid->i_rel = kid->nm1.base == 0;
            for (int t = 0; t < kid->nm1.n; t++)
                kid->i_rel &= kid->nm1.sym[t] != 0;
        }
    }
    call_facts(nd, kid, s, e, pslot, n_exact);
    if (kid->i_rel) {                         /* I - (n - 1) <= 0: for nested bodies */
        struct aff_sum l = {0};
        struct aff i = jit_aff_sym(0);
        if (lin_add(&l, &i, 1) && lin_add(&l, &kid->nm1, -1))
            fact_add(e, &l);
    }
    /* a candidate holding a form with the packet's terms g (a countdown
     * window's start `#pkt - 8 - 8 * I`): its symbol S minus g lies where
     * the rest of the form does at the call, lo <= S - g <= hi */
    for (int c = 0; c < kid->n_cand; c++) {
        const struct aff *v = &s->s[pslot[c]].v;
        if (kid->cand_sym[c] < 0 || v->base != 0)
            continue;
        struct aff_sum g = {0}, rest;
        int has = 0;
        jit_aff_sum_of(&rest, v);
        for (int q = 0; q < v->n && has >= 0; q++)
            if (v->sym[q] == SYM_DATA || v->sym[q] == SYM_LEN) {
                struct aff t = jit_aff_sym(v->sym[q]);
                has = lin_add(&g, &t, v->c[q]) && lin_add(&rest, &t, -v->c[q]) ? 1 : -1;
            }
        int64_t lo, hi;
        if (has != 1 || !fact_iv(nd, s, &rest, &lo, &hi))
            continue;
        struct aff sc = jit_aff_sym((uint64_t)kid->cand_sym[c]);
        struct aff_sum f1 = {0}, f2 = {0};
        if (lin_add(&f1, &sc, 1) && jit_aff_sum_add(&f1, &g, -1)) {
            f1.k -= hi;                           /* S - g - hi <= 0 */
            fact_add(e, &f1);
        }
        if (lin_add(&f2, &sc, -1) && jit_aff_sum_add(&f2, &g, 1)) {
            f2.k += lo;                           /* g + lo - S <= 0 */
            fact_add(e, &f2);
        }
    }
    ra->stack[++ra->depth] = cb;
    analyse_node(ra, kid, e);
    ra->depth--;
    st_free(ra, e);
    /* after the loop: R0 = the iterations run, R1-R5 clobbered, the slots
     * the body may change forgotten */
    for (int r = BL_R0; r <= BL_R5; r++)
        s->r[r] = jit_aff_top;
    int followed = IS_PTR(&ctx) && ctx.base != P_OWN;
    if (!kid->known || kid->writes_all || (!IS_PTR(&ctx) && kid->n_writes)) {
        s->n_slots = 0;                      /* it may write anything */
        nd->writes_all = 1;
    } else if (followed) {
        for (int k = s->n_slots; k-- > 0;)
            if (s->s[k].base == ctx.base && !kid_keeps(kid, s->s[k].off - ctx.k))
                slot_drop(s, k);
        for (int k = 0; k < kid->n_writes; k++)
            note_write(nd, ctx.base, kid->writes[k].off + ctx.k, kid->writes[k].size);
    }
    return kid;
}

/* ---- interface ---------------------------------------------------------------- */

/* A function's node: its arguments pointers of their own kind when args
 * (a called function), else unknown (a program's entry). */
static struct range_node *analyse_function(struct ra *ra, uint32_t f, int args)
{
    const struct jit *j = ra->j;
    const struct jfunc *fn = &j->funcs[f];
    if (j->checked || !j->aux || fn->end - fn->start > MAX_FUNC_INSNS)
        return NULL;
    struct range_node *nd = calloc(1, sizeof *nd);
    struct state *e = st_new(ra);
    if (!nd || !e) {
        free(nd);
        st_free(ra, e);
        return NULL;
    }
    nd->start = fn->start;
    nd->end = fn->end;
    init_syms(ra, nd);                       /* (symbol 0: no index here) */
    for (int r = 0; r < BL_NREGS; r++)
        e->r[r] = jit_aff_top;
    e->n_slots = 0;
    e->n_facts = 0;
    e->r[BL_R10] = jit_aff_ptr(P_FP, 0);
    for (int r = BL_R1; args && r <= BL_R5; r++)
        e->r[r] = jit_aff_ptr((uint8_t)(P_A1 + r - BL_R1), 0);
    analyse_node(ra, nd, e);
    st_free(ra, e);
    return nd;
}

struct range_node *jit_ranges_function(const struct jit *j, uint32_t f, int64_t len_hi)
{
    struct ra ra = {j, 1, len_hi, 0, {j->funcs[f].start}, 0, 0, {0}};
    for (uint32_t pc = 0; pc < j->n; pc++) {   /* (a helper that moves the packet) */
        const struct bl_insn *in = &j->insns[pc];
        if (in->code == (BL_JMP | BL_CALL) && in->src == 0 &&
            bl_helper_changes_pkt_data((uint32_t)in->imm))
            ra.pkt = 0;
    }
    if (!ra.pkt && len_hi < 0xffffffffLL)
        return NULL;                           /* (the packet's length changes) */
    struct range_node *nd = analyse_function(&ra, f, 0);
    while (ra.n_free)
        free(ra.free_st[--ra.n_free]);
    return nd;
}

const struct range_node *jit_ranges_kid(const struct range_node *nd, uint32_t call_pc)
{
    for (int k = 0; nd && nd->known && k < nd->n_kids; k++)
        if (nd->kids[k]->call_pc == call_pc)
            return nd->kids[k]->known ? nd->kids[k] : NULL;
    return NULL;
}

const uint8_t *jit_ranges_proved(const struct range_node *nd)
{
    return nd && nd->known ? nd->proved : NULL;
}

/* Does b, the body of a analysed with a shorter packet, decide a jump or
 * bound the trip count where a does not, in its body or a nested one? */
int jit_ranges_gain(const struct range_node *a, const struct range_node *b)
{
    if (!b || !b->known)
        return 0;
    if (!a || !a->known)
        a = NULL;
    for (uint32_t k = 0; b->proved && k < b->end - b->start; k++)
        if (b->proved[k] && (!a || !a->proved || a->proved[k] != b->proved[k]))
            return 1;
    if (b->n_known && (!a || !a->n_known || b->n_lo > a->n_lo || b->n_hi < a->n_hi))
        return 1;
    for (int k = 0; k < b->n_kids; k++)
        if (jit_ranges_gain(jit_ranges_kid(a, b->kids[k]->call_pc), b->kids[k]))
            return 1;
    return 0;
}

/* Could the analysis with the packet's length at most 65,528 decide more
 * of nd's nest than nd does? A guess, cheap (what it misses costs speed,
 * never correctness): a length that short decides a compare the long
 * analysis left open, in a body of the nest, against a constant of its
 * size (the compiler's `x > 65527` before a packet read), or bounds a
 * trip count computed from the length; a compare against a small one
 * through a shift or a division of an index bounded by the length is
 * missed. */
int jit_ranges_may_gain(const struct jit *j, const struct range_node *nd)
{
    if (!nd || !nd->known || (nd->body && (!nd->n_known || nd->n_len)))
        return 1;
    for (uint32_t pc = nd->start; nd->body && pc < nd->end; pc++) {
        const struct bl_insn *in = &j->insns[pc];
        uint8_t cls = BL_CLASS(in->code), op = BL_OP(in->code);
        if ((cls == BL_JMP || cls == BL_JMP32) && op != BL_JA && op != BL_CALL &&
            op != BL_EXIT && BL_SRC(in->code) == BL_K &&
            (in->imm >= 32768 || in->imm <= -32768) &&
            (!nd->proved || !nd->proved[pc - nd->start]))
            return 1;
    }
    for (int k = 0; k < nd->n_kids; k++)
        if (jit_ranges_may_gain(j, nd->kids[k]))
            return 1;
    return 0;
}

/* The offsets from the body's ctx of two slots holding the packet's start
 * and end at the call (8-byte, the body never changes them): 1, or 0 when
 * there are none */
int jit_ranges_pkt_slots(const struct range_node *nd, int16_t *data, int16_t *data_end)
{
    int got = 0;
    for (int c = 0; nd && nd->known && c < nd->n_cand; c++) {
        const struct aff *f = &nd->cand_form[c];
        if (nd->cand_sym[c] >= 0 || f->base != 0 || f->k != 0 || f->c[0] != 1 ||
            f->sym[0] != SYM_DATA)
            continue;
        if (f->n == 1) {
            *data = nd->cand[c];
            got |= 1;
        } else if (f->n == 2 && f->c[1] == 1 && f->sym[1] == SYM_LEN) {
            *data_end = nd->cand[c];
            got |= 2;
        }
    }
    return got == 3;
}

int32_t jit_ranges_trip_const(const struct range_node *nd)
{
    return nd && nd->n_known && nd->n_lo == nd->n_hi && nd->n_lo <= BL_MAX_LOOPS ? (int32_t)nd->n_lo : 0;
}

void jit_ranges_trip(const struct range_node *nd, int *small, int *nonzero)
{
    *small = nd && nd->n_known;
    *nonzero = nd && nd->n_known && nd->n_lo >= 1;
}

int jit_ranges_iv_ends(const struct range_node *nd, uint32_t pc, int64_t c)
{
    if (!nd || !nd->known || !nd->body || !nd->i_rel || !nd->after || c >= 0 || c < -COEF ||
        pc < nd->start || pc >= nd->end)
        return 0;
    const struct aff *f = &nd->after[pc - nd->start];
    if (f->base != 0 || f->n == 0 || f->sym[0] != 0 || f->c[0] != c)
        return 0;
    /* rest + c * (n - 1), with rest = f - c * I */
    struct aff_sum l;
    int64_t lo, hi;
    jit_aff_sum_of(&l, f);
    if (!jit_aff_sum_add_form(&l, &(struct aff){1, 0, {1}, {0}, 0}, -c) ||
        !lin_add(&l, &nd->nm1, c) || !plain_iv(nd, &l, &lo, &hi))
        return 0;
    return lo >= 0 && hi <= -c - 1;
}

void jit_ranges_free(struct range_node *nd)
{
    free_node(nd);
}
