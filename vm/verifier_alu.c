/* verifier_alu.c - scalar range tracking through ALU ops and branches.
 *
 * A scalar is a tnum plus four ranges (unsigned and signed, 64 and 32 bit);
 * each op computes them independently and vf_reg_bounds_sync() lets each
 * sharpen the others. ALU32 ops work on the low halves and zero-extend.
 * Pointer arithmetic moves a pointer's fixed offset (constant scalars) or
 * its variable offset, kept in the same tnum/range fields.
 *
 * Branches: refine() narrows both operands assuming the comparison holds;
 * a contradiction means that side of the branch is dead, which is how
 * "always taken" is found without a separate predicate.
 */
#include <assert.h>
#include <errno.h>
#include <string.h>

#include "progtype.h"
#include "verifier_state.h"

#define MAX_VAR_OFF (1 << 29) /* as the kernel's BPF_MAX_VAR_OFF */

static uint64_t umax64(uint64_t a, uint64_t b) { return a > b ? a : b; }
static uint64_t umin64(uint64_t a, uint64_t b) { return a < b ? a : b; }
static int64_t smax64(int64_t a, int64_t b) { return a > b ? a : b; }
static int64_t smin64(int64_t a, int64_t b) { return a < b ? a : b; }

/* ---- bounds bookkeeping --------------------------------------------------- */

static void bounds_from_tnum(struct bl_reg *r)
{
    struct tnum v = r->var, s = tnum_subreg(r->var);
    r->umin = umax64(r->umin, v.value);
    r->umax = umin64(r->umax, v.value | v.mask);
    r->smin = smax64(r->smin, (int64_t)(v.value | (v.mask & (1ULL << 63))));
    r->smax = smin64(r->smax, (int64_t)(v.value | (v.mask & ~(1ULL << 63))));
    r->u32min = (uint32_t)umax64(r->u32min, s.value);
    r->u32max = (uint32_t)umin64(r->u32max, s.value | s.mask);
    int32_t lo = (int32_t)(uint32_t)(s.value | (s.mask & 0x80000000u));
    int32_t hi = (int32_t)(uint32_t)(s.value | (s.mask & 0x7fffffffu));
    if (lo > r->s32min)
        r->s32min = lo;
    if (hi < r->s32max)
        r->s32max = hi;
}

static uint32_t umax32(uint32_t a, uint32_t b) { return a > b ? a : b; }
static uint32_t umin32(uint32_t a, uint32_t b) { return a < b ? a : b; }
static int32_t smax32(int32_t a, int32_t b) { return a > b ? a : b; }
static int32_t smin32(int32_t a, int32_t b) { return a < b ? a : b; }

/* The 32-bit bounds from one another and from the 64-bit ones, as the
 * 6.18 kernel's __reg32_deduce_bounds (session 11: the rules for ranges
 * crossing a sign boundary and for upper halves that differ by one were
 * missing; a compare the kernel proves never taken was walked). */
static void deduce_bounds32(struct bl_reg *r)
{
    if ((r->umin >> 32) == (r->umax >> 32)) {
        /* the low halves of a u64 range with one upper half */
        r->u32min = umax32(r->u32min, (uint32_t)r->umin);
        r->u32max = umin32(r->u32max, (uint32_t)r->umax);
        if ((int32_t)r->umin <= (int32_t)r->umax) {
            r->s32min = smax32(r->s32min, (int32_t)r->umin);
            r->s32max = smin32(r->s32max, (int32_t)r->umax);
        }
    }
    if ((r->smin >> 32) == (r->smax >> 32)) {
        if ((uint32_t)r->smin <= (uint32_t)r->smax) {
            r->u32min = umax32(r->u32min, (uint32_t)r->smin);
            r->u32max = umin32(r->u32max, (uint32_t)r->smax);
        }
        if ((int32_t)r->smin <= (int32_t)r->smax) {
            r->s32min = smax32(r->s32min, (int32_t)r->smin);
            r->s32max = smin32(r->s32max, (int32_t)r->smax);
        }
    }
    /* upper halves that are two consecutive numbers (0xffffffff then 0
     * too) while the low halves go from negative to positive: a proper
     * s32 range, [-1, 1] for the s64 range [-1, 1] */
    if ((uint32_t)(r->umin >> 32) + 1 == (uint32_t)(r->umax >> 32) && (int32_t)r->umin < 0 &&
        (int32_t)r->umax >= 0) {
        r->s32min = smax32(r->s32min, (int32_t)r->umin);
        r->s32max = smin32(r->s32max, (int32_t)r->umax);
    }
    if ((uint32_t)((uint64_t)r->smin >> 32) + 1 == (uint32_t)((uint64_t)r->smax >> 32) &&
        (int32_t)r->smin < 0 && (int32_t)r->smax >= 0) {
        r->s32min = smax32(r->s32min, (int32_t)r->smin);
        r->s32max = smin32(r->s32max, (int32_t)r->smax);
    }
    /* a u32 range on one side of the sign bit is an s32 range */
    if ((int32_t)r->u32min <= (int32_t)r->u32max) {
        r->s32min = smax32(r->s32min, (int32_t)r->u32min);
        r->s32max = smin32(r->s32max, (int32_t)r->u32max);
    }
    if ((uint32_t)r->s32min <= (uint32_t)r->s32max) {
        /* an s32 range that does not cross the sign boundary is a u32 one */
        r->u32min = umax32(r->u32min, (uint32_t)r->s32min);
        r->u32max = umin32(r->u32max, (uint32_t)r->s32max);
    } else if (r->u32max < (uint32_t)r->s32min) {
        /* it does, and the u32 range lies in its non-negative part */
        r->s32min = (int32_t)r->u32min;
        r->u32max = umin32(r->u32max, (uint32_t)r->s32max);
    } else if ((uint32_t)r->s32max < r->u32min) {
        /* ... or in its negative part */
        r->s32max = (int32_t)r->u32max;
        r->u32min = umax32(r->u32min, (uint32_t)r->s32min);
    }
}

/* The same for the 64-bit bounds (__reg64_deduce_bounds). */
static void deduce_bounds64(struct bl_reg *r)
{
    if ((int64_t)r->umin <= (int64_t)r->umax) {
        r->smin = smax64(r->smin, (int64_t)r->umin);
        r->smax = smin64(r->smax, (int64_t)r->umax);
    }
    if ((uint64_t)r->smin <= (uint64_t)r->smax) {
        r->umin = umax64(r->umin, (uint64_t)r->smin);
        r->umax = umin64(r->umax, (uint64_t)r->smax);
    } else if (r->umax < (uint64_t)r->smin) {
        r->smin = (int64_t)r->umin;
        r->umax = umin64(r->umax, (uint64_t)r->smax);
    } else if ((uint64_t)r->smax < r->umin) {
        r->smax = (int64_t)r->umax;
        r->umin = umax64(r->umin, (uint64_t)r->smin);
    }
}

/* 64-bit bounds from the 32-bit ones (__reg_deduce_mixed_bounds), and
 * from a known upper half of the tnum */
