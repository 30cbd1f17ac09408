/* test_loop_checks.c - bl_loop_checks on bpf_loop callback bodies.
 *
 * Each body is assembled from text (one function: the callback, R1 = i,
 * R2 = ctx on entry); the jump targets are computed here from the
 * instructions, and the checks found are compared field by field: the
 * exit condition (relation, signedness, which way of the jump exits), and
 * both sides' coefficients and slots. The negatives are bodies where a
 * check must not be found (the form is not affine, not exact, both sides
 * vary, neither or both ways of the jump stop the loop).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "jit/loop_checks.h"
#include "vm/asm.h"
#include "core/bpflua.h"
#include "core/object.h"

/* assembles text, marks the jump targets, runs bl_loop_checks over the
 * whole program; returns how many checks it found */
static int find_checks(const char *text, struct loop_check *out)
{
    char *err = NULL;
    bpflua_object *obj = bl_asm_assemble(text, "body", 1, &err);
    if (!obj)
        fail_msg("asm: %s\n%s", err ? err : "?", text);
    free(err);
    size_t n;
    const struct bl_insn *in = bpflua_prog_insns(obj, 0, &n);
    assert_non_null(in);
    uint8_t *is_target = calloc(n + 1, 1);
    assert_non_null(is_target);
    for (size_t pc = 0; pc < n; pc++) {
        uint8_t cls = BL_CLASS(in[pc].code), op = BL_OP(in[pc].code);
        if (bl_is_lddw(&in[pc])) {
            pc++;
            continue;
        }
        if ((cls != BL_JMP && cls != BL_JMP32) || op == BL_CALL || op == BL_EXIT)
            continue;
        int64_t t = (int64_t)pc + 1 + (cls == BL_JMP32 && op == BL_JA ? in[pc].imm : in[pc].off);
        if (t >= 0 && t <= (int64_t)n)
            is_target[t] = 1;
    }
    memset(out, 0xa5, LOOP_CHECKS_MAX * sizeof *out);
    int found = bl_loop_checks(in, 0, (uint32_t)n, is_target, out);
    free(is_target);
    bpflua_object_free(obj);
    assert_true(found >= 0 && found <= LOOP_CHECKS_MAX);
    return found;
}

/* one side: a*i + b, then up to two slots as "+16", "-24" ("" for none) */
static void expect_side(const struct loop_side *sd, int32_t a, int32_t b, const char *slots)
{
    assert_int_equal(sd->a, a);
    assert_int_equal(sd->b, b);
    int n = 0;
    for (const char *p = slots; *p;) {
        int sign = *p == '-' ? -1 : 1;
        char *end;
        long off = strtol(p + 1, &end, 10);
        assert_true(n < 2 && n < sd->n_slots);
        assert_int_equal(sd->sign[n], sign);
        assert_int_equal(sd->slot[n], off);
        n++;
        p = end;
        while (*p == ' ')
            p++;
    }
    assert_int_equal(sd->n_slots, n);
}

static void expect_chk(const struct loop_check *c, uint32_t pc, int always, int rel,
                         int is_signed)
{
    assert_int_equal(c->pc, pc);
    assert_int_equal(c->always, always);
    assert_int_equal(c->rel, rel);
    assert_int_equal(c->is_signed, is_signed);
}

/* the compiler's index check: exits when a*i + b > k (>= when strict), unsigned */
static void expect_imm(const struct loop_check *c, uint32_t pc, int32_t a, int32_t b, int32_t k,
                       int strict)
{
    expect_chk(c, pc, 0, strict ? LR_GE : LR_GT, 0);
    expect_side(&c->d, a, b, "");
    expect_side(&c->s, 0, k, "");
}

/* the compiler's packet check: exits when [lo] + a*i + b > [hi] */
static void expect_ptr(const struct loop_check *c, uint32_t pc, int32_t a, int32_t b, int lo,
                       int hi, int strict)
{
    char dl[16], sl[16];
    snprintf(dl, sizeof dl, "+%d", lo);
    snprintf(sl, sizeof sl, "+%d", hi);
    expect_chk(c, pc, 0, strict ? LR_GE : LR_GT, 0);
    expect_side(&c->d, a, b, dl);
    expect_side(&c->s, 0, 0, sl);
}

