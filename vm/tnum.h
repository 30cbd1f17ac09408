/* tnum.h - tracked numbers: what is known, bit by bit, about a 64-bit value.
 *
 * A tnum {value, mask} stands for every x with (x & ~mask) == value: bits set
 * in mask are unknown, the others equal value's. value & mask is always 0.
 * All operations are pure and take/return by value; each result contains
 * every concrete result of the operation on members of its operands.
 *
 * Pitfall: a tnum is not a range. tnum_range(0, 2) is {0, 3}: it also
 * contains 3. Keep min/max bounds alongside (the verifier does).
 */
#ifndef BPFLUA_TNUM_H
#define BPFLUA_TNUM_H

#include <stddef.h>
#include <stdint.h>

struct tnum {
    uint64_t value;
    uint64_t mask;
};

#define TNUM(v, m) ((struct tnum){ .value = (v), .mask = (m) })

extern const struct tnum tnum_unknown;

/* A known constant. */
struct tnum tnum_const(uint64_t value);
/* The smallest tnum containing every value in [min, max]. */
struct tnum tnum_range(uint64_t min, uint64_t max);

struct tnum tnum_lshift(struct tnum a, uint8_t shift);
struct tnum tnum_rshift(struct tnum a, uint8_t shift);
/* Arithmetic shift of the low `width` bits (32 or 64), sign from bit width-1. */
struct tnum tnum_arshift(struct tnum a, uint8_t shift, uint8_t width);

struct tnum tnum_add(struct tnum a, struct tnum b);
struct tnum tnum_sub(struct tnum a, struct tnum b);
struct tnum tnum_neg(struct tnum a);
struct tnum tnum_and(struct tnum a, struct tnum b);
struct tnum tnum_or(struct tnum a, struct tnum b);
struct tnum tnum_xor(struct tnum a, struct tnum b);
struct tnum tnum_mul(struct tnum a, struct tnum b);

/* Values in both a and b (meaningless if they share no value). */
struct tnum tnum_intersect(struct tnum a, struct tnum b);
/* The smallest tnum containing both a and b. */
struct tnum tnum_union(struct tnum a, struct tnum b);
/* The low `size` bytes of a (the rest known zero). */
struct tnum tnum_cast(struct tnum a, uint8_t size);

static inline int tnum_is_const(struct tnum a) { return a.mask == 0; }
static inline int tnum_equals_const(struct tnum a, uint64_t b)
{
    return a.mask == 0 && a.value == b;
}
static inline int tnum_is_unknown(struct tnum a) { return a.mask == UINT64_MAX; }
/* 1 if every value of b is also a value of a. */
int tnum_in(struct tnum a, struct tnum b);
/* 1 if the concrete value v is a member of a. */
static inline int tnum_contains(struct tnum a, uint64_t v)
{
    return (v & ~a.mask) == a.value;
}
static inline uint64_t tnum_min(struct tnum a) { return a.value; }
static inline uint64_t tnum_max(struct tnum a) { return a.value | a.mask; }

/* Low 32 bits only, and the 64-bit tnum with its low 32 bits replaced. */
static inline struct tnum tnum_subreg(struct tnum a) { return tnum_cast(a, 4); }
struct tnum tnum_with_subreg(struct tnum a, struct tnum subreg);

/* Formats a as "(value; mask)" hex, or the constant; returns the length
 * snprintf would have written. */
int tnum_str(char *buf, size_t size, struct tnum a);

#endif
