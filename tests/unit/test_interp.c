/* test_interp.c - interpreter corner cases of RFC 9669, in both the raw
 * (checked) and verified (unchecked) loops, and raw mode's protections. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vm/asm.h"
#include "vm/interp.h"
#include "stdlib/helpers.h"
#include "jit/jit.h"
#include "engine/kernel.h"

struct outcome { int rc; uint64_t r0; uint64_t insns; char msg[200]; };

/* the kernel's helpers through another lookup function: the interpreter
 * then calls bpf_loop as a helper instead of running it inline */
static int wrap_helpers;
static const struct bpflua_helper *wrapped_find(uint32_t id)
{
    return bl_helper_find(id);
}

/* mode 0: verified loop (direct threaded), 1: raw, 2: verified and counting
 * (direct threaded, counting fused groups), 3: verified, counting against a
 * limit (one instruction per dispatch; 2^40 unless max_insns is given);
 * max_insns: the instruction limit (0: none) */
static struct outcome run_text_max(const char *text, int mode, void *mem, size_t len,
                                   uint64_t max_insns)
{
    char *err = NULL;
    bpflua_object *obj = bpflua_object_from_asm(text, "t.asm", &err);
    if (!obj)
        fail_msg("%s", err);
    size_t n;
    const struct bl_insn *insns = bpflua_prog_insns(obj, 0, &n);
    struct bl_interp_opts opts = {
        .raw = mode == 1, .count = mode != 0,
        .max_insns = mode == 3 && !max_insns ? (uint64_t)1 << 40 : max_insns,
        .regions = { { (uint64_t)(uintptr_t)mem, len } }, .n_regions = mem ? 1 : 0,
        .helper_find = wrap_helpers ? wrapped_find : NULL,
    };
    uint64_t args[5] = { (uint64_t)(uintptr_t)mem, len, 0, 0, 0 };
    struct bpflua_run_env env = { .obj = obj };
    struct bl_interp_result res;
    struct outcome o;
    o.rc = bl_interp_exec(insns, (uint32_t)n, args, &opts, &env, &res);
    o.r0 = res.r0;
    o.insns = res.insns;
    snprintf(o.msg, sizeof o.msg, "%s", res.msg);
    bpflua_object_free(obj);
    return o;
}

static struct outcome run_text(const char *text, int mode, void *mem, size_t len)
{
    return run_text_max(text, mode, mem, len, 0);
}

/* Every loop agrees and gives `want`. */
static void expect(const char *text, uint64_t want)
{
    static const char *const modes[] = { "verified", "raw", "counting", "limited" };
    for (int mode = 0; mode <= 3; mode++) {
        struct outcome o = run_text(text, mode, NULL, 0);
        if (o.rc != 0)
            fail_msg("%s mode: '%s' failed: %s", modes[mode], text, o.msg);
        if (o.r0 != want)
            fail_msg("%s mode: '%s' gave 0x%llx, want 0x%llx", modes[mode], text,
                     (unsigned long long)o.r0, (unsigned long long)want);
    }
}

static void test_division(void **state)
{
    (void)state;
    expect("mov %r0, 7\nmov %r1, 0\ndiv %r0, %r1\nexit", 0);
    expect("mov %r0, 7\nmov %r1, 0\nmod %r0, %r1\nexit", 7);
    expect("mov %r0, -1\nmov %r1, 0\ndiv32 %r0, %r1\nexit", 0);
    /* 32-bit mod by zero keeps dst, zero-extended */
    expect("mov %r0, -1\nmov %r1, 0\nmod32 %r0, %r1\nexit", 0xffffffffull);
    /* only the low 32 bits of the divisor count */
    expect("mov %r0, 12\nlddw %r1, 0x100000004\ndiv32 %r0, %r1\nexit", 3);
    expect("lddw %r0, 0x8000000000000000\nsdiv %r0, -1\nexit", 0x8000000000000000ull);
    expect("lddw %r0, 0x8000000000000000\nmov %r1, -1\nsmod %r0, %r1\nexit", 0);
    expect("mov32 %r0, 0x80000000\nsdiv32 %r0, -1\nexit", 0x80000000ull);
    expect("mov32 %r0, 0x80000000\nsmod32 %r0, -1\nexit", 0);
    expect("mov %r0, -13\nsmod %r0, 4\nexit", (uint64_t)-1);
    expect("mov %r0, -13\nsdiv %r0, 4\nexit", (uint64_t)-3);
    expect("mov %r0, -10\nmov %r1, 0\nsdiv %r0, %r1\nexit", 0);
    expect("mov %r0, -10\nmov %r1, 0\nsmod %r0, %r1\nexit", (uint64_t)-10);
    expect("mov32 %r0, -10\nmov32 %r1, 0\nsmod32 %r0, %r1\nexit", 0xfffffff6ull);
    expect("lddw %r0, 0xffffffffffffffff\ndiv %r0, -10\nexit", 1); /* imm sign-extends */
}

static void test_shifts_and_widths(void **state)
{
    (void)state;
    expect("mov %r0, 1\nlsh %r0, 65\nexit", 2);
    expect("mov %r0, 1\nmov %r1, 65\nlsh %r0, %r1\nexit", 2);
    expect("mov %r0, 1\nlsh32 %r0, 33\nexit", 2);
    expect("mov %r0, -1\nrsh32 %r0, 28\nexit", 0xf);
    expect("mov32 %r0, 0x80000000\narsh32 %r0, 4\nexit", 0xf8000000ull);
    expect("mov %r0, -16\narsh %r0, 2\nexit", (uint64_t)-4);
    expect("lddw %r0, 0xffffffffffffffff\nadd32 %r0, 1\nexit", 0);
    expect("mov32 %r0, -1\nexit", 0xffffffffull);
    expect("mov %r0, -1\nexit", UINT64_MAX);
    expect("lddw %r1, 0x1ffffffff\nmov32 %r0, %r1\nexit", 0xffffffffull);
    expect("mov32 %r0, 0x80000000\nneg32 %r0\nexit", 0x80000000ull);
    expect("mov %r0, 1\nneg %r0\nexit", UINT64_MAX);
    expect("mov32 %r0, 0x7fffffff\nmul32 %r0, 2\nexit", 0xfffffffeull);
}

static void test_sign_extension(void **state)
{
    (void)state;
    expect("mov %r1, 0x80\nmovsx864 %r0, %r1\nexit", 0xffffffffffffff80ull);
    expect("mov %r1, 0x8000\nmovsx1664 %r0, %r1\nexit", 0xffffffffffff8000ull);
    expect("mov32 %r1, 0x80000000\nmovsx3264 %r0, %r1\nexit", 0xffffffff80000000ull);
    expect("mov %r1, 0x80\nmovsx832 %r0, %r1\nexit", 0xffffff80ull);
    expect("mov %r1, 0x8000\nmovsx1632 %r0, %r1\nexit", 0xffff8000ull);
    expect("stb [%r10-1], 0x80\nldxsb %r0, [%r10-1]\nexit", 0xffffffffffffff80ull);
    expect("sth [%r10-2], -2\nldxsh %r0, [%r10-2]\nexit", (uint64_t)-2);
    expect("stw [%r10-4], -3\nldxsw %r0, [%r10-4]\nexit", (uint64_t)-3);
    expect("stw [%r10-4], -3\nldxw %r0, [%r10-4]\nexit", 0xfffffffdull);
    expect("stdw [%r10-8], -1\nldxdw %r0, [%r10-8]\nexit", UINT64_MAX);
}

static void test_byte_order(void **state)
{
    (void)state;
    expect("lddw %r0, 0x1122334455667788\nbe16 %r0\nexit", 0x8877);
    expect("lddw %r0, 0x1122334455667788\nbe32 %r0\nexit", 0x88776655);
    expect("lddw %r0, 0x1122334455667788\nbe64 %r0\nexit", 0x8877665544332211ull);
    expect("lddw %r0, 0x1122334455667788\nle16 %r0\nexit", 0x7788);
    expect("lddw %r0, 0x1122334455667788\nle32 %r0\nexit", 0x55667788);
    expect("lddw %r0, 0x1122334455667788\nle64 %r0\nexit", 0x1122334455667788ull);
    expect("lddw %r0, 0x1122334455667788\nbswap16 %r0\nexit", 0x8877);
    expect("lddw %r0, 0x1122334455667788\nbswap64 %r0\nexit", 0x8877665544332211ull);
}

static void test_atomics(void **state)
{
    (void)state;
    expect("stdw [%r10-8], 5\nmov %r1, 3\nlock add [%r10-8], %r1\nldxdw %r0, [%r10-8]\nexit", 8);
    expect("stdw [%r10-8], 5\nmov %r1, 3\nlock fetch add [%r10-8], %r1\nmov %r0, %r1\nexit", 5);
    expect("stdw [%r10-8], -1\nmov %r1, 1\nlock fetch add32 [%r10-8], %r1\n"
           "ldxdw %r0, [%r10-8]\nexit", 0xffffffff00000000ull);
    expect("stdw [%r10-8], -1\nmov %r1, 1\nlock fetch add32 [%r10-8], %r1\nmov %r0, %r1\nexit",
           0xffffffffull);
    expect("stdw [%r10-8], 6\nmov %r1, 3\nlock fetch and [%r10-8], %r1\n"
           "ldxdw %r0, [%r10-8]\nlsh %r0, 8\nor %r0, %r1\nexit", 0x206);
    expect("stdw [%r10-8], 6\nmov %r1, 3\nlock xor32 [%r10-8], %r1\nldxdw %r0, [%r10-8]\nexit", 5);
    expect("stdw [%r10-8], 6\nmov %r1, 9\nlock xchg [%r10-8], %r1\n"
           "ldxdw %r0, [%r10-8]\nlsh %r0, 8\nor %r0, %r1\nexit", 0x906);
    /* cmpxchg: success stores, failure does not; r0 gets the old value */
    expect("stdw [%r10-8], 6\nmov %r0, 6\nmov %r1, 9\nlock cmpxchg [%r10-8], %r1\n"
           "ldxdw %r1, [%r10-8]\nlsh %r1, 8\nor %r0, %r1\nexit", 0x906);
    expect("stdw [%r10-8], 6\nmov %r0, 7\nmov %r1, 9\nlock cmpxchg [%r10-8], %r1\n"
           "ldxdw %r1, [%r10-8]\nlsh %r1, 8\nor %r0, %r1\nexit", 0x606);
    expect("lddw %r0, 0x1234567800000006\nstxdw [%r10-8], %r0\nmov %r0, 6\nmov %r1, 9\n"
           "lock cmpxchg32 [%r10-8], %r1\nldxdw %r0, [%r10-8]\nexit", 0x1234567800000009ull);
}

static void test_jumps_and_calls(void **state)
{
    (void)state;
    expect("mov %r0, 0\nmov %r1, -1\njsgt %r1, 0, +1\nmov %r0, 1\nexit", 1);
    expect("mov %r0, 0\nmov %r1, -1\njgt %r1, 0, +1\nmov %r0, 1\nexit", 0);
    expect("lddw %r1, 0x100000001\nmov %r0, 0\njeq32 %r1, 1, +1\nmov %r0, 1\nexit", 0);
    expect("mov %r0, 2\nja32 +1\nmov %r0, 3\nexit", 2);
    /* frames: r6-r9 preserved, own stack per frame */
    expect("mov %r6, 5\nstdw [%r10-8], 11\ncall local f\nldxdw %r1, [%r10-8]\n"
           "add %r0, %r1\nadd %r0, %r6\nexit\n"
           "f: stdw [%r10-8], 100\nmov %r6, 0\nmov %r0, 1\nexit", 17);
    /* seven nested calls are allowed (8 frames) */
    expect("call local a\nexit\na: call local b\nexit\nb: call local c\nexit\n"
           "c: call local d\nexit\nd: call local e\nexit\ne: call local f\nexit\n"
           "f: call local g\nexit\ng: mov %r0, 8\nexit", 8);
}

static void test_superinstructions(void **state)
{
    (void)state;
    /* pairs the verified loop fuses, and jumps into their second half */
    expect("stdw [%r10-8], 7\nldxdw %r0, [%r10-8]\nmov %r6, %r0\nadd %r0, %r6\nexit", 14);
    expect("stdw [%r10-8], 7\nmov %r1, %r10\nldxdw %r1, [%r1-8]\nmov %r0, %r1\nexit", 7);
    expect("mov %r0, 3\nmov %r6, 4\nmov %r7, %r0\nadd %r6, %r7\nmov %r0, %r6\nexit", 7);
    expect("mov %r0, 3\nmov %r7, %r0\nadd %r7, %r7\nmov %r0, %r7\nexit", 6);
    expect("mov %r0, 3\nmov %r7, %r0\nadd %r0, %r7\nexit", 6);
    expect("mov %r1, 3\nmov %r3, %r1\nadd %r3, -5\nmov %r0, %r3\nexit", (uint64_t)-2);
    expect("mov %r0, 1\nmov %r2, 10\nja l\nmov %r1, %r2\nl: add %r0, %r1\nexit", 1);
    expect("mov %r0, 1\nja l\nmov %r0, 5\nl: exit", 1);
    expect("mov %r6, 9\ncall local f\nadd %r0, %r6\nexit\nf: mov %r0, 42\nexit", 51);
    expect("mov %r6, 9\ncall local f\nexit\nf: mov %r0, %r6\nexit", 9);
    expect("stdw [%r10-8], 7\nmov %r0, 1\nldxdw %r1, [%r10-8]\nadd %r0, %r1\nexit", 8);
    expect("stdw [%r10-8], 7\nmov %r1, %r10\nldxdw %r1, [%r1-8]\nadd %r1, %r1\nmov %r0, %r1\nexit", 14);
    expect("mov %r0, 5\nmov %r1, 6\nadd %r0, %r1\nstxdw [%r10-16], %r0\n"
           "ldxdw %r0, [%r10-16]\nexit", 11);
    expect("stdw [%r10-8], 7\nmov %r0, 3\nldxdw %r1, [%r10-8]\nmul %r0, %r1\nexit", 21);
    expect("stdw [%r10-8], 7\nmov %r1, %r10\nldxdw %r1, [%r1-8]\nmul %r1, %r1\nmov %r0, %r1\nexit", 49);
    expect("stdw [%r10-8], 7\nmov %r9, %r10\nldxdw %r0, [%r9-8]\nexit", 7);
    expect("stdw [%r10-8], 7\nmov %r9, %r10\nldxdw %r9, [%r9-8]\nmov %r0, %r9\nexit", 7);
    /* the store's base is the add's destination: the sum is the address */
    expect("mov %r2, %r10\nmov %r1, -8\nadd %r2, %r1\nstxdw [%r2], %r2\n"
           "ldxdw %r0, [%r10-8]\nsub %r0, %r10\nexit", (uint64_t)-8);
}

/* ---- superinstructions of ae39b3a: each fused group where it applies and
 * its near misses. Every expectation is computed by hand (the raw and
 * counting loops, which never fuse, must agree with it too). A group is
 * preceded by an instruction that does not fuse with its first slot, so
 * the fused handler itself runs. ---------------------------------------- */

/* expect(), and the unfused instruction count `insns` in the counting and
 * raw loops; a limit of exactly `insns` passes, one less stops the run */
static void expect_counted(const char *text, uint64_t want, uint64_t insns)
{
    expect(text, want);
    for (int mode = 1; mode <= 3; mode++) {
        struct outcome o = run_text(text, mode, NULL, 0);
        if (o.insns != insns)
            fail_msg("mode %d: '%s' counted %llu instructions, want %llu", mode, text,
                     (unsigned long long)o.insns, (unsigned long long)insns);
        o = run_text_max(text, mode, NULL, 0, insns);
        if (o.rc != 0 || o.r0 != want || o.insns != insns)
            fail_msg("mode %d, limit %llu: rc %d r0 0x%llx insns %llu (%s)", mode,
                     (unsigned long long)insns, o.rc, (unsigned long long)o.r0,
                     (unsigned long long)o.insns, o.msg);
        o = run_text_max(text, mode, NULL, 0, insns - 1);
        if (o.rc != -ETIME)
            fail_msg("mode %d, limit %llu: rc %d, want -ETIME", mode,
                     (unsigned long long)(insns - 1), o.rc);
    }
}