/* the compiler's checksum body: i*2 <= 65527, data + i*2 + 2 <= data_end */
#define CHECKSUM_HEAD                     \
    "mov %r9, %r2\n"          /* 0 */     \
    "mov %r6, %r1\n"          /* 1 */     \
    "ldxdw %r7, [%r9+40]\n"   /* 2 */     \
    "mov %r3, %r6\n"          /* 3 */     \
    "lsh %r3, 1\n"            /* 4 */     \
    "jgt %r3, 65527, out\n"   /* 5 */     \
    "ldxdw %r1, [%r9+16]\n"   /* 6 */     \
    "ldxdw %r2, [%r9+24]\n"   /* 7 */     \
    "add %r1, %r3\n"          /* 8 */     \
    "mov %r3, %r1\n"          /* 9 */     \
    "add %r3, 2\n"            /* 10 */
#define CHECKSUM_TAIL                     \
    "ldxh %r4, [%r1]\n"                   \
    "add %r7, %r4\n"                      \
    "stxdw [%r9+40], %r7\n"               \
    "mov %r0, 0\n"                        \
    "exit\n"                              \
    "out:\n"                              \
    "mov %r0, 1\n"                        \
    "exit\n"

static void test_checksum(void **state)
{
    struct loop_check c[LOOP_CHECKS_MAX];
    int n = find_checks(CHECKSUM_HEAD "jgt %r3, %r2, out\n" CHECKSUM_TAIL, c);
    assert_int_equal(n, 2);
    expect_imm(&c[0], 5, 2, 0, 65527, 0);
    expect_ptr(&c[1], 11, 2, 2, 16, 24, 0);
}

static void test_jge_strict(void **state)
{
    struct loop_check c[LOOP_CHECKS_MAX];
    int n = find_checks("mov %r9, %r2\n"
                        "mov %r3, %r1\n"
                        "lsh %r3, 2\n"
                        "add %r3, 3\n"
                        "jge %r3, 4000, out\n"             /* 4 */
                        "ldxdw %r4, [%r9+0]\n"
                        "ldxdw %r5, [%r9+8]\n"
                        "add %r4, %r3\n"
                        "jge %r4, %r5, out\n"               /* 8 */
                        "mov %r0, 0\nexit\nout:\nmov %r0, 1\nexit\n",
                        c);
    assert_int_equal(n, 2);
    expect_imm(&c[0], 4, 4, 3, 4000, 1);
    expect_ptr(&c[1], 8, 4, 3, 0, 8, 1);
}

/* `jlt end, p` is `jgt p, end`; `jle end, p` is `jge p, end` */
static void test_swapped(void **state)
{
    struct loop_check c[LOOP_CHECKS_MAX];
    int n = find_checks(CHECKSUM_HEAD "jlt %r2, %r3, out\n" CHECKSUM_TAIL, c);
    assert_int_equal(n, 2);
    expect_imm(&c[0], 5, 2, 0, 65527, 0);
    expect_ptr(&c[1], 11, 2, 2, 16, 24, 0);
    n = find_checks(CHECKSUM_HEAD "jle %r2, %r3, out\n" CHECKSUM_TAIL, c);
    assert_int_equal(n, 2);
    expect_ptr(&c[1], 11, 2, 2, 16, 24, 1);
}

/* ctx used as R2 itself (no copy), the index scaled by mul, then offset:
 * (i + 1) * 3 = 3i + 3; the slot added to the index (either order) */
static void test_mul(void **state)
{
    struct loop_check c[LOOP_CHECKS_MAX];
    int n = find_checks("mov %r3, %r1\n"
                        "add %r3, 1\n"
                        "mul %r3, 3\n"
                        "jgt %r3, 300, out\n"               /* 3 */
                        "ldxdw %r4, [%r2+32]\n"
                        "mov %r5, %r3\n"
                        "add %r5, %r4\n"                    /* slot + 3i + 3 */
                        "add %r5, 5\n"
                        "ldxdw %r0, [%r2+48]\n"
                        "jgt %r5, %r0, out\n"               /* 9 */
                        "mov %r0, 0\nexit\nout:\nmov %r0, 1\nexit\n",
                        c);
    assert_int_equal(n, 2);
    expect_imm(&c[0], 3, 3, 3, 300, 0);
    expect_ptr(&c[1], 9, 3, 8, 32, 48, 0);
}

