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
 * holds an affine form c + sum coef * sym over symbols with known
 * intervals: the body's index I (in [0, n - 1], where n is itself a form
 * of the body's symbols when the caller's trip count is one), the values
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

#include "jit_internal.h"
#include "../core/insn.h"
#include "../stdlib/helpers.h"

#define TERMS 3            /* symbols per form */
#define WIDE 8             /* symbols of a form being combined */
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

enum { V_TOP, V_VAL, V_PTR };
/* function frame, body's ctx, body's own frame, a function's arguments
 * R1-R5 (pointers into its caller's memory, maybe the same memory: no
 * slots are kept for them, their writes are noted) */
enum { P_FP, P_CTX, P_OWN, P_A1 };
#define IS_ARG(p) ((p) >= P_A1)

struct form {
    uint8_t kind, nt, ptr;
    int16_t sym[TERMS];
    int32_t coef[TERMS];
    int64_t c;                     /* constant, or the pointer's offset */
};

struct slot {
    uint8_t ptr;
    int16_t off;
    struct form v;
};

struct state {
    struct form r[BL_NREGS];
    int n_slots;
    struct slot s[MAX_SLOTS];
};

struct lin {
    int n;
    int16_t sym[WIDE];
    int64_t coef[WIDE];
    int64_t c;
};

struct range_node {
    uint32_t call_pc, start, end;
    int body;                      /* a loop body (else a function) */
    uint8_t *proved;               /* per instruction: 1 never taken, 2 always */
    int n_known;                   /* the trip count at the call is in [n_lo, n_hi] */
    int64_t n_lo, n_hi;
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
    struct form nm1;
    int n_cand;
    int16_t cand[MAX_SLOTS];       /* assumed invariant: symbol cand_sym[k] */
    int16_t cand_sym[MAX_SLOTS];
};

struct ra {
    const struct jit *j;
    long work;
    uint32_t stack[MAX_DEPTH + 1];
    int depth;
};

static const struct form TOP = {V_TOP, 0, 0, {0}, {0}, 0};

static struct form f_const(int64_t c)
{
    struct form f = TOP;
    f.kind = V_VAL;
    f.c = c;
    return f;
}

static int in_lim(int64_t v)
{
    return v >= -LIM && v <= LIM;
}

static int new_sym(struct range_node *nd, int64_t lo, int64_t hi)
{
    if (nd->n_syms >= MAX_SYMS || !in_lim(lo) || !in_lim(hi) || lo > hi)
        return -1;
    nd->lo[nd->n_syms] = lo;
    nd->hi[nd->n_syms] = hi;
    return nd->n_syms++;
}

/* ---- linear combinations ------------------------------------------------------ */

static void lin_of(struct lin *l, const struct form *f)
{
    l->n = f->nt;
    l->c = f->c;
    for (int k = 0; k < f->nt; k++) {
        l->sym[k] = f->sym[k];
        l->coef[k] = f->coef[k];
    }
}

/* l += m * f; 0 when it does not fit */
static int lin_add(struct lin *l, const struct lin *f, int64_t m)
{
    if (m > COEF || m < -COEF || !in_lim(f->c))
        return 0;
    l->c += m * f->c;
    for (int k = 0; k < f->n; k++) {
        int q = 0;
        while (q < l->n && l->sym[q] != f->sym[k])
            q++;
        if (q == l->n) {
            if (l->n == WIDE)
                return 0;
            l->sym[l->n] = f->sym[k];
            l->coef[l->n++] = 0;
        }
        l->coef[q] += m * f->coef[k];
        if (l->coef[q] > COEF2 || l->coef[q] < -COEF2)
            return 0;
        if (l->coef[q] == 0) {
            l->sym[q] = l->sym[l->n - 1];
            l->coef[q] = l->coef[--l->n];
        }
    }
    return l->c >= -SUM && l->c <= SUM;
}