/* ldxdw rA, [rB+o]; add rA, rC; stxdw [rB+o], rA (rA != rB, rA != rC) */
static void test_fused_memory_add(void **state)
{
    (void)state;
    /* applies: the slot, rA and rC afterwards */
    expect("stdw [%r10-8], 5\nmov %r2, 3\nldxdw %r1, [%r10-8]\nadd %r1, %r2\n"
           "stxdw [%r10-8], %r1\nldxdw %r0, [%r10-8]\nlsh %r0, 8\nor %r0, %r1\n"
           "lsh %r0, 8\nor %r0, %r2\nexit", 0x080803);
    /* applies with a non-zero positive offset from a moved base */
    expect("stdw [%r10-16], 5\nmov %r9, %r10\nadd %r9, -32\nmov %r2, 3\n"
           "ldxdw %r1, [%r9+16]\nadd %r1, %r2\nstxdw [%r9+16], %r1\n"
           "ldxdw %r0, [%r10-16]\nexit", 8);
    /* applies with rB == rC: the base register is also the addend */
    expect("mov %r9, %r10\nstdw [%r10-8], 5\nldxdw %r1, [%r9-8]\nadd %r1, %r9\n"
           "stxdw [%r9-8], %r1\nldxdw %r0, [%r10-8]\nsub %r0, %r10\nsub %r1, %r10\n"
           "lsh %r0, 8\nor %r0, %r1\nexit", 0x505);
    /* wraps at 64 bits */
    expect("lddw %r1, 0xffffffffffffffff\nstxdw [%r10-8], %r1\nmov %r2, 2\n"
           "ldxdw %r1, [%r10-8]\nadd %r1, %r2\nstxdw [%r10-8], %r1\nldxdw %r0, [%r10-8]\nexit", 1);
    /* the store's offset differs: the load's slot keeps its value */
    expect("stdw [%r10-8], 5\nstdw [%r10-16], 100\nmov %r2, 3\nldxdw %r1, [%r10-8]\n"
           "add %r1, %r2\nstxdw [%r10-16], %r1\nldxdw %r0, [%r10-8]\nlsh %r0, 8\n"
           "ldxdw %r3, [%r10-16]\nor %r0, %r3\nexit", 0x508);
    /* the store's base differs, same offset */
    expect("mov %r9, %r10\nadd %r9, -8\nstdw [%r10-8], 5\nstdw [%r10-16], 100\nmov %r2, 3\n"
           "ldxdw %r1, [%r10-8]\nadd %r1, %r2\nstxdw [%r9-8], %r1\nldxdw %r0, [%r10-8]\n"
           "lsh %r0, 8\nldxdw %r3, [%r10-16]\nor %r0, %r3\nexit", 0x508);
    /* rA == rC: add rA, rA doubles the loaded value, not rA's old one */
    expect("mov %r1, 1000\nstdw [%r10-8], 5\nldxdw %r1, [%r10-8]\nadd %r1, %r1\n"
           "stxdw [%r10-8], %r1\nldxdw %r0, [%r10-8]\nexit", 10);
    /* rA == rB: the store goes to the new rA, [r10-8] keeps the pointer */
    expect("mov %r1, %r10\nadd %r1, -16\nstxdw [%r10-8], %r1\nstdw [%r10-24], 0\n"
           "mov %r1, %r10\nadd %r1, -8\nmov %r2, -8\n"
           "ldxdw %r1, [%r1]\nadd %r1, %r2\nstxdw [%r1], %r1\n"
           "ldxdw %r0, [%r10-8]\nsub %r0, %r10\nlsh %r0, 8\n"
           "ldxdw %r3, [%r10-24]\nsub %r3, %r10\nadd %r0, %r3\nexit", (uint64_t)(-16 * 256 - 24));
    /* add32: the sum is truncated to 32 bits */
    expect("lddw %r1, 0xffffffff00000005\nstxdw [%r10-8], %r1\nmov %r2, 3\n"
           "ldxdw %r1, [%r10-8]\nadd32 %r1, %r2\nstxdw [%r10-8], %r1\nldxdw %r0, [%r10-8]\nexit", 8);
    /* stxw: only the low half is stored (the carry does not reach memory) */
    expect("lddw %r1, 0x11111111ffffffff\nstxdw [%r10-8], %r1\nmov %r2, 1\n"
           "ldxdw %r1, [%r10-8]\nadd %r1, %r2\nstxw [%r10-8], %r1\nldxdw %r0, [%r10-8]\nexit",
           0x1111111100000000ull);
    /* ldxw: only the low half is loaded */
    expect("lddw %r1, 0x11111111ffffffff\nstxdw [%r10-8], %r1\nmov %r2, 1\n"
           "ldxw %r1, [%r10-8]\nadd %r1, %r2\nstxdw [%r10-8], %r1\nldxdw %r0, [%r10-8]\nexit",
           0x100000000ull);
    /* add K (r3 is the would-be register operand) */
    expect("stdw [%r10-8], 5\nmov %r3, 1000\nldxdw %r1, [%r10-8]\nadd %r1, 3\n"
           "stxdw [%r10-8], %r1\nldxdw %r0, [%r10-8]\nexit", 8);
    /* sub instead of add */
    expect("stdw [%r10-8], 5\nmov %r2, 3\nldxdw %r1, [%r10-8]\nsub %r1, %r2\n"
           "stxdw [%r10-8], %r1\nldxdw %r0, [%r10-8]\nexit", 2);
    /* the add's destination is not the loaded register */
    expect("stdw [%r10-8], 5\nmov %r2, 3\nmov %r3, 10\nldxdw %r1, [%r10-8]\nadd %r3, %r2\n"
           "stxdw [%r10-8], %r1\nldxdw %r0, [%r10-8]\nlsh %r0, 8\nor %r0, %r3\nexit", 0x50d);
    /* the store's source is not the sum */
    expect("stdw [%r10-8], 5\nmov %r2, 3\nldxdw %r1, [%r10-8]\nadd %r1, %r2\n"
           "stxdw [%r10-8], %r2\nldxdw %r0, [%r10-8]\nlsh %r0, 8\nor %r0, %r1\nexit", 0x308);
    /* the third is an immediate store (src 0 == rA) */
    expect("stdw [%r10-8], 5\nmov %r2, 3\nldxdw %r0, [%r10-8]\nadd %r0, %r2\n"
           "stdw [%r10-8], 9\nldxdw %r1, [%r10-8]\nlsh %r0, 8\nor %r0, %r1\nexit", 0x809);
    /* the third is not a store */
    expect("stdw [%r10-8], 5\nmov %r2, 3\nldxdw %r1, [%r10-8]\nadd %r1, %r2\nmov %r0, %r1\n"
           "ldxdw %r3, [%r10-8]\nlsh %r0, 8\nor %r0, %r3\nexit", 0x805);
    /* an intervening instruction after the load, or after the add */
    expect("stdw [%r10-8], 5\nmov %r2, 3\nldxdw %r1, [%r10-8]\nadd %r1, 100\nadd %r1, %r2\n"
           "stxdw [%r10-8], %r1\nldxdw %r0, [%r10-8]\nexit", 108);
    expect("stdw [%r10-8], 5\nmov %r2, 3\nldxdw %r1, [%r10-8]\nadd %r1, %r2\nadd %r1, 100\n"
           "stxdw [%r10-8], %r1\nldxdw %r0, [%r10-8]\nexit", 108);
    /* a jump onto the add: add and store run on their own, with r1 = 100 */
    expect("stdw [%r10-8], 5\nmov %r2, 3\nmov %r1, 100\nja +1\nldxdw %r1, [%r10-8]\n"
           "add %r1, %r2\nstxdw [%r10-8], %r1\nldxdw %r0, [%r10-8]\nexit", 103);
    /* a jump onto the store */
    expect("stdw [%r10-8], 5\nmov %r2, 3\nmov %r1, 100\nja +2\nldxdw %r1, [%r10-8]\n"
           "add %r1, %r2\nstxdw [%r10-8], %r1\nldxdw %r0, [%r10-8]\nexit", 100);
    /* a loop whose back edge lands on the load: 1 + ... + 10, counted as
     * 2 + 10 * 5 + 2 unfused instructions */
    expect_counted("stdw [%r10-8], 0\nmov %r2, 1\n"
                   "ldxdw %r1, [%r10-8]\nadd %r1, %r2\nstxdw [%r10-8], %r1\n"
                   "add %r2, 1\njle %r2, 10, -5\nldxdw %r0, [%r10-8]\nexit", 55, 54);
    /* a loop whose back edge lands on the add (the load runs once):
     * r1 = 1 + 1 + 2 + ... + 10, 3 + 5 + 9 * 4 + 2 instructions */
    expect_counted("stdw [%r10-8], 1\nmov %r2, 1\nmov %r3, 0\n"
                   "ldxdw %r1, [%r10-8]\nadd %r1, %r2\nstxdw [%r10-8], %r1\n"
                   "add %r2, 1\njle %r2, 10, -4\nldxdw %r0, [%r10-8]\nexit", 56, 46);
}

/* mov rA, rB; mov rC, rD: in order, the second sees the first's result */
static void test_fused_mov_mov(void **state)
{
    (void)state;
    expect("mov %r2, 7\nmov %r4, 9\nmov %r1, %r2\nmov %r3, %r4\nmov %r0, %r1\nlsh %r0, 8\n"
           "or %r0, %r3\nexit", 0x709);
    /* the second reads the first's destination */
    expect("mov %r2, 7\nmov %r1, 1\nmov %r1, %r2\nmov %r3, %r1\nlsh %r3, 8\nmov %r0, %r3\nexit",
           0x700);
    /* the second writes the first's source: the first read the old value */
    expect("mov %r1, 5\nmov %r2, 7\nmov %r3, %r1\nmov %r1, %r2\nmov %r0, %r3\nlsh %r0, 8\n"
           "or %r0, %r1\nexit", 0x507);
    /* mov r1, r2; mov r2, r1: both end as r2 */
    expect("mov %r1, 5\nmov %r2, 7\nmov %r1, %r2\nmov %r2, %r1\nmov %r0, %r1\nlsh %r0, 8\n"
           "or %r0, %r2\nexit", 0x707);
    /* the same destination twice: the second wins */
    expect("mov %r1, 5\nmov %r2, 7\nmov %r3, 9\nmov %r1, %r2\nmov %r1, %r3\nlsh %r1, 4\n"
           "mov %r0, %r1\nexit", 0x90);
    /* the same register both sides of the first */
    expect("mov %r1, 5\nmov %r2, 7\nmov %r1, %r1\nmov %r2, %r1\nlsh %r2, 4\nmov %r0, %r2\nexit",
           0x50);
    /* a chain of four: overlapping pairs */
    expect("mov %r2, 7\nmov %r1, %r2\nmov %r3, %r1\nmov %r4, %r3\nmov %r5, %r4\nlsh %r5, 4\n"
           "mov %r0, %r5\nexit", 0x70);
    /* mov32 second, or first: zero-extended low halves */
    expect("lddw %r2, 0x1234567887654321\nmov %r1, %r2\nmov32 %r3, %r1\nlsh %r3, 4\n"
           "mov %r0, %r3\nexit", 0x876543210ull);
    expect("lddw %r2, 0x1234567887654321\nmov32 %r1, %r2\nmov %r3, %r1\nlsh %r3, 4\n"
           "mov %r0, %r3\nexit", 0x876543210ull);
    /* movsx second (off != 0): sign-extended */
    expect("mov %r2, 0x80\nmov %r1, %r2\nmovsx864 %r3, %r1\nlsh %r3, 4\nmov %r0, %r3\nexit",
           0xfffffffffffff800ull);
    /* mov K second */
    expect("mov %r4, 11\nmov %r3, %r4\nmov %r5, 9\nmov %r0, %r5\nlsh %r0, 8\nor %r0, %r3\nexit",
           0x90b);
    /* a jump onto the second mov: the first does not run */
    expect("mov %r4, 11\nmov %r3, 1\nmov %r1, 2\nja +1\nmov %r3, %r4\nmov %r0, %r1\nlsh %r0, 8\n"
           "or %r0, %r3\nexit", 0x201);
    /* counted: every mov is one instruction */
    expect_counted("mov %r2, 7\nmov %r1, %r2\nmov %r3, %r1\nmov %r4, %r3\nlsh %r4, 4\n"
                   "mov %r0, %r4\nexit", 0x70, 7);
}

/* ldxdw rA, [rB+o]; ldxdw rC, [rD+p]: in order, p a signed 16-bit offset */
static void test_fused_ldxdw_ldxdw(void **state)
{
    (void)state;
    expect("stdw [%r10-8], 5\nstdw [%r10-16], 7\nldxdw %r1, [%r10-8]\nldxdw %r2, [%r10-16]\n"
           "lsh %r1, 8\nor %r1, %r2\nmov %r0, %r1\nexit", 0x507);
    /* the second's base is the first's result (pointer chasing) */
    expect("mov %r1, %r10\nadd %r1, -16\nstxdw [%r10-8], %r1\nstdw [%r10-16], 42\n"
           "ldxdw %r2, [%r10-8]\nldxdw %r0, [%r2]\nexit", 42);
    expect("mov %r1, %r10\nadd %r1, -64\nstxdw [%r10-8], %r1\nstdw [%r10-56], 42\n"
           "ldxdw %r2, [%r10-8]\nldxdw %r0, [%r2+8]\nexit", 42);
    expect("mov %r1, %r10\nadd %r1, -16\nstxdw [%r10-8], %r1\nstdw [%r10-48], 43\n"
           "ldxdw %r2, [%r10-8]\nldxdw %r0, [%r2-32]\nexit", 43);
    /* the first's base is its own destination, the second's base the first's */
    expect("mov %r1, %r10\nadd %r1, -16\nstxdw [%r10-8], %r1\nstdw [%r10-16], 44\n"
           "mov %r2, %r10\nmov %r0, 0\nldxdw %r2, [%r2-8]\nldxdw %r0, [%r2]\nexit", 44);
    /* offsets wider than a byte, negative and positive */
    expect("mov %r9, %r10\nstdw [%r10-400], 44\nstdw [%r10-8], 1\n"
           "ldxdw %r1, [%r10-8]\nldxdw %r0, [%r9-400]\nadd %r0, %r1\nexit", 45);
    expect("mov %r9, %r10\nadd %r9, -504\nstdw [%r10-8], 46\nstdw [%r10-16], 1\n"
           "ldxdw %r1, [%r10-16]\nldxdw %r0, [%r9+496]\nadd %r0, %r1\nexit", 47);
    /* the same destination: the second wins */
    expect("stdw [%r10-8], 5\nstdw [%r10-16], 7\nldxdw %r1, [%r10-8]\nldxdw %r1, [%r10-16]\n"
           "lsh %r1, 4\nmov %r0, %r1\nexit", 0x70);
    /* the second's destination is the first's base */
    expect("mov %r9, %r10\nstdw [%r10-8], 5\nstdw [%r10-16], 7\nldxdw %r1, [%r9-8]\n"
           "ldxdw %r9, [%r9-16]\nmov %r0, %r9\nlsh %r0, 8\nor %r0, %r1\nexit", 0x705);
    /* ldxw second, or first: 4 bytes, zero-extended */
    expect("lddw %r1, -1\nstxdw [%r10-16], %r1\nstdw [%r10-8], 5\nldxdw %r2, [%r10-8]\n"
           "ldxw %r3, [%r10-16]\nlsh %r3, 8\nor %r3, %r2\nmov %r0, %r3\nexit", 0xffffffff05ull);
    expect("lddw %r1, -1\nstxdw [%r10-16], %r1\nstdw [%r10-8], 5\nldxw %r3, [%r10-16]\n"
           "ldxdw %r2, [%r10-8]\nlsh %r3, 8\nor %r3, %r2\nmov %r0, %r3\nexit", 0xffffffff05ull);
    /* ldxsw second: sign-extended */
    expect("lddw %r1, 0xffffffff\nstxdw [%r10-16], %r1\nstdw [%r10-8], 5\nldxdw %r2, [%r10-8]\n"
           "ldxsw %r3, [%r10-16]\nadd %r3, %r2\nmov %r0, %r3\nexit", 4);
    /* a jump onto the second load */
    expect("stdw [%r10-8], 5\nstdw [%r10-16], 7\nmov %r1, 100\nja +1\nldxdw %r1, [%r10-8]\n"
           "ldxdw %r2, [%r10-16]\nlsh %r1, 8\nor %r1, %r2\nmov %r0, %r1\nexit", 0x6407);
    /* three in a row, counted one by one */
    expect_counted("stdw [%r10-8], 1\nstdw [%r10-16], 2\nstdw [%r10-24], 3\n"
                   "ldxdw %r1, [%r10-8]\nldxdw %r2, [%r10-16]\nldxdw %r3, [%r10-24]\n"
                   "lsh %r1, 16\nlsh %r2, 8\nor %r1, %r2\nor %r1, %r3\nmov %r0, %r1\nexit",
                   0x10203, 12);
}

