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
#define TNUM_UNKNOWN TNUM(0, UINT64_MAX)

/* The small operations the verifier runs on every ALU op and comparison
 * are inline (the file boundary kept them out of the hot loops). */

/* A known constant. */
static inline struct tnum tnum_const(uint64_t value)
{
    return TNUM(value, 0);
}

/* The smallest tnum containing every value in [min, max]. */
static inline struct tnum tnum_range(uint64_t min, uint64_t max)
{
    uint64_t chi = min ^ max;
    if (min > max)
        return TNUM_UNKNOWN;
    if (chi == 0)
        return tnum_const(min);
    /* every bit below the highest differing bit may take any value */
    int bits = 64 - __builtin_clzll(chi);
    if (bits > 63)
        return TNUM_UNKNOWN;
    uint64_t delta = (1ULL << bits) - 1;
    return TNUM(min & ~delta, delta);
}

/* Values in both a and b (meaningless if they share no value). */
static inline struct tnum tnum_intersect(struct tnum a, struct tnum b)
{
    uint64_t v = a.value | b.value;
    uint64_t mu = a.mask & b.mask;
    return TNUM(v & ~mu, mu);
}

/* The smallest tnum containing both a and b. */
static inline struct tnum tnum_union(struct tnum a, struct tnum b)
{
    uint64_t mu = a.mask | b.mask | (a.value ^ b.value);
    return TNUM(a.value & ~mu, mu);
}

/* The low `size` bytes of a (the rest known zero). */
static inline struct tnum tnum_cast(struct tnum a, uint8_t size)
{
    if (size >= 8)
        return a;
    uint64_t keep = (1ULL << (size * 8)) - 1;
    return TNUM(a.value & keep, a.mask & keep);
}

/* The low `size` (2, 4 or 8) bytes of a in reverse order: a byte's known
 * bits stay known where the byte lands. */
static inline struct tnum tnum_bswap(struct tnum a, uint8_t size)
{
    a = tnum_cast(a, size);
    if (size == 2)
        return TNUM(__builtin_bswap16((uint16_t)a.value), __builtin_bswap16((uint16_t)a.mask));
    if (size == 4)
        return TNUM(__builtin_bswap32((uint32_t)a.value), __builtin_bswap32((uint32_t)a.mask));
    return TNUM(__builtin_bswap64(a.value), __builtin_bswap64(a.mask));
}

/* 1 if every value of b is also a value of a. */
static inline int tnum_in(struct tnum a, struct tnum b)
{
    if (b.mask & ~a.mask)
        return 0;
    b.value &= ~a.mask;
    return a.value == b.value;
}

struct tnum tnum_lshift(struct tnum a, uint8_t shift);
struct tnum tnum_rshift(struct tnum a, uint8_t shift);
/* Arithmetic shift of the low `width` bits (32 or 64), sign from bit width-1. */
struct tnum tnum_arshift(struct tnum a, uint8_t shift, uint8_t width);

struct tnum tnum_add(struct tnum a, struct tnum b);
struct tnum tnum_sub(struct tnum a, struct tnum b);
struct tnum tnum_neg(struct tnum a);
struct tnum tnum_and(struct tnum a, struct tnum b);
/* Inline: tnum_with_subreg below is built on it. */
static inline struct tnum tnum_or(struct tnum a, struct tnum b)
{
    uint64_t v = a.value | b.value;
    uint64_t mu = a.mask | b.mask;
    return TNUM(v, mu & ~v);
}
struct tnum tnum_xor(struct tnum a, struct tnum b);
struct tnum tnum_mul(struct tnum a, struct tnum b);

static inline int tnum_is_const(struct tnum a) { return a.mask == 0; }
static inline int tnum_equals_const(struct tnum a, uint64_t b)
{
    return a.mask == 0 && a.value == b;
}
static inline int tnum_is_unknown(struct tnum a) { return a.mask == UINT64_MAX; }
/* 1 if the concrete value v is a member of a. */
static inline int tnum_contains(struct tnum a, uint64_t v)
{
    return (v & ~a.mask) == a.value;
}
static inline uint64_t tnum_min(struct tnum a) { return a.value; }
static inline uint64_t tnum_max(struct tnum a) { return a.value | a.mask; }

/* Low 32 bits only, and the 64-bit tnum with its low 32 bits replaced. */
static inline struct tnum tnum_subreg(struct tnum a) { return tnum_cast(a, 4); }
static inline struct tnum tnum_with_subreg(struct tnum a, struct tnum subreg)
{
    struct tnum hi = TNUM(a.value & ~0xffffffffULL, a.mask & ~0xffffffffULL);
    return tnum_or(hi, tnum_subreg(subreg));
}

/* Formats a as "(value; mask)" hex, or the constant; returns the length
 * snprintf would have written. */
int tnum_str(char *buf, size_t size, struct tnum a);

#endif