/* the interval of l with every symbol free in its own interval */
static int plain_iv(const struct range_node *nd, const struct lin *l, int64_t *lo, int64_t *hi)
{
    /* (terms up to 2^60, sums up to 2^61: no overflow) */
    *lo = *hi = l->c;
    for (int k = 0; k < l->n; k++) {
        int64_t a = l->coef[k];
        if (a > COEF2 || a < -COEF2 || *lo < -SUM || *hi > SUM)
            return 0;
        int64_t x = a * nd->lo[l->sym[k]], y = a * nd->hi[l->sym[k]];
        *lo += x < y ? x : y;
        *hi += x < y ? y : x;
    }
    return *lo >= -SUM && *hi <= SUM;
}

/* the interval of l: I at both ends of [0, n - 1] when n is a form */
static int lin_iv(const struct range_node *nd, const struct lin *l, int64_t *lo, int64_t *hi)
{
    int q = -1;
    for (int k = 0; k < l->n; k++)
        if (l->sym[k] == 0 && nd->body)
            q = k;
    if (q < 0 || !nd->i_rel)
        return plain_iv(nd, l, lo, hi);
    struct lin l0 = *l, l1, nm1;
    int64_t a = l->coef[q];
    l0.sym[q] = l0.sym[l0.n - 1];
    l0.coef[q] = l0.coef[--l0.n];
    l1 = l0;
    lin_of(&nm1, &nd->nm1);
    int64_t lo0, hi0, lo1, hi1;
    if (!lin_add(&l1, &nm1, a) || !plain_iv(nd, &l0, &lo0, &hi0) ||
        !plain_iv(nd, &l1, &lo1, &hi1))
        return plain_iv(nd, l, lo, hi);
    *lo = lo0 < lo1 ? lo0 : lo1;
    *hi = hi0 > hi1 ? hi0 : hi1;
    return 1;
}

static int form_iv(const struct range_node *nd, const struct form *f, int64_t *lo, int64_t *hi)
{
    if (f->kind != V_VAL)
        return 0;
    struct lin l;
    lin_of(&l, f);
    return lin_iv(nd, &l, lo, hi);
}

/* a value known only as [lo, hi]: a fresh symbol */
static struct form f_range(struct range_node *nd, int64_t lo, int64_t hi)
{
    if (lo == hi && in_lim(lo))
        return f_const(lo);
    int s = new_sym(nd, lo, hi);
    if (s < 0)
        return TOP;
    struct form f = f_const(0);
    f.nt = 1;
    f.sym[0] = (int16_t)s;
    f.coef[0] = 1;
    return f;
}

/* l as a form: as it is when small, else its interval, else unknown */
static struct form form_of(struct range_node *nd, const struct lin *l)
{
    int64_t lo, hi;
    if (!lin_iv(nd, l, &lo, &hi) || !in_lim(lo) || !in_lim(hi))
        return TOP;
    int fits = l->n <= TERMS && in_lim(l->c);
    for (int k = 0; k < l->n; k++)
        fits &= l->coef[k] <= COEF && l->coef[k] >= -COEF;
    if (!fits)
        return f_range(nd, lo, hi);
    struct form f = f_const(l->c);
    f.nt = (uint8_t)l->n;
    for (int k = 0; k < l->n; k++) {
        f.sym[k] = l->sym[k];
        f.coef[k] = (int32_t)l->coef[k];
    }
    return f;
}

static int form_eq(const struct form *a, const struct form *b)
{
    if (a->kind != b->kind || a->c != b->c || a->nt != b->nt || a->ptr != b->ptr)
        return 0;
    for (int k = 0; k < a->nt; k++)
        if (a->sym[k] != b->sym[k] || a->coef[k] != b->coef[k])
            return 0;
    return 1;
}

/* a + m * b, both values */
static struct form f_add(struct range_node *nd, const struct form *a, const struct form *b,
                         int64_t m)
{
    if (a->kind == V_PTR && b->kind == V_VAL && b->nt == 0 && m >= -1 && m <= 1) {
        struct form f = *a;
        f.c += m * b->c;
        return in_lim(f.c) ? f : TOP;
    }
    if (a->kind != V_VAL || b->kind != V_VAL)
        return TOP;
    struct lin l, lb;
    lin_of(&l, a);
    lin_of(&lb, b);
    if (!lin_add(&l, &lb, m))
        return TOP;
    return form_of(nd, &l);
}