/* ldxdw rA, [..]; mul rA, rC (rC != rA) */
static void test_fused_ldxdw_mulself(void **state)
{
    (void)state;
    expect("stdw [%r10-8], 7\nmov %r2, 6\nldxdw %r1, [%r10-8]\nmul %r1, %r2\nmov %r0, %r1\n"
           "lsh %r0, 8\nor %r0, %r2\nexit", 0x2a06);
    /* rA == rB: the base register is overwritten by the product */
    expect("stdw [%r10-8], 7\nmov %r2, 6\nmov %r1, %r10\nmov %r0, 0\nldxdw %r1, [%r1-8]\n"
           "mul %r1, %r2\nadd %r0, %r1\nexit", 42);
    /* wraps at 64 bits */
    expect("lddw %r1, 0x8000000000000001\nstxdw [%r10-8], %r1\nmov %r2, 3\n"
           "ldxdw %r1, [%r10-8]\nmul %r1, %r2\nmov %r0, %r1\nexit", 0x8000000000000003ull);
    /* rA == rC: the loaded value squared, not times rA's old value */
    expect("stdw [%r10-8], 7\nmov %r1, 1000\nldxdw %r1, [%r10-8]\nmul %r1, %r1\nmov %r0, %r1\n"
           "exit", 49);
    expect("stdw [%r10-8], 7\nmov %r1, 1000\nmov %r9, %r10\nmov %r0, 0\nldxdw %r1, [%r9-8]\n"
           "mul %r1, %r1\nadd %r0, %r1\nexit", 49);
    /* mul32: the product truncated to 32 bits */
    expect("lddw %r1, 0x100000003\nstxdw [%r10-8], %r1\nmov %r2, 2\nldxdw %r1, [%r10-8]\n"
           "mul32 %r1, %r2\nmov %r0, %r1\nexit", 6);
    /* mul K (r6 is the would-be register operand) */
    expect("stdw [%r10-8], 7\nmov %r6, 1000\nldxdw %r1, [%r10-8]\nmul %r1, 6\nmov %r0, %r1\n"
           "exit", 42);
    /* the mul's destination is another register */
    expect("stdw [%r10-8], 7\nmov %r2, 6\nmov %r3, 5\nldxdw %r1, [%r10-8]\nmul %r3, %r2\n"
           "mov %r0, %r3\nlsh %r0, 8\nor %r0, %r1\nexit", 0x1e07);
    /* an intervening instruction */
    expect("stdw [%r10-8], 7\nmov %r2, 6\nldxdw %r1, [%r10-8]\nadd %r1, 1\nmul %r1, %r2\n"
           "mov %r0, %r1\nexit", 48);
    /* a jump onto the mul */
    expect("stdw [%r10-8], 7\nmov %r2, 6\nmov %r1, 10\nja +1\nldxdw %r1, [%r10-8]\n"
           "mul %r1, %r2\nmov %r0, %r1\nexit", 60);
    expect_counted("stdw [%r10-8], 7\nmov %r2, 6\nldxdw %r1, [%r10-8]\nmul %r1, %r2\n"
                   "mov %r0, %r1\nexit", 42, 6);
}

/* ldxdw rA, [..]; xor rC, rA */
static void test_fused_ldxdw_xor(void **state)
{
    (void)state;
    expect("stdw [%r10-8], 0x0f\nmov %r3, 0xf0\nldxdw %r1, [%r10-8]\nxor %r3, %r1\n"
           "mov %r0, %r3\nlsh %r0, 8\nor %r0, %r1\nexit", 0xff0f);
    /* rC == rA: zero */
    expect("stdw [%r10-8], 0x0f\nmov %r1, 0x30\nldxdw %r1, [%r10-8]\nxor %r1, %r1\n"
           "mov %r0, %r1\nadd %r0, 5\nexit", 5);
    /* rC == rB: the base register is xored, after the load read through it */
    expect("stdw [%r10-8], 0x5a\nmov %r9, %r10\nmov %r0, 0\nldxdw %r1, [%r9-8]\nxor %r9, %r1\n"
           "xor %r9, %r10\nadd %r0, %r9\nexit", 0x5a);
    /* rA == rB */
    expect("stdw [%r10-8], 0x5a\nmov %r3, 0xf\nmov %r1, %r10\nmov %r0, 0\nldxdw %r1, [%r1-8]\n"
           "xor %r3, %r1\nadd %r0, %r3\nexit", 0x55);
    /* xor32: zero-extended */
    expect("lddw %r3, -1\nstdw [%r10-8], 0x0f\nldxdw %r1, [%r10-8]\nxor32 %r3, %r1\n"
           "mov %r0, %r3\nexit", 0xfffffff0ull);
    /* the xor's source is another register */
    expect("stdw [%r10-8], 0x0f\nmov %r2, 0x30\nmov %r3, 0xf0\nldxdw %r1, [%r10-8]\n"
           "xor %r3, %r2\nmov %r0, %r3\nlsh %r0, 8\nor %r0, %r1\nexit", 0xc00f);
    /* xor K after a load into r0 (src field 0 == rA) */
    expect("stdw [%r10-8], 0x0f\nmov %r3, 0xf0\nldxdw %r0, [%r10-8]\nxor %r3, 1\n"
           "lsh %r0, 8\nor %r0, %r3\nexit", 0xff1);
    /* an intervening instruction */
    expect("stdw [%r10-8], 0x0f\nmov %r3, 0xf0\nldxdw %r1, [%r10-8]\nadd %r1, 1\n"
           "xor %r3, %r1\nmov %r0, %r3\nexit", 0xe0);
    /* a jump onto the xor */
    expect("stdw [%r10-8], 0x0f\nmov %r3, 0xf0\nmov %r1, 0x100\nja +1\nldxdw %r1, [%r10-8]\n"
           "xor %r3, %r1\nmov %r0, %r3\nexit", 0x1f0);
    expect_counted("stdw [%r10-8], 0x0f\nmov %r3, 0xf0\nldxdw %r1, [%r10-8]\nxor %r3, %r1\n"
                   "mov %r0, %r3\nexit", 0xff, 6);
}

/* Every new group inside a bpf_loop callback: the loop's re-entry sets R1
 * (the index) and R2 (ctx) that the mov+mov prologue reads. */
static void test_fused_in_bpf_loop(void **state)
{
    (void)state;
    /* ctx: [0] sum of 3i^2, [8] xor of 3i^2, [16] 3, [24] iterations, [32] sum of i */
    const char *text =
        "stdw [%r10-40], 0\nstdw [%r10-32], 0\nstdw [%r10-24], 3\nstdw [%r10-16], 0\n"
        "stdw [%r10-8], 0\n"
        "mov %r1, 10\nlddw %r2, func:body\nmov %r3, %r10\nadd %r3, -40\nmov %r4, 0\n"
        "call 181\n"
        "mov %r6, %r0\n"
        "ldxdw %r0, [%r10-40]\nlsh %r0, 16\nldxdw %r1, [%r10-32]\nor %r0, %r1\n"
        "lsh %r0, 8\nldxdw %r1, [%r10-16]\nor %r0, %r1\n"
        "lsh %r0, 8\nldxdw %r1, [%r10-8]\nor %r0, %r1\n"
        "lsh %r0, 8\nor %r0, %r6\nexit\n"
        "body:\n"
        "mov %r6, %r1\nmov %r7, %r2\n"                          /* mov+mov */
        "ldxdw %r3, [%r7+16]\nmul %r3, %r6\nmul %r3, %r6\n"     /* ldxdw+mul rA */
        "ldxdw %r4, [%r7]\nadd %r4, %r3\nstxdw [%r7], %r4\n"    /* memory add */
        "mov %r5, %r3\nldxdw %r4, [%r7+8]\nxor %r5, %r4\nstxdw [%r7+8], %r5\n" /* ldxdw+xor */
        "ldxdw %r8, [%r7+24]\nldxdw %r9, [%r7+32]\n"            /* ldxdw+ldxdw */
        "add %r8, 1\nadd %r9, %r6\nstxdw [%r7+24], %r8\nstxdw [%r7+32], %r9\n"
        "mov %r0, 0\nexit\n";
    uint64_t s = 0, x = 0, si = 0;
    for (uint64_t i = 0; i < 10; i++) {
        s += 3 * i * i;
        x ^= 3 * i * i;
        si += i;
    }
    uint64_t want = s << 40 | x << 24 | 10u << 16 | si << 8 | 10;
    /* 11 before the loop, 10 x 20 in the callback, 14 after */
    expect_counted(text, want, 11 + 10 * 20 + 14);

    /* re-entry straight onto a memory add, then the callback stops the loop
     * at i == 4: sum 0..4 = 10, bpf_loop returns 5 */
    const char *stop =
        "stdw [%r10-8], 0\n"
        "mov %r1, 10\nlddw %r2, func:body\nmov %r3, %r10\nadd %r3, -8\nmov %r4, 0\n"
        "call 181\n"
        "ldxdw %r1, [%r10-8]\nlsh %r1, 8\nor %r0, %r1\nexit\n"
        "body:\n"
        "ldxdw %r3, [%r2]\nadd %r3, %r1\nstxdw [%r2], %r3\n"
        "mov %r0, 0\njne %r1, 4, +1\nmov %r0, 1\nexit\n";
    /* 7 + 5 x 6 + 1 (the last iteration's mov) + 4 */
    expect_counted(stop, (10 << 8) | 5, 7 + 5 * 6 + 1 + 4);

    /* the callback's mov+mov prologue swaps roles: r1 gets ctx, r2 the index */
    const char *swap =
        "stdw [%r10-8], 0\n"
        "mov %r1, 6\nlddw %r2, func:body\nmov %r3, %r10\nadd %r3, -8\nmov %r4, 0\n"
        "call 181\n"
        "ldxdw %r0, [%r10-8]\nexit\n"
        "body:\n"
        "mov %r3, %r1\nmov %r1, %r2\nmov %r2, %r3\nmov %r0, 0\n"
        "ldxdw %r4, [%r1]\nadd %r4, %r2\nstxdw [%r1], %r4\nexit\n";
    expect_counted(swap, 15, 7 + 6 * 8 + 2);
}

/* expect(), and the same instruction count in the raw, counting and
 * limited loops (the counting loop counts fused groups by their size) */
static void expect_agree(const char *text, uint64_t want)
{
    expect(text, want);
    struct outcome raw = run_text(text, 1, NULL, 0);
    for (int mode = 2; mode <= 3; mode++) {
        struct outcome o = run_text(text, mode, NULL, 0);
        if (o.insns != raw.insns)
            fail_msg("mode %d: '%s' counted %llu instructions, raw %llu", mode, text,
                     (unsigned long long)o.insns, (unsigned long long)raw.insns);
    }
    expect_counted(text, want, raw.insns);
}

/* The innermost bpf_loop's state lives in the dispatch loop's locals, an
 * enclosing loop's in the frame; a callback's leading `mov rX, r1` and
 * `mov rY, r2` are done by the next iteration's entry (movk0_exit). */
static void test_loop_state(void **state)
{
    (void)state;
    /* nested: sum of 10 i + j over i < 3, j < 4 (138) in ctx[0], the inner
     * loop's return in ctx[16], the outer's in r0 */
    expect_agree(
        "stdw [%r10-24], 0\nstdw [%r10-16], 0\nstdw [%r10-8], 0\n"
        "mov %r1, 3\nlddw %r2, func:outer\nmov %r3, %r10\nadd %r3, -24\nmov %r4, 0\n"
        "call 181\n"
        "ldxdw %r1, [%r10-24]\nlsh %r1, 16\nor %r0, %r1\n"
        "ldxdw %r1, [%r10-8]\nlsh %r1, 8\nor %r0, %r1\nexit\n"
        "outer:\n"
        "mov %r9, %r2\nmov %r6, %r1\nstxdw [%r9+8], %r6\n"
        "mov %r1, 4\nlddw %r2, func:inner\nmov %r3, %r9\nmov %r4, 0\ncall 181\n"
        "stxdw [%r9+16], %r0\nmov %r0, 0\nexit\n"
        "inner:\n"
        "mov %r9, %r2\nmov %r6, %r1\n"
        "ldxdw %r3, [%r9+8]\nmul %r3, 10\nadd %r3, %r6\n"
        "ldxdw %r4, [%r9]\nadd %r4, %r3\nstxdw [%r9], %r4\nmov %r0, 0\nexit\n",
        138 << 16 | 4 << 8 | 3);

    /* one-level loops of 5 over prologue shapes; each body adds
     * 1000 + i * 7 to ctx[0]: 5070 in all, then r0 = ctx[0] << 8 | loop's r0 */
    static const char *const bodies[] = {
        /* only `mov rX, r1` */
        "mov %r6, %r1\nmul %r6, 7\nadd %r6, 1000\n"
        "ldxdw %r4, [%r2]\nadd %r4, %r6\nstxdw [%r2], %r4\n",
        /* only `mov rY, r2` */
        "mov %r9, %r2\nmov %r6, %r1\nmul %r6, 7\nadd %r6, 1000\n"
        "ldxdw %r4, [%r9]\nadd %r4, %r6\nstxdw [%r9], %r4\n",
        /* the same register twice: the second mov is not prologue */
        "mov %r6, %r1\nmov %r6, %r2\nmul %r1, 7\nadd %r1, 1000\n"
        "ldxdw %r4, [%r6]\nadd %r4, %r1\nstxdw [%r6], %r4\n",
        /* ctx first, then the index, into registers other than r6/r9 */
        "mov %r7, %r2\nmov %r8, %r1\nmul %r8, 7\nadd %r8, 1000\n"
        "ldxdw %r4, [%r7]\nadd %r4, %r8\nstxdw [%r7], %r4\n",
        /* a mov into r1: not prologue (r6 must read the new r1) */
        "mov %r5, %r1\nmov %r1, %r2\nmov %r6, %r1\nmul %r5, 7\nadd %r5, 1000\n"
        "ldxdw %r4, [%r6]\nadd %r4, %r5\nstxdw [%r6], %r4\n",
        /* a mov into r1 first: the next mov reads ctx through r1 */
        "mov %r1, %r2\nmov %r6, %r1\nldxdw %r4, [%r6]\nadd %r4, 1014\nstxdw [%r6], %r4\n",
        /* a sign-extending mov (off 8) is not prologue */
        "movsx864 %r6, %r1\nmov %r9, %r2\nmul %r6, 7\nadd %r6, 1000\n"
        "ldxdw %r4, [%r9]\nadd %r4, %r6\nstxdw [%r9], %r4\n",
    };
    char text[1024];
    for (size_t k = 0; k < sizeof bodies / sizeof *bodies; k++) {
        snprintf(text, sizeof text,
                 "stdw [%%r10-8], 0\n"
                 "mov %%r1, 5\nlddw %%r2, func:body\nmov %%r3, %%r10\nadd %%r3, -8\nmov %%r4, 0\n"
                 "call 181\n"
                 "ldxdw %%r1, [%%r10-8]\nlsh %%r1, 8\nor %%r0, %%r1\nexit\n"
                 "body:\n%smov %%r0, 0\nexit\n", bodies[k]);
        expect_agree(text, 5070 << 8 | 5);
    }

    /* a loop run by a function called from a loop's callback, and a
     * function called from the inner callback ending in `mov r0, 0; exit`
     * (a call's exit, not the loop's next iteration): outer 2 x inner 3,
     * each inner iteration adds 1 + the helper's 100 + j */
    expect_agree(
        "stdw [%r10-8], 0\n"
        "mov %r1, 2\nlddw %r2, func:outer\nmov %r3, %r10\nadd %r3, -8\nmov %r4, 0\n"
        "call 181\n"
        "ldxdw %r1, [%r10-8]\nlsh %r1, 8\nor %r0, %r1\nexit\n"
        "outer:\n"
        "mov %r9, %r2\nmov %r1, %r9\ncall local run_inner\n"
        "ldxdw %r1, [%r9]\nadd %r1, %r0\nstxdw [%r9], %r1\nmov %r0, 0\nexit\n"
        "run_inner:\n"
        "mov %r3, %r1\nmov %r1, 3\nlddw %r2, func:inner\nmov %r4, 0\ncall 181\n"
        "mov %r0, 0\nexit\n"
        "inner:\n"
        "mov %r9, %r2\nmov %r6, %r1\nmov %r1, %r9\ncall local bump\n"
        "ldxdw %r4, [%r9]\nadd %r4, %r6\nadd %r4, 1\nstxdw [%r9], %r4\nmov %r0, 0\nexit\n"
        "bump:\n"
        "ldxdw %r2, [%r1]\nadd %r2, 100\nstxdw [%r1], %r2\nmov %r0, 0\nexit\n",
        (2 * (3 * 101 + 0 + 1 + 2)) << 8 | 2);

    /* nested loops, the inner one stopped by its callback at j == 2 every
     * time (returns 3), the outer one at i == 1 (returns 2): 2 x (0+1+2) */
    expect_agree(
        "stdw [%r10-8], 0\n"
        "mov %r1, 9\nlddw %r2, func:outer\nmov %r3, %r10\nadd %r3, -8\nmov %r4, 0\n"
        "call 181\n"
        "ldxdw %r1, [%r10-8]\nlsh %r1, 8\nor %r0, %r1\nexit\n"
        "outer:\n"
        "mov %r9, %r2\nmov %r6, %r1\n"
        "mov %r1, 7\nlddw %r2, func:inner\nmov %r3, %r9\nmov %r4, 0\ncall 181\n"
        "ldxdw %r1, [%r9]\nlsh %r0, 16\nadd %r1, %r0\nstxdw [%r9], %r1\n"
        "mov %r0, 0\njne %r6, 1, +1\nmov %r0, 1\nexit\n"
        "inner:\n"
        "mov %r9, %r2\nmov %r6, %r1\n"
        "ldxdw %r4, [%r9]\nadd %r4, %r6\nstxdw [%r9], %r4\n"
        "mov %r0, 0\njne %r6, 2, +1\nmov %r0, 1\nexit\n",
        (uint64_t)(2 * 3 + (2 * (3 << 16))) << 8 | 2);

    /* a body's last store (after an add, alone) and `mov r0, 0; exit` run
     * as one group: in a loop, in a called function, at the program's end */
    expect_agree(
        "stdw [%r10-16], 0\nstdw [%r10-8], 0\n"
        "mov %r1, 6\nlddw %r2, func:body\nmov %r3, %r10\nadd %r3, -16\nmov %r4, 0\n"
        "call 181\n"
        "mov %r6, %r0\nmov %r1, %r10\ncall local fn\n"
        "ldxdw %r0, [%r10-16]\nlsh %r0, 16\nldxdw %r1, [%r10-8]\nlsh %r1, 8\nor %r0, %r1\n"
        "or %r0, %r6\nmov %r1, 1\nmov %r2, 2\nadd %r1, %r2\nstxdw [%r10-24], %r1\n"
        "stxdw [%r10-24], %r0\nldxdw %r0, [%r10-24]\nexit\n"
        "body:\n"
        "mov %r9, %r2\nmov %r6, %r1\nldxdw %r4, [%r9]\nja +0\nadd %r4, %r6\nstxdw [%r9], %r4\n"
        "mov %r0, 0\nexit\n"
        "fn:\n"
        "ldxdw %r2, [%r1-8]\nmov %r3, 7\nadd %r2, %r3\nstxdw [%r1-8], %r2\nmov %r0, 0\nexit\n",
        15 << 16 | 7 << 8 | 6);
    expect_agree("mov %r1, 5\nmov %r2, 3\nadd %r1, %r2\nstxdw [%r10-8], %r1\nmov %r0, 0\nexit", 0);
    expect_agree("mov %r1, 5\nja +0\nstxdw [%r10-8], %r1\nmov %r0, 0\nexit", 0);
    expect_agree("mov %r1, 5\nja +0\nstdw [%r10-8], 9\nmov %r0, 0\nexit", 0);
    /* a body ending in a store of a constant: sum of i < 6 and the constant */
    expect_agree(
        "stdw [%r10-16], 0\nstdw [%r10-8], 0\n"
        "mov %r1, 6\nlddw %r2, func:body\nmov %r3, %r10\nadd %r3, -16\nmov %r4, 0\n"
        "call 181\n"
        "ldxdw %r1, [%r10-16]\nlsh %r1, 16\nldxdw %r2, [%r10-8]\nlsh %r2, 8\nor %r0, %r1\n"
        "or %r0, %r2\nexit\n"
        "body:\n"
        "mov %r9, %r2\nmov %r6, %r1\nldxdw %r4, [%r9]\nadd %r4, %r6\nstxdw [%r9], %r4\n"
        "stdw [%r9+8], 7\nmov %r0, 0\nexit\n",
        15 << 16 | 7 << 8 | 6);
}