/* a check on the index alone with a = 0 after mul 0, and a k that is
 * negative as an immediate (a huge bound as a u64) */
static void test_constant_and_negative_k(void **state)
{
    struct loop_check c[LOOP_CHECKS_MAX];
    int n = find_checks("mov %r3, %r1\n"
                        "mul %r3, 0\n"
                        "add %r3, 7\n"
                        "jgt %r3, -2, out\n"
                        "mov %r0, 0\nexit\nout:\nmov %r0, 1\nexit\n",
                        c);
    assert_int_equal(n, 1);
    expect_imm(&c[0], 3, 0, 7, -2, 0);
}

/* one test per case that must find nothing */
static void expect_none(const char *text)
{
    struct loop_check c[LOOP_CHECKS_MAX];
    int n = find_checks(text, c);
    if (n)
        print_message("found %d check(s) (first at pc %u) in:\n%s", n, c[0].pc, text);
    assert_int_equal(n, 0);
}

#define TAIL "mov %r0, 0\nexit\nout:\nmov %r0, 1\nexit\n"

static void test_alu32_index(void **state)
{
    expect_none("mov %r3, %r1\nlsh32 %r3, 1\njgt %r3, 100, out\n" TAIL);
    expect_none("mov32 %r3, %r1\njgt %r3, 100, out\n" TAIL);
    expect_none("mov %r3, %r1\nadd32 %r3, 1\njgt %r3, 100, out\n" TAIL);
}

static void test_after_join(void **state)
{
    /* the check sits at a jump target: along one edge r3 = i, along the
     * other i + 1 */
    expect_none("mov %r3, %r1\n"
                "jeq %r1, 3, j\n"
                "add %r3, 1\n"
                "j:\n"
                "jgt %r3, 100, out\n" TAIL);
    /* and after one */
    expect_none("mov %r3, %r1\n"
                "jeq %r1, 3, j\n"
                "add %r3, 1\n"
                "j:\n"
                "lsh %r3, 1\n"
                "jgt %r3, 100, out\n" TAIL);
}

/* where both edges into a join bring the same form it survives, and a
 * check in a branch (taken for some i only) is found too */
static void test_joins_that_agree(void **state)
{
    struct loop_check c[LOOP_CHECKS_MAX];
    int n = find_checks("mov %r3, %r1\n"
                        "lsh %r3, 1\n"
                        "jeq %r1, 3, j\n"
                        "mov %r4, 7\n"                     /* r3 untouched on this edge */
                        "j:\n"
                        "jgt %r3, 100, out\n"               /* 4 */
                        "jset %r1, 1, odd\n"
                        "add %r3, 4\n"
                        "jgt %r3, 200, out\n"               /* 7: only for even i */
                        "odd:\n" TAIL,
                        c);
    assert_int_equal(n, 2);
    expect_imm(&c[0], 4, 2, 0, 100, 0);
    expect_imm(&c[1], 7, 2, 4, 200, 0);
    /* the compiler's shape: an if before the packet check */
    n = find_checks("mov %r9, %r2\n"
                    "mov %r6, %r1\n"
                    "jne %r6, 5, skip\n"
                    "ldxdw %r7, [%r9+32]\n"
                    "add %r7, 1\n"
                    "stxdw [%r9+32], %r7\n"
                    "skip:\n"
                    "ldxdw %r1, [%r9+16]\n"
                    "ldxdw %r2, [%r9+24]\n"
                    "add %r1, %r6\n"
                    "mov %r3, %r1\n"
                    "add %r3, 1\n"
                    "jgt %r3, %r2, out\n"              /* 11 */
                    TAIL,
                    c);
    assert_int_equal(n, 1);
    expect_ptr(&c[0], 11, 1, 1, 16, 24, 0);
}

