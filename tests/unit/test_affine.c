/* test_affine.c - the affine forms the JIT's value analyses share
 * (jit/affine.[ch]): sums kept in symbol order with terms that cancel,
 * their limits, intervals, the ALU transfer, and what a jump decides at
 * the edges of the interval of x - y (an off-by-one there drops a test
 * that can fire).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "jit/affine.h"

/* symbol s lies in [s, 2 * s] */
static void ranges(void *env, uint64_t s, aff_i128 *lo, aff_i128 *hi)
{
    (void)env;
    *lo = (aff_i128)s;
    *hi = 2 * (aff_i128)s;
}

static void test_sums(void **state)
{
    struct aff a = jit_aff_sym(7), b = jit_aff_sym(3), f;
    struct aff_sum s;
    a.k = 5;
    jit_aff_sum_of(&s, &a);
    assert_true(jit_aff_sum_add_form(&s, &b, 2));          /* 2*s3 + s7 + 5 */
    assert_int_equal(s.n, 2);
    assert_true(s.sym[0] == 3 && s.c[0] == 2 && s.sym[1] == 7 && s.c[1] == 1);
    assert_true(s.k == 5);
    /* the same sum the other way round: equal forms */
    struct aff_sum t;
    struct aff b2 = jit_aff_sym(3);
    b2.c[0] = 2;
    jit_aff_sum_of(&t, &b2);
    assert_true(jit_aff_sum_add_form(&t, &a, 1));
    struct aff f1, f2;
    assert_true(jit_aff_narrow(&s, &f1, 100, 100) && jit_aff_narrow(&t, &f2, 100, 100));
    assert_true(jit_aff_equal(&f1, &f2));
    /* a term that cancels goes */
    assert_true(jit_aff_sum_add_form(&s, &b, -2));
    assert_int_equal(s.n, 1);
    /* limits: a coefficient or a constant over the analysis's, too many terms */
    jit_aff_sum_of(&s, &a);
    assert_true(jit_aff_sum_add_form(&s, &b, 1000));
    assert_false(jit_aff_narrow(&s, &f, 999, 100));
    assert_true(jit_aff_narrow(&s, &f, 1000, 100));
    assert_false(jit_aff_narrow(&s, &f, 1000, 4));
    for (uint64_t q = 10; q < 13; q++) {
        struct aff x = jit_aff_sym(q);
        assert_true(jit_aff_sum_add_form(&s, &x, 1));
    }
    assert_int_equal(s.n, 5);
    assert_false(jit_aff_narrow(&s, &f, 1000, 100));       /* (5 terms) */
    assert_false(jit_aff_sum_add_form(&s, &b, (int64_t)1 << 23));
    (void)state;
}

static void test_ranges(void **state)
{
    struct aff a = jit_aff_sym(4), b = jit_aff_sym(10);
    struct aff_sum s;
    aff_i128 lo, hi;
    a.k = -1;
    jit_aff_sum_of(&s, &a);
    assert_true(jit_aff_sum_add_form(&s, &b, -3));          /* s4 - 3*s10 - 1 */
    jit_aff_sum_range(&s, ranges, NULL, &lo, &hi);
    assert_true(lo == 4 - 60 - 1 && hi == 8 - 30 - 1);
    assert_true(jit_aff_in_s64(lo, hi));
    assert_false(jit_aff_in_u64(lo, hi));
    assert_true(jit_aff_in_u64(0, ((aff_i128)1 << 64) - 1));
    assert_false(jit_aff_in_s64(0, (aff_i128)1 << 63));
    (void)state;
}

static void test_alu(void **state)
{
    struct bl_insn mul = {BL_ALU64 | BL_MUL | BL_X, 1, 2, 0, 0};
    struct bl_insn lsh = {BL_ALU64 | BL_LSH | BL_K, 1, 0, 0, 3};
    struct bl_insn orr = {BL_ALU64 | BL_OR | BL_X, 1, 2, 0, 0};
    struct aff x = jit_aff_sym(5), two = jit_aff_num(2), top = jit_aff_top, ptr = jit_aff_ptr(1, 8);
    struct aff_sum s;
    /* the constant on either side */
    assert_true(jit_aff_alu64(&mul, &two, &x, &s) && s.n == 1 && s.c[0] == 2);
    assert_true(jit_aff_alu64(&mul, &x, &two, &s) && s.n == 1 && s.c[0] == 2);
    assert_false(jit_aff_alu64(&mul, &x, &x, &s));
    assert_true(jit_aff_alu64(&lsh, &x, &x, &s) && s.c[0] == 8);
    assert_false(jit_aff_alu64(&orr, &x, &two, &s));
    assert_false(jit_aff_alu64(&mul, &top, &two, &s));
    assert_false(jit_aff_alu64(&mul, &ptr, &two, &s));
    (void)state;
}