/* A callback that never reads R10 runs in no frame of its own (struct
 * loop_pro's light): a function it calls takes the next frame, not its
 * caller's, R10 and the depth are back when the loop ends, a callback that
 * reads R10 still gets its own frame, and nesting is bounded as before. */
static void test_light_loop_frames(void **state)
{
    (void)state;
    /* main's [r10-8] = 42 survives: a function called from the light body
     * and one called after the loop each write 7 to their own [r10-8];
     * ctx[0] sums the calls' 7 + i over i < 3 (24) */
    static const char *const sub =
        "sub:\n"
        "stdw [%r10-8], 7\nldxdw %r0, [%r10-8]\nadd %r0, %r1\nexit\n";
    char text[1024];
    snprintf(text, sizeof text,
             "stdw [%%r10-8], 42\nstdw [%%r10-16], 0\n"
             "mov %%r1, 3\nlddw %%r2, func:body\nmov %%r3, %%r10\nadd %%r3, -16\nmov %%r4, 0\n"
             "call 181\n"
             "mov %%r1, 0\ncall local sub\n"
             "ldxdw %%r1, [%%r10-8]\nlsh %%r1, 8\nldxdw %%r2, [%%r10-16]\nor %%r1, %%r2\n"
             "lsh %%r1, 8\nor %%r0, %%r1\nexit\n"
             "body:\n"
             "mov %%r9, %%r2\nmov %%r6, %%r1\nmov %%r1, %%r6\ncall local sub\n"
             "ldxdw %%r4, [%%r9]\nadd %%r4, %%r0\nstxdw [%%r9], %%r4\nmov %%r0, 0\nexit\n%s", sub);
    expect_agree(text, (uint64_t)42 << 16 | 24 << 8 | 7);

    /* a body that reads R10 (its own [r10-8]) has a frame: main's 42 stays */
    expect_agree(
        "stdw [%r10-8], 42\nstdw [%r10-16], 0\n"
        "mov %r1, 3\nlddw %r2, func:body\nmov %r3, %r10\nadd %r3, -16\nmov %r4, 0\n"
        "call 181\n"
        "ldxdw %r1, [%r10-8]\nlsh %r1, 16\nldxdw %r2, [%r10-16]\nor %r1, %r2\nmov %r0, %r1\nexit\n"
        "body:\n"
        "mov %r9, %r2\nstxdw [%r10-8], %r1\nldxdw %r4, [%r10-8]\n"
        "ldxdw %r5, [%r9]\nadd %r5, %r4\nadd %r5, 99\nstxdw [%r9], %r5\nmov %r0, 0\nexit\n",
        (uint64_t)42 << 16 | (3 * 99 + 3));

    /* light and framed loops nested both ways, the inner ones stopped at
     * j == 1 by their callback (an exit with r0 = 1, not movk0_exit): outer
     * light over 3, middle framed over 4 (stops at 1), inner light over 5
     * (stops at 1); each inner iteration adds 1 to ctx[0] and writes its
     * frame's [r10-8] when it has one; main's [r10-8] = 5 stays */
    expect_agree(
        "stdw [%r10-8], 5\nstdw [%r10-16], 0\n"
        "mov %r1, 3\nlddw %r2, func:outer\nmov %r3, %r10\nadd %r3, -16\nmov %r4, 0\n"
        "call 181\n"
        "ldxdw %r1, [%r10-8]\nlsh %r1, 16\nldxdw %r2, [%r10-16]\nlsh %r2, 8\nor %r1, %r2\n"
        "or %r0, %r1\nexit\n"
        "outer:\n"
        "mov %r9, %r2\nmov %r1, 4\nlddw %r2, func:middle\nmov %r3, %r9\nmov %r4, 0\n"
        "call 181\nmov %r0, 0\nexit\n"
        "middle:\n"
        "mov %r7, %r1\nmov %r9, %r2\nstdw [%r10-8], 77\n"
        "mov %r1, 5\nlddw %r2, func:inner\nmov %r3, %r9\nmov %r4, 0\ncall 181\n"
        "ldxdw %r0, [%r10-8]\nsub %r0, 77\njne %r7, 1, +1\nmov %r0, 1\nexit\n"
        "inner:\n"
        "mov %r6, %r1\nldxdw %r4, [%r2]\nadd %r4, 1\nstxdw [%r2], %r4\n"
        "mov %r0, 0\njne %r6, 1, +1\nmov %r0, 1\nexit\n",
        (uint64_t)5 << 16 | (3 * 2 * 2) << 8 | 3);

    /* nesting: main and 7 loops (8 frames) run, main and 8 loops do not,
     * in every loop whether the callbacks have frames or not */
    for (int depth = 7; depth <= 8; depth++) {
        for (int framed = 0; framed <= 1; framed++) {
            char prog[2048];
            size_t len = (size_t)snprintf(prog, sizeof prog, "mov %%r1, 1\nlddw %%r2, func:l1\n"
                                          "mov %%r3, 0\nmov %%r4, 0\ncall 181\nexit\n");
            for (int k = 1; k <= depth; k++) {
                len += (size_t)snprintf(prog + len, sizeof prog - len, "l%d:\n%s", k,
                                        framed ? "stdw [%r10-8], 1\n" : "");
                if (k < depth)
                    len += (size_t)snprintf(prog + len, sizeof prog - len,
                                            "mov %%r1, 2\nlddw %%r2, func:l%d\nmov %%r3, 0\n"
                                            "mov %%r4, 0\ncall 181\n", k + 1);
                len += (size_t)snprintf(prog + len, sizeof prog - len, "mov %%r0, 0\nexit\n");
            }
            for (int mode = 0; mode <= 3; mode++) {
                struct outcome o = run_text(prog, mode, NULL, 0);
                if (depth == 7 && (o.rc != 0 || o.r0 != 1))
                    fail_msg("mode %d, %d loops: rc %d r0 %llu %s", mode, depth, o.rc,
                             (unsigned long long)o.r0, o.msg);
                if (depth == 8 && (o.rc != -E2BIG ||
                                   !strstr(o.msg, "the call stack of 9 frames is too deep")))
                    fail_msg("mode %d, %d loops: rc %d '%s'", mode, depth, o.rc, o.msg);
            }
        }
    }
}

/* A loop saves and restores only the R6-R9 its callback may change that
 * are read after the call (loop_keep), and the prologue registers of the
 * callbacks around the call, whose later iterations read them as their
 * first one set them; a loop's callback changes what its own loops do not
 * restore. */
static void test_loop_keeps_registers(void **state)
{
    (void)state;
    /* each call in the compiler's shape (lddw r2, func; mov r3, rX; mov r4,
     * 0; call 181), which loop_keep looks at; r7 read after the loop,
     * changed by its callback: restored */
    expect_agree(
        "stdw [%r10-8], 0\nmov %r7, 5\nmov %r6, 6\nmov %r8, %r10\nadd %r8, -8\n"
        "mov %r1, 3\nlddw %r2, func:body\nmov %r3, %r8\nmov %r4, 0\ncall 181\n"
        "mov %r0, %r7\nlsh %r0, 8\nor %r0, %r6\nexit\n"
        "body:\n"
        "mov %r6, %r1\nmov %r7, 99\nmov %r8, %r2\nstxdw [%r8], %r7\nmov %r0, 0\nexit\n",
        5 << 8 | 6);
    /* the outer callback's r9 (ctx, set by its first iteration only) is
     * not read after the inner loop, whose callback moves it to ctx + 8:
     * kept all the same, or the outer's next iterations count in ctx[8] */
    expect_agree(
        "stdw [%r10-16], 0\nstdw [%r10-8], 0\nmov %r8, %r10\nadd %r8, -16\n"
        "mov %r1, 3\nlddw %r2, func:outer\nmov %r3, %r8\nmov %r4, 0\ncall 181\n"
        "ldxdw %r0, [%r10-16]\nlsh %r0, 8\nldxdw %r1, [%r10-8]\nor %r0, %r1\nexit\n"
        "outer:\n"
        "mov %r9, %r2\nldxdw %r4, [%r9]\nadd %r4, 1\nstxdw [%r9], %r4\n"
        "mov %r5, %r9\nadd %r5, 8\nmov %r1, 2\nlddw %r2, func:inner\nmov %r3, %r5\n"
        "mov %r4, 0\ncall 181\nmov %r0, 0\nexit\n"
        "inner:\n"
        "mov %r9, %r2\nldxdw %r4, [%r9]\nadd %r4, 10\nstxdw [%r9], %r4\nmov %r0, 0\nexit\n",
        3 << 8 | 60);
    /* main's r7 across an outer loop whose callback never writes it but
     * runs an inner loop that does (and reads nothing after it) */
    expect_agree(
        "stdw [%r10-8], 0\nmov %r7, 5\nmov %r8, %r10\nadd %r8, -8\n"
        "mov %r1, 2\nlddw %r2, func:outer\nmov %r3, %r8\nmov %r4, 0\ncall 181\n"
        "mov %r0, %r7\nexit\n"
        "outer:\n"
        "mov %r9, %r2\nmov %r1, 2\nlddw %r2, func:inner\nmov %r3, %r9\nmov %r4, 0\ncall 181\n"
        "mov %r0, 0\nexit\n"
        "inner:\n"
        "mov %r7, 99\nmov %r0, 0\nexit\n",
        5);
    /* the same through a function the outer callback calls: the call's
     * frame gives main's r7 back */
    expect_agree(
        "stdw [%r10-8], 0\nmov %r7, 5\nmov %r8, %r10\nadd %r8, -8\n"
        "mov %r1, 2\nlddw %r2, func:outer\nmov %r3, %r8\nmov %r4, 0\ncall 181\n"
        "mov %r0, %r7\nexit\n"
        "outer:\n"
        "mov %r9, %r2\nmov %r1, %r9\ncall local run\nmov %r0, 0\nexit\n"
        "run:\n"
        "mov %r6, %r1\nmov %r1, 2\nlddw %r2, func:inner\nmov %r3, %r6\nmov %r4, 0\ncall 181\n"
        "mov %r0, 0\nexit\n"
        "inner:\n"
        "mov %r7, 99\nmov %r0, 0\nexit\n",
        5);
}

/* A loop's callback that calls a function: the call reads only the
 * arguments its callee reads (walk_bufs.args), so R2 need not be stored
 * again for the next iteration unless the callee reads it. */
static void test_loop_callee_args(void **state)
{
    (void)state;
    /* the callee reads R2 (ctx) and moves it: each iteration must see ctx
     * again in R2 (ctx[0] = 3, ctx[8] untouched) */
    expect_agree(
        "stdw [%r10-16], 0\nstdw [%r10-8], 0\nmov %r8, %r10\nadd %r8, -16\n"
        "mov %r1, 3\nlddw %r2, func:body\nmov %r3, %r8\nmov %r4, 0\ncall 181\n"
        "ldxdw %r0, [%r10-16]\nlsh %r0, 8\nldxdw %r1, [%r10-8]\nor %r0, %r1\nexit\n"
        "body:\n"
        "mov %r6, %r1\ncall local f\nmov %r0, 0\nexit\n"
        "f:\n"
        "ldxdw %r3, [%r2]\nadd %r3, 1\nstxdw [%r2], %r3\nadd %r2, 8\nmov %r0, 0\nexit\n",
        3 << 8);
    /* the callee reads only R1 (i): R2 changes in the call, unread */
    expect_agree(
        "stdw [%r10-8], 0\nmov %r8, %r10\nadd %r8, -8\n"
        "mov %r1, 4\nlddw %r2, func:body\nmov %r3, %r8\nmov %r4, 0\ncall 181\n"
        "ldxdw %r0, [%r10-8]\nexit\n"
        "body:\n"
        "mov %r9, %r2\ncall local f\nldxdw %r3, [%r9]\nadd %r3, %r0\nstxdw [%r9], %r3\n"
        "mov %r0, 0\nexit\n"
        "f:\n"
        "mov %r0, %r1\nmul %r0, 10\nmov %r2, 0\nexit\n",
        60);
}

