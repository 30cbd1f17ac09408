/* tnum.c - tracked numbers (see tnum.h). Each operation is the classic
 * bit-level abstraction: known bits propagate, unknown bits (and carries
 * they may cause) spread. */
#include <stdio.h>

#include "tnum.h"

const struct tnum tnum_unknown = { .value = 0, .mask = UINT64_MAX };

struct tnum tnum_lshift(struct tnum a, uint8_t shift)
{
    if (shift >= 64)
        return tnum_const(0);
    return TNUM(a.value << shift, a.mask << shift);
}

struct tnum tnum_rshift(struct tnum a, uint8_t shift)
{
    if (shift >= 64)
        return tnum_const(0);
    return TNUM(a.value >> shift, a.mask >> shift);
}

struct tnum tnum_arshift(struct tnum a, uint8_t shift, uint8_t width)
{
    /* sign-extend from bit width-1 in both parts, shift, then keep width bits */
    if (width == 32) {
        int32_t v = (int32_t)(uint32_t)a.value, m = (int32_t)(uint32_t)a.mask;
        shift &= 31;
        return TNUM((uint32_t)(v >> shift), (uint32_t)(m >> shift));
    }
    shift &= 63;
    return TNUM((uint64_t)((int64_t)a.value >> shift), (uint64_t)((int64_t)a.mask >> shift));
}

struct tnum tnum_add(struct tnum a, struct tnum b)
{
    uint64_t sm = a.mask + b.mask;
    uint64_t sv = a.value + b.value;
    uint64_t sigma = sm + sv;
    uint64_t chi = sigma ^ sv;            /* bits a carry may have reached */
    uint64_t mu = chi | a.mask | b.mask;
    return TNUM(sv & ~mu, mu);
}

struct tnum tnum_sub(struct tnum a, struct tnum b)
{
    uint64_t dv = a.value - b.value;
    uint64_t alpha = dv + a.mask;
    uint64_t beta = dv - b.mask;
    uint64_t chi = alpha ^ beta;          /* bits a borrow may have reached */
    uint64_t mu = chi | a.mask | b.mask;
    return TNUM(dv & ~mu, mu);
}

struct tnum tnum_neg(struct tnum a)
{
    return tnum_sub(tnum_const(0), a);
}

struct tnum tnum_and(struct tnum a, struct tnum b)
{
    uint64_t alpha = a.value | a.mask, beta = b.value | b.mask;
    uint64_t v = a.value & b.value;
    return TNUM(v, alpha & beta & ~v);
}

struct tnum tnum_xor(struct tnum a, struct tnum b)
{
    uint64_t v = a.value ^ b.value;
    uint64_t mu = a.mask | b.mask;
    return TNUM(v & ~mu, mu);
}

struct tnum tnum_mul(struct tnum a, struct tnum b)
{
    /* long multiplication: known-one bits of a add b's value exactly,
     * unknown bits of a add b's possible values as unknown */
    uint64_t acc_v = a.value * b.value;
    struct tnum acc_m = tnum_const(0);
    while (a.value || a.mask) {
        if (a.value & 1)
            acc_m = tnum_add(acc_m, TNUM(0, b.mask));
        else if (a.mask & 1)
            acc_m = tnum_add(acc_m, TNUM(0, b.value | b.mask));
        a = tnum_rshift(a, 1);
        b = tnum_lshift(b, 1);
    }
    return tnum_add(TNUM(acc_v, 0), acc_m);
}

int tnum_str(char *buf, size_t size, struct tnum a)
{
    if (a.mask == 0)
        return snprintf(buf, size, "%#llx", (unsigned long long)a.value);
    return snprintf(buf, size, "(%#llx; %#llx)", (unsigned long long)a.value,
                    (unsigned long long)a.mask);
}