static void deduce_bounds_mixed(struct bl_reg *r)
{
    /* the u32 range put under the upper halves of both 64-bit ends */
    r->umin = umax64(r->umin, (r->umin & ~0xffffffffULL) | r->u32min);
    r->umax = umin64(r->umax, (r->umax & ~0xffffffffULL) | r->u32max);
    r->smin = smax64(r->smin, (int64_t)(((uint64_t)r->smin & ~0xffffffffULL) | r->u32min));
    r->smax = smin64(r->smax, (int64_t)(((uint64_t)r->smax & ~0xffffffffULL) | r->u32max));
    /* a non-negative s32 range of a number within s32 (a sign-extended
     * load): the 64-bit bounds are the s32 ones */
    if (r->s32min >= 0 && r->smin >= INT32_MIN && r->smax <= INT32_MAX) {
        r->smin = r->s32min;
        r->smax = r->s32max;
        r->umin = (uint64_t)r->s32min;
        r->umax = (uint64_t)r->s32max;
        r->var = tnum_intersect(r->var, tnum_range(r->umin, r->umax));
    }
    /* a known upper half */
    if ((r->var.mask >> 32) == 0) {
        uint64_t hi = r->var.value & ~0xffffffffULL;
        r->umin = umax64(r->umin, hi | r->u32min);
        r->umax = umin64(r->umax, hi | r->u32max);
        if ((int64_t)r->umin <= (int64_t)r->umax) {
            r->smin = smax64(r->smin, (int64_t)r->umin);
            r->smax = smin64(r->smax, (int64_t)r->umax);
        }
    }
}

static void deduce_bounds(struct bl_reg *r)
{
    deduce_bounds32(r);
    deduce_bounds64(r);
    deduce_bounds_mixed(r);
}

static void tnum_from_bounds(struct bl_reg *r)
{
    if (r->umin <= r->umax && (r->umin || ~r->umax))
        r->var = tnum_intersect(r->var, tnum_range(r->umin, r->umax));
    if (r->u32min <= r->u32max && (r->u32min || r->u32max != UINT32_MAX)) {
        struct tnum s = tnum_intersect(tnum_subreg(r->var), tnum_range(r->u32min, r->u32max));
        r->var = tnum_with_subreg(r->var, s);
    }
}

void vf_reg_bounds_sync(struct bl_reg *r)
{
    /* the tnum read as two words: callers set them apart, and GCC's one
     * 16-byte load of both stalled on store forwarding (a quarter of this
     * function's time) */
    uint64_t v = r->var.value, m = r->var.mask;
    __asm__("" : "+r"(v), "+r"(m));
    if (!m && r->umin <= v && v <= r->umax && r->smin <= (int64_t)v && (int64_t)v <= r->smax &&
        r->u32min <= (uint32_t)v && (uint32_t)v <= r->u32max && r->s32min <= (int32_t)v &&
        (int32_t)v <= r->s32max) {
        /* a constant within every range: every bound is the value (one
         * outside a range is a contradiction the general path shows) */
        r->umin = r->umax = v;
        r->smin = r->smax = (int64_t)v;
        r->u32min = r->u32max = (uint32_t)v;
        r->s32min = r->s32max = (int32_t)(uint32_t)v;
        return;
    }
    /* each pass lets tnum, 64-bit and 32-bit bounds sharpen one another;
     * a second pass catches what the first one's results imply */
    bounds_from_tnum(r);
    /* field by field: a whole-struct copy right after the stores above
     * defeats store forwarding and stalls */
    const struct tnum var0 = r->var;
    const uint64_t umin0 = r->umin, umax0 = r->umax;
    const int64_t smin0 = r->smin, smax0 = r->smax;
    const uint32_t u32min0 = r->u32min, u32max0 = r->u32max;
    const int32_t s32min0 = r->s32min, s32max0 = r->s32max;
    deduce_bounds(r);
    tnum_from_bounds(r);
    /* The second pass is skipped only where it provably changes nothing
     * (same result, less work): bounds_from_tnum() again is a no-op when
     * the tnum did not move, since every bound has only tightened since
     * the first call, which already applied that same tnum; and then
     * deduce_bounds() again is a no-op when the first one changed nothing,
     * because it would start from the very same input. */
    if (r->var.value != var0.value || r->var.mask != var0.mask) {
        bounds_from_tnum(r);
        deduce_bounds(r);
    } else if (r->umin != umin0 || r->umax != umax0 || r->smin != smin0 || r->smax != smax0 ||
               r->u32min != u32min0 || r->u32max != u32max0 || r->s32min != s32min0 ||
               r->s32max != s32max0) {
        deduce_bounds(r);
    }
}

static int reg_bounds_sane(const struct bl_reg *r)
{
    /* Not "tnum_contains(var, umin)": bounds over-approximate, so umin
     * need not be a member (var = (0; 0x152900) with umin = 1 is the set
     * {0x100, ...} >= 1). Treating that as impossible pruned live
     * branches, whose unchecked code then ran (fuzz_bytecode findings in
     * tests/verifier/reject_*_dead_branch.data). */
    return r->umin <= r->umax && r->smin <= r->smax && r->u32min <= r->u32max &&
           r->s32min <= r->s32max && (r->var.value & r->var.mask) == 0;
}

/* Narrow r to 32 bits (zero-extension after an ALU32 op or a small load). */
static void reg_zext32(struct bl_reg *r)
{
    r->var = tnum_subreg(r->var);
    r->umin = r->u32min;
    r->umax = r->u32max;
    r->smin = r->u32min;
    r->smax = r->u32max;
    vf_reg_bounds_sync(r);
}

static void bounds_from_size(struct bl_reg *r, int size)
{
    mark_reg_unknown(r);
    if (size < 8) {
        r->var = tnum_cast(tnum_unknown, (uint8_t)size);
        r->umax = (1ULL << (8 * size)) - 1;
        r->smin = 0;
        r->smax = (int64_t)r->umax;
    }
    vf_reg_bounds_sync(r);
}

/* Some number of `size` bytes, zero-extended: what every load of a number
 * gives. The answer depends on size alone, so the common sizes are
 * constants (what bounds_from_size computes; debug builds check that at
 * every use). */
#define SIZED(m, s32lo, s32hi)                                                                      \
    { .type = REG_SCALAR, .var = { 0, m }, .smin = 0, .smax = m, .umin = 0, .umax = m,               \
      .s32min = s32lo, .s32max = s32hi, .u32min = 0, .u32max = m }
static const struct bl_reg sized_scalar[3] = {
    SIZED(0xff, 0, 0xff),
    SIZED(0xffff, 0, 0xffff),
    SIZED(0xffffffff, INT32_MIN, INT32_MAX),
};
#undef SIZED

void vf_reg_set_bounds_from_size(struct bl_reg *r, int size)
{
    int k = size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : -1;
    if (k < 0) {
        bounds_from_size(r, size);
        return;
    }
    *r = sized_scalar[k];
#ifndef NDEBUG
    struct bl_reg slow;
    bounds_from_size(&slow, size);
    assert(memcmp(&slow, r, sizeof slow) == 0);
#endif
}

/* The low `bits` bits of r, sign-extended (movsx, ldsx). */
static void reg_sext(struct bl_reg *r, int bits)
{
    int64_t lo = -(1LL << (bits - 1)), hi = (1LL << (bits - 1)) - 1;
    if (tnum_is_const(r->var)) {
        uint64_t v = r->var.value << (64 - bits);
        mark_reg_known(r, (uint64_t)((int64_t)v >> (64 - bits)));
        return;
    }
    int keep = r->type == REG_SCALAR && r->smin >= lo && r->smax <= hi;
    if (keep)
        return;
    mark_reg_unknown(r);
    r->smin = lo;
    r->smax = hi;
    vf_reg_bounds_sync(r);
}