/* Memory ops whose base register holds the loop's ctx use the dispatch
 * loop's l_ctx (ctx_bases) only where that is so: in a callback that
 * never writes the register its prologue put ctx in, reached from no
 * other entry, with loops run inline. */
static void test_ctx_based_ops(void **state)
{
    (void)state;
    /* the compiler's shape: ctx in r9, memory adds, loads, stores and a
     * load-op on it, an inner loop on the same ctx; ctx[0] = sum of i * 3
     * + 1 over i < 4 and the inner loop's 2 per outer iteration (8 + 26) */
    static const char *const shape =
        "stdw [%r10-16], 0\nstdw [%r10-8], 0\nmov %r8, %r10\nadd %r8, -16\n"
        "mov %r1, 4\nlddw %r2, func:body\nmov %r3, %r8\nmov %r4, 0\ncall 181\n"
        "ldxdw %r0, [%r10-16]\nexit\n"
        "body:\n"
        "mov %r9, %r2\nmov %r6, %r1\nstxdw [%r9+8], %r6\nldxdw %r7, [%r9+8]\nmul %r7, 3\n"
        "ldxdw %r4, [%r9]\nadd %r4, %r7\nstxdw [%r9], %r4\nldxdw %r5, [%r9]\nadd %r5, 1\n"
        "stxdw [%r9], %r5\n"
        "mov %r1, 2\nlddw %r2, func:inner\nmov %r3, %r9\nmov %r4, 0\ncall 181\n"
        "ldxdw %r1, [%r9+8]\njne %r1, 0, +1\nstdw [%r9+8], 0\nmov %r0, 0\nexit\n"
        "inner:\n"
        "mov %r9, %r2\nldxdw %r4, [%r9]\nadd %r4, 1\nstxdw [%r9], %r4\nmov %r0, 0\nexit\n";
    expect_agree(shape, 6 * 3 + 4 + 8);
    /* the same with bpf_loop as a helper (not inline): the callback runs in
     * a run of its own, where l_ctx is no loop's */
    wrap_helpers = 1;
    expect(shape, 6 * 3 + 4 + 8);
    wrap_helpers = 0;

    /* a callback that moves r9 away from ctx on one iteration (to its own
     * stack): that iteration's memory add goes there, ctx[0] = 0 + 2 */
    expect_agree(
        "stdw [%r10-8], 0\nmov %r8, %r10\nadd %r8, -8\n"
        "mov %r1, 3\nlddw %r2, func:body\nmov %r3, %r8\nmov %r4, 0\ncall 181\n"
        "ldxdw %r0, [%r10-8]\nexit\n"
        "body:\n"
        "mov %r9, %r2\nmov %r6, %r1\njne %r6, 1, +3\nmov %r9, %r10\nadd %r9, -32\n"
        "stdw [%r9], 0\nldxdw %r4, [%r9]\nadd %r4, %r6\nstxdw [%r9], %r4\nmov %r0, 0\nexit\n",
        2);

    /* a callback's code also called as a function, from another loop's
     * callback (whose ctx B is l_ctx then) with r2 = B + 8 = A: the call
     * adds 5 to A, not to B; the loop before it adds 0 + 1 to A */
    expect_agree(
        "stdw [%r10-8], 0\nstdw [%r10-16], 0\nmov %r8, %r10\nadd %r8, -8\n"
        "mov %r1, 2\nlddw %r2, func:body\nmov %r3, %r8\nmov %r4, 0\ncall 181\n"
        "mov %r8, %r10\nadd %r8, -16\n"
        "mov %r1, 1\nlddw %r2, func:outer\nmov %r3, %r8\nmov %r4, 0\ncall 181\n"
        "ldxdw %r0, [%r10-8]\nlsh %r0, 8\nldxdw %r1, [%r10-16]\nor %r0, %r1\nexit\n"
        "outer:\n"
        "mov %r9, %r2\nmov %r2, %r9\nadd %r2, 8\nmov %r1, 5\ncall local body\nmov %r0, 0\nexit\n"
        "body:\n"
        "mov %r9, %r2\nldxdw %r4, [%r9]\nadd %r4, %r1\nstxdw [%r9], %r4\nmov %r0, 0\nexit\n",
        6 << 8);
}

/* load-op, op-mov, mov-op, mov-mov K, store-load and the down loop's
 * index triple: each where it applies and near misses */
static void test_fused_load_ops(void **state)
{
    (void)state;
    /* ldxdw rA, [..]; op rA, K */
    expect_agree("stdw [%r10-8], 6\nmov %r1, 1\nldxdw %r1, [%r10-8]\nmul %r1, 7\n"
                 "mov %r0, %r1\nexit", 42);
    expect_agree("stdw [%r10-8], 6\nja +0\nldxdw %r1, [%r10-8]\nlsh %r1, 3\nmov %r0, %r1\nexit", 48);
    expect_agree("stdw [%r10-8], 6\nja +0\nldxdw %r1, [%r10-8]\nsub %r1, -4\nmov %r0, %r1\nexit", 10);
    expect_agree("stdw [%r10-8], 6\nmov %r1, %r10\nadd %r1, -8\nldxdw %r1, [%r1]\nadd %r1, 5\n"
                 "mov %r0, %r1\nexit", 11);
    /* a 32-bit op or another register: not fused, still right */
    expect_agree("stdw [%r10-8], -1\nja +0\nldxdw %r1, [%r10-8]\nadd32 %r1, 1\nmov %r0, %r1\nexit", 0);
    expect_agree("stdw [%r10-8], 6\nmov %r2, 1\nldxdw %r1, [%r10-8]\nadd %r2, 5\nmov %r0, %r2\nexit", 6);
    /* ldxdw rA, [..]; op rA, rC */
    expect_agree("stdw [%r10-8], 6\nmov %r2, 9\nldxdw %r1, [%r10-8]\nsub %r1, %r2\nmov %r0, %r1\nexit",
                 (uint64_t)-3);
    expect_agree("stdw [%r10-8], 6\nmov %r2, 9\nldxdw %r1, [%r10-8]\nsub %r1, %r1\nmov %r0, %r1\nexit", 0);
    expect_agree("stdw [%r10-8], 6\nmov %r2, 9\nldxdw %r1, [%r10-8]\nxor %r1, %r2\nmov %r0, %r1\nexit", 15);
    /* op rA, rB; mov rC, rA (and mov rA, K; mov rC, L before it) */
    expect_agree("mov %r1, 5\nmov %r2, 3\nxor %r1, %r2\nmov %r3, %r1\nmov %r0, %r3\nlsh %r0, 8\n"
                 "or %r0, %r1\nexit", 0x606);
    expect_agree("mov %r1, 5\nja +0\nmul %r1, %r1\nmov %r1, %r1\nmov %r0, %r1\nexit", 25);
    /* mov rA, rB; op rA, rC */
    expect_agree("mov %r1, 7\nmov %r2, 5\nja +0\nmov %r3, %r1\nsub %r3, %r2\nmov %r0, %r3\n"
                 "lsh %r0, 8\nor %r0, %r1\nexit", 0x207);
    expect_agree("mov %r1, 7\nmov %r2, 5\nja +0\nmov %r3, %r1\nsub %r3, %r3\nmov %r0, %r3\nexit", 0);
    expect_agree("mov %r1, 7\nja +0\nmov %r2, %r1\nand %r2, %r1\nmov %r0, %r2\nexit", 7);
    /* mov rA, K; mov rC, L (sign-extended), the same register twice */
    expect_agree("mov %r1, -1\nmov %r2, 7\nmov %r0, %r1\nadd %r0, %r2\nexit", 6);
    expect_agree("mov %r1, -1\nmov %r1, 7\nmov %r0, %r1\nexit", 7);
    /* stxdw [rB+o], rA; ldxdw rC, [rB+o]; the base overwritten; another slot */
    expect_agree("mov %r1, 11\nstxdw [%r10-8], %r1\nldxdw %r2, [%r10-8]\nmov %r0, %r2\nexit", 11);
    expect_agree("mov %r9, %r10\nmov %r1, 11\nstxdw [%r9-8], %r1\nldxdw %r9, [%r9-8]\n"
                 "mov %r0, %r9\nexit", 11);
    expect_agree("stdw [%r10-16], 4\nmov %r1, 11\nstxdw [%r10-8], %r1\nldxdw %r2, [%r10-16]\n"
                 "mov %r0, %r2\nexit", 4);
    expect_agree("mov %r1, 11\nstxw [%r10-8], %r1\nldxw %r2, [%r10-8]\nmov %r0, %r2\nexit", 11);
    /* mul rA, K; ldxdw rB, [rC+o]; add rA, rB: 15 - 3, and the loaded 15 */
    expect_agree("stdw [%r10-8], 15\nmov %r6, 3\nja +0\nmul %r6, -1\nldxdw %r3, [%r10-8]\n"
                 "add %r6, %r3\nmov %r0, %r6\nlsh %r0, 8\nor %r0, %r3\nexit", 0xc0f);
    /* the load's base is rA, read after the mul */
    expect_agree("stdw [%r10-8], 15\nmov %r6, %r10\nja +0\nmul %r6, 1\nldxdw %r3, [%r6-8]\n"
                 "add %r6, %r3\nsub %r6, %r10\nmov %r0, %r6\nexit", 15);
    /* op rA, rB; ldxdw rC, [..]; add/xor rA, rC (mul, add, xor first) */
    expect_agree("mov %r1, 3\nmov %r2, 5\nstdw [%r10-8], 6\nja +0\nmul %r1, %r2\n"
                 "ldxdw %r3, [%r10-8]\nxor %r1, %r3\nmov %r0, %r1\nlsh %r0, 8\nor %r0, %r3\nexit",
                 0x906);
    expect_agree("mov %r1, 3\nmov %r2, 5\nstdw [%r10-8], 6\nja +0\nadd %r1, %r2\n"
                 "ldxdw %r3, [%r10-8]\nadd %r1, %r3\nmov %r0, %r1\nlsh %r0, 8\nor %r0, %r3\nexit",
                 0xe06);
    expect_agree("mov %r1, 3\nmov %r2, 5\nstdw [%r10-8], 6\nja +0\nxor %r1, %r2\n"
                 "ldxdw %r3, [%r10-8]\nxor %r1, %r3\nmov %r0, %r1\nlsh %r0, 8\nor %r0, %r3\nexit",
                 0x006);
    expect_agree("mov %r1, 3\nmov %r2, 5\nstdw [%r10-8], 6\nja +0\nxor %r1, %r2\n"
                 "ldxdw %r3, [%r10-8]\nadd %r1, %r3\nmov %r0, %r1\nexit", 12);
    /* the load's base is rA, read after the first op */
    expect_agree("stdw [%r10-8], 6\nmov %r1, %r10\nmov %r2, 0\nja +0\nadd %r1, %r2\n"
                 "ldxdw %r3, [%r1-8]\nadd %r1, %r3\nsub %r1, %r10\nmov %r0, %r1\nexit", 6);
    /* near misses: rC == rA; a first op without a handler (sub) */
    expect_agree("mov %r1, 3\nmov %r2, 5\nstdw [%r10-8], 6\nja +0\nmul %r1, %r2\n"
                 "ldxdw %r1, [%r10-8]\nxor %r1, %r1\nmov %r0, %r1\nexit", 0);
    expect_agree("mov %r1, 3\nmov %r2, 5\nstdw [%r10-8], 6\nja +0\nsub %r1, %r2\n"
                 "ldxdw %r3, [%r10-8]\nxor %r1, %r3\nmov %r0, %r1\nexit", (uint64_t)-2 ^ 6);
    /* rB == rA: not the triple */
    expect_agree("stdw [%r10-8], 15\nmov %r6, 3\nja +0\nmul %r6, -1\nldxdw %r6, [%r10-8]\n"
                 "add %r6, %r6\nmov %r0, %r6\nexit", 30);
}

/* The compiler's launder (mov r0, 0; lock add [rB+o], r0), alone, after a
 * store, after the memory add and before a loop body's `mov r0, 0; exit`;
 * the memory op ldxdw rA, [rB+o]; op rA, rC or K; stxdw [rB+o], rA for
 * every op; their near misses, and jumps into the middle of each group */