/* a call keeps R6-R9 (checks on them are found after it) and forgets R0-R5 */
static void test_after_call(void **state)
{
    struct loop_check c[LOOP_CHECKS_MAX];
    int n = find_checks("mov %r6, %r1\n"
                        "lsh %r6, 1\n"
                        "call 7\n"
                        "jgt %r6, 100, out\n" TAIL,
                        c);
    assert_int_equal(n, 1);
    expect_imm(&c[0], 3, 2, 0, 100, 0);
    expect_none("mov %r3, %r1\n"
                "lsh %r3, 1\n"
                "call 7\n"
                "jgt %r3, 100, out\n" TAIL);
    expect_none("mov %r9, %r2\n"
                "call 7\n"
                "ldxdw %r3, [%r2+0]\n"               /* R2 is no longer ctx */
                "ldxdw %r4, [%r2+8]\n"
                "add %r3, %r6\n"
                "jgt %r3, %r4, out\n" TAIL);
}

/* a jump back anywhere: nothing (the body is no longer a DAG) */
static void test_jump_back(void **state)
{
    expect_none("mov %r3, %r1\n"
                "jgt %r3, 100, out\n"
                "top:\n"
                "add %r3, 1\n"
                "jlt %r3, 4, top\n" TAIL);
}

static void test_shift_by_register(void **state)
{
    expect_none("mov %r3, %r1\nmov %r4, 1\nlsh %r3, %r4\njgt %r3, 100, out\n" TAIL);
    expect_none("mov %r3, %r1\nmov %r4, 3\nmul %r3, %r4\njgt %r3, 100, out\n" TAIL);
}

/* negative constants and coefficients (a negative step), mul by a
 * negative immediate, neg */
static void test_negative_b(void **state)
{
    struct loop_check c[LOOP_CHECKS_MAX];
    assert_int_equal(find_checks("mov %r3, %r1\nlsh %r3, 1\nsub %r3, 1\njgt %r3, 100, out\n" TAIL, c), 1);
    expect_imm(&c[0], 3, 2, -1, 100, 0);
    assert_int_equal(find_checks("mov %r3, %r1\nadd %r3, -4\njgt %r3, 100, out\n" TAIL, c), 1);
    expect_imm(&c[0], 2, 1, -4, 100, 0);
    /* 5 - i */
    assert_int_equal(find_checks("mov %r3, 5\nsub %r3, %r1\njgt %r3, 100, out\n" TAIL, c), 1);
    expect_imm(&c[0], 2, -1, 5, 100, 0);
    /* the compiler's negative step: start - i, start a slot, then data + that + 1 */
    assert_int_equal(find_checks("mov %r9, %r2\nmov %r6, %r1\nmul %r6, -1\nldxdw %r3, [%r9+32]\n"
                                 "add %r6, %r3\njgt %r6, 65527, out\n"          /* 5 */
                                 "ldxdw %r1, [%r9+16]\nldxdw %r2, [%r9+24]\nadd %r1, %r6\n"
                                 "mov %r3, %r1\nadd %r3, 1\njgt %r3, %r2, out\n" /* 11 */ TAIL,
                                 c),
                     2);
    expect_chk(&c[0], 5, 0, LR_GT, 0);
    expect_side(&c[0].d, -1, 0, "+32");
    expect_side(&c[0].s, 0, 65527, "");
    expect_chk(&c[1], 11, 0, LR_GT, 0);
    expect_side(&c[1].d, -1, 1, "+16 +32");
    expect_side(&c[1].s, 0, 0, "+24");
    /* neg: -(i + 1) */
    assert_int_equal(find_checks("mov %r3, %r1\nadd %r3, 1\nneg %r3\njsgt %r3, -3, out\n" TAIL, c), 1);
    expect_chk(&c[0], 3, 0, LR_GT, 1);
    expect_side(&c[0].d, -1, -1, "");
}

/* a user's own exits: `if i + 2 > #pkt then break end` (the jump skips the
 * break: the copy makes it a ja), `if i >= n then return x end`, and the
 * bound on the left (mirrored) */