/* x - y in [lo, hi]: each relation at the edges around 0 */
static void test_decide(void **state)
{
    static const struct {
        uint8_t op;
        int lo, hi, want;
    } c[] = {
        {BL_JEQ, 0, 0, 2}, {BL_JEQ, 1, 3, 1}, {BL_JEQ, -3, -1, 1}, {BL_JEQ, -1, 1, 0},
        {BL_JNE, 0, 0, 1}, {BL_JNE, 1, 3, 2}, {BL_JNE, 0, 1, 0},
        {BL_JGT, 1, 5, 2}, {BL_JGT, 0, 5, 0}, {BL_JGT, -5, 0, 1}, {BL_JGT, -5, 1, 0},
        {BL_JSGT, 1, 1, 2}, {BL_JSGT, 0, 0, 1},
        {BL_JGE, 0, 5, 2}, {BL_JGE, -1, 5, 0}, {BL_JGE, -5, -1, 1}, {BL_JGE, -5, 0, 0},
        {BL_JSGE, 0, 0, 2}, {BL_JSGE, -1, -1, 1},
        {BL_JLT, -5, -1, 2}, {BL_JLT, -5, 0, 0}, {BL_JLT, 0, 5, 1}, {BL_JLT, -1, 5, 0},
        {BL_JSLT, -1, -1, 2}, {BL_JSLT, 0, 0, 1},
        {BL_JLE, -5, 0, 2}, {BL_JLE, -5, 1, 0}, {BL_JLE, 1, 5, 1}, {BL_JLE, 0, 5, 0},
        {BL_JSLE, 0, 0, 2}, {BL_JSLE, 1, 1, 1},
        {BL_JSET, 1, 1, 0},
    };
    for (size_t k = 0; k < sizeof c / sizeof c[0]; k++)
        if (jit_aff_decide(c[k].op, c[k].lo, c[k].hi) != c[k].want)
            fail_msg("op 0x%x on [%d, %d]: %d, want %d", c[k].op, c[k].lo, c[k].hi,
                     jit_aff_decide(c[k].op, c[k].lo, c[k].hi), c[k].want);
    (void)state;
}

static void test_slots(void **state)
{
    struct aff_slot s[4];
    int n = 0;
    for (int k = 0; k < 3; k++) {
        s[n].base = 1;
        s[n].off = (int16_t)(8 * k);
        s[n++].v = jit_aff_num(k);
    }
    s[n].base = 2;
    s[n].off = 8;
    s[n++].v = jit_aff_num(9);
    assert_int_equal(jit_aff_slot_find(s, n, 2, 8), 3);
    assert_int_equal(jit_aff_slot_find(s, n, 1, 4), -1);
    /* a 2-byte write at 14 overlaps the slot at 8 of base 1 only */
    jit_aff_slot_clobber(s, &n, 1, 14, 2);
    assert_int_equal(n, 3);
    assert_int_equal(jit_aff_slot_find(s, n, 1, 8), -1);
    assert_true(jit_aff_slot_find(s, n, 1, 0) >= 0 && jit_aff_slot_find(s, n, 1, 16) >= 0);
    assert_true(jit_aff_slot_find(s, n, 2, 8) >= 0);
    /* one ending at 16 does not touch the slot at 16 */
    jit_aff_slot_clobber(s, &n, 1, 12, 4);
    assert_true(jit_aff_slot_find(s, n, 1, 16) >= 0);
    (void)state;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sums),   cmocka_unit_test(test_ranges),
        cmocka_unit_test(test_alu),    cmocka_unit_test(test_decide),
        cmocka_unit_test(test_slots),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