static void test_fused_launder_memop(void **state)
{
    (void)state;
    /* the launder: the slot keeps its value, R0 becomes 0 (R0 was 9) */
    expect_agree("stdw [%r10-8], 5\nmov %r0, 9\nja +0\nmov %r0, 0\nlock add [%r10-8], %r0\n"
                 "ldxdw %r1, [%r10-8]\nlsh %r1, 8\nor %r0, %r1\nexit", 0x500);
    expect_agree("lddw %r1, 0x1ffffffff\nstxdw [%r10-8], %r1\nja +0\nmov %r0, 0\n"
                 "lock add32 [%r10-8], %r0\nldxdw %r0, [%r10-8]\nexit", 0x1ffffffffull);
    /* near misses: a fetch (R0 gets the old value), another register, not 0,
     * another op */
    expect_agree("stdw [%r10-8], 5\nja +0\nmov %r0, 0\nlock fetch add [%r10-8], %r0\nexit", 5);
    expect_agree("stdw [%r10-8], 5\nmov %r1, 3\nmov %r0, 0\nlock add [%r10-8], %r1\n"
                 "ldxdw %r1, [%r10-8]\nlsh %r1, 8\nor %r0, %r1\nexit", 0x800);
    expect_agree("stdw [%r10-8], 5\nja +0\nmov %r0, 2\nlock add [%r10-8], %r0\n"
                 "ldxdw %r1, [%r10-8]\nlsh %r1, 8\nor %r0, %r1\nexit", 0x702);
    expect_agree("stdw [%r10-8], 5\nja +0\nmov %r0, 0\nlock and [%r10-8], %r0\n"
                 "ldxdw %r0, [%r10-8]\nexit", 0);
    /* a store, then the launder of its slot; a jump past the store into it */
    expect_agree("mov %r1, 7\nmov %r0, 9\nstxdw [%r10-8], %r1\nmov %r0, 0\nlock add [%r10-8], %r0\n"
                 "ldxdw %r1, [%r10-8]\nlsh %r1, 8\nor %r0, %r1\nexit", 0x700);
    expect_agree("stdw [%r10-8], 4\nmov %r1, 7\nmov %r0, 9\nja +1\nstxdw [%r10-8], %r1\n"
                 "mov %r0, 0\nlock add [%r10-8], %r0\n"
                 "ldxdw %r1, [%r10-8]\nlsh %r1, 8\nor %r0, %r1\nexit", 0x400);
    /* ... and straight onto the atomic: R0 (9) is added */
    expect_agree("stdw [%r10-8], 4\nmov %r1, 7\nmov %r0, 9\nja +2\nstxdw [%r10-8], %r1\n"
                 "mov %r0, 0\nlock add [%r10-8], %r0\n"
                 "ldxdw %r1, [%r10-8]\nlsh %r1, 8\nor %r0, %r1\nexit", 0xd09);
    /* the memory add, then the launder */
    expect_agree("stdw [%r10-8], 5\nmov %r2, 3\nmov %r0, 9\nldxdw %r1, [%r10-8]\nadd %r1, %r2\n"
                 "stxdw [%r10-8], %r1\nmov %r0, 0\nlock add [%r10-8], %r0\n"
                 "ldxdw %r2, [%r10-8]\nlsh %r2, 8\nor %r0, %r2\nlsh %r0, 8\nor %r0, %r1\nexit",
                 0x80008);
    /* the memory op: every op with a register (13) and with a constant (3),
     * from a slot holding 6; r0 = the slot after it, less rA, plus rA */
    static const struct { const char *op; uint64_t x, k; } ops[] = {
        { "add", 19, 9 }, { "sub", (uint64_t)-7, 3 }, { "mul", 78, 18 },
        { "and", 4, 2 }, { "or", 15, 7 }, { "xor", 11, 5 },
        { "lsh", 6 << 13, 6 << 3 }, { "rsh", 0, 0 },
    };
    for (size_t t = 0; t < sizeof ops / sizeof ops[0]; t++) {
        char text[512];
        snprintf(text, sizeof text,
                 "stdw [%%r10-16], 6\nmov %%r3, 13\nja +0\nldxdw %%r1, [%%r10-16]\n%s %%r1, %%r3\n"
                 "stxdw [%%r10-16], %%r1\nldxdw %%r0, [%%r10-16]\nsub %%r0, %%r1\nadd %%r0, %%r1\n"
                 "exit", ops[t].op);
        expect_agree(text, ops[t].x);
        snprintf(text, sizeof text,
                 "stdw [%%r10-16], 6\nja +0\nldxdw %%r1, [%%r10-16]\n%s %%r1, 3\n"
                 "stxdw [%%r10-16], %%r1\nldxdw %%r0, [%%r10-16]\nsub %%r0, %%r1\nadd %%r0, %%r1\n"
                 "exit", ops[t].op);
        expect_agree(text, ops[t].k);
    }
    /* K sign-extended; a count of 64 is no memory op (masked to 0) */
    expect_agree("stdw [%r10-8], 6\nja +0\nldxdw %r1, [%r10-8]\nand %r1, -2\nstxdw [%r10-8], %r1\n"
                 "ldxdw %r0, [%r10-8]\nexit", 6);
    expect_agree("stdw [%r10-8], 6\nja +0\nldxdw %r1, [%r10-8]\nlsh %r1, 64\nstxdw [%r10-8], %r1\n"
                 "ldxdw %r0, [%r10-8]\nexit", 6);
    /* near misses: rC == rA; the store to another slot; another base; rA the
     * base; a 32-bit op */
    expect_agree("stdw [%r10-8], 6\nja +0\nldxdw %r1, [%r10-8]\nxor %r1, %r1\nstxdw [%r10-8], %r1\n"
                 "ldxdw %r0, [%r10-8]\nexit", 0);
    expect_agree("stdw [%r10-8], 6\nstdw [%r10-16], 1\nja +0\nldxdw %r1, [%r10-8]\nsub %r1, 2\n"
                 "stxdw [%r10-16], %r1\nldxdw %r0, [%r10-8]\nlsh %r0, 8\nldxdw %r1, [%r10-16]\n"
                 "or %r0, %r1\nexit", 0x604);
    expect_agree("stdw [%r10-8], 6\nmov %r2, %r10\nadd %r2, -8\nldxdw %r1, [%r10-8]\nsub %r1, 2\n"
                 "stxdw [%r2], %r1\nldxdw %r0, [%r10-8]\nexit", 4);
    expect_agree("stdw [%r10-8], 0\nmov %r1, %r10\nja +0\nldxdw %r1, [%r1-8]\nor %r1, 3\n"
                 "stxdw [%r10-8], %r1\nldxdw %r0, [%r10-8]\nexit", 3);
    expect_agree("stdw [%r10-8], -1\nja +0\nldxdw %r1, [%r10-8]\nadd32 %r1, 2\n"
                 "stxdw [%r10-8], %r1\nldxdw %r0, [%r10-8]\nexit", 1);
    /* a jump onto the op (the load skipped: r1 is 40) and onto the store */
    expect_agree("stdw [%r10-8], 6\nmov %r1, 40\nja +1\nldxdw %r1, [%r10-8]\nxor %r1, 3\n"
                 "stxdw [%r10-8], %r1\nldxdw %r0, [%r10-8]\nexit", 43);
    expect_agree("stdw [%r10-8], 6\nmov %r1, 40\nja +2\nldxdw %r1, [%r10-8]\nxor %r1, 3\n"
                 "stxdw [%r10-8], %r1\nldxdw %r0, [%r10-8]\nexit", 40);

    /* in a loop body, Lua locals laundered every iteration, then the next
     * iteration: s = s + i (laundered); t = t ~ s; n = n + 1 (laundered) */
    const char *body =
        "stdw [%r10-24], 0\nstdw [%r10-16], 0\nstdw [%r10-8], 0\n"
        "mov %r1, 10\nlddw %r2, func:body\nmov %r3, %r10\nadd %r3, -24\nmov %r4, 0\n"
        "call 181\n"
        "mov %r6, %r0\nldxdw %r0, [%r10-24]\nlsh %r0, 8\nldxdw %r1, [%r10-16]\nor %r0, %r1\n"
        "lsh %r0, 8\nldxdw %r1, [%r10-8]\nor %r0, %r1\nlsh %r0, 8\nor %r0, %r6\nexit\n"
        "body:\n"
        "mov %r9, %r2\nmov %r6, %r1\n"
        "ldxdw %r7, [%r9]\nadd %r7, %r6\nstxdw [%r9], %r7\nmov %r0, 0\nlock add [%r9], %r0\n"
        "ldxdw %r8, [%r9+8]\nxor %r8, %r7\nstxdw [%r9+8], %r8\n"
        "ldxdw %r8, [%r9+16]\nadd %r8, 1\nstxdw [%r9+16], %r8\nmov %r0, 0\nlock add [%r9+16], %r0\n"
        "mov %r0, 0\nexit\n";
    uint64_t s = 0, x = 0;
    for (uint64_t i = 0; i < 10; i++) {
        s += i;
        x ^= s;
    }
    expect_agree(body, s << 24 | x << 16 | 10 << 8 | 10);
    /* the loop stopped at i == 3 by a callback returning 1 after its launder */
    const char *stop =
        "stdw [%r10-8], 0\n"
        "mov %r1, 10\nlddw %r2, func:body\nmov %r3, %r10\nadd %r3, -8\nmov %r4, 0\n"
        "call 181\n"
        "ldxdw %r1, [%r10-8]\nlsh %r1, 8\nor %r0, %r1\nexit\n"
        "body:\n"
        "mov %r6, %r1\nstxdw [%r2], %r6\nmov %r0, 0\nlock add [%r2], %r0\n"
        "jeq %r6, 3, +2\nmov %r0, 0\nexit\nmov %r0, 1\nexit\n";
    expect_agree(stop, 3 << 8 | 4);
    /* a callback that needs only i (nx_none: the next iteration goes
     * straight to its first handler after the prologue), the body's first
     * group also the target of a jump back inside the body */
    const char *back =
        "stdw [%r10-8], 0\n"
        "mov %r1, 5\nlddw %r2, func:body\nmov %r3, %r10\nadd %r3, -8\nmov %r4, 0\n"
        "call 181\n"
        "ldxdw %r1, [%r10-8]\nlsh %r1, 8\nor %r0, %r1\nexit\n"
        "body:\n"
        "mov %r6, %r1\n"
        "ldxdw %r3, [%r2]\nadd %r3, %r6\nstxdw [%r2], %r3\nadd %r6, 100\njlt %r6, 250, -5\n"
        "mov %r0, 0\nexit\n";
    expect_agree(back, 1530 << 8 | 5);
}


/* a loop as the compiler writes it, from ctx[8] (start) to ctx[16] (stop)
 * by `step`, its callback `body`; r0 = ctx[0] << 8 | bpf_loop's return,
 * 77 for an empty loop, the trip count less one when too many */
static void expect_for(const char *head, const char *body, int64_t start, int64_t stop,
                       uint64_t want)
{
    char text[2048];
    snprintf(text, sizeof text,
             "mov %%r9, %%r10\nadd %%r9, -24\nstdw [%%r9], 0\nstdw [%%r9+8], %lld\n"
             "stdw [%%r9+16], %lld\nldxdw %%r6, [%%r9+8]\nldxdw %%r7, [%%r9+16]\n%s"
             "lddw %%r2, func:body\nmov %%r3, %%r9\nmov %%r4, 0\ncall 181\n"
             "ldxdw %%r1, [%%r9]\nlsh %%r1, 8\nor %%r0, %%r1\nexit\n"
             "empty:\nmov %%r0, 77\nexit\n"
             "big:\nmov %%r0, %%r1\nexit\n"
             "body:\n%smov %%r0, 0\nexit\n",
             (long long)start, (long long)stop, head, body);
    for (wrap_helpers = 0; wrap_helpers <= 1; wrap_helpers++)
        expect_agree(text, want);
    wrap_helpers = 0;
}

/* A loop's trip count (jsgt/jslt; mov; sub; [div;] jge; add), bpf_loop's
 * call (lddw r2, func; mov r3, rX; mov r4, 0; call 181) as one dispatch
 * each, and the callback's index transform done by the loop's entry, with
 * only what the callback reads stored again for the next iteration */