/* r's low `size` bytes, zero- (or sign-) extended: what a fill of the
 * first bytes of a spilled number gives, as the kernel's
 * coerce_reg_to_size(_sx). A number that fits keeps its bounds and link;
 * one that does not keeps the known bits of its low bytes. */
void vf_reg_coerce(struct bl_reg *r, int size, int sext)
{
    if (size >= 8 || r->type != REG_SCALAR)
        return;
    int bits = 8 * size;
    uint64_t mask = (1ULL << bits) - 1;
    if (sext) {
        int64_t lo = -(1LL << (bits - 1)), hi = (1LL << (bits - 1)) - 1;
        if (tnum_is_const(r->var) || r->smin < lo || r->smax > hi) {
            r->id = 0;
            r->off = 0;
        }
        reg_sext(r, bits);
        r->range = 0;
        return;
    }
    if (r->umax <= mask)
        return;
    struct tnum t = tnum_cast(r->var, (uint8_t)size);
    uint64_t umin = r->umin, umax = r->umax;
    mark_reg_unknown(r);
    r->var = t;
    if ((umin & ~mask) == (umax & ~mask)) {
        r->umin = umin & mask;
        r->umax = umax & mask;
    } else {
        r->umin = 0;
        r->umax = mask;
    }
    r->smin = (int64_t)r->umin;
    r->smax = (int64_t)r->umax;
    vf_reg_bounds_sync(r);
}

/* ---- scalar ops ------------------------------------------------------------ */

/* A view of one operand at `width` bits: for 32, the zero-extended low half,
 * with the signed range of the low half kept in smin/smax. */
struct view {
    struct tnum var;
    uint64_t umin, umax;
    int64_t smin, smax;
};

static struct view view_of(const struct bl_reg *r, int width)
{
    struct view v;
    if (width == 64) {
        v.var = r->var;
        v.umin = r->umin;
        v.umax = r->umax;
        v.smin = r->smin;
        v.smax = r->smax;
    } else {
        v.var = tnum_subreg(r->var);
        v.umin = r->u32min;
        v.umax = r->u32max;
        v.smin = r->s32min;
        v.smax = r->s32max;
    }
    return v;
}

static void view_unbounded(struct view *v, int width)
{
    v->umin = 0;
    v->umax = width == 64 ? UINT64_MAX : UINT32_MAX;
    v->smin = width == 64 ? INT64_MIN : INT32_MIN;
    v->smax = width == 64 ? INT64_MAX : INT32_MAX;
}

static int fits_s(int64_t v, int width)
{
    return width == 64 || (v >= INT32_MIN && v <= INT32_MAX);
}

static int fits_u(uint64_t v, int width)
{
    return width == 64 || v <= UINT32_MAX;
}

static int view_signed_from_unsigned(struct view *d, int width)
{
    uint64_t smax = width == 64 ? (uint64_t)INT64_MAX : (uint64_t)INT32_MAX;
    if (d->umax <= smax) {
        d->smin = (int64_t)d->umin;
        d->smax = (int64_t)d->umax;
        return 1;
    }
    return 0;
}

/* Computes d = d op s at width bits. Returns 0, or -EINVAL for ops not
 * handled here. */
static int scalar_op(uint8_t op, int16_t off, struct view *d, const struct view *s, int width)
{
    struct view r;
    uint64_t t;
    int64_t a, b;
    uint8_t sh;
    view_unbounded(&r, width);
    switch (op) {
    case BL_ADD:
        r.var = tnum_add(d->var, s->var);
        if (!__builtin_add_overflow(d->umax, s->umax, &t) && fits_u(t, width)) {
            r.umin = d->umin + s->umin;
            r.umax = t;
        }
        if (!__builtin_add_overflow(d->smin, s->smin, &a) &&
            !__builtin_add_overflow(d->smax, s->smax, &b) && fits_s(a, width) && fits_s(b, width)) {
            r.smin = a;
            r.smax = b;
        }
        break;
    case BL_SUB:
        r.var = tnum_sub(d->var, s->var);
        if (d->umin >= s->umax) {
            r.umin = d->umin - s->umax;
            r.umax = d->umax - s->umin;
        }
        if (!__builtin_sub_overflow(d->smin, s->smax, &a) &&
            !__builtin_sub_overflow(d->smax, s->smin, &b) && fits_s(a, width) && fits_s(b, width)) {
            r.smin = a;
            r.smax = b;
        }
        break;
    case BL_MUL: {
        r.var = tnum_mul(d->var, s->var);
        if (!__builtin_mul_overflow(d->umax, s->umax, &t) && fits_u(t, width)) {
            r.umin = d->umin * s->umin;
            r.umax = t;
            view_signed_from_unsigned(&r, width);
        }
        /* the signed range from the four corner products when none
         * overflows the width, as the 6.18 kernel's scalar_min_max_mul
         * (a negative range times -1: session 11) */
        int64_t p[4];
        int ok = !__builtin_mul_overflow(d->smin, s->smin, &p[0]) &&
                 !__builtin_mul_overflow(d->smin, s->smax, &p[1]) &&
                 !__builtin_mul_overflow(d->smax, s->smin, &p[2]) &&
                 !__builtin_mul_overflow(d->smax, s->smax, &p[3]);
        for (int k = 0; ok && k < 4; k++)
            ok = fits_s(p[k], width);
        if (ok) {
            int64_t lo = p[0], hi = p[0];
            for (int k = 1; k < 4; k++) {
                lo = smin64(lo, p[k]);
                hi = smax64(hi, p[k]);
            }
            r.smin = smax64(r.smin, lo);
            r.smax = smin64(r.smax, hi);
        }
        break;
    }
    case BL_AND:
        r.var = tnum_and(d->var, s->var);
        r.umin = r.var.value;
        r.umax = umin64(d->umax, s->umax);
        if (d->smin >= 0 || s->smin >= 0)
            view_signed_from_unsigned(&r, width);
        break;
    case BL_OR:
        r.var = tnum_or(d->var, s->var);
        r.umin = umax64(d->umin, s->umin);
        r.umax = r.var.value | r.var.mask;
        if (d->smin >= 0 && s->smin >= 0)
            view_signed_from_unsigned(&r, width);
        break;
    case BL_XOR:
        r.var = tnum_xor(d->var, s->var);
        r.umin = r.var.value;
        r.umax = r.var.value | r.var.mask;
        if (d->smin >= 0 && s->smin >= 0)
            view_signed_from_unsigned(&r, width);
        break;
    case BL_LSH:
    case BL_RSH:
    case BL_ARSH:
        if (!tnum_is_const(s->var) || s->var.value >= (uint64_t)width) {
            r.var = width == 64 ? tnum_unknown : tnum_cast(tnum_unknown, 4);
            break;
        }
        sh = (uint8_t)s->var.value;
        if (op == BL_LSH) {
            r.var = tnum_lshift(d->var, sh);
            if (width == 32)
                r.var = tnum_cast(r.var, 4);
            if (sh == 0 || (d->umax >> (width - sh)) == 0) {
                r.umin = d->umin << sh;
                r.umax = d->umax << sh;
                view_signed_from_unsigned(&r, width);
            }
        } else if (op == BL_RSH) {
            r.var = tnum_rshift(d->var, sh);
            r.umin = d->umin >> sh;
            r.umax = d->umax >> sh;
            view_signed_from_unsigned(&r, width);
        } else {
            r.var = tnum_arshift(d->var, sh, (uint8_t)width);
            r.smin = d->smin >> sh;
            r.smax = d->smax >> sh;
        }
        break;
    case BL_DIV:
    case BL_MOD:
        /* unknown, as in the kernel: tracking more would accept programs
         * the kernel refuses */
        r.var = width == 64 ? tnum_unknown : tnum_cast(tnum_unknown, 4);
        break;
    default:
        return -EINVAL;
    }
    *d = r;
    return 0;
}