static struct form f_scale(struct range_node *nd, const struct form *a, int64_t m)
{
    if (a->kind != V_VAL || m > COEF || m < -COEF)
        return TOP;
    struct lin l = {0, {0}, {0}, 0};
    struct lin la;
    lin_of(&la, a);
    if (!lin_add(&l, &la, m))
        return TOP;
    return form_of(nd, &l);
}

/* ---- states ------------------------------------------------------------------- */

static int slot_find(const struct state *s, uint8_t ptr, int64_t off)
{
    for (int k = 0; k < s->n_slots; k++)
        if (s->s[k].ptr == ptr && s->s[k].off == off)
            return k;
    return -1;
}

static void slot_drop(struct state *s, int k)
{
    s->s[k] = s->s[--s->n_slots];
}

/* bytes [off, off + size) of ptr's memory change */
static void slots_clobber(struct state *s, uint8_t ptr, int64_t off, int size)
{
    for (int k = s->n_slots; k-- > 0;)
        if (s->s[k].ptr == ptr && s->s[k].off < off + size && off < s->s[k].off + 8)
            slot_drop(s, k);
}

static void slot_set(struct state *s, uint8_t ptr, int64_t off, const struct form *v)
{
    slots_clobber(s, ptr, off, 8);
    if (v->kind == V_TOP || IS_ARG(ptr) || s->n_slots == MAX_SLOTS || off < -32768 || off > 32767)
        return;
    s->s[s->n_slots].ptr = ptr;
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
                     const struct form *v)
{
    if (ptr == P_OWN)
        return;
    note_write(nd, ptr, off, size);
    if (IS_ARG(ptr)) {
        for (int k = s->n_slots; k-- > 0;)
            if (IS_ARG(s->s[k].ptr))
                slot_drop(s, k);
    } else if (v && size == 8) {
        slot_set(s, ptr, off, v);
    } else {
        slots_clobber(s, ptr, off, size);
    }
}

