/* loop_checks.h - bounds checks an inlined bpf_loop body can drop.
 *
 * A compiled loop body re-checks, every iteration, what the kernel's
 * verifier needs to see: `if idx*c > 65527 goto out` and `if data + idx*c
 * + w > data_end goto out`. Both sides are affine in the loop index i
 * (R1 on entry to the callback) and in ctx slots the body never writes,
 * so whether the jump can ever be taken for i in [0, n) is decided once,
 * before the loop, by its last iteration: a*(n-1) + b against the bound.
 * The JIT then runs a copy of the body without those jumps when the test
 * passes (loop versioning), the body as written when it does not.
 *
 * This file only finds the checks; it knows nothing of x86. Soundness
 * rests on three facts the caller must guarantee: R1 = i and R2 = ctx on
 * entry to each iteration, i runs 0 .. n-1 with n <= 2^23, and the ctx
 * slots a check names hold the same 8 bytes in every iteration (nothing in
 * the body writes them). */
#ifndef BPFLUA_LOOP_CHECKS_H
#define BPFLUA_LOOP_CHECKS_H

#include <stdint.h>

#include "../core/insn.h"

enum loop_check_kind {
    LC_IMM, /* a*i + b  >(=)  k            never taken iff a*(n-1) + b  <(=) k */
    LC_PTR, /* [ctx+lo] + a*i + b  >(=)  [ctx+hi]: never taken iff
               [ctx+lo] + a*(n-1) + b does not carry and <(=) [ctx+hi] */
};

struct loop_check {
    uint32_t pc;        /* the conditional jump */
    uint8_t kind;       /* enum loop_check_kind */
    uint8_t strict;     /* the jump is taken on >=: the bound must be < */
    int16_t lo, hi;     /* LC_PTR: ctx slots (8-byte loads) */
    int32_t a, b;       /* a >= 0, b >= 0 */
    int32_t k;          /* LC_IMM: the jump's immediate (compared as a u64) */
};

#define LOOP_CHECKS_MAX 8

/* Finds the checks of the callback [start, end), anywhere a form of both
 * sides is known on every path to the jump; nothing when its first
 * instruction is a jump target (is_target[pc] marks them) or a jump goes
 * back. Writes up to LOOP_CHECKS_MAX checks in pc order; returns how many
 * (0 also when out of memory). */
int bl_loop_checks(const struct bl_insn *insns, uint32_t start, uint32_t end,
                   const uint8_t *is_target, struct loop_check *out);

#endif