/* Writes a width-bit view back into a register (zero-extending at 32). */
static void reg_from_view(struct bl_reg *r, const struct view *v, int width)
{
    uint32_t id = 0;
    mark_reg_unknown(r);
    r->id = id;
    r->var = v->var;
    if (width == 64) {
        r->umin = v->umin;
        r->umax = v->umax;
        r->smin = v->smin;
        r->smax = v->smax;
    } else {
        r->var = tnum_subreg(v->var);
        r->u32min = (uint32_t)v->umin;
        r->u32max = (uint32_t)v->umax;
        r->s32min = (int32_t)v->smin;
        r->s32max = (int32_t)v->smax;
        r->umin = r->u32min;
        r->umax = r->u32max;
        r->smin = r->u32min;
        r->smax = r->u32max;
    }
    vf_reg_bounds_sync(r);
}

static int scalar_alu(struct bl_reg *dst, const struct bl_reg *src, uint8_t op, int16_t off,
                      int width)
{
    struct view d = view_of(dst, width), s = view_of(src, width);
    int err = scalar_op(op, off, &d, &s, width);
    if (err)
        return err;
    reg_from_view(dst, &d, width);
    return 0;
}

static void scalar_neg(struct bl_reg *dst, int width)
{
    struct view d = view_of(dst, width), r;
    view_unbounded(&r, width);
    r.var = tnum_neg(d.var);
    if (width == 32)
        r.var = tnum_cast(r.var, 4);
    if (d.smin > (width == 64 ? INT64_MIN : INT32_MIN)) {
        r.smin = -d.smax;
        r.smax = -d.smin;
    }
    reg_from_view(dst, &r, width);
}

static void scalar_end(struct bl_reg *dst, const struct bl_insn *insn)
{
    int bits = insn->imm;
    int swap = BL_CLASS(insn->code) == BL_ALU64 || BL_SRC(insn->code) == BL_X;
    if (bits != 16 && bits != 32 && bits != 64)
        bits = 64;
    if (tnum_is_const(dst->var)) {
        uint64_t v = dst->var.value;
        if (swap)
            v = bits == 16 ? __builtin_bswap16((uint16_t)v)
                : bits == 32 ? __builtin_bswap32((uint32_t)v) : __builtin_bswap64(v);
        else if (bits < 64)
            v &= (1ULL << bits) - 1;
        mark_reg_known(dst, v);
        return;
    }
    /* to-little-endian on a little-endian machine keeps the low bits: a
     * no-op on a value that fits */
    if (!swap && (bits == 64 || dst->umax <= (1ULL << bits) - 1))
        return;
    /* else the known bits move with their byte, as the kernel's
     * scalar_byte_swap (6.x): be16 of a masked packet field is bounded */
    struct tnum t = swap ? tnum_bswap(dst->var, (uint8_t)(bits / 8))
                         : tnum_cast(dst->var, (uint8_t)(bits / 8));
    mark_reg_unknown(dst);
    dst->var = t;
    vf_reg_bounds_sync(dst);
}

/* ---- pointer arithmetic ---------------------------------------------------- */

static const char *op_name(uint8_t op)
{
    static const char *names[] = { "+=", "-=", "*=", "/=", "|=", "&=", "<<=", ">>=",
                                   "neg", "%=", "^=", "=", "s>>=", "endian" };
    return names[op >> 4];
}

/* dst = ptr op scalar (op is + or -); ptr may be dst or src (scalar + ptr). */
static int ptr_alu(struct bl_venv *env, const struct bl_insn *insn, struct bl_reg *dst,
                   const struct bl_reg *ptr, const struct bl_reg *off_reg, int dst_is_ptr)
{
    uint8_t op = BL_OP(insn->code);
    const char *tn = vf_reg_type_str(ptr->type);
    if (BL_CLASS(insn->code) == BL_ALU)
        return vf_reject(env, "R%d 32-bit pointer arithmetic prohibited", insn->dst);
    switch (ptr->type) {
    case REG_PTR_TO_PACKET_END:
    case REG_CONST_PTR_TO_MAP:
    case REG_PTR_TO_FUNC:
        return vf_reject(env, "R%d pointer arithmetic on %s prohibited", insn->dst, tn);
    case REG_PTR_TO_MAP_VALUE_OR_NULL:
    case REG_MAP_PTR_OR_NULL:
    case REG_PTR_TO_MEM_OR_NULL:
    case REG_PTR_TO_SOCKET_OR_NULL:
    case REG_PTR_TO_SOCK_COMMON_OR_NULL:
    case REG_PTR_TO_TCP_SOCK_OR_NULL:
        return vf_reject(env, "R%d pointer arithmetic on %s prohibited, null-check it first",
                         insn->dst, tn);
    case REG_PTR_TO_SOCKET:
    case REG_PTR_TO_SOCK_COMMON:
    case REG_PTR_TO_TCP_SOCK:
        return vf_reject(env, "R%d pointer arithmetic on %s prohibited", insn->dst, tn);
    default:
        break;
    }
    if (op == BL_AND || op == BL_OR || op == BL_XOR)
        return vf_reject(env, "R%d bitwise operator %s on pointer prohibited", insn->dst,
                         op_name(op));
    if (op != BL_ADD && op != BL_SUB)
        return vf_reject(env, "R%d pointer arithmetic with %s operator prohibited", insn->dst,
                         op_name(op));
    if (op == BL_SUB && !dst_is_ptr)
        return vf_reject(env, "R%d tried to subtract pointer from scalar", insn->dst);
    int known = tnum_is_const(off_reg->var);
    int64_t val = (int64_t)off_reg->var.value;
    if (known && (val >= MAX_VAR_OFF || val <= -MAX_VAR_OFF))
        return vf_reject(env, "value %lld makes %s pointer be out of bounds", (long long)val, tn);
    if (!known && off_reg->smin == INT64_MIN)
        return vf_reject(env, "math between %s pointer and register with unbounded min value is not allowed",
                         tn);
    if (!known && (off_reg->smin >= MAX_VAR_OFF || off_reg->smin <= -MAX_VAR_OFF))
        return vf_reject(env, "value %lld makes %s pointer be out of bounds",
                         (long long)off_reg->smin, tn);

    if (known) {
        int64_t noff = op == BL_ADD ? (int64_t)ptr->off + val : (int64_t)ptr->off - val;
        if (noff >= MAX_VAR_OFF || noff <= -MAX_VAR_OFF)
            return vf_reject(env, "value %lld makes %s pointer be out of bounds", (long long)noff,
                             tn);
        /* in place, not through a local copy: reloading a struct a field
         * of which was just stored stalls on store forwarding */
        if (dst != ptr)
            *dst = *ptr;
        dst->off = (int32_t)noff;
        return 0;
    }
    struct bl_reg res = *ptr;
    {
        struct bl_reg var = *ptr;
        var.type = REG_SCALAR;
        scalar_alu(&var, off_reg, op, 0, 64);
        res.var = var.var;
        res.smin = var.smin;
        res.smax = var.smax;
        res.umin = var.umin;
        res.umax = var.umax;
        res.s32min = var.s32min;
        res.s32max = var.s32max;
        res.u32min = var.u32min;
        res.u32max = var.u32max;
        if (ptr->type == REG_PTR_TO_PACKET || ptr->type == REG_PTR_TO_PACKET_META) {
            /* a new variable offset: earlier range proofs do not carry over */
            res.id = vf_new_id(env);
            res.range = 0;
        }
    }
    *dst = res;
    return 0;
}