static void test_user_exits(void **state)
{
    struct loop_check c[LOOP_CHECKS_MAX];
    int n = find_checks("mov %r9, %r2\n"
                        "mov %r6, %r1\n"
                        "lsh %r6, 1\n"
                        "mov %r7, %r6\n"
                        "add %r7, 2\n"
                        "ldxdw %r1, [%r9+16]\n"
                        "ldxdw %r2, [%r9+24]\n"
                        "sub %r2, %r1\n"
                        "mov %r8, %r2\n"
                        "jsle %r7, %r8, +1\n"              /* 9 */
                        "ja brk\n"
                        "mov %r0, 0\nexit\n"
                        "brk:\nmov %r0, 1\nexit\n",
                        c);
    assert_int_equal(n, 1);
    expect_chk(&c[0], 9, 1, LR_GT, 1);                    /* exits on 2i + 2 > len */
    expect_side(&c[0].d, 2, 2, "");
    expect_side(&c[0].s, 0, 0, "+24 -16");
    n = find_checks("mov %r9, %r2\n"
                    "ldxdw %r3, [%r9+40]\n"
                    "jlt %r1, %r3, go\n"                  /* 2: exits on i >= n */
                    "stxdw [%r9+8], %r1\n"
                    "stdw [%r9], 2\n"
                    "mov %r0, 1\nexit\n"
                    "go:\n"
                    "jge %r3, %r1, ok\n"                  /* 7: n >= i, the bound first */
                    "mov %r0, 1\nexit\n"
                    "ok:\n"
                    "mov %r0, 0\nexit\n",
                    c);
    assert_int_equal(n, 2);
    expect_chk(&c[0], 2, 1, LR_GE, 0);
    expect_side(&c[0].d, 1, 0, "");
    expect_side(&c[0].s, 0, 0, "+40");
    expect_chk(&c[1], 7, 1, LR_GT, 0);                    /* not (n >= i) is i > n */
    expect_side(&c[1].d, 1, 0, "");
    expect_side(&c[1].s, 0, 0, "+40");
    /* neither way goes straight to an exit (a plain if), or both stop the loop */
    expect_none("jgt %r1, 10, skip\nmov %r3, 1\nskip:\nmov %r3, 2\njeq %r3, 1, skip2\n"
                "skip2:\nmov %r0, 0\nexit\n");
    expect_none("jgt %r1, 10, a\nmov %r0, 1\nexit\na:\nmov %r0, 2\nexit\n");
    /* the fall-through returns what R0 held (not known to stop the loop),
     * the jump goes into more code: no test */
    expect_none("ldxdw %r0, [%r2+0]\njgt %r1, 10, a\nexit\na:\njeq %r0, 3, b\nb:\n"
                "mov %r0, 0\nexit\n");
}

static void test_jmp32(void **state)
{
    expect_none("mov %r3, %r1\nlsh %r3, 1\njgt32 %r3, 100, out\n" TAIL);
    expect_none("ldxdw %r3, [%r2+0]\nldxdw %r4, [%r2+8]\nadd %r3, %r1\n"
                "jgt32 %r3, %r4, out\n" TAIL);
}

static void test_non_ctx_pointer(void **state)
{
    /* the start loaded from the stack, not from ctx */
    expect_none("mov %r9, %r2\nldxdw %r3, [%r10-8]\nldxdw %r4, [%r9+8]\nadd %r3, %r1\n"
                "jgt %r3, %r4, out\n" TAIL);
    /* the bound loaded through a pointer read from ctx */
    expect_none("mov %r9, %r2\nldxdw %r3, [%r9+0]\nldxdw %r5, [%r9+16]\nldxdw %r4, [%r5+8]\n"
                "add %r3, %r1\njgt %r3, %r4, out\n" TAIL);
    /* a value loaded through a non-ctx pointer against an immediate */
    expect_none("ldxdw %r3, [%r10-8]\njgt %r3, 100, out\n" TAIL);
    /* a 4-byte ctx load is not a slot */
    expect_none("ldxw %r3, [%r2+0]\nldxdw %r4, [%r2+8]\nadd %r3, %r1\njgt %r3, %r4, out\n" TAIL);
}