/* the state reaching an instruction from another edge */
static void merge(struct range_node *nd, struct state *into, const struct state *s)
{
    for (int r = 0; r < BL_NREGS; r++) {
        struct form *a = &into->r[r];
        const struct form *b = &s->r[r];
        if (form_eq(a, b))
            continue;
        int64_t la, ha, lb, hb;
        if (form_iv(nd, a, &la, &ha) && form_iv(nd, b, &lb, &hb))
            *a = f_range(nd, la < lb ? la : lb, ha > hb ? ha : hb);
        else
            *a = TOP;
    }
    for (int k = into->n_slots; k-- > 0;) {
        int q = slot_find(s, into->s[k].ptr, into->s[k].off);
        if (q < 0 || !form_eq(&into->s[k].v, &s->s[q].v))
            slot_drop(into, k);
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

static struct form alu(struct range_node *nd, const struct bl_insn *in, const struct form *d,
                       const struct form *src)
{
    uint8_t op = BL_OP(in->code);
    int is_k = BL_SRC(in->code) == BL_K;
    struct form kf = f_const(in->imm);
    const struct form *b = is_k ? &kf : src;
    int64_t lo, hi, blo, bhi;
    int d_iv = form_iv(nd, d, &lo, &hi), b_iv = form_iv(nd, b, &blo, &bhi);
    if (BL_CLASS(in->code) == BL_ALU) {            /* 32-bit: zero-extended */
        if (op == BL_MOV && is_k && in->off == 0)
            return f_const((int64_t)(uint32_t)in->imm);
        if (op == BL_MOV && in->off == 0 && d_iv && b_iv && blo >= 0 && bhi <= 0xffffffffLL)
            return *b;
        return op == BL_END ? TOP : f_range(nd, 0, 0xffffffffLL);
    }
    switch (op) {
    case BL_MOV:
        return in->off == 0 ? *b : TOP;
    case BL_ADD:
        return f_add(nd, d, b, 1);
    case BL_SUB:
        return f_add(nd, d, b, -1);
    case BL_NEG:
        return f_scale(nd, d, -1);
    case BL_MUL:
        if (b->kind == V_VAL && b->nt == 0)
            return f_scale(nd, d, b->c);
        if (d->kind == V_VAL && d->nt == 0)
            return f_scale(nd, b, d->c);
        if (d_iv && b_iv && lo >= -(1 << 20) && hi <= 1 << 20 && blo >= -(1 << 20) &&
            bhi <= 1 << 20) {
            int64_t p[4] = {lo * blo, lo * bhi, hi * blo, hi * bhi}, mn = p[0], mx = p[0];
            for (int k = 1; k < 4; k++) {
                mn = p[k] < mn ? p[k] : mn;
                mx = p[k] > mx ? p[k] : mx;
            }
            return f_range(nd, mn, mx);
        }
        return TOP;
    case BL_LSH:
        if (is_k && in->imm >= 0 && in->imm <= 16)
            return f_scale(nd, d, (int64_t)1 << in->imm);
        return TOP;
    case BL_RSH:
    case BL_ARSH:
        if (is_k && in->imm >= 0 && in->imm < 64 && d_iv && lo >= 0)
            return f_range(nd, lo >> in->imm, hi >> in->imm);
        if (op == BL_RSH && is_k && in->imm >= 24 && in->imm < 64)
            return f_range(nd, 0, (int64_t)(UINT64_MAX >> in->imm));
        return TOP;
    case BL_DIV:
    case BL_MOD:
        if (in->off != 0 || !d_iv || lo < 0 || !b_iv || blo <= 0)
            return TOP;
        if (op == BL_DIV)
            return f_range(nd, lo / bhi, hi / blo);
        return f_range(nd, 0, hi < bhi - 1 ? hi : bhi - 1);
    case BL_AND:
        if (b_iv && blo >= 0)
            return f_range(nd, 0, d_iv && lo >= 0 && hi < bhi ? hi : bhi);
        if (d_iv && lo >= 0)
            return f_range(nd, 0, hi);
        return TOP;
    case BL_OR:
    case BL_XOR:
        if (d_iv && b_iv && lo >= 0 && blo >= 0) {
            int64_t m = hi > bhi ? hi : bhi, p = 1;
            while (p <= m)
                p <<= 1;
            return f_range(nd, 0, p - 1);
        }
        return TOP;
    default:
        return TOP;
    }
}

/* 1: the jump at in is never taken, 2: always, 0: either */
static int decide(const struct range_node *nd, const struct bl_insn *in, const struct form *a,
                  const struct form *b)
{
    int64_t alo, ahi, blo, bhi, lo, hi;
    if (!form_iv(nd, a, &alo, &ahi) || !form_iv(nd, b, &blo, &bhi))
        return 0;
    struct lin l, lb;
    lin_of(&l, a);
    lin_of(&lb, b);
    if (!lin_add(&l, &lb, -1) || !lin_iv(nd, &l, &lo, &hi))
        return 0;
    uint8_t op = BL_OP(in->code);
    int is32 = BL_CLASS(in->code) == BL_JMP32;
    int nonneg = alo >= 0 && blo >= 0, neg = ahi < 0 && bhi < 0;
    if (is32 && !(nonneg && ahi <= INT32_MAX && bhi <= INT32_MAX))
        return 0;
    int unsig = op == BL_JGT || op == BL_JGE || op == BL_JLT || op == BL_JLE;
    if (unsig && !nonneg && !neg)
        return 0;
    int t, f;                                  /* always, never: of a - b's sign */
    switch (op) {
    case BL_JEQ: t = lo == 0 && hi == 0; f = lo > 0 || hi < 0; break;
    case BL_JNE: t = lo > 0 || hi < 0; f = lo == 0 && hi == 0; break;
    case BL_JGT: case BL_JSGT: t = lo > 0; f = hi <= 0; break;
    case BL_JGE: case BL_JSGE: t = lo >= 0; f = hi < 0; break;
    case BL_JLT: case BL_JSLT: t = hi < 0; f = lo >= 0; break;
    case BL_JLE: case BL_JSLE: t = hi <= 0; f = lo > 0; break;
    default: return 0;
    }
    return t ? 2 : f ? 1 : 0;
}

static void free_node(struct range_node *nd);
static struct range_node *analyse_call(struct ra *ra, struct range_node *nd, struct state *s,
                                       uint32_t pc);

static void call_effects(struct range_node *nd, struct state *s, int all)
{
    for (int r = BL_R0; r <= BL_R5; r++)
        s->r[r] = TOP;
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
        const struct form *a = &s->r[BL_R1 + cn->writes[k].ptr - P_A1];
        if (a->kind != V_PTR)
            ok = 0;
        else
            store_at(nd, s, a->ptr, a->c + cn->writes[k].off, cn->writes[k].size, NULL);
    }
    free_node(cn);
    return ok;
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
        s->r[in->dst] = in->src == 0 ? f_const((int64_t)((uint64_t)(uint32_t)in->imm |
                                                         (uint64_t)in[1].imm << 32))
                                     : TOP;
        if (s->r[in->dst].kind == V_VAL && !in_lim(s->r[in->dst].c))
            s->r[in->dst] = TOP;
        return;
    }
    switch (cls) {
    case BL_ALU:
    case BL_ALU64:
        s->r[in->dst] = alu(nd, in, &s->r[in->dst], &s->r[in->src]);
        return;
    case BL_LDX: {
        const struct form *p = &s->r[in->src];
        int q = p->kind == V_PTR && size == 8 && mode == BL_MEM
                    ? slot_find(s, p->ptr, p->c + in->off)
                    : -1;
        if (q >= 0)
            s->r[in->dst] = s->s[q].v;
        else if (mode == BL_MEM && size < 8)
            s->r[in->dst] = f_range(nd, 0, ((int64_t)1 << (8 * size)) - 1);
        else
            s->r[in->dst] = TOP;
        return;
    }
    case BL_ST:
    case BL_STX: {
        const struct form *p = &s->r[in->dst];
        if (p->kind != V_PTR) {
            unknown_store(nd, s, j, pc);
        } else {
            int64_t off = p->c + in->off;
            if (mode == BL_ATOMIC) {
                int64_t lo, hi;
                int noop = (in->imm == BL_ADD || in->imm == BL_OR || in->imm == BL_XOR) &&
                           form_iv(nd, &s->r[in->src], &lo, &hi) && lo == 0 && hi == 0;
                if (!noop)
                    store_at(nd, s, p->ptr, off, size, NULL);
            } else {
                struct form v = cls == BL_ST ? f_const(in->imm) : s->r[in->src];
                store_at(nd, s, p->ptr, off, size, mode == BL_MEM ? &v : NULL);
            }
        }
        if (mode == BL_ATOMIC && in->imm == BL_CMPXCHG)
            s->r[BL_R0] = TOP;
        else if (mode == BL_ATOMIC && (in->imm & BL_FETCH))
            s->r[in->src] = TOP;
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
    struct form kf = f_const(in->imm);
    int d = decide(nd, in, &s->r[in->dst], BL_SRC(in->code) == BL_K ? &kf : &s->r[in->src]);
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
        const struct form *v = q >= 0 ? &s->s[q].v : NULL;
        int sym = nd->cand_sym[c];
        int same = v && v->kind == V_VAL &&
                   ((v->nt == 1 && v->sym[0] == sym && v->coef[0] == 1 && v->c == 0) ||
                    (v->nt == 0 && nd->lo[sym] == v->c && nd->hi[sym] == v->c));
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
        in[0] = malloc(sizeof *in[0]);
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
            free(cur);
            ok = 0;
            break;
        }
        uint32_t pc = nd->start + k;
        const struct bl_insn *ins = &ra->j->insns[pc];
        int take;
        step(ra, nd, cur, pc, &take);
        uint32_t succ[2] = {UINT32_MAX, UINT32_MAX};
        uint8_t cls = BL_CLASS(ins->code);
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
        } else {
            succ[1] = k + (bl_is_lddw(ins) ? 2 : 1);
        }
        for (int q = 0; ok && q < 2; q++) {
            uint32_t t = succ[q];
            if (t >= n)
                continue;                      /* (falling off the end: verified code does not) */
            if (in[t]) {
                merge(nd, in[t], cur);
            } else if (q == 0 && succ[1] < n) {
                in[t] = malloc(sizeof *cur);
                if (!in[t])
                    ok = 0;
                else
                    *in[t] = *cur;
            } else {
                in[t] = cur;                   /* (the last use: handed on) */
                cur = NULL;
            }
        }
        free(cur);
    }
    for (uint32_t k = 0; in && k <= n; k++)
        free(in[k]);
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
    struct state *e = malloc(sizeof *e);
    if (kid)
        kid->proved = calloc(fn->end - fn->start, 1);
    if (!kid || !kids || !e || !kid->proved) {
        if (kids)
            nd->kids = kids;
        free_node(kid);
        free(e);
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
    const struct form *nr = &s->r[BL_R1];
    int n_exact = form_iv(nd, nr, &nlo, &nhi) && nlo >= 0 && nhi <= BL_MAX_LOOPS;
    if (!n_exact) {
        nlo = 0;
        nhi = BL_MAX_LOOPS;
    }
    kid->n_known = n_exact;
    kid->n_lo = nlo;
    kid->n_hi = nhi;
    kid->lo[0] = 0;
    kid->hi[0] = nhi > 0 ? nhi - 1 : 0;
    kid->n_syms = 1;
    /* ctx: R3, a pointer this pass follows; its slots are the body's
     * candidates, each a symbol with the interval its form has here */
    struct form ctx = s->r[BL_R3];
    memset(e, 0, sizeof *e);
    for (int r = 0; r < BL_NREGS; r++)
        e->r[r] = TOP;
    e->r[BL_R1] = f_const(0);
    e->r[BL_R1].nt = 1;
    e->r[BL_R1].coef[0] = 1;                /* I: symbol 0 */
    e->r[BL_R2].kind = V_PTR;
    e->r[BL_R2].ptr = P_CTX;
    e->r[BL_R10].kind = V_PTR;
    e->r[BL_R10].ptr = P_OWN;
    /* (the slots this call's body changed in the caller's last pass are
     * no candidates: with less known now, it changes them again) */
    const struct range_node *prev = NULL;
    for (int k = 0; k < nd->n_old && !prev; k++)
        if (nd->old[k]->call_pc == pc && nd->old[k]->known)
            prev = nd->old[k];
    int16_t pslot[MAX_SLOTS];                 /* the caller's slot of each candidate */
    for (int k = 0; ctx.kind == V_PTR && ctx.ptr != P_OWN && k < s->n_slots; k++) {
        const struct slot *sl = &s->s[k];
        int64_t lo, hi, off = sl->off - ctx.c;
        if (sl->ptr != ctx.ptr || !form_iv(nd, &sl->v, &lo, &hi) || off < -32768 || off > 32767)
            continue;
        int was = !prev;
        for (int q = 0; prev && q < prev->n_inv; q++)
            was |= prev->inv[q] == off;
        if (!was)
            continue;
        /* (slots holding the same value get the same symbol: they cancel) */
        int sym = -1;
        for (int c = 0; c < kid->n_cand && sym < 0; c++)
            if (form_eq(&s->s[pslot[c]].v, &sl->v))
                sym = kid->cand_sym[c];
        if (sym < 0)
            sym = new_sym(kid, lo, hi);
        if (sym < 0)
            break;
        pslot[kid->n_cand] = (int16_t)k;
        kid->cand[kid->n_cand] = (int16_t)off;
        kid->cand_sym[kid->n_cand++] = (int16_t)sym;
        struct form v = f_const(0);
        v.nt = 1;
        v.sym[0] = (int16_t)sym;
        v.coef[0] = 1;
        slot_set(e, P_CTX, off, &v);
    }
    /* n - 1 in the body's symbols: each of the caller's symbols in n's
     * form must be the value of a candidate slot (+-1 times it plus a
     * constant) */
    int whole = -1, wm = 1;                   /* n = wm * (a slot's value) + d */
    for (int c = 0; n_exact && nr->kind == V_VAL && nr->nt && c < kid->n_cand && whole < 0; c++)
        for (int m = -1; m <= 1 && whole < 0; m += 2) {
            struct form d = f_add(nd, nr, &s->s[pslot[c]].v, -m);
            if (d.kind == V_VAL && d.nt == 0) {
                whole = c;
                wm = m;
            }
        }
    if (whole >= 0) {
        struct form d = f_add(nd, nr, &s->s[pslot[whole]].v, -wm);
        struct lin l = {1, {kid->cand_sym[whole]}, {wm}, d.c - 1};
        kid->nm1 = form_of(kid, &l);
        kid->i_rel = kid->nm1.kind == V_VAL;
    } else if (n_exact && nr->kind == V_VAL) {
        struct lin l = {0, {0}, {0}, nr->c - 1};
        int ok = 1;
        for (int t = 0; ok && t < nr->nt; t++) {
            int found = -1;
            for (int c = 0; c < kid->n_cand && found < 0; c++) {
                const struct form *v = &s->s[pslot[c]].v;
                if (v->nt == 1 && v->sym[0] == nr->sym[t] && (v->coef[0] == 1 || v->coef[0] == -1))
                    found = c;
            }
            if (found < 0) {
                ok = 0;
                break;
            }
            /* the slot holds v = m * sym + d (m = +-1): sym = m * (S - d) */
            const struct form *v = &s->s[pslot[found]].v;
            struct lin ls = {1, {kid->cand_sym[found]}, {v->coef[0]}, -v->coef[0] * v->c};
            ok = lin_add(&l, &ls, nr->coef[t]);
        }
        if (ok) {
            kid->nm1 = form_of(kid, &l);
            kid->i_rel = kid->nm1.kind == V_VAL && kid->nm1.nt <= TERMS;
            for (int t = 0; t < kid->nm1.nt; t++)
                kid->i_rel &= kid->nm1.sym[t] != 0;
        }
    }
    ra->stack[++ra->depth] = cb;
    analyse_node(ra, kid, e);
    ra->depth--;
    free(e);
    /* after the loop: R0 = the iterations run, R1-R5 clobbered, the slots
     * the body may change forgotten */
    for (int r = BL_R0; r <= BL_R5; r++)
        s->r[r] = TOP;
    int followed = ctx.kind == V_PTR && ctx.ptr != P_OWN;
    if (!kid->known || kid->writes_all || (ctx.kind != V_PTR && kid->n_writes)) {
        s->n_slots = 0;                      /* it may write anything */
        nd->writes_all = 1;
    } else if (followed) {
        for (int k = s->n_slots; k-- > 0;)
            if (s->s[k].ptr == ctx.ptr && !kid_keeps(kid, s->s[k].off - ctx.c))
                slot_drop(s, k);
        for (int k = 0; k < kid->n_writes; k++)
            note_write(nd, ctx.ptr, kid->writes[k].off + ctx.c, kid->writes[k].size);
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
    struct state *e = malloc(sizeof *e);
    if (!nd || !e) {
        free(nd);
        free(e);
        return NULL;
    }
    nd->start = fn->start;
    nd->end = fn->end;
    nd->n_syms = 1;                          /* (symbol 0: no index here) */
    for (int r = 0; r < BL_NREGS; r++)
        e->r[r] = TOP;
    e->n_slots = 0;
    e->r[BL_R10].kind = V_PTR;
    e->r[BL_R10].ptr = P_FP;
    e->r[BL_R10].c = 0;
    for (int r = BL_R1; args && r <= BL_R5; r++) {
        e->r[r].kind = V_PTR;
        e->r[r].ptr = (uint8_t)(P_A1 + r - BL_R1);
    }
    analyse_node(ra, nd, e);
    free(e);
    return nd;
}

struct range_node *jit_ranges_function(const struct jit *j, uint32_t f)
{
    struct ra ra = {j, 0, {j->funcs[f].start}, 0};
    return analyse_function(&ra, f, 0);
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

void jit_ranges_trip(const struct range_node *nd, int *small, int *nonzero)
{
    *small = nd && nd->n_known;
    *nonzero = nd && nd->n_known && nd->n_lo >= 1;
}

void jit_ranges_free(struct range_node *nd)
{
    free_node(nd);
}