static int is_pkt_family(const struct bl_reg *r)
{
    return r->type == REG_PTR_TO_PACKET || r->type == REG_PTR_TO_PACKET_END ||
           r->type == REG_PTR_TO_PACKET_META;
}

/* Two pointers into the same object: their distance and order do not
 * depend on where the engine placed it. */
static int same_object(const struct bl_reg *a, const struct bl_reg *b)
{
    if (is_pkt_family(a) && is_pkt_family(b))
        return 1;
    return a->type == REG_PTR_TO_STACK && b->type == REG_PTR_TO_STACK && a->frameno == b->frameno;
}

/* ---- the ALU instruction --------------------------------------------------- */

int vf_check_alu(struct bl_venv *env, struct bl_vstate *st, const struct bl_insn *insn)
{
    struct bl_frame *f = cur_frame(st);
    uint8_t op = BL_OP(insn->code);
    int width = BL_CLASS(insn->code) == BL_ALU64 ? 64 : 32;
    int is_x = BL_SRC(insn->code) == BL_X;
    struct bl_reg *dst = &f->regs[insn->dst];
    struct bl_reg srcval;
    int err;

    if (insn->dst == BL_R10)
        return vf_reject(env, "frame pointer is read only");
    if (op > BL_END)
        return vf_reject(env, "invalid BPF_ALU opcode %x", op);
    if ((op == BL_DIV || op == BL_MOD) && !is_x && insn->imm == 0)
        return vf_reject(env, "div by zero");
    if ((op == BL_LSH || op == BL_RSH || op == BL_ARSH) && !is_x &&
        (insn->imm < 0 || insn->imm >= width))
        return vf_reject(env, "invalid shift %d", insn->imm);
    if (op == BL_MOV && !is_x) {
        /* dst = K: set in place (ALU_K's off is 0: no sign extension); a
         * constant built in srcval and copied stalled on store forwarding */
        mark_reg_known(dst, (uint64_t)(int64_t)insn->imm);
        if (width == 32)
            reg_zext32(dst);
        return 0;
    }
    if (is_x && op != BL_NEG && op != BL_END) {
        if ((err = vf_check_reg_read(env, st, insn->src)))
            return err;
        srcval = f->regs[insn->src];
    } else {
        mark_reg_known(&srcval, (uint64_t)(int64_t)insn->imm);
    }

    if (op == BL_MOV) {
        if (is_x && reg_is_pointer(&srcval)) {
            /* address bits as a number would leak to the host (and differ
             * between engines); the root kernel allows it, bpflua does not */
            if (width == 32 || insn->off)
                return vf_reject(env, "R%d partial copy of pointer", insn->src);
            *dst = srcval;
            return 0;
        }
        if (is_x && srcval.type == REG_SCALAR && !insn->off && !tnum_is_const(srcval.var) &&
            (width == 64 || (srcval.umax <= UINT32_MAX))) {
            /* linked copies: a later bounds check on one narrows both (a
             * 32-bit copy only of a number that fits, which it leaves
             * unchanged: the kernel's mov32 link) */
            if (!f->regs[insn->src].id)
                f->regs[insn->src].id = vf_new_id(env);
            *dst = f->regs[insn->src];
            return 0;
        }
        *dst = srcval;
        dst->id = 0;
        dst->off = 0; /* a scalar's off is its delta in a link (sync_linked) */
        if (insn->off == 8 || insn->off == 16 || insn->off == 32) {
            reg_sext(dst, insn->off);
            dst->range = 0;
        }
        if (width == 32)
            reg_zext32(dst);
        return 0;
    }

    if ((err = vf_check_reg_read(env, st, insn->dst)))
        return err;
    if (op == BL_NEG || op == BL_END) {
        if (reg_is_pointer(dst))
            return vf_reject(env, "R%d pointer arithmetic prohibited", insn->dst);
        dst->id = 0;
        dst->off = 0;
        dst->range = 0; /* no longer the packet's length */
        if (op == BL_NEG)
            scalar_neg(dst, width);
        else
            scalar_end(dst, insn);
        return 0;
    }

    if (reg_is_pointer(dst) && reg_is_pointer(&srcval)) {
        /* a distance within one object (packet, a stack frame) is a number
         * every engine agrees on; any other difference is an address */
        if (op == BL_SUB && same_object(dst, &srcval)) {
            /* data_end - data is the packet's length: at most the largest
             * packet the program type sees, which bounds loops over it.
             * sub32 (clang -mcpu=v3 computes `(u32)(end - p)` so) gives the
             * distance's low half: the same number for a packet length */
            int pkt_len = dst->type == REG_PTR_TO_PACKET_END && srcval.type == REG_PTR_TO_PACKET &&
                          srcval.off == 0 && tnum_is_const(srcval.var) && srcval.var.value == 0;
            mark_reg_unknown(dst);
            if (pkt_len) {
                uint32_t max = env->prog->type->max_packet ? env->prog->type->max_packet
                                                           : BL_XDP_MAX_PACKET;
                dst->var = tnum_range(0, max);
                dst->umax = max;
                dst->smin = 0;
                dst->smax = max;
                vf_reg_bounds_sync(dst);
                dst->range = BL_PKT_LEN;
            } else if (width == 32) {
                vf_reg_set_bounds_from_size(dst, 4); /* zero-extended */
            }
            return 0;
        }
        return vf_reject(env, "R%d pointer %s pointer prohibited", insn->dst, op_name(op));
    }
    if (reg_is_pointer(dst))
        return ptr_alu(env, insn, dst, dst, &srcval, 1);
    if (reg_is_pointer(&srcval))
        return ptr_alu(env, insn, dst, &srcval, dst, 0);

    /* dst += K keeps dst linked to its copies, K further apart (the
     * kernel's BPF_ADD_CONST links, 6.18: negative K and sub too): clang
     * checks a range as `r1 = r0; r1 += -1; if r1 > 30` and then uses r0 */
    uint32_t link_id = 0;
    int32_t link_off = 0;
    if (dst->id && width == 64 && (op == BL_ADD || op == BL_SUB) && reg_is_const(&srcval) &&
        !insn->off) {
        int64_t k = (int64_t)srcval.var.value;
        if (k > -(1 << 29) && k < (1 << 29)) {
            int64_t o = (int64_t)dst->off + (op == BL_ADD ? k : -k);
            if (o > -(1 << 29) && o < (1 << 29))
                link_id = dst->id, link_off = (int32_t)o;
        }
    }
    dst->id = 0;
    dst->off = 0;
    dst->range = 0; /* a computed number is no longer the packet's length */
    if (!(env->vlive[env->cur_insn + 1] & (1u << insn->dst))) {
        /* A scalar result whose value can decide nothing from here on (not
         * in value liveness: never an address, a helper argument, a branch
         * operand, stored or returned): any scalar is as good as its exact
         * range, which pruning ignores for it anyway. Skips the range
         * arithmetic for sums and hashes that only feed the verdict. */
        if (width == 32)
            vf_reg_set_bounds_from_size(dst, 4); /* zero-extended */
        else
            mark_reg_unknown(dst);
        return 0;
    }
    if (scalar_alu(dst, &srcval, op, insn->off, width))
        return vf_reject(env, "invalid BPF_ALU opcode %x", op);
    dst->id = link_id;
    dst->off = link_off;
    return 0;
}