static void test_loop_bookkeeping(void **state)
{
    (void)state;
    const char *up = "jsgt %r6, %r7, empty\nmov %r1, %r7\nsub %r1, %r6\n"
                     "jge %r1, 8388608, big\nadd %r1, 1\n";
    const char *down = "jslt %r6, %r7, empty\nmov %r1, %r6\nsub %r1, %r7\n"
                       "jge %r1, 8388608, big\nadd %r1, 1\n";
    const char *down3 = "jslt %r6, %r7, empty\nmov %r1, %r6\nsub %r1, %r7\ndiv %r1, 3\n"
                        "jge %r1, 8388608, big\nadd %r1, 1\n";
    const char *add_i = "ldxdw %r4, [%r9]\nadd %r4, %r6\nstxdw [%r9], %r4\n";
    char body[512];
    /* up: i + start (the start loaded), the sums and counts */
    snprintf(body, sizeof body, "mov %%r9, %%r2\nmov %%r6, %%r1\nldxdw %%r3, [%%r9+8]\n"
             "add %%r6, %%r3\n%s", add_i);
    expect_for(up, body, 0, 9, 45 << 8 | 10);
    expect_for(up, body, 5, 5, 5 << 8 | 1);
    expect_for(up, body, 6, 5, 77);
    expect_for(up, body, -3, 4, 4 << 8 | 8);
    expect_for(up, body, 0, 8388608, 8388608);   /* the limit: too many by one */
    expect_for(up, body, -8388608, 0, 8388608);
    /* down: start - i (mul -1, the start loaded) */
    snprintf(body, sizeof body, "mov %%r9, %%r2\nmov %%r6, %%r1\nmul %%r6, -1\n"
             "ldxdw %%r3, [%%r9+8]\nadd %%r6, %%r3\n%s", add_i);
    expect_for(down, body, 9, 0, 45 << 8 | 10);
    expect_for(down, body, 0, 1, 77);
    expect_for(down, body, 2, -2, 0 << 8 | 5);
    /* by -3: 10, 7, 4, 1 */
    snprintf(body, sizeof body, "mov %%r9, %%r2\nmov %%r6, %%r1\nmul %%r6, -3\n"
             "ldxdw %%r3, [%%r9+8]\nadd %%r6, %%r3\n%s", add_i);
    expect_for(down3, body, 10, 0, 22 << 8 | 4);
    expect_for(down3, body, 10, 10, 10 << 8 | 1);
    expect_for(down3, body, 10, 11, 77);
    /* by 2 up: 1, 3, 5, 7 (lsh, the start loaded) */
    snprintf(body, sizeof body, "mov %%r9, %%r2\nmov %%r6, %%r1\nlsh %%r6, 1\n"
             "ldxdw %%r3, [%%r9+8]\nadd %%r6, %%r3\n%s", add_i);
    const char *up2 = "jsgt %r6, %r7, empty\nmov %r1, %r7\nsub %r1, %r6\ndiv %r1, 2\n"
                      "jge %r1, 8388608, big\nadd %r1, 1\n";
    expect_for(up2, body, 1, 8, 16 << 8 | 4);
    expect_for(up2, body, 1, 7, 16 << 8 | 4);
    expect_for(up2, body, 1, 0, 77);
    /* the index in R1 itself (no mov), a constant start: 2i + 100 by lsh and add */
    snprintf(body, sizeof body, "mov %%r9, %%r2\nlsh %%r1, 1\nadd %%r1, 100\n"
             "ldxdw %%r4, [%%r9]\nadd %%r4, %%r1\nstxdw [%%r9], %%r4\n");
    expect_for(up, body, 0, 4, 520 << 8 | 5);
    /* mul alone, add alone */
    snprintf(body, sizeof body, "mov %%r9, %%r2\nmov %%r6, %%r1\nmul %%r6, 7\n%s", add_i);
    expect_for(up, body, 0, 4, 70 << 8 | 5);
    snprintf(body, sizeof body, "mov %%r9, %%r2\nmov %%r6, %%r1\nadd %%r6, -2\n%s", add_i);
    expect_for(up, body, 0, 4, 0 << 8 | 5);
    /* an lsh by 64 or more is no transform */
    snprintf(body, sizeof body, "mov %%r9, %%r2\nmov %%r6, %%r1\nlsh %%r6, 64\n%s", add_i);
    expect_for(up, body, 0, 4, 10 << 8 | 5);
    /* the loaded register aliases: the ctx register (ctx through r2 after),
     * r2, r1; and read again by the body */
    snprintf(body, sizeof body, "mov %%r9, %%r2\nmov %%r6, %%r1\nldxdw %%r9, [%%r9+8]\n"
             "add %%r6, %%r9\nldxdw %%r4, [%%r2]\nadd %%r4, %%r6\nstxdw [%%r2], %%r4\n");
    expect_for(up, body, 3, 5, 12 << 8 | 3);
    snprintf(body, sizeof body, "mov %%r9, %%r2\nmov %%r6, %%r1\nldxdw %%r2, [%%r9+8]\n"
             "add %%r6, %%r2\n%s", add_i);
    expect_for(up, body, 3, 5, 12 << 8 | 3);
    snprintf(body, sizeof body, "mov %%r9, %%r2\nmov %%r6, %%r1\nldxdw %%r1, [%%r2+8]\n"
             "add %%r6, %%r1\n%sldxdw %%r4, [%%r9]\nadd %%r4, %%r1\nstxdw [%%r9], %%r4\n",
             add_i);
    expect_for(up, body, 3, 5, 21 << 8 | 3);
    /* near misses: the load not from ctx, the add of another register */
    snprintf(body, sizeof body, "mov %%r9, %%r2\nmov %%r6, %%r1\nmov %%r5, %%r9\n"
             "ldxdw %%r3, [%%r5+8]\nadd %%r6, %%r3\n%s", add_i);
    expect_for(up, body, 3, 5, 12 << 8 | 3);
    snprintf(body, sizeof body, "mov %%r9, %%r2\nmov %%r6, %%r1\nldxdw %%r3, [%%r9+8]\n"
             "add %%r6, %%r6\nadd %%r6, %%r3\n%s", add_i);
    expect_for(up, body, 3, 5, 15 << 8 | 3);
    /* the body reads what the entry stores: R1 late; R2 changed on one
     * iteration (ctx again at the next); the loaded register; ctx's
     * register changed after its last use */
    snprintf(body, sizeof body, "mov %%r9, %%r2\nmov %%r6, %%r1\nldxdw %%r4, [%%r9]\n"
             "add %%r4, %%r1\nadd %%r4, %%r6\nstxdw [%%r9], %%r4\n");
    expect_for(up, body, 0, 4, 20 << 8 | 5);
    snprintf(body, sizeof body, "mov %%r9, %%r2\nldxdw %%r4, [%%r9]\nadd %%r4, %%r1\n"
             "stxdw [%%r9], %%r4\n");
    expect_for(up, body, 0, 4, 10 << 8 | 5);
    snprintf(body, sizeof body, "mov %%r6, %%r1\nldxdw %%r4, [%%r2]\nadd %%r4, %%r6\n"
             "stxdw [%%r2], %%r4\njne %%r6, 2, +2\nadd %%r2, 16\nstxdw [%%r2], %%r4\n");
    expect_for(up, body, 0, 4, 10 << 8 | 5);
    snprintf(body, sizeof body, "mov %%r9, %%r2\nmov %%r6, %%r1\nmul %%r6, 7\n"
             "ldxdw %%r3, [%%r9+8]\nadd %%r6, %%r3\n%sldxdw %%r4, [%%r9]\nadd %%r4, %%r3\n"
             "stxdw [%%r9], %%r4\n", add_i);
    expect_for(up, body, 1, 3, (21 + 3 + 3) << 8 | 3);
    snprintf(body, sizeof body, "mov %%r9, %%r2\nmov %%r6, %%r1\n%sjne %%r6, 1, +1\n"
             "mov %%r9, 0\n", add_i);
    expect_for(up, body, 0, 4, 10 << 8 | 5);
    /* a helper call in the body, and a jump back into the prologue's
     * transform (r6 = 3 r6 + 1 until above 50) */
    snprintf(body, sizeof body, "mov %%r9, %%r2\nmov %%r6, %%r1\ncall 8\n%s", add_i);
    expect_for(up, body, 0, 4, 10 << 8 | 5);
    snprintf(body, sizeof body, "mov %%r9, %%r2\nmov %%r6, %%r1\nagain:\nmul %%r6, 3\n"
             "add %%r6, 1\njgt %%r6, 50, +1\nja again\n%s", add_i);
    /* i = 0..2: 0 -> 1 4 13 40 121; 1 -> 4 13 40 121; 2 -> 7 22 67 */
    expect_for(up, body, 0, 2, (121 + 121 + 67) << 8 | 3);

    /* a store right before the trip count (the step's slot, stxdw_trip):
     * ctx[0] = 100 first; with the division; an empty loop; a 32-bit store
     * (no fusion); a jump past the store onto the trip count */
    snprintf(body, sizeof body, "mov %%r9, %%r2\nmov %%r6, %%r1\nldxdw %%r3, [%%r9+8]\n"
             "add %%r6, %%r3\n%s", add_i);
    char head[512];
    snprintf(head, sizeof head, "mov %%r5, 100\nja +0\nstxdw [%%r9], %%r5\n%s", up);
    expect_for(head, body, 0, 9, 145 << 8 | 10);
    expect_for(head, body, 0, 8388608, 8388608);
    expect_for(head, body, 1, 0, 77);
    snprintf(head, sizeof head, "mov %%r5, 100\nja +0\nstxdw [%%r9], %%r5\n%s", up2);
    snprintf(body, sizeof body, "mov %%r9, %%r2\nmov %%r6, %%r1\nlsh %%r6, 1\n"
             "ldxdw %%r3, [%%r9+8]\nadd %%r6, %%r3\n%s", add_i);
    expect_for(head, body, 1, 8, 116 << 8 | 4);
    snprintf(head, sizeof head, "mov %%r5, 100\nja +0\nstxw [%%r9], %%r5\n%s", up2);
    expect_for(head, body, 1, 8, 116 << 8 | 4);
    snprintf(head, sizeof head, "mov %%r5, 100\nja +1\nstxdw [%%r9], %%r5\n%s", up2);
    expect_for(head, body, 1, 8, 16 << 8 | 4);
    /* the store writes the trip's own operand registers' source (the
     * stop's slot, read before) and uses the compared register as base */
    snprintf(head, sizeof head, "mov %%r5, 3\nja +0\nstxdw [%%r9+16], %%r5\n%s", up2);
    expect_for(head, body, 1, 8, 16 << 8 | 4);

    /* jumps into the middle of the trip count: past the first jump, past
     * the mov (r1 = 9 from before), onto the jge */
    expect_agree("mov %r6, 5\nmov %r7, 2\nmov %r1, 9\nja mid\njsgt %r6, %r7, +5\n"
                 "mid: mov %r1, %r7\nsub %r1, %r6\njge %r1, 100, big\nadd %r1, 1\n"
                 "mov %r0, %r1\nexit\nbig: mov %r0, 1000\nexit", 1000);
    expect_agree("mov %r6, 5\nmov %r7, 2\nmov %r1, 9\nja mid\njsgt %r6, %r7, +5\n"
                 "mov %r1, %r7\nmid: sub %r1, %r6\njge %r1, 100, big\nadd %r1, 1\n"
                 "mov %r0, %r1\nexit\nbig: mov %r0, 1000\nexit", 5);
    expect_agree("mov %r6, 1\nmov %r7, 2\nmov %r1, 9\nja mid\njslt %r6, %r7, +5\n"
                 "mov %r1, %r6\nsub %r1, %r7\nmid: jge %r1, 100, big\nadd %r1, 1\n"
                 "mov %r0, %r1\nexit\nbig: mov %r0, 1000\nexit", 10);
    /* the sub of the mov's own register (0), a 32-bit jge: no trip count */
    expect_agree("mov %r6, 5\nmov %r7, 2\njsgt %r7, %r6, +5\nmov %r1, %r7\nsub %r1, %r1\n"
                 "jge %r1, 100, +2\nadd %r1, 1\nmov %r0, %r1\nexit\nmov %r0, 1000\nexit", 1);
    expect_agree("mov %r6, 5\nmov %r7, 2\njslt %r6, %r7, +5\nmov %r1, %r6\nsub %r1, %r7\n"
                 "jge32 %r1, 100, +2\nadd %r1, 1\nmov %r0, %r1\nexit\nmov %r0, 1000\nexit", 4);

    /* bpf_loop's call: entered past its lddw (r2 from another one), a
     * count of 0 or above the limit, flags not 0 */
    const char *mid =
        "stdw [%r10-8], 0\nmov %r9, %r10\nadd %r9, -8\nmov %r1, 4\n"
        "lddw %r2, func:body\nja mid\nlddw %r2, func:other\n"
        "mid: mov %r3, %r9\nmov %r4, 0\ncall 181\n"
        "ldxdw %r1, [%r10-8]\nlsh %r1, 8\nor %r0, %r1\nexit\n"
        "body:\nldxdw %r4, [%r2]\nadd %r4, 1\nstxdw [%r2], %r4\nmov %r0, 0\nexit\n"
        "other:\nldxdw %r4, [%r2]\nadd %r4, 100\nstxdw [%r2], %r4\nmov %r0, 0\nexit\n";
    static const struct { const char *count, *flags; uint64_t want; } calls[] = {
        { "4", "0", 400 << 8 | 4 }, { "0", "0", 0 }, { "-1", "0", (uint64_t)-E2BIG },
        { "8388609", "0", (uint64_t)-E2BIG }, { "8388608", "1", (uint64_t)-EINVAL },
    };
    char text[1024];
    for (wrap_helpers = 0; wrap_helpers <= 1; wrap_helpers++) {
        expect_agree(mid, 4 << 8 | 4);
        for (size_t k = 0; k < sizeof calls / sizeof *calls; k++) {
            snprintf(text, sizeof text,
                     "stdw [%%r10-8], 0\nmov %%r9, %%r10\nadd %%r9, -8\nmov %%r1, %s\n"
                     "lddw %%r2, func:other\nmov %%r3, %%r9\nmov %%r4, %s\ncall 181\n"
                     "ldxdw %%r1, [%%r10-8]\nlsh %%r1, 8\nor %%r0, %%r1\nexit\n"
                     "other:\nldxdw %%r4, [%%r2]\nadd %%r4, 100\nstxdw [%%r2], %%r4\n"
                     "mov %%r0, 0\nexit\n", calls[k].count, calls[k].flags);
            expect_agree(text, calls[k].want);
        }
    }
    wrap_helpers = 0;

    /* a slot cleared right before bpf_loop's call (one dispatch), and
     * entered at the lddw (the clearing store skipped) */
    for (wrap_helpers = 0; wrap_helpers <= 1; wrap_helpers++) {
        const char *clear =
            "stdw [%r10-16], 9\nstdw [%r10-8], 0\nmov %r9, %r10\nadd %r9, -8\nmov %r1, 3\n"
            "stdw [%r9-8], 5\nlddw %r2, func:body\nmov %r3, %r9\nmov %r4, 0\ncall 181\n"
            "ldxdw %r1, [%r10-8]\nlsh %r1, 8\nor %r0, %r1\nexit\n"
            "body:\nldxdw %r4, [%r2]\nldxdw %r5, [%r2-8]\nadd %r4, %r5\nstxdw [%r2], %r4\n"
            "mov %r0, 0\nexit\n";
        expect_agree(clear, 15 << 8 | 3);
        const char *skip =
            "stdw [%r10-16], 9\nstdw [%r10-8], 0\nmov %r9, %r10\nadd %r9, -8\nmov %r1, 3\n"
            "ja +1\nstdw [%r9-8], 5\nlddw %r2, func:body\nmov %r3, %r9\nmov %r4, 0\n"
            "call 181\nldxdw %r1, [%r10-8]\nlsh %r1, 8\nor %r0, %r1\nexit\n"
            "body:\nldxdw %r4, [%r2]\nldxdw %r5, [%r2-8]\nadd %r4, %r5\nstxdw [%r2], %r4\n"
            "mov %r0, 0\nexit\n";
        expect_agree(skip, 27 << 8 | 3);
    }
    wrap_helpers = 0;
    /* stxdw [rB+o], rA; mov rC, K: C the stored register, C the base, a
     * jump onto the mov */
    expect_agree("mov %r1, 11\nstxdw [%r10-8], %r1\nmov %r1, 5\nldxdw %r0, [%r10-8]\n"
                 "add %r0, %r1\nexit", 16);
    expect_agree("mov %r2, %r10\nmov %r1, 3\nstxdw [%r2-8], %r1\nmov %r2, 7\n"
                 "ldxdw %r0, [%r10-8]\nadd %r0, %r2\nexit", 10);
    expect_agree("mov %r1, 11\nja +1\nstxdw [%r10-8], %r1\nmov %r1, 5\nstdw [%r10-8], 1\n"
                 "ldxdw %r0, [%r10-8]\nadd %r0, %r1\nexit", 6);
    /* ldxdw rA, [rB+o]; stxdw [rC+p], rD: D == A, C == A, the same slot,
     * B == A */
    expect_agree("stdw [%r10-8], 6\nldxdw %r1, [%r10-8]\nstxdw [%r10-16], %r1\n"
                 "ldxdw %r0, [%r10-16]\nexit", 6);
    expect_agree("mov %r1, %r10\nstxdw [%r10-8], %r1\nldxdw %r2, [%r10-8]\n"
                 "stxdw [%r2-16], %r2\nldxdw %r0, [%r10-16]\nsub %r0, %r10\nexit", 0);
    expect_agree("stdw [%r10-8], 6\nmov %r3, 4\nldxdw %r1, [%r10-8]\nstxdw [%r10-8], %r3\n"
                 "ldxdw %r0, [%r10-8]\nlsh %r0, 8\nor %r0, %r1\nexit", 0x406);
    expect_agree("mov %r1, %r10\nadd %r1, -16\nstxdw [%r10-16], %r1\nstdw [%r10-8], 3\n"
                 "ldxdw %r1, [%r1]\nstxdw [%r1+8], %r1\nldxdw %r0, [%r10-8]\nsub %r0, %r10\n"
                 "exit", (uint64_t)-16);
}

static void test_call_depth_overflow(void **state)
{
    (void)state;
    for (int mode = 0; mode <= 2; mode++) {
        struct outcome o = run_text("mov %r0, 0\nf: add %r0, 1\ncall local f\nexit", mode, NULL, 0);
        assert_int_equal(o.rc, -E2BIG);
        assert_non_null(strstr(o.msg, "the call stack of 9 frames is too deep"));
    }
}

static void test_bpf_loop_callback(void **state)
{
    (void)state;
    /* sum 0..9 through bpf_loop (helper 181), the callback adding into the
     * caller's stack through its ctx pointer */
    const char *text =
        "stdw [%r10-8], 0\n"
        "mov %r1, 10\n"
        "lddw %r2, func:body\n"
        "mov %r3, %r10\n"
        "add %r3, -8\n"
        "mov %r4, 0\n"
        "call 181\n"
        "ldxdw %r0, [%r10-8]\n"
        "lsh %r0, 8\n"
        "or %r0, %r6\n"
        "exit\n"
        "body:\n"
        "ldxdw %r3, [%r2]\n"
        "add %r3, %r1\n"
        "stxdw [%r2], %r3\n"
        "mov %r6, 77\n"
        "mov %r0, 0\n"
        "exit\n";
    for (int mode = 0; mode <= 2; mode++) {
        struct outcome o = run_text(text, mode, NULL, 0);
        if (o.rc)
            fail_msg("%s", o.msg);
        assert_int_equal(o.r0, (45 << 8) | 0); /* the callback's r6 is its own */
    }
}

static void test_counting(void **state)
{
    (void)state;
    struct outcome o = run_text("mov %r0, 1\nja +0\nlddw %r1, 5\nexit", 2, NULL, 0);
    assert_int_equal(o.rc, 0);
    assert_int_equal(o.insns, 4);
}

static void test_code_cache(void **state)
{
    (void)state;
    char *err = NULL;
    bpflua_object *obj = bpflua_object_from_asm("mov %r0, %r1\nadd %r0, 1\nexit", "c.asm", &err);
    assert_non_null(obj);
    size_t n;
    const struct bl_insn *insns = bpflua_prog_insns(obj, 0, &n);
    void *cache = NULL;
    for (uint64_t k = 0; k < 3; k++) {
        struct bl_interp_opts opts = { .code_cache = &cache };
        uint64_t args[5] = { k, 0, 0, 0, 0 };
        struct bl_interp_result res;
        assert_int_equal(bl_interp_exec(insns, (uint32_t)n, args, &opts, NULL, &res), 0);
        assert_int_equal(res.r0, k + 1);
        assert_non_null(cache);
    }
    free(cache);
    bpflua_object_free(obj);
}

