/* affine.h - affine forms over symbols, their intervals and what a
 * conditional jump on two of them decides: the algebra the JIT's two value
 * analyses share (inline_ranges.c, the values of nested loops;
 * range_facts.c, the facts of one iteration).
 *
 * A form is k + sum c[q] * sym[q] over up to AFF_TERMS symbols, kept in
 * increasing symbol order so that equal forms are equal term by term. A
 * symbol is a number the analysis gives a meaning to (an entry of its
 * interval table, or a tag naming the instruction that defined a value);
 * the analysis says what interval it lies in, through an aff_range_fn.
 * What a form means (the register's value as an integer, or modulo 2^64)
 * is the analysis's too; this module only computes exactly: a sum never
 * wraps (int64 coefficients kept under 2^42, an i128 constant), and an
 * interval is that of the integers, in i128. */
#ifndef BPFLUA_AFFINE_H
#define BPFLUA_AFFINE_H

#include <stdint.h>

#include "../core/insn.h"

typedef __int128 aff_i128;

#define AFF_TERMS 3            /* symbols of a form in a register or slot */
#define AFF_WIDE 8             /* symbols of a sum being combined */
#define AFF_TOP 0xff           /* base of a form that says nothing */

struct aff {
    uint8_t n;
    uint8_t base;              /* 0: a number; AFF_TOP; else a pointer the
                                * analysis names, k its offset (no terms) */
    int32_t c[AFF_TERMS];
    uint64_t sym[AFF_TERMS];
    int64_t k;
};

/* a form being combined, or a linear fact: wider, no overflow */
struct aff_sum {
    int n;
    int64_t c[AFF_WIDE];
    uint64_t sym[AFF_WIDE];
    aff_i128 k;
};

/* the interval of symbol sym, [*lo, *hi] (within +-2^64) */
typedef void aff_range_fn(void *env, uint64_t sym, aff_i128 *lo, aff_i128 *hi);

extern const struct aff jit_aff_top;

/* (small and called at every instruction of the walks: inline) */
static inline struct aff jit_aff_num(int64_t k)
{
    struct aff f = {0, 0, {0}, {0}, k};
    return f;
}

static inline struct aff jit_aff_sym(uint64_t sym)
{
    struct aff f = {1, 0, {1}, {sym}, 0};
    return f;
}

static inline struct aff jit_aff_ptr(uint8_t base, int64_t off)
{
    struct aff f = {0, base, {0}, {0}, off};
    return f;
}

static inline int jit_aff_is_num(const struct aff *f)   /* a number without symbols */
{
    return f->base == 0 && f->n == 0;
}

static inline int jit_aff_equal(const struct aff *a, const struct aff *b)
{
    if (a->n != b->n || a->base != b->base || a->k != b->k)
        return 0;
    for (int q = 0; q < a->n; q++)
        if (a->c[q] != b->c[q] || a->sym[q] != b->sym[q])
            return 0;
    return 1;
}

static inline void jit_aff_sum_of(struct aff_sum *s, const struct aff *f)   /* (f a number) */
{
    s->n = f->n;
    s->k = f->k;
    for (int q = 0; q < f->n; q++) {
        s->c[q] = f->c[q];
        s->sym[q] = f->sym[q];
    }
}

/* d += m * s: 0 (d unchanged) when d would need more than AFF_WIDE terms
 * or a coefficient over 2^42, or |m| > 2^22 */
int jit_aff_sum_add(struct aff_sum *d, const struct aff_sum *s, int64_t m);
int jit_aff_sum_add_form(struct aff_sum *d, const struct aff *f, int64_t m);
/* every |coefficient| <= cmax and |k| <= kmax */
int jit_aff_sum_within(const struct aff_sum *s, int64_t cmax, aff_i128 kmax);
/* s as a form when it has at most AFF_TERMS terms and is within cmax, kmax */
int jit_aff_narrow(const struct aff_sum *s, struct aff *f, int64_t cmax, int64_t kmax);

/* the integers s (f) takes with every symbol free in its interval */
void jit_aff_sum_range(const struct aff_sum *s, aff_range_fn *range, void *env, aff_i128 *lo,
                   aff_i128 *hi);
void jit_aff_range(const struct aff *f, aff_range_fn *range, void *env, aff_i128 *lo,
                   aff_i128 *hi);

/* The 64-bit ALU instruction in (add, sub, neg, a multiply with either
 * side a constant, a left shift by 0..16) on the numbers d and b (b the
 * source register's form or the immediate): 1 and the result in *out, or
 * 0 when it is no affine function of them the forms can hold. */
int jit_aff_alu64(const struct bl_insn *in, const struct aff *d, const struct aff *b,
              struct aff_sum *out);

/* The jump `x op y` (op one of BL_JEQ, BL_JNE, BL_J[S]{GT,GE,LT,LE}) with
 * x - y in [lo, hi] as integers (the caller has checked that the compare
 * sees the integers, no wrap): 2 always taken, 1 never, 0 either. */
int jit_aff_decide(uint8_t op, aff_i128 lo, aff_i128 hi);
/* [lo, hi] lies in the range a 64-bit compare reads, signed or unsigned */
int jit_aff_in_s64(aff_i128 lo, aff_i128 hi);
int jit_aff_in_u64(aff_i128 lo, aff_i128 hi);

/* 8-byte values stored in memory, by pointer base and offset */
struct aff_slot {
    uint8_t base;
    int16_t off;
    struct aff v;
};
int jit_aff_slot_find(const struct aff_slot *s, int n, uint8_t base, int64_t off);
/* bytes [off, off + size) of base's memory change: the slots they overlap go */
void jit_aff_slot_clobber(struct aff_slot *s, int *n, uint8_t base, int64_t off, int size);

#endif