/* ---- conditional jumps ----------------------------------------------------- */

static uint8_t negate_op(uint8_t op)
{
    switch (op) {
    case BL_JEQ: return BL_JNE;
    case BL_JNE: return BL_JEQ;
    case BL_JGT: return BL_JLE;
    case BL_JLE: return BL_JGT;
    case BL_JGE: return BL_JLT;
    case BL_JLT: return BL_JGE;
    case BL_JSGT: return BL_JSLE;
    case BL_JSLE: return BL_JSGT;
    case BL_JSGE: return BL_JSLT;
    case BL_JSLT: return BL_JSGE;
    default: return 0xff; /* JSET: handled by its own flag */
    }
}

static void narrow_u(struct bl_reg *r, uint64_t lo, uint64_t hi)
{
    r->umin = umax64(r->umin, lo);
    r->umax = umin64(r->umax, hi);
}

static void narrow_s(struct bl_reg *r, int64_t lo, int64_t hi)
{
    r->smin = smax64(r->smin, lo);
    r->smax = smin64(r->smax, hi);
}

/* Narrows a and b assuming "a op b" holds (jset_false: "a & b == 0").
 * Returns -1 when that is impossible. */
static int refine(struct bl_reg *a, struct bl_reg *b, uint8_t op, int jset_false)
{
    if (op == BL_JSET) {
        if (jset_false) {
            if (tnum_is_const(b->var)) {
                /* a bit known to be one in a and set in b: a & b != 0 */
                if (a->var.value & b->var.value)
                    return -1;
                a->var = tnum_and(a->var, tnum_const(~b->var.value));
            }
            if (tnum_is_const(a->var) && tnum_is_const(b->var) && (a->var.value & b->var.value))
                return -1;
        } else {
            if (((a->var.value | a->var.mask) & (b->var.value | b->var.mask)) == 0)
                return -1;
            if (tnum_is_const(b->var) && __builtin_popcountll(b->var.value) == 1)
                a->var = tnum_or(a->var, b->var);
        }
    } else {
        switch (op) {
        case BL_JEQ: {
            struct tnum t = tnum_intersect(a->var, b->var);
            if ((a->var.value ^ b->var.value) & ~(a->var.mask | b->var.mask))
                return -1;
            /* equal numbers have equal low halves: 32-bit bounds that do
             * not meet make the branch impossible (the kernel's
             * is_branch_taken looks at them for 64-bit compares too) */
            if (a->u32min > b->u32max || a->u32max < b->u32min || a->s32min > b->s32max ||
                a->s32max < b->s32min)
                return -1;
            a->u32min = umax32(a->u32min, b->u32min);
            a->u32max = umin32(a->u32max, b->u32max);
            a->s32min = smax32(a->s32min, b->s32min);
            a->s32max = smin32(a->s32max, b->s32max);
            narrow_u(a, b->umin, b->umax);
            narrow_s(a, b->smin, b->smax);
            a->var = t;
            vf_reg_bounds_sync(a);
            uint32_t id = b->id;
            *b = *a;
            b->id = id;
            break;
        }
        case BL_JNE:
            if (tnum_is_const(b->var) && tnum_is_const(a->var) && a->var.value == b->var.value)
                return -1;
            if (tnum_is_const(b->var)) {
                uint64_t v = b->var.value;
                if (a->umin == v && a->umin < UINT64_MAX) a->umin++;
                if (a->umax == v && a->umax > 0) a->umax--;
                if (a->smin == (int64_t)v && a->smin < INT64_MAX) a->smin++;
                if (a->smax == (int64_t)v && a->smax > INT64_MIN) a->smax--;
            }
            if (tnum_is_const(a->var)) {
                uint64_t v = a->var.value;
                if (b->umin == v && b->umin < UINT64_MAX) b->umin++;
                if (b->umax == v && b->umax > 0) b->umax--;
                if (b->smin == (int64_t)v && b->smin < INT64_MAX) b->smin++;
                if (b->smax == (int64_t)v && b->smax > INT64_MIN) b->smax--;
            }
            break;
        case BL_JGT:
            if (a->umax == 0 || b->umin == UINT64_MAX)
                return -1;
            narrow_u(a, b->umin + 1, UINT64_MAX);
            narrow_u(b, 0, a->umax - 1);
            break;
        case BL_JGE:
            narrow_u(a, b->umin, UINT64_MAX);
            narrow_u(b, 0, a->umax);
            break;
        case BL_JLT:
            return refine(b, a, BL_JGT, 0);
        case BL_JLE:
            return refine(b, a, BL_JGE, 0);
        case BL_JSGT:
            if (a->smax == INT64_MIN || b->smin == INT64_MAX)
                return -1;
            narrow_s(a, b->smin + 1, INT64_MAX);
            narrow_s(b, INT64_MIN, a->smax - 1);
            break;
        case BL_JSGE:
            narrow_s(a, b->smin, INT64_MAX);
            narrow_s(b, INT64_MIN, a->smax);
            break;
        case BL_JSLT:
            return refine(b, a, BL_JSGT, 0);
        case BL_JSLE:
            return refine(b, a, BL_JSGE, 0);
        default:
            return 0;
        }
    }
    if (a->umin > a->umax || a->smin > a->smax || b->umin > b->umax || b->smin > b->smax)
        return -1;
    vf_reg_bounds_sync(a);
    vf_reg_bounds_sync(b);
    return reg_bounds_sane(a) && reg_bounds_sane(b) ? 0 : -1;
}

/* Copies a refined scalar to every register and spill linked to it. */
/* What the registers linked to r (same id) know once r is refined: r's
 * state, moved by the difference of their deltas (a scalar's off: value =
 * the link's base + off, modulo 2^64, so the sum is exact) */
static void linked_copy(struct bl_reg *to, const struct bl_reg *r)
{
    if (to->off == r->off) {
        *to = *r;
        return;
    }
    int32_t off = to->off;
    struct bl_reg delta, t = *r;
    mark_reg_known(&delta, (uint64_t)((int64_t)off - r->off));
    scalar_alu(&t, &delta, BL_ADD, 0, 64);
    t.id = r->id;
    t.off = off;
    t.range = 0; /* not the packet's length moved */
    *to = t;
}

static void sync_linked(struct bl_vstate *st, const struct bl_reg *r0)
{
    if (r0->type != REG_SCALAR || !r0->id)
        return;
    const struct bl_reg r = *r0; /* r0 may be one of the registers written */
    for (int fi = 0; fi <= st->curframe; fi++) {
        struct bl_frame *f = st->frames[fi];
        for (int i = 0; i < BL_NREGS; i++)
            if (f->regs[i].type == REG_SCALAR && f->regs[i].id == r.id)
                linked_copy(&f->regs[i], &r);
        for (int s = 0; s < f->n_slots; s++)
            if ((f->stack[s].bytes[0] == SLOT_SPILL || f->stack[s].bytes[0] == SLOT_NARROW) &&
                f->stack[s].spilled.type == REG_SCALAR && f->stack[s].spilled.id == r.id)
                linked_copy(&f->stack[s].spilled, &r);
    }
}