static void test_raw_mode_protects(void **state)
{
    (void)state;
    uint8_t mem[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    struct outcome o = run_text("ldxdw %r0, [%r1]\nexit", 1, mem, sizeof mem);
    assert_int_equal(o.rc, 0);
    assert_int_equal(o.r0, 0x0807060504030201ull);
    o = run_text("ldxdw %r0, [%r1+1]\nexit", 1, mem, sizeof mem);
    assert_int_equal(o.rc, -EFAULT);
    assert_non_null(strstr(o.msg, "insn 0: out of bounds memory read of 8 bytes"));
    o = run_text("stb [%r1+8], 1\nexit", 1, mem, sizeof mem);
    assert_int_equal(o.rc, -EFAULT);
    assert_non_null(strstr(o.msg, "out of bounds memory write of 1 bytes"));
    o = run_text("ldxdw %r0, [%r10]\nexit", 1, NULL, 0);
    assert_int_equal(o.rc, -EFAULT);
    o = run_text("mov %r1, 0\nldxb %r0, [%r1]\nexit", 1, NULL, 0);
    assert_int_equal(o.rc, -EFAULT);
    o = run_text("lddw %r1, 0xdeadbeef00\nmov %r2, 1\nlock add [%r1], %r2\nexit", 1, NULL, 0);
    assert_int_equal(o.rc, -EFAULT);
    assert_non_null(strstr(o.msg, "insn 3: out of bounds memory atomic"));
    o = run_text("ja -1\nexit", 1, NULL, 0);
    assert_int_equal(o.rc, -ETIME);
    o = run_text("call 9999\nexit", 1, NULL, 0);
    assert_int_equal(o.rc, -EFAULT);
    assert_non_null(strstr(o.msg, "unknown helper 9999"));
    o = run_text("mov %r1, 0\nmov %r2, 0\ncall 1\nexit", 1, NULL, 0); /* map_lookup_elem */
    assert_int_equal(o.rc, -EFAULT);
    assert_non_null(strstr(o.msg, "helper 1 takes pointers"));
    o = run_text("call 7\nmov %r0, 1\nexit", 1, NULL, 0); /* get_prandom_u32: scalars only */
    assert_int_equal(o.rc, 0);
    assert_int_equal(o.r0, 1);
    o = run_text("mov %r0, 1", 1, NULL, 0); /* falls off the end */
    assert_int_equal(o.rc, -EFAULT);
    o = run_text("mov %r0, 1\nldabsw 2\nexit", 1, NULL, 0);
    assert_int_equal(o.rc, -EFAULT);
    assert_non_null(strstr(o.msg, "not supported"));

    /* encodings the assembler refuses to write */
    struct bl_insn bad_jump[] = { { .code = BL_JMP | BL_JA, .off = 5 }, { .code = BL_JMP | BL_EXIT } };
    struct bl_insn bad_op[] = { { .code = 0x8e }, { .code = BL_JMP | BL_EXIT } };
    struct bl_insn into_lddw[] = { { .code = BL_JMP | BL_JA, .off = 1 },
                                   { .code = BL_LD | BL_IMM | BL_DW }, { 0 },
                                   { .code = BL_JMP | BL_EXIT } };
    struct bl_insn *progs[] = { bad_jump, bad_op, into_lddw };
    uint32_t lens[] = { 2, 2, 4 };
    for (int k = 0; k < 3; k++) {
        struct bl_interp_opts opts = { .raw = 1 };
        uint64_t args[5] = { 0 };
        struct bl_interp_result res;
        assert_int_equal(bl_interp_exec(progs[k], lens[k], args, &opts, NULL, &res), -EFAULT);
        assert_true(strlen(res.msg) > 0);
    }
}

static void test_run_raw_and_refusal(void **state)
{
    (void)state;
    char *err = NULL;
    bpflua_object *obj = bpflua_object_from_asm("ldxw %r0, [%r1+4]\nadd %r0, %r2\nexit", "r.asm",
                                                &err);
    assert_non_null(obj);
    uint32_t mem[2] = { 1, 40 };
    uint64_t r0 = 0;
    assert_int_equal(bl_run_raw(obj, 0, mem, sizeof mem, 0, &r0, &err), 0);
    assert_int_equal(r0, 48);
    bpflua_object_free(obj);

    /* bpflua_run verifies first and never runs a loop it cannot prove */
    obj = bpflua_object_from_asm("l: ja l\nexit", "loop.asm", &err);
    assert_non_null(obj);
    uint8_t pkt[64] = { 0 };
    struct bpflua_run_result res;
    struct bpflua_run_opts opts = { .engine = BPFLUA_ENGINE_INTERP };
    err = NULL;
    assert_true(bpflua_run(obj, 0, pkt, sizeof pkt, &opts, &res, &err) < 0);
    assert_non_null(err);
    free(err);
    bpflua_object_free(obj);
}

/* ---- differential: random straight-line/forward-jump programs ---------- */

static uint32_t rng_state = 12345;
static uint32_t rnd(uint32_t n)
{
    rng_state = rng_state * 1103515245u + 12345u;
    return (rng_state >> 8) % n;
}

/* A random program that is safe by construction: registers and 8 stack
 * slots initialised first, memory only at [r10-8*k], jumps forward only,
 * pairs the verified loop fuses generated on purpose. */
static uint32_t random_program(struct bl_insn *p, uint32_t cap)
{
    static const uint8_t alu_ops[] = { BL_ADD, BL_SUB, BL_MUL, BL_DIV, BL_OR, BL_AND, BL_LSH,
                                       BL_RSH, BL_MOD, BL_XOR, BL_MOV, BL_ARSH };
    static const uint8_t jmp_ops[] = { BL_JEQ, BL_JGT, BL_JGE, BL_JSET, BL_JNE, BL_JSGT,
                                       BL_JSGE, BL_JLT, BL_JLE, BL_JSLT, BL_JSLE };
    static const int32_t imms[] = { 0, 1, -1, 2, 7, 31, 32, 63, 64, 0x7fffffff, INT32_MIN, -13 };
    uint32_t n = 0;
    for (unsigned r = 0; r <= 9; r++)
        p[n++] = (struct bl_insn){ .code = BL_ALU64 | BL_K | BL_MOV, .dst = r,
                                   .imm = (int32_t)(rnd(1u << 31) - (1u << 30)) };
    for (int k = 1; k <= 8; k++)
        p[n++] = (struct bl_insn){ .code = BL_STX | BL_MEM | BL_DW, .dst = 10, .src = rnd(10),
                                   .off = (int16_t)(-8 * k) };
    uint32_t body = 12 + rnd(30);
    uint32_t end = n + body;
    while (n < end && n + 3 < cap) {
        uint8_t dst = (uint8_t)rnd(10), src = (uint8_t)rnd(10);
        int16_t slot = (int16_t)(-8 * (1 + (int)rnd(8)));
        switch (rnd(12)) {
        case 0: case 1: case 2: {
            uint8_t cls = rnd(2) ? BL_ALU64 : BL_ALU;
            uint8_t op = alu_ops[rnd(sizeof alu_ops)];
            int16_t off = (op == BL_DIV || op == BL_MOD) ? (int16_t)rnd(2) : 0;
            if (rnd(2))
                p[n++] = (struct bl_insn){ .code = cls | BL_X | op, .dst = dst, .src = src, .off = off };
            else
                p[n++] = (struct bl_insn){ .code = cls | BL_K | op, .dst = dst, .off = off,
                                           .imm = imms[rnd(sizeof imms / sizeof imms[0])] };
            break;
        }
        case 3:
            p[n++] = (struct bl_insn){ .code = BL_ALU64 | BL_X | BL_MOV, .dst = dst, .src = src,
                                       .off = (int16_t)(8 << rnd(3)) };
            break;
        case 4:
            p[n++] = (struct bl_insn){ .code = (uint8_t[]){ 0xd4, 0xdc, 0xd7 }[rnd(3)], .dst = dst,
                                       .imm = 16 << rnd(3) };
            break;
        case 5: /* ldxdw + mov/add/mul of the loaded register */
            p[n++] = (struct bl_insn){ .code = BL_LDX | BL_MEM | BL_DW, .dst = dst, .src = 10, .off = slot };
            p[n++] = (struct bl_insn){ .code = BL_ALU64 | BL_X | (uint8_t[]){ BL_MOV, BL_ADD, BL_MUL }[rnd(3)],
                                       .dst = src, .src = dst };
            break;
        case 6: /* mov + add reg/imm, add + stxdw */
            p[n++] = (struct bl_insn){ .code = BL_ALU64 | BL_X | BL_MOV, .dst = dst, .src = src };
            if (rnd(2))
                p[n++] = (struct bl_insn){ .code = BL_ALU64 | BL_X | BL_ADD, .dst = (uint8_t)rnd(10), .src = dst };
            else
                p[n++] = (struct bl_insn){ .code = BL_ALU64 | BL_K | BL_ADD, .dst = dst, .imm = -5 };
            break;
        case 7:
            p[n++] = (struct bl_insn){ .code = BL_ALU64 | BL_X | BL_ADD, .dst = dst, .src = src };
            p[n++] = (struct bl_insn){ .code = BL_STX | BL_MEM | BL_DW, .dst = 10, .src = dst, .off = slot };
            break;
        case 8: { /* loads and stores of every size on the stack */
            uint8_t size = (uint8_t[]){ BL_B, BL_H, BL_W, BL_DW }[rnd(4)];
            int16_t off = (int16_t)(slot + (int16_t)rnd(8 - (size == BL_DW ? 7 : size == BL_W ? 3 : size == BL_H ? 1 : 0)));
            if (rnd(2))
                p[n++] = (struct bl_insn){ .code = BL_STX | BL_MEM | size, .dst = 10, .src = src, .off = off };
            else
                p[n++] = (struct bl_insn){ .code = (uint8_t)((rnd(2) && size != BL_DW ? BL_MEMSX : BL_MEM) | BL_LDX | size),
                                           .dst = dst, .src = 10, .off = off };
            break;
        }
        case 9:
            p[n++] = (struct bl_insn){ .code = BL_LD | BL_IMM | BL_DW, .dst = dst, .imm = (int32_t)rnd(1u << 31) };
            p[n++] = (struct bl_insn){ .imm = -(int32_t)rnd(5) };
            break;
        case 10: { /* a forward conditional jump over the next few slots */
            uint8_t cls = rnd(2) ? BL_JMP : BL_JMP32;
            uint8_t op = jmp_ops[rnd(sizeof jmp_ops)];
            struct bl_insn j = { .code = (uint8_t)(cls | op | (rnd(2) ? BL_X : BL_K)), .dst = dst,
                                 .off = (int16_t)rnd(3) };
            if (BL_SRC(j.code) == BL_X)
                j.src = src;
            else
                j.imm = imms[rnd(sizeof imms / sizeof imms[0])];
            p[n++] = j;
            for (int k = 0; k < j.off; k++) /* targets are plain ALU slots */
                p[n++] = (struct bl_insn){ .code = BL_ALU64 | BL_K | BL_XOR, .dst = (uint8_t)rnd(10),
                                           .imm = (int32_t)rnd(1000) };
            break;
        }
        default:
            p[n++] = (struct bl_insn){ .code = BL_STX | BL_ATOMIC | BL_DW, .dst = 10, .src = src, .off = slot,
                                       .imm = (int32_t[]){ BL_ADD, BL_OR | BL_FETCH, BL_XCHG, BL_CMPXCHG }[rnd(4)] };
            break;
        }
    }
    /* fold every register and slot into r0 so any difference shows */
    for (unsigned r = 1; r <= 9; r++)
        p[n++] = (struct bl_insn){ .code = BL_ALU64 | BL_X | BL_XOR, .dst = 0, .src = r };
    for (int k = 1; k <= 8; k++) {
        p[n++] = (struct bl_insn){ .code = BL_LDX | BL_MEM | BL_DW, .dst = 1, .src = 10, .off = (int16_t)(-8 * k) };
        p[n++] = (struct bl_insn){ .code = BL_ALU64 | BL_K | BL_MUL, .dst = 0, .imm = 31 };
        p[n++] = (struct bl_insn){ .code = BL_ALU64 | BL_X | BL_ADD, .dst = 0, .src = 1 };
    }
    p[n++] = (struct bl_insn){ .code = BL_JMP | BL_EXIT };
    return n;
}

static void test_differential_random(void **state)
{
    (void)state;
    struct bl_insn prog[200];
    int jit_runs = 0;
    for (int iter = 0; iter < 3000; iter++) {
        uint32_t n = random_program(prog, 120);
        uint64_t args[5] = { 0 };
        uint64_t r0[4], counted[4] = { 0 };
        for (int mode = 0; mode <= 3; mode++) {
            struct bl_interp_opts opts = { .raw = mode == 1, .count = mode >= 2,
                                           .max_insns = mode == 3 ? (uint64_t)1 << 40 : 0 };
            struct bl_interp_result res;
            int rc = bl_interp_exec(prog, n, args, &opts, NULL, &res);
            if (rc != 0)
                fail_msg("program %d, mode %d: %s", iter, mode, res.msg);
            r0[mode] = res.r0;
            counted[mode] = res.insns;
        }
        if (counted[2] != counted[1] || counted[3] != counted[1])
            fail_msg("program %d: raw counted %llu, counting %llu, limited %llu", iter,
                     (unsigned long long)counted[1], (unsigned long long)counted[2],
                     (unsigned long long)counted[3]);
        if (r0[0] != r0[1] || r0[2] != r0[1] || r0[3] != r0[1])
            fail_msg("program %d: verified 0x%llx raw 0x%llx counting 0x%llx", iter,
                     (unsigned long long)r0[0], (unsigned long long)r0[1], (unsigned long long)r0[2]);
        if (!bl_jit_available() || iter % 10)
            continue;
        /* the JIT's raw mode on the same program */
        bpflua_object *obj = bpflua_object_new();
        assert_int_equal(bpflua_object_add_prog(obj, "diff", "xdp", prog, n, NULL, 0, NULL, 0), 0);
        struct bl_prog *p = bl_object_prog(obj, 0);
        p->exec_insns = malloc(n * sizeof *prog);
        assert_non_null(p->exec_insns);
        memcpy(p->exec_insns, prog, n * sizeof *prog);
        struct bl_jit_opts jo = { .raw = 1 };
        char *err = NULL;
        if (bl_jit_compile_opts(p, &jo, &err) == 0) {
            struct bpflua_run_env env = { .obj = obj };
            uint64_t j = bl_jit_run_mem(p->jit, 0, 0, NULL, 0, &env);
            if (j != r0[1])
                fail_msg("program %d: JIT 0x%llx, interpreter 0x%llx", iter,
                         (unsigned long long)j, (unsigned long long)r0[1]);
            jit_runs++;
        } else {
            fail_msg("program %d: JIT: %s", iter, err);
        }
        free(err);
        bpflua_object_free(obj);
    }
    printf("3000 random programs agree in 3 interpreter loops, %d also in the JIT\n", jit_runs);
}

/* bpflua_run: maps linked, callbacks through bpf_loop and for_each_map_elem
 * (helpers 181, 164), the same verdict in every engine available here. */
static void test_run_engines(void **state)
{
    (void)state;
    const char *text =
        ".map m array key=4 value=8 entries=4\n"
        "stw [%r10-4], 2\n"
        "stdw [%r10-16], 40\n"
        "lddw %r1, map:m\n"
        "mov %r2, %r10\nadd %r2, -4\nmov %r3, %r10\nadd %r3, -16\nmov %r4, 0\n"
        "call 2\n"                                  /* m[2] = 40 */
        "stdw [%r10-24], 0\n"
        "lddw %r1, map:m\nlddw %r2, func:each\nmov %r3, %r10\nadd %r3, -24\nmov %r4, 0\n"
        "call 164\n"                                /* sum of m's values */
        "mov %r6, %r0\n"
        "mov %r1, 5\nlddw %r2, func:body\nmov %r3, %r10\nadd %r3, -24\nmov %r4, 0\n"
        "call 181\n"                                /* + 0 + 1 + 2 + 3 + 4 */
        "ldxdw %r1, [%r10-24]\n"
        "lsh %r6, 16\nlsh %r0, 8\nadd %r0, %r6\nadd %r0, %r1\n"
        "exit\n"
        "each:\nldxdw %r1, [%r3]\nldxdw %r2, [%r4]\nadd %r2, %r1\nstxdw [%r4], %r2\n"
        "mov %r0, 0\nexit\n"
        "body:\nldxdw %r3, [%r2]\nadd %r3, %r1\nstxdw [%r2], %r3\nmov %r0, 0\nexit\n";
    const uint64_t want = (4ull << 16) | (5ull << 8) | 50;
    char *err = NULL;
    bpflua_object *obj = bpflua_object_from_asm(text, "engines.asm", &err);
    if (!obj)
        fail_msg("%s", err);
    uint8_t pkt[64] = { 0 };
    struct bpflua_run_result res;
    struct bpflua_run_opts opts = { .engine = BPFLUA_ENGINE_INTERP, .repeat = 3 };
    if (bpflua_run(obj, 0, pkt, sizeof pkt, &opts, &res, &err) != 0)
        fail_msg("interp: %s", err);
    assert_int_equal(res.retval, want);
    assert_true(res.insns > 40);
    uint32_t key = 2;
    uint64_t value = 0;
    assert_int_equal(bpflua_map_lookup(obj, 0, &key, &value), 0);
    assert_int_equal(value, 40);

    /* a limit below what the run needs stops it */
    opts.repeat = 1;
    opts.max_insns = 10;
    assert_int_equal(bpflua_run(obj, 0, pkt, sizeof pkt, &opts, &res, &err), -ETIME);
    assert_non_null(strstr(err, "instruction limit of 10 reached"));
    free(err);
    err = NULL;
    opts.max_insns = 0;

    if (bl_jit_available()) {
        opts.engine = BPFLUA_ENGINE_JIT;
        if (bpflua_run(obj, 0, pkt, sizeof pkt, &opts, &res, &err) != 0)
            fail_msg("jit: %s", err);
        assert_int_equal(res.retval, want);
    } else {
        printf("JIT not available: interpreter only\n");
    }
    char *why = NULL;
    if (bl_kernel_available(&why)) {
        opts.engine = BPFLUA_ENGINE_KERNEL;
        if (bpflua_run(obj, 0, pkt, sizeof pkt, &opts, &res, &err) != 0)
            fail_msg("kernel: %s", err);
        assert_int_equal(res.retval, want);
    } else {
        printf("kernel engine skipped: %s\n", why ? why : "unavailable");
    }
    free(why);
    bpflua_object_free(obj);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_division),
        cmocka_unit_test(test_shifts_and_widths),
        cmocka_unit_test(test_sign_extension),
        cmocka_unit_test(test_byte_order),
        cmocka_unit_test(test_atomics),
        cmocka_unit_test(test_jumps_and_calls),
        cmocka_unit_test(test_superinstructions),
        cmocka_unit_test(test_fused_memory_add),
        cmocka_unit_test(test_fused_mov_mov),
        cmocka_unit_test(test_fused_ldxdw_ldxdw),
        cmocka_unit_test(test_fused_ldxdw_mulself),
        cmocka_unit_test(test_fused_ldxdw_xor),
        cmocka_unit_test(test_fused_in_bpf_loop),
        cmocka_unit_test(test_loop_state),
        cmocka_unit_test(test_light_loop_frames),
        cmocka_unit_test(test_loop_keeps_registers),
        cmocka_unit_test(test_loop_callee_args),
        cmocka_unit_test(test_ctx_based_ops),
        cmocka_unit_test(test_fused_load_ops),
        cmocka_unit_test(test_fused_launder_memop),
        cmocka_unit_test(test_loop_bookkeeping),
        cmocka_unit_test(test_call_depth_overflow),
        cmocka_unit_test(test_bpf_loop_callback),
        cmocka_unit_test(test_counting),
        cmocka_unit_test(test_code_cache),
        cmocka_unit_test(test_raw_mode_protects),
        cmocka_unit_test(test_run_raw_and_refusal),
        cmocka_unit_test(test_run_engines),
        cmocka_unit_test(test_differential_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
