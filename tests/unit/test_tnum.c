/* test_tnum.c - exhaustive soundness checks of tracked numbers at 4 bits.
 *
 * Every tnum over the low 4 bits (3^4 of them, higher bits known 0) is
 * paired with every other; for each pair and each operation, every concrete
 * result of the operation on members must be a member of the abstract
 * result. Constants must stay exact. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "vm/tnum.h"

#define BITS 4
#define NVALS (1u << BITS)

static struct tnum all[81];
static int n_all;

static void build_all(void)
{
    n_all = 0;
    for (int t = 0; t < 81; t++) {
        uint64_t v = 0, m = 0;
        int x = t;
        for (int b = 0; b < BITS; b++, x /= 3) {
            if (x % 3 == 1)
                v |= 1ull << b;
            else if (x % 3 == 2)
                m |= 1ull << b;
        }
        all[n_all++] = TNUM(v, m);
    }
}

static int members(struct tnum a, uint64_t *out)
{
    int n = 0;
    for (uint64_t x = 0; x < NVALS; x++)
        if (tnum_contains(a, x))
            out[n++] = x;
    return n;
}

enum op { ADD, SUB, AND, OR, XOR, MUL, NOPS };

static uint64_t concrete(enum op op, uint64_t x, uint64_t y)
{
    switch (op) {
    case ADD: return x + y;
    case SUB: return x - y;
    case AND: return x & y;
    case OR: return x | y;
    case XOR: return x ^ y;
    default: return x * y;
    }
}

static struct tnum abstract(enum op op, struct tnum a, struct tnum b)
{
    switch (op) {
    case ADD: return tnum_add(a, b);
    case SUB: return tnum_sub(a, b);
    case AND: return tnum_and(a, b);
    case OR: return tnum_or(a, b);
    case XOR: return tnum_xor(a, b);
    default: return tnum_mul(a, b);
    }
}

static void test_binary_ops_sound(void **state)
{
    uint64_t xs[NVALS], ys[NVALS];
    build_all();
    for (int op = 0; op < NOPS; op++)
        for (int i = 0; i < n_all; i++)
            for (int j = 0; j < n_all; j++) {
                struct tnum r = abstract(op, all[i], all[j]);
                assert_int_equal(r.value & r.mask, 0);
                int nx = members(all[i], xs), ny = members(all[j], ys);
                for (int p = 0; p < nx; p++)
                    for (int q = 0; q < ny; q++)
                        assert_true(tnum_contains(r, concrete(op, xs[p], ys[q])));
                if (tnum_is_const(all[i]) && tnum_is_const(all[j]))
                    assert_true(tnum_equals_const(r, concrete(op, all[i].value, all[j].value)));
            }
}

static void test_unary_ops_sound(void **state)
{
    uint64_t xs[NVALS];
    build_all();
    for (int i = 0; i < n_all; i++) {
        int nx = members(all[i], xs);
        for (uint8_t s = 0; s < 6; s++) {
            struct tnum l = tnum_lshift(all[i], s), r = tnum_rshift(all[i], s);
            /* place the value at the top of 32 bits to exercise the sign */
            struct tnum hi = tnum_lshift(all[i], 28);
            struct tnum ar = tnum_arshift(hi, s, 32);
            struct tnum ar64 = tnum_arshift(tnum_lshift(all[i], 60), s, 64);
            for (int p = 0; p < nx; p++) {
                assert_true(tnum_contains(l, xs[p] << s));
                assert_true(tnum_contains(r, xs[p] >> s));
                uint32_t v32 = (uint32_t)(xs[p] << 28);
                assert_true(tnum_contains(ar, (uint32_t)((int32_t)v32 >> s)));
                int64_t v64 = (int64_t)(xs[p] << 60);
                assert_true(tnum_contains(ar64, (uint64_t)(v64 >> s)));
            }
        }
        struct tnum n = tnum_neg(all[i]);
        for (int p = 0; p < nx; p++)
            assert_true(tnum_contains(n, (uint64_t)0 - xs[p]));
        for (uint8_t size = 1; size <= 8; size *= 2) {
            struct tnum c = tnum_cast(tnum_lshift(all[i], 6), size);
            for (int p = 0; p < nx; p++) {
                uint64_t v = xs[p] << 6;
                uint64_t want = size == 8 ? v : v & ((1ull << (size * 8)) - 1);
                assert_true(tnum_contains(c, want));
            }
        }
    }
}

static void test_set_ops(void **state)
{
    uint64_t xs[NVALS];
    build_all();
    for (int i = 0; i < n_all; i++)
        for (int j = 0; j < n_all; j++) {
            struct tnum a = all[i], b = all[j];
            struct tnum u = tnum_union(a, b);
            int in = 1;
            for (uint64_t x = 0; x < NVALS; x++) {
                int ina = tnum_contains(a, x), inb = tnum_contains(b, x);
                if (ina || inb)
                    assert_true(tnum_contains(u, x));
                if (inb && !ina)
                    in = 0;
            }
            /* tnum_in is exact: b is a subset of a */
            assert_int_equal(tnum_in(a, b), in);
            /* the intersection keeps every common member */
            struct tnum m = tnum_intersect(a, b);
            int nx = members(a, xs);
            for (int p = 0; p < nx; p++)
                if (tnum_contains(b, xs[p]))
                    assert_true(tnum_contains(m, xs[p]));
        }
}

static void test_range(void **state)
{
    for (uint64_t lo = 0; lo < 64; lo++)
        for (uint64_t hi = lo; hi < 64; hi++) {
            struct tnum r = tnum_range(lo, hi);
            for (uint64_t x = lo; x <= hi; x++)
                assert_true(tnum_contains(r, x));
            assert_true(tnum_min(r) <= lo);
            assert_true(tnum_max(r) >= hi);
        }
    /* the documented pitfall: [0, 2] also holds 3 */
    assert_true(tnum_contains(tnum_range(0, 2), 3));
    assert_true(tnum_is_unknown(tnum_range(0, UINT64_MAX)));
    assert_true(tnum_equals_const(tnum_range(7, 7), 7));
    assert_true(tnum_is_unknown(tnum_range(5, 1)));
}

static void test_subreg_and_str(void **state)
{
    struct tnum a = TNUM(0x12300000000000ull, 0xff000000ffull);
    struct tnum s = tnum_subreg(a);
    assert_int_equal(s.value, 0);
    assert_int_equal(s.mask, 0xff);
    struct tnum w = tnum_with_subreg(a, tnum_const(0x77));
    assert_int_equal(w.value, 0x12300000000077ull);
    assert_int_equal(w.mask, 0xff00000000ull);
    char buf[64];
    tnum_str(buf, sizeof buf, tnum_const(16));
    assert_string_equal(buf, "0x10");
    tnum_str(buf, sizeof buf, TNUM(0, 3));
    assert_string_equal(buf, "(0; 0x3)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_binary_ops_sound),
        cmocka_unit_test(test_unary_ops_sound),
        cmocka_unit_test(test_set_ops),
        cmocka_unit_test(test_range),
        cmocka_unit_test(test_subreg_and_str),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