static void mark_pkt_range(struct bl_vstate *st, const struct bl_reg *p, int right_open)
{
    /* as the kernel: only non-negative fixed offsets, and only while the
     * largest offset stays within MAX_PACKET_OFF (0xffff) */
    if (p->off < 0 || (p->off == 0 && right_open))
        return;
    if (p->umax > 0xffff || p->umax + (uint64_t)p->off > 0xffff)
        return;
    int32_t range = p->off + (right_open ? 1 : 0);
    for (int fi = 0; fi <= st->curframe; fi++) {
        struct bl_frame *f = st->frames[fi];
        for (int i = 0; i < BL_NREGS; i++)
            if (f->regs[i].type == p->type && f->regs[i].id == p->id && f->regs[i].range < range)
                f->regs[i].range = range;
        for (int s = 0; s < f->n_slots; s++) {
            struct bl_reg *r = &f->stack[s].spilled;
            if (f->stack[s].bytes[0] == SLOT_SPILL && r->type == p->type && r->id == p->id &&
                r->range < range)
                r->range = range;
        }
    }
}

/* len is data_end - data (BL_PKT_LEN) and now at least umin: the packet
 * has that many bytes, so packet pointers at a fixed offset from data (id
 * 0, no variable part) may read below it; as mark_pkt_range, at most
 * MAX_PACKET_OFF. */
static void pkt_len_bound(struct bl_vstate *st, const struct bl_reg *len)
{
    if (len->type != REG_SCALAR || len->range != BL_PKT_LEN || len->umin == 0)
        return;
    int32_t range = len->umin > 0xffff ? 0xffff : (int32_t)len->umin;
    for (int fi = 0; fi <= st->curframe; fi++) {
        struct bl_frame *f = st->frames[fi];
        for (int i = 0; i < BL_NREGS; i++) {
            struct bl_reg *r = &f->regs[i];
            if (r->type == REG_PTR_TO_PACKET && r->id == 0 && tnum_is_const(r->var) &&
                r->var.value == 0 && r->range < range)
                r->range = range;
        }
        for (int s = 0; s < f->n_slots; s++) {
            struct bl_reg *r = &f->stack[s].spilled;
            if (f->stack[s].bytes[0] == SLOT_SPILL && r->type == REG_PTR_TO_PACKET && r->id == 0 &&
                tnum_is_const(r->var) && r->var.value == 0 && r->range < range)
                r->range = range;
        }
    }
}

static int reg_or_null(const struct bl_reg *r)
{
    switch (r->type) {
    case REG_PTR_TO_MAP_VALUE_OR_NULL:
    case REG_MAP_PTR_OR_NULL:
    case REG_PTR_TO_MEM_OR_NULL:
    case REG_PTR_TO_SOCKET_OR_NULL:
    case REG_PTR_TO_SOCK_COMMON_OR_NULL:
    case REG_PTR_TO_TCP_SOCK_OR_NULL:
        return 1;
    }
    return 0;
}

/* The type a null-checked pointer has on its non-null side. */
static uint8_t not_null_type(uint8_t t)
{
    switch (t) {
    case REG_MAP_PTR_OR_NULL: return REG_CONST_PTR_TO_MAP; /* the inner map, typed as its template */
    case REG_PTR_TO_MEM_OR_NULL: return REG_PTR_TO_MEM;
    case REG_PTR_TO_SOCKET_OR_NULL: return REG_PTR_TO_SOCKET;
    case REG_PTR_TO_SOCK_COMMON_OR_NULL: return REG_PTR_TO_SOCK_COMMON;
    case REG_PTR_TO_TCP_SOCK_OR_NULL: return REG_PTR_TO_TCP_SOCK;
    default: return REG_PTR_TO_MAP_VALUE;
    }
}

static void mark_null_check(struct bl_venv *env, struct bl_vstate *st, uint32_t id, int is_null)
{
    for (int fi = 0; fi <= st->curframe; fi++) {
        struct bl_frame *f = st->frames[fi];
        for (int i = 0; i < BL_NREGS + f->n_slots; i++) {
            struct bl_reg *r;
            if (i < BL_NREGS)
                r = &f->regs[i];
            else if (f->stack[i - BL_NREGS].bytes[0] == SLOT_SPILL)
                r = &f->stack[i - BL_NREGS].spilled;
            else
                continue;
            if (!reg_or_null(r) || r->id != id)
                continue;
            if (is_null) {
                mark_reg_known(r, 0);
            } else {
                int keep_id = r->type == REG_PTR_TO_MAP_VALUE_OR_NULL &&
                              env->obj->maps[r->map].spin_lock_off;
                r->type = not_null_type(r->type);
                /* a value with a bpf_spin_lock keeps its id: unlock must
                 * name the element that was locked */
                if (!keep_id)
                    r->id = 0;
            }
        }
    }
    /* NULL: nothing was acquired (the kernel's release on the null branch) */
    if (is_null)
        vf_ref_drop(st, id);
}

static int is_pkt_pair(const struct bl_reg *p, const struct bl_reg *end)
{
    return (p->type == REG_PTR_TO_PACKET && end->type == REG_PTR_TO_PACKET_END) ||
           (p->type == REG_PTR_TO_PACKET_META && end->type == REG_PTR_TO_PACKET);
}

/* pkt/pkt_end comparisons: which side proves "p <= end" (or "p < end"). */
static void pkt_compare(struct bl_vstate *taken, struct bl_vstate *fall, const struct bl_reg *dst,
                        const struct bl_reg *src, uint8_t op)
{
    if (is_pkt_pair(dst, src)) {
        switch (op) {
        case BL_JGT: if (fall) mark_pkt_range(fall, dst, 0); break;
        case BL_JLT: if (taken) mark_pkt_range(taken, dst, 1); break;
        case BL_JGE: if (fall) mark_pkt_range(fall, dst, 1); break;
        case BL_JLE: if (taken) mark_pkt_range(taken, dst, 0); break;
        }
    } else if (is_pkt_pair(src, dst)) {
        switch (op) {
        case BL_JGT: if (taken) mark_pkt_range(taken, src, 1); break;
        case BL_JLT: if (fall) mark_pkt_range(fall, src, 0); break;
        case BL_JGE: if (taken) mark_pkt_range(taken, src, 0); break;
        case BL_JLE: if (fall) mark_pkt_range(fall, src, 1); break;
        }
    }
}

static int ptr_never_null(const struct bl_reg *r)
{
    return reg_is_pointer(r) && !reg_or_null(r);
}

/* A scalar view of the low 32 bits for JMP32, signed or not. */
static struct bl_reg reg32(const struct bl_reg *r, int is_signed)
{
    struct bl_reg t = *r;
    t.id = 0;
    if (is_signed) {
        mark_reg_unknown(&t);
        t.smin = r->s32min;
        t.smax = r->s32max;
    } else {
        reg_zext32(&t);
    }
    vf_reg_bounds_sync(&t);
    return t;
}