static void test_bound_with_offset(void **state)
{
    struct loop_check c[LOOP_CHECKS_MAX];
    /* data + i > data_end - 2; a slot against an immediate; two slots on one side */
    assert_int_equal(find_checks("ldxdw %r3, [%r2+0]\nldxdw %r4, [%r2+8]\nadd %r3, %r1\nsub %r4, 2\n"
                                 "jgt %r3, %r4, out\n" TAIL, c), 1);
    expect_side(&c[0].d, 1, 0, "+0");
    expect_side(&c[0].s, 0, -2, "+8");
    assert_int_equal(find_checks("ldxdw %r3, [%r2+0]\nadd %r3, %r1\njgt %r3, 100, out\n" TAIL, c), 1);
    expect_side(&c[0].d, 1, 0, "+0");
    expect_side(&c[0].s, 0, 100, "");
    assert_int_equal(find_checks("ldxdw %r3, [%r2+0]\nldxdw %r4, [%r2+8]\nldxdw %r5, [%r2+16]\n"
                                 "add %r3, %r5\njgt %r3, %r4, out\n" TAIL, c), 1);
    expect_side(&c[0].d, 0, 0, "+0 +16");
    /* x - x cancels */
    assert_int_equal(find_checks("ldxdw %r3, [%r2+0]\nmov %r4, %r3\nsub %r4, %r3\nadd %r4, %r1\n"
                                 "jgt %r4, 9, out\n" TAIL, c), 1);
    expect_side(&c[0].d, 1, 0, "");
    /* both sides vary with i; three slots */
    expect_none("ldxdw %r3, [%r2+0]\nldxdw %r4, [%r2+8]\nadd %r3, %r1\nadd %r4, %r1\n"
                "jgt %r3, %r4, out\n" TAIL);
    expect_none("ldxdw %r3, [%r2+0]\nldxdw %r4, [%r2+8]\nldxdw %r5, [%r2+16]\nadd %r3, %r5\n"
                "add %r3, %r4\njgt %r3, 7, out\n" TAIL);
}

static void test_first_insn_target(void **state)
{
    /* the first instruction is reached by a jump back: not a straight line */
    expect_none("top:\n"
                "mov %r3, %r1\n"
                "jgt %r3, 100, out\n"
                "add %r1, 1\n"
                "jlt %r1, 4, top\n" TAIL);
}

/* signed and less-than compares are found; jeq, jne, jset not; a copy of
 * ctx that is later overwritten */
static void test_other_compares(void **state)
{
    struct loop_check c[LOOP_CHECKS_MAX];
    assert_int_equal(find_checks("mov %r3, %r1\njsgt %r3, 100, out\n" TAIL, c), 1);
    expect_chk(&c[0], 1, 0, LR_GT, 1);
    assert_int_equal(find_checks("mov %r3, %r1\njlt %r3, 100, out\n" TAIL, c), 1);
    expect_chk(&c[0], 1, 0, LR_LT, 0);
    assert_int_equal(find_checks("mov %r3, %r1\njsle %r3, 100, out\n" TAIL, c), 1);
    expect_chk(&c[0], 1, 0, LR_LE, 1);
    expect_none("mov %r3, %r1\njeq %r3, 100, out\n" TAIL);
    expect_none("mov %r3, %r1\njne %r3, 100, out\n" TAIL);
    expect_none("mov %r3, %r1\njset %r3, 100, out\n" TAIL);
    expect_none("mov %r9, %r2\nmov %r9, 0\nldxdw %r3, [%r9+0]\nldxdw %r4, [%r2+8]\n"
                "add %r3, %r1\njgt %r3, %r4, out\n" TAIL);
    /* R1 overwritten before it is copied: a constant (a = 0), not the index */
    assert_int_equal(find_checks("mov %r1, 3\nmov %r3, %r1\njgt %r3, 100, out\n" TAIL, c), 1);
    expect_imm(&c[0], 2, 0, 3, 100, 0);
}

/* a value stored in an 8-byte ctx slot on the way and loaded back is the
 * stored form (the compiler keeps a loop variable in a slot); a store
 * that overlaps the slot, a store through another pointer, an atomic, a
 * join that disagrees or a call forgets it; a test on such a value only
 * where it stops the loop, and nowhere in a body that calls */
