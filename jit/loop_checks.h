/* loop_checks.h - tests of a loop body that one computation before the
 * loop can settle.
 *
 * A compiled loop body re-checks, every iteration, what the kernel's
 * verifier needs to see (`if idx*c > 65527 goto out`, `if data + idx*c +
 * w > data_end goto out`), and users write their own exits on the index
 * (`if i + 2 > #pkt then break end`, `if i >= n then return x end`). Each
 * such test compares two values that are affine in the loop index i (R1
 * on entry to the callback) plus or minus ctx slots the body never
 * writes; one of its two ways leads straight to an exit that stops the
 * loop. Seen as integers (signed or unsigned, as the jump compares them),
 * the two sides differ by an affine function of i, so the exit condition
 * holds on an interval of i that reaches an end of [0, n): when it is
 * false at i = 0, the first i where it holds can be computed before the
 * loop. The JIT runs a copy of the body without the test for the
 * iterations before it (loop versioning) and the body as written from
 * there on.
 *
 * This file only finds the tests; it knows nothing of x86. Soundness
 * rests on three facts the caller must guarantee: R1 = i and R2 = ctx on
 * entry to each iteration, i runs 0 .. n-1 with n <= 2^23, and the ctx
 * slots a test names hold the same 8 bytes in every iteration (nothing in
 * the body writes them). */
#ifndef BPFLUA_LOOP_CHECKS_H
#define BPFLUA_LOOP_CHECKS_H

#include <stdint.h>

#include "../core/insn.h"

/* a*i + b + sign[0]*[ctx+slot[0]] + sign[1]*[ctx+slot[1]] (mod 2^64),
 * the slots' values before the loop */
struct loop_side {
    int32_t a;
    int32_t b;
    uint8_t n_slots;    /* 0..2 */
    int8_t sign[2];     /* +1 or -1 */
    int16_t slot[2];    /* 8-byte loads from ctx + slot */
    /* bit k: slot[k] is one the body steps (on every way to an exit that
     * goes on it stores there its value at the iteration's start plus a
     * constant, part of a): its only writes must be the body's own 8-byte
     * stores at that offset. The other slots the body must not write. */
    uint8_t stepped;
};

enum loop_rel { LR_GT, LR_GE, LR_LT, LR_LE };

struct loop_check {
    uint32_t pc;        /* the conditional jump */
    uint8_t always;     /* 0: the copy drops the jump (never taken); 1: it
                           becomes `ja` (always taken: the exit is the other way) */
    uint8_t rel;        /* enum loop_rel: the exit condition is d REL s ... */
    uint8_t is_signed;  /* ... compared as signed (else unsigned) integers */
    struct loop_side d; /* the side that depends on i (a = 0 in both: neither does) */
    struct loop_side s; /* loop-invariant: s.a == 0 */
};

#define LOOP_CHECKS_MAX 8

/* Finds the tests of the callback [start, end), anywhere a form of both
 * sides is known on every path to the jump and one way of the jump goes
 * straight to an exit returning nonzero (a break, a return, the
 * compiler's fault path); nothing when its first instruction is a jump
 * target (is_target[pc] marks them) or a jump goes back. Writes up to
 * LOOP_CHECKS_MAX checks in pc order; returns how many (0 also when out
 * of memory). */
int bl_loop_checks(const struct bl_insn *insns, uint32_t start, uint32_t end,
                   const uint8_t *is_target, struct loop_check *out);

#endif
