/* test_x86_emit.c - the emitter's memory operands, byte for byte.
 *
 * The expected bytes are what GNU as writes for the instruction in the
 * comment (checked with `as` + `objdump -d`). The cases are the corners of
 * ModRM/SIB encoding: an index with and without a base, rbp/r13 as a base
 * (they need a displacement even when it is 0), rsp/r12 as a base (SIB
 * needed even without an index), REX.X/REX.B for r8-r15, byte stores
 * from r8b, disp8 against disp32.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "jit/x86_emit.h"

static void expect(struct x86_emit *e, const uint8_t *bytes, size_t n)
{
    assert_int_equal(e->err, X86_OK);
    assert_int_equal(e->len, n);
    assert_memory_equal(e->buf, bytes, n);
    e->len = 0;
}

#define EXPECT(e, ...)                                    \
    do {                                                  \
        static const uint8_t b_[] = {__VA_ARGS__};        \
        expect(e, b_, sizeof b_);                         \
    } while (0)

static void test_loads_with_index(void **state)
{
    (void)state;
    struct x86_emit e;
    x86_init(&e);
    /* movzwl (%rcx,%r11,2),%eax */
    x86_load_m(&e, 2, 0, RAX, &(struct x86_mem){RCX, R11, 2, 0});
    EXPECT(&e, 0x42, 0x0f, 0xb7, 0x04, 0x59);
    /* movzbl (%r9,%r11,1),%r13d */
    x86_load_m(&e, 1, 0, R13, &(struct x86_mem){R9, R11, 1, 0});
    EXPECT(&e, 0x47, 0x0f, 0xb6, 0x2c, 0x19);
    /* mov 0x0(%r13,%rcx,1),%rax: r13 as a base needs a disp8 */
    x86_load_m(&e, 8, 0, RAX, &(struct x86_mem){R13, RCX, 1, 0});
    EXPECT(&e, 0x49, 0x8b, 0x44, 0x0d, 0x00);
    /* mov 0x100(%rbp,%rdx,4),%rax: disp32 */
    x86_load_m(&e, 8, 0, RAX, &(struct x86_mem){RBP, RDX, 4, 0x100});
    EXPECT(&e, 0x48, 0x8b, 0x84, 0x95, 0x00, 0x01, 0x00, 0x00);
    /* movsbq (%rdi,%r12,8),%rax: r12 as an index is fine (REX.X) */
    x86_load_m(&e, 1, 1, RAX, &(struct x86_mem){RDI, R12, 8, 0});
    EXPECT(&e, 0x4a, 0x0f, 0xbe, 0x04, 0xe7);
    x86_free(&e);
}

static void test_lea_and_stores(void **state)
{
    (void)state;
    struct x86_emit e;
    x86_init(&e);
    /* lea 0x0(,%r11,2),%rdx: no base, disp32 */
    x86_lea_m(&e, RDX, &(struct x86_mem){-1, R11, 2, 0});
    EXPECT(&e, 0x4a, 0x8d, 0x14, 0x5d, 0x00, 0x00, 0x00, 0x00);
    /* lea 0x1(%r9,%r11,1),%rdx */
    x86_lea_m(&e, RDX, &(struct x86_mem){R9, R11, 1, 1});
    EXPECT(&e, 0x4b, 0x8d, 0x54, 0x19, 0x01);
    /* mov %r8b,0x7(%rax,%rsi,8) */
    x86_store_r_m(&e, 1, &(struct x86_mem){RAX, RSI, 8, 7}, R8);
    EXPECT(&e, 0x44, 0x88, 0x44, 0xf0, 0x07);
    /* movl $0x12345678,-0x8(%r12,%rbx,1) */
    x86_store_i_m(&e, 4, &(struct x86_mem){R12, RBX, 1, -8}, 0x12345678);
    EXPECT(&e, 0x41, 0xc7, 0x44, 0x1c, 0xf8, 0x78, 0x56, 0x34, 0x12);
    x86_free(&e);
}