static void test_stored_slots(void **state)
{
    struct loop_check c[LOOP_CHECKS_MAX];
    assert_int_equal(find_checks("mov %r9, %r2\nstxdw [%r9+56], %r1\nldxdw %r3, [%r9+56]\n"
                                 "jgt %r3, 65527, out\n" TAIL, c), 1);
    expect_imm(&c[0], 3, 1, 0, 65527, 0);
    /* (a form: 2 * i + 3 stored, read back, against a slot) */
    assert_int_equal(find_checks("mov %r4, %r1\nlsh %r4, 1\nadd %r4, 3\nstxdw [%r2+8], %r4\n"
                                 "ldxdw %r3, [%r2+8]\nldxdw %r5, [%r2+16]\njgt %r3, %r5, out\n" TAIL,
                                 c), 1);
    expect_chk(&c[0], 6, 0, LR_GT, 0);
    expect_side(&c[0].d, 2, 3, "");
    expect_side(&c[0].s, 0, 0, "+16");
    /* a constant stored */
    assert_int_equal(find_checks("stdw [%r2+8], 7\nldxdw %r3, [%r2+8]\nadd %r3, %r1\n"
                                 "jgt %r3, 100, out\n" TAIL, c), 1);
    expect_imm(&c[0], 3, 1, 7, 100, 0);
    /* overwritten in part, through another pointer: what the slot holds
     * is not known (it was stored in this iteration); the launder (an
     * atomic add of 0) changes nothing */
    static const char *forget[] = {"stw [%r2+12], 9\n", "stxdw [%r4+0], %r1\n",
                                   "mov %r0, 0\nlock add [%r2+8], %r0\n"};
    for (size_t k = 0; k < sizeof forget / sizeof forget[0]; k++) {
        char text[512];
        snprintf(text, sizeof text,
                 "mov %%r4, %%r2\nadd %%r4, 8\nstxdw [%%r2+8], %%r1\n%sldxdw %%r3, [%%r2+8]\n"
                 "jgt %%r3, 100, out\n%s", forget[k], TAIL);
        if (k < 2) {
            expect_none(text);
            continue;
        }
        assert_int_equal(find_checks(text, c), 1);
        expect_chk(&c[0], 6, 0, LR_GT, 0);
        expect_side(&c[0].d, 1, 0, "");
    }
    /* stored on one way only: nothing known after the join */
    expect_none("jgt %r1, 5, skip\nstxdw [%r2+8], %r1\nskip:\n"
                "ldxdw %r3, [%r2+8]\njgt %r3, 100, out\n" TAIL);
    /* a way that goes on (returns 0) is no test for a stored value */
    expect_none("stxdw [%r2+8], %r1\nldxdw %r3, [%r2+8]\njgt %r3, 100, skip\n"
                "mov %r0, 0\nexit\nskip:\nmov %r0, 0\nexit\n");
    /* a body that calls: nothing forwarded */
    assert_int_equal(find_checks("mov %r6, %r2\nstxdw [%r6+8], %r1\nldxdw %r3, [%r6+8]\n"
                                 "jgt %r3, 100, out\ncall 7\n" TAIL, c), 1);
    expect_side(&c[0].d, 0, 0, "+8");
}

/* x == 0 and x != 0 are x <= 0 and x > 0 unsigned (a pointer's null test);
 * against another constant or a register, nothing */
static void test_null_tests(void **state)
{
    struct loop_check c[LOOP_CHECKS_MAX];
    assert_int_equal(find_checks("ldxdw %r3, [%r2+32]\njeq %r3, 0, out\n" TAIL, c), 1);
    expect_chk(&c[0], 1, 0, LR_LE, 0);
    expect_side(&c[0].d, 0, 0, "+32");
    expect_side(&c[0].s, 0, 0, "");
    assert_int_equal(find_checks("ldxdw %r3, [%r2+32]\njne %r3, 0, go\nja out\ngo:\n" TAIL, c), 1);
    expect_chk(&c[0], 1, 1, LR_LE, 0);
    expect_none("ldxdw %r3, [%r2+32]\njeq %r3, 1, out\n" TAIL);
    expect_none("ldxdw %r3, [%r2+32]\nmov %r4, 0\njeq %r3, %r4, out\n" TAIL);
}

/* a slot the body steps by a constant on every way that goes on (a while
 * loop's offset) is c * i + its value before the loop where it is loaded
 * before any store of the iteration; not when a way that goes on leaves
 * it alone, steps it by another amount or stores something else there */