/* After a 32-bit compare of a register whose upper half may be nonzero:
 * what the compare proved about its low half (r32: reg32's view, refined)
 * goes into r's 32-bit bounds and the low half of its tnum, the upper half
 * stays as it was (the kernel refines the subregister's bounds so). A
 * later mov32 or 32-bit ALU op then starts from the refined half:
 * `if w0 < w8` with w8 at most 63 bounds `w1 = w0` by 62. */
static void apply_low_half(struct bl_reg *r, const struct bl_reg *r32, int is_signed)
{
    if (is_signed) {
        if (r32->smin > r->s32min)
            r->s32min = (int32_t)r32->smin;
        if (r32->smax < r->s32max)
            r->s32max = (int32_t)r32->smax;
    } else {
        if (r32->umin > r->u32min)
            r->u32min = (uint32_t)r32->umin;
        if (r32->umax < r->u32max)
            r->u32max = (uint32_t)r32->umax;
    }
    r->var = tnum_with_subreg(r->var, tnum_intersect(tnum_subreg(r->var), tnum_subreg(r32->var)));
    vf_reg_bounds_sync(r);
}

int vf_check_cond_jmp(struct bl_venv *env, struct bl_vstate **stp, struct bl_vstate **otherp,
                      const struct bl_insn *insn)
{
    struct bl_vstate *st = *stp;
    struct bl_frame *f = cur_frame(st);
    uint8_t op = BL_OP(insn->code);
    int is_x = BL_SRC(insn->code) == BL_X;
    int jmp32 = BL_CLASS(insn->code) == BL_JMP32;
    int err;
    *otherp = NULL;

    if (op > BL_JSLE || op == BL_CALL || op == BL_EXIT)
        return vf_reject(env, "invalid BPF_JMP/JMP32 opcode %x", op);
    if ((err = vf_check_reg_read(env, st, insn->dst)))
        return err;
    struct bl_reg src;
    if (is_x) {
        if ((err = vf_check_reg_read(env, st, insn->src)))
            return err;
        src = f->regs[insn->src];
    } else {
        int sext = !jmp32 || op == BL_JSGT || op == BL_JSGE || op == BL_JSLT || op == BL_JSLE;
        mark_reg_known(&src, sext ? (uint64_t)(int64_t)insn->imm : (uint32_t)insn->imm);
    }
    struct bl_reg dst = f->regs[insn->dst];

    int can_take = 1, can_fall = 1;

    /* map_value_or_null against 0: the null check */
    if (!jmp32 && (op == BL_JEQ || op == BL_JNE) &&
        ((reg_or_null(&dst) && reg_is_const(&src) && src.var.value == 0) ||
         (reg_or_null(&src) && reg_is_const(&dst) && dst.var.value == 0))) {
        uint32_t id = reg_or_null(&dst) ? dst.id : src.id;
        struct bl_vstate *other = vf_vstate_copy(env, st);
        if (!other)
            return -ENOMEM;
        /* JEQ: taken means null */
        mark_null_check(env, other, id, op == BL_JEQ);
        mark_null_check(env, st, id, op != BL_JEQ);
        *otherp = other;
        return 0;
    }

    if (reg_is_pointer(&dst) || reg_is_pointer(&src)) {
        /* Comparing addresses with numbers, or pointers into different
         * objects, would let the program observe (and leak) where the
         * engine put things. Allowed: == / != 0, and pointers into one
         * object (packet bounds checks, stack). */
        int vs_zero = (reg_is_const(&src) && src.var.value == 0) ||
                      (reg_is_const(&dst) && dst.var.value == 0);
        if (!(vs_zero && (op == BL_JEQ || op == BL_JNE)) && !same_object(&dst, &src))
            return vf_reject(env, "R%d pointer comparison prohibited",
                             reg_is_pointer(&dst) ? insn->dst : insn->src);
        /* a non-null pointer against 0 */
        if ((op == BL_JEQ || op == BL_JNE) &&
            ((ptr_never_null(&dst) && reg_is_const(&src) && src.var.value == 0) ||
             (ptr_never_null(&src) && reg_is_const(&dst) && dst.var.value == 0))) {
            if (op == BL_JEQ)
                can_take = 0;
            else
                can_fall = 0;
        }
        struct bl_vstate *other = can_take ? vf_vstate_copy(env, st) : NULL;
        if (can_take && !other)
            return -ENOMEM;
        if (!jmp32)
            pkt_compare(other, can_fall ? st : NULL, &dst, &src, op);
        if (!can_fall) {
            vf_vstate_free(env, st);
            *stp = NULL;
        }
        *otherp = other;
        return 0;
    }

    /* two scalars */
    uint8_t nop = negate_op(op);
    int is_signed = op == BL_JSGT || op == BL_JSGE || op == BL_JSLT || op == BL_JSLE;
    struct bl_reg ta, tb, fa, fb;
    int exact32 = !jmp32 || (is_signed ? (dst.smin >= INT32_MIN && dst.smax <= INT32_MAX &&
                                          src.smin >= INT32_MIN && src.smax <= INT32_MAX)
                                       : (dst.umax <= UINT32_MAX && src.umax <= UINT32_MAX));
    if (jmp32 && !exact32) {
        /* decide the branch from the low halves only; refine nothing */
        ta = fa = reg32(&dst, is_signed);
        tb = fb = reg32(&src, is_signed);
    } else {
        ta = fa = dst;
        tb = fb = src;
    }
    can_take = refine(&ta, &tb, op, 0) == 0;
    can_fall = refine(&fa, &fb, op == BL_JSET ? BL_JSET : nop, op == BL_JSET) == 0;
    /* the low halves' refinements, for registers wider than 32 bits */
    int low32 = jmp32 && !exact32;
    if (!can_take && !can_fall) /* impossible: the state itself is inconsistent */
        can_fall = 1, fa = dst, fb = src, low32 = 0;

    struct bl_vstate *other = NULL;
    if (can_take) {
        other = vf_vstate_copy(env, st);
        if (!other)
            return -ENOMEM;
        if (exact32) {
            struct bl_frame *of = cur_frame(other);
            ta.id = dst.id;
            of->regs[insn->dst] = ta;
            sync_linked(other, &ta);
            pkt_len_bound(other, &ta);
            if (is_x) {
                tb.id = src.id;
                of->regs[insn->src] = tb;
                sync_linked(other, &tb);
                pkt_len_bound(other, &tb);
            }
        } else if (low32) {
            struct bl_frame *of = cur_frame(other);
            apply_low_half(&of->regs[insn->dst], &ta, is_signed);
            sync_linked(other, &of->regs[insn->dst]);
            if (is_x) {
                apply_low_half(&of->regs[insn->src], &tb, is_signed);
                sync_linked(other, &of->regs[insn->src]);
            }
        }
    }
    if (can_fall) {
        if (exact32) {
            fa.id = dst.id;
            f->regs[insn->dst] = fa;
            sync_linked(st, &fa);
            pkt_len_bound(st, &fa);
            if (is_x) {
                fb.id = src.id;
                f->regs[insn->src] = fb;
                sync_linked(st, &fb);
                pkt_len_bound(st, &fb);
            }
        } else if (low32) {
            apply_low_half(&f->regs[insn->dst], &fa, is_signed);
            sync_linked(st, &f->regs[insn->dst]);
            if (is_x) {
                apply_low_half(&f->regs[insn->src], &fb, is_signed);
                sync_linked(st, &f->regs[insn->src]);
            }
        }
    } else {
        vf_vstate_free(env, st);
        *stp = NULL;
    }
    *otherp = other;
    return 0;
}