/* without an index, the _m forms are the [base + disp] ones, byte for byte */
static void test_no_index_is_base_disp(void **state)
{
    (void)state;
    static const int bases[] = {RAX, RCX, RSP, RBP, RSI, R8, R12, R13, R15};
    static const int32_t disps[] = {0, 1, -128, 127, 128, -4096, 0x12345};
    for (size_t b = 0; b < sizeof bases / sizeof bases[0]; b++)
        for (size_t d = 0; d < sizeof disps / sizeof disps[0]; d++) {
            struct x86_emit a, m;
            x86_init(&a);
            x86_init(&m);
            struct x86_mem mem = {(int8_t)bases[b], -1, 1, disps[d]};
            x86_load(&a, 8, 0, RDX, bases[b], disps[d]);
            x86_load_m(&m, 8, 0, RDX, &mem);
            x86_store_r(&a, 1, bases[b], disps[d], RSI);
            x86_store_r_m(&m, 1, &mem, RSI);
            x86_lea(&a, R9, bases[b], disps[d]);
            x86_lea_m(&m, R9, &mem);
            assert_int_equal(a.len, m.len);
            assert_memory_equal(a.buf, m.buf, a.len);
            x86_free(&a);
            x86_free(&m);
        }
    /* mov %rsi,(%rsp): rsp as a base takes a SIB byte */
    struct x86_emit e;
    x86_init(&e);
    x86_store_r_m(&e, 8, &(struct x86_mem){RSP, -1, 1, 0}, RSI);
    EXPECT(&e, 0x48, 0x89, 0x34, 0x24);
    x86_free(&e);
}

/* x86_repad: the NOPs before a loop top change length after the code
 * behind them is emitted (jit/inline_loop.c, layout_done): the code moves,
 * and with it the labels bound after the NOPs and the fixups there; a
 * label bound before the NOPs and a jump placed before them stay. */
static void test_repad(void **state)
{
    (void)state;
    for (size_t pad = 0; pad < 64; pad += 7) {
        struct x86_emit e;
        x86_init(&e);
        uint32_t l_before = x86_label_new(&e), l_top = x86_label_new(&e);
        uint32_t l_out = x86_label_new(&e), l_unbound = x86_label_new(&e);
        x86_inc(&e, 0, RAX);                     /* ff c0 */
        x86_jmp_fix(&e, FIX_LABEL, l_out);       /* e9 rel32: over the loop */
        x86_label_bind(&e, l_before);
        size_t at = e.len;
        x86_align(&e, 64);
        size_t old = e.len - at;
        x86_label_bind(&e, l_top);
        x86_inc(&e, 0, RCX);                     /* ff c1 */
        x86_jcc_fix(&e, CC_NE, FIX_LABEL, l_top); /* 0f 85 rel32: back to the top */
        x86_label_bind(&e, l_out);
        x86_repad(&e, at, old, pad);
        assert_int_equal(e.err, X86_OK);
        assert_int_equal(e.len, at + pad + 8);
        assert_int_equal(e.labels[l_before], at);
        assert_int_equal(e.labels[l_top], at + pad);
        assert_int_equal(e.labels[l_out], at + pad + 8);
        assert_int_equal(e.labels[l_unbound], UINT32_MAX);
        /* the NOPs: multi-byte forms, each 0x66* 0x0f 0x1f or 0x90 */
        for (size_t k = at; k < at + pad;) {
            size_t q = k;
            while (e.buf[q] == 0x66)
                q++;
            if (e.buf[q] == 0x90) {
                k = q + 1;
                continue;
            }
            assert_int_equal(e.buf[q], 0x0f);
            assert_int_equal(e.buf[q + 1], 0x1f);
            k = q + 2 + (e.buf[q + 2] == 0x00 ? 1 : e.buf[q + 2] == 0x40 ? 2
                        : e.buf[q + 2] == 0x44 ? 3 : e.buf[q + 2] == 0x80 ? 5 : 6);
            assert_true(k <= at + pad);
        }
        e.labels[l_unbound] = 0;                 /* (x86_resolve needs every label) */
        assert_int_equal(x86_resolve(&e, NULL, 0), 0);
        int32_t rel;
        memcpy(&rel, e.buf + 3, 4);              /* the jump over: to l_out */
        assert_int_equal(7 + rel, at + pad + 8);
        assert_int_equal(e.buf[at + pad], 0xff);
        assert_int_equal(e.buf[at + pad + 1], 0xc1);
        assert_int_equal(e.buf[at + pad + 2], 0x0f);
        assert_int_equal(e.buf[at + pad + 3], 0x85);
        memcpy(&rel, e.buf + at + pad + 4, 4);   /* the back-edge: to l_top */
        assert_int_equal((int64_t)(at + pad + 8) + rel, (int64_t)(at + pad));
        x86_free(&e);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loads_with_index),
        cmocka_unit_test(test_lea_and_stores),
        cmocka_unit_test(test_no_index_is_base_disp),
        cmocka_unit_test(test_repad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