static void test_stepped_slots(void **state)
{
    struct loop_check c[LOOP_CHECKS_MAX];
    static const char *step4 =
        "ldxdw %r6, [%r2+32]\nmov %r3, %r6\nadd %r3, 4\nldxdw %r4, [%r2+24]\njgt %r3, %r4, out\n"
        "add %r6, 4\nstxdw [%r2+32], %r6\nmov %r0, 0\nlock add [%r2+32], %r0\n" TAIL;
    assert_int_equal(find_checks(step4, c), 1);
    expect_chk(&c[0], 4, 0, LR_GT, 0);
    expect_side(&c[0].d, 4, 4, "+32");
    expect_side(&c[0].s, 0, 0, "+24");
    assert_int_equal(c[0].d.stepped, 1);
    assert_int_equal(c[0].s.stepped, 0);
    /* stepped by -3 on both ways of an if, read back after the store */
    assert_int_equal(find_checks("ldxdw %r6, [%r2+8]\njgt %r1, 5, b\nsub %r6, 3\nstxdw [%r2+8], %r6\n"
                                 "ja j\nb:\nadd %r6, -3\nstxdw [%r2+8], %r6\nj:\nldxdw %r3, [%r2+8]\n"
                                 "jsgt %r3, 100, out\n" TAIL, c), 1);
    expect_chk(&c[0], 8, 0, LR_GT, 1);
    expect_side(&c[0].d, -3, -3, "+8");
    assert_int_equal(c[0].d.stepped, 1);
    /* not stepped: a way that goes on without a store, two amounts, a
     * store of something else, a store before the load */
    static const char *not_stepped[] = {
        "ldxdw %r6, [%r2+8]\njgt %r6, 100, out\njgt %r1, 5, skip\nadd %r6, 4\nstxdw [%r2+8], %r6\n"
        "skip:\n",
        "ldxdw %r6, [%r2+8]\njgt %r6, 100, out\njgt %r1, 5, b\nadd %r6, 4\nstxdw [%r2+8], %r6\n"
        "ja j\nb:\nadd %r6, 8\nstxdw [%r2+8], %r6\nj:\n",
        "ldxdw %r6, [%r2+8]\njgt %r6, 100, out\nstxdw [%r2+8], %r1\n",
        "ldxdw %r6, [%r2+8]\njgt %r6, 100, out\nadd %r6, 4\nstxdw [%r2+8], %r6\nstw [%r2+12], 0\n",
        /* (two exits that go on, each its own amount) */
        "ldxdw %r6, [%r2+8]\njgt %r6, 100, out\njgt %r1, 5, b\nadd %r6, 4\nstxdw [%r2+8], %r6\n"
        "mov %r0, 0\nexit\nb:\nadd %r6, 8\nstxdw [%r2+8], %r6\n",
    };
    for (size_t k = 0; k < sizeof not_stepped / sizeof not_stepped[0]; k++) {
        char text[512];
        snprintf(text, sizeof text, "%s%s", not_stepped[k], TAIL);
        assert_true(find_checks(text, c) >= 1);   /* (and `jgt r1, 5` to an exit that goes on) */
        expect_chk(&c[0], 1, 0, LR_GT, 0);
        expect_side(&c[0].d, 0, 0, "+8");
        assert_int_equal(c[0].d.stepped, 0);
    }
    /* a load after a store on one way only: nothing known there */
    expect_none("ldxdw %r6, [%r2+8]\njgt %r1, 5, j\nadd %r6, 4\nstxdw [%r2+8], %r6\nj:\n"
                "ldxdw %r3, [%r2+8]\njgt %r3, 100, out\nadd %r3, 4\nstxdw [%r2+8], %r3\n" TAIL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checksum),
        cmocka_unit_test(test_jge_strict),
        cmocka_unit_test(test_swapped),
        cmocka_unit_test(test_mul),
        cmocka_unit_test(test_constant_and_negative_k),
        cmocka_unit_test(test_alu32_index),
        cmocka_unit_test(test_after_join),
        cmocka_unit_test(test_after_call),
        cmocka_unit_test(test_joins_that_agree),
        cmocka_unit_test(test_jump_back),
        cmocka_unit_test(test_shift_by_register),
        cmocka_unit_test(test_negative_b),
        cmocka_unit_test(test_user_exits),
        cmocka_unit_test(test_jmp32),
        cmocka_unit_test(test_non_ctx_pointer),
        cmocka_unit_test(test_bound_with_offset),
        cmocka_unit_test(test_first_insn_target),
        cmocka_unit_test(test_other_compares),
        cmocka_unit_test(test_stored_slots),
        cmocka_unit_test(test_null_tests),
        cmocka_unit_test(test_stepped_slots),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
