/* affine.c - affine forms, their sums and intervals (see affine.h). */
#include "affine.h"

#include <string.h>

#define SUM_C ((int64_t)1 << 42)   /* |coefficient| of a sum */
#define MUL_MAX ((int64_t)1 << 22) /* |multiplier| of a sum's add */
#define SCALE_MAX ((int64_t)1 << 20)

const struct aff jit_aff_top = {0, AFF_TOP, {0}, {0}, 0};

int jit_aff_sum_add(struct aff_sum *d, const struct aff_sum *s, int64_t m)
{
    if (m > MUL_MAX || m < -MUL_MAX)
        return 0;
    struct aff_sum r;
    r.n = 0;
    int p = 0, q = 0;
    while (p < d->n || q < s->n) {           /* (a merge of two sorted lists) */
        uint64_t sy;
        int64_t c;
        if (q == s->n || (p < d->n && d->sym[p] < s->sym[q])) {
            sy = d->sym[p];
            c = d->c[p++];
        } else if (p == d->n || s->sym[q] < d->sym[p]) {
            if (s->c[q] > SUM_C || s->c[q] < -SUM_C)
                return 0;
            sy = s->sym[q];
            c = m * s->c[q++];
        } else {
            if (s->c[q] > SUM_C || s->c[q] < -SUM_C)
                return 0;
            sy = d->sym[p];
            c = d->c[p++] + m * s->c[q++];
        }
        if (c == 0)
            continue;
        if (r.n == AFF_WIDE || c > SUM_C || c < -SUM_C)
            return 0;
        r.sym[r.n] = sy;
        r.c[r.n++] = c;
    }
    d->k += (aff_i128)m * s->k;
    d->n = r.n;
    memcpy(d->c, r.c, sizeof r.c[0] * (size_t)r.n);
    memcpy(d->sym, r.sym, sizeof r.sym[0] * (size_t)r.n);
    return 1;
}

int jit_aff_sum_add_form(struct aff_sum *d, const struct aff *f, int64_t m)
{
    struct aff_sum s;
    jit_aff_sum_of(&s, f);
    return jit_aff_sum_add(d, &s, m);
}

int jit_aff_sum_within(const struct aff_sum *s, int64_t cmax, aff_i128 kmax)
{
    for (int q = 0; q < s->n; q++)
        if (s->c[q] > cmax || s->c[q] < -cmax)
            return 0;
    return s->k <= kmax && s->k >= -kmax;
}

int jit_aff_narrow(const struct aff_sum *s, struct aff *f, int64_t cmax, int64_t kmax)
{
    if (s->n > AFF_TERMS || !jit_aff_sum_within(s, cmax, kmax))
        return 0;
    *f = jit_aff_num((int64_t)s->k);
    f->n = (uint8_t)s->n;
    for (int q = 0; q < s->n; q++) {
        f->c[q] = (int32_t)s->c[q];
        f->sym[q] = s->sym[q];
    }
    return 1;
}

/* ---- intervals ------------------------------------------------------------------ */

void jit_aff_sum_range(const struct aff_sum *s, aff_range_fn *range, void *env, aff_i128 *lo,
                   aff_i128 *hi)
{
    /* (|c| <= 2^42, intervals within 2^64, 8 terms: far from 2^127) */
    *lo = *hi = s->k;
    for (int q = 0; q < s->n; q++) {
        aff_i128 a, b;
        range(env, s->sym[q], &a, &b);
        *lo += s->c[q] > 0 ? s->c[q] * a : s->c[q] * b;
        *hi += s->c[q] > 0 ? s->c[q] * b : s->c[q] * a;
    }
}

void jit_aff_range(const struct aff *f, aff_range_fn *range, void *env, aff_i128 *lo, aff_i128 *hi)
{
    struct aff_sum s;
    jit_aff_sum_of(&s, f);
    jit_aff_sum_range(&s, range, env, lo, hi);
}

/* ---- instructions --------------------------------------------------------------- */

int jit_aff_alu64(const struct bl_insn *in, const struct aff *d, const struct aff *b,
              struct aff_sum *out)
{
    if (d->base || b->base)
        return 0;
    struct aff_sum zero = {0, {0}, {0}, 0};
    int64_t m;
    *out = zero;
    switch (BL_OP(in->code)) {
    case BL_ADD:
    case BL_SUB:
        jit_aff_sum_of(out, d);
        return jit_aff_sum_add_form(out, b, BL_OP(in->code) == BL_ADD ? 1 : -1);
    case BL_NEG:
        return jit_aff_sum_add_form(out, d, -1);
    case BL_MUL:
        if (b->n == 0 && b->k <= SCALE_MAX && b->k >= -SCALE_MAX)
            return jit_aff_sum_add_form(out, d, b->k);
        if (d->n == 0 && d->k <= SCALE_MAX && d->k >= -SCALE_MAX)
            return jit_aff_sum_add_form(out, b, d->k);
        return 0;
    case BL_LSH:
        if (BL_SRC(in->code) != BL_K || in->imm < 0 || in->imm > 16)
            return 0;
        m = (int64_t)1 << in->imm;
        return jit_aff_sum_add_form(out, d, m);
    default:
        return 0;
    }
}

int jit_aff_decide(uint8_t op, aff_i128 lo, aff_i128 hi)
{
    int t, f;                                  /* always, never */
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

int jit_aff_in_s64(aff_i128 lo, aff_i128 hi)
{
    return lo >= -((aff_i128)1 << 63) && hi < ((aff_i128)1 << 63);
}

int jit_aff_in_u64(aff_i128 lo, aff_i128 hi)
{
    return lo >= 0 && hi < ((aff_i128)1 << 64);
}

/* ---- slots ---------------------------------------------------------------------- */

int jit_aff_slot_find(const struct aff_slot *s, int n, uint8_t base, int64_t off)
{
    for (int k = 0; k < n; k++)
        if (s[k].base == base && s[k].off == off)
            return k;
    return -1;
}

void jit_aff_slot_clobber(struct aff_slot *s, int *n, uint8_t base, int64_t off, int size)
{
    for (int k = *n; k-- > 0;)
        if (s[k].base == base && s[k].off < off + size && off < s[k].off + 8)
            s[k] = s[--*n];
}
