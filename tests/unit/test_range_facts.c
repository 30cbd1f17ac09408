/* test_range_facts.c - bl_range_facts on bpf_loop callback bodies.
 *
 * Each body is assembled from text (the callback: R1 = i, R2 = ctx); the
 * verifier's ld_val is given by hand for the loads of the packet's start
 * and end. The TLV walk's `if opt + 2 > #pkt then break end` must decide
 * the packet checks of opt + 0 and opt + 1 never taken and nothing one
 * byte further, nothing once opt is stored again, nothing without the
 * verifier's word on which loads load data and data_end, and nothing
 * while opt may be negative (the unsigned bound makes it an integer).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "jit/range_facts.h"
#include "vm/asm.h"
#include "vm/verifier.h"
#include "core/bpflua.h"
#include "core/object.h"

/* decided[] of the body text: loads from [r9+16] load the packet's start,
 * from [r9+24] its end (when with_aux) */
static int decide(const char *text, int with_aux, uint8_t *decided, size_t max)
{
    char *err = NULL;
    bpflua_object *obj = bl_asm_assemble(text, "body", 1, &err);
    if (!obj)
        fail_msg("asm: %s\n%s", err ? err : "?", text);
    free(err);
    size_t n;
    const struct bl_insn *in = bpflua_prog_insns(obj, 0, &n);
    assert_non_null(in);
    assert_true(n <= max);
    struct bl_insn_aux *aux = calloc(n, sizeof *aux);
    assert_non_null(aux);
    for (size_t pc = 0; pc < n; pc++) {
        aux[pc].seen = 1;
        if (in[pc].code == (BL_LDX | BL_MEM | BL_DW) && in[pc].src == BL_R9)
            aux[pc].ld_val = in[pc].off == 16 ? BL_LDV_DATA
                             : in[pc].off == 24 ? BL_LDV_DATA_END : BL_LDV_OTHER;
        if (BL_CLASS(in[pc].code) == BL_STX || BL_CLASS(in[pc].code) == BL_ST)
            aux[pc].mem_kinds = in[pc].dst == BL_R9 ? BL_MEMK_STACK : BL_MEMK_PACKET;
    }
    memset(decided, 0, max);
    int found = bl_range_facts(in, with_aux ? aux : NULL, 0, (uint32_t)n, decided);
    free(aux);
    bpflua_object_free(obj);
    return found;
}

/* the compiler's walk: the user's test (TEST, exits to out), opt's bound,
 * a packet check at opt + OFF, then MID (between the test and the read) */
#define WALK(test, mid, off)                                                     \
    "mov %r9, %r2\n"                                  /* 0 */                   \
    "ldxdw %r6, [%r9+32]\n"                           /* 1: opt */              \
    "mov %r7, %r6\n"                                  /* 2 */                   \
    "add %r7, 2\n"                                    /* 3 */                   \
    "ldxdw %r1, [%r9+16]\n"                           /* 4: data */             \
    "ldxdw %r2, [%r9+24]\n"                           /* 5: data_end */         \
    "sub %r2, %r1\n"                                  /* 6: #pkt */             \
    test                                              /* 7 */                   \
    mid                                               /* 8 */                   \
    "ldxdw %r6, [%r9+32]\n"                           /* 9 */                   \
    "jgt %r6, 65527, out\n"                           /* 10 */                  \
    "ldxdw %r1, [%r9+16]\n"                           /* 11 */                  \
    "ldxdw %r2, [%r9+24]\n"                           /* 12 */                  \
    "add %r1, %r6\n"                                  /* 13 */                  \
    "mov %r3, %r1\n"                                  /* 14 */                  \
    "add %r3, " off "\n"                              /* 15 */                  \
    "jgt %r3, %r2, out\n"                             /* 16: the packet check */ \
    "ldxb %r0, [%r1]\n"                                                         \
    "mov %r0, 0\n"                                                              \
    "exit\n"                                                                    \
    "out:\n"                                                                    \
    "mov %r0, 1\n"                                                              \
    "exit\n"

#define USER_GT "jsgt %r7, %r2, out\n"                /* opt + 2 > #pkt: exit */
#define NOP "mov %r5, 0\n"

static void test_walk(void **state)
{
    uint8_t d[64];
    /* opt + 2 <= #pkt proves opt + 1 and opt + 2 (the end of a 2-byte read) */
    assert_int_equal(decide(WALK(USER_GT, NOP, "1"), 1, d, sizeof d), 1);
    assert_int_equal(d[16], 1);
    assert_int_equal(d[7] | d[10], 0);
    assert_int_equal(decide(WALK(USER_GT, NOP, "2"), 1, d, sizeof d), 1);
    assert_int_equal(d[16], 1);
    /* one byte further: not proved */
    assert_int_equal(decide(WALK(USER_GT, NOP, "3"), 1, d, sizeof d), 0);
    /* >= exits one earlier: proves one byte more */
    assert_int_equal(decide(WALK("jsge %r7, %r2, out\n", NOP, "3"), 1, d, sizeof d), 1);
    assert_int_equal(d[16], 1);
    assert_int_equal(decide(WALK("jsge %r7, %r2, out\n", NOP, "4"), 1, d, sizeof d), 0);
    /* the test the other way round: #pkt < opt + 2 */
    assert_int_equal(decide(WALK("jslt %r2, %r7, out\n", NOP, "2"), 1, d, sizeof d), 1);
    assert_int_equal(d[16], 1);
    (void)state;
}

static void test_not_proved(void **state)
{
    uint8_t d[64];
    /* opt changes between the test and the read */
    assert_int_equal(decide(WALK(USER_GT, "ldxdw %r5, [%r9+40]\nstxdw [%r9+32], %r5\n", "1"), 1,
                            d, sizeof d),
                     0);
    /* ... by one: the new opt + 1 is the old opt + 2, still proved; the
     * new opt + 2 is not */
    assert_int_equal(decide(WALK(USER_GT, "add %r6, 1\nstxdw [%r9+32], %r6\n", "1"), 1, d,
                            sizeof d),
                     1);
    assert_int_equal(decide(WALK(USER_GT, "add %r6, 1\nstxdw [%r9+32], %r6\n", "2"), 1, d,
                            sizeof d),
                     0);
    /* no word from the verifier on data and data_end */
    assert_int_equal(decide(WALK(USER_GT, NOP, "1"), 0, d, sizeof d), 0);
    /* a helper call may write the area: opt is reloaded unknown */
    assert_int_equal(decide(WALK(USER_GT, "call 5\n", "1"), 1, d, sizeof d), 0);
    /* opt stored back unchanged: still proved */
    assert_int_equal(decide(WALK(USER_GT, "stxdw [%r9+32], %r6\n", "1"), 1, d, sizeof d), 1);
    (void)state;
}

/* without the compiler's unsigned bound, opt may be near 2^63 and the
 * signed test says nothing about opt + 1 as a pointer offset */
static void test_needs_bound(void **state)
{
    uint8_t d[64];
    const char *body =
        "mov %r9, %r2\n"
        "ldxdw %r6, [%r9+32]\n"
        "mov %r7, %r6\n"
        "add %r7, 2\n"
        "ldxdw %r1, [%r9+16]\n"
        "ldxdw %r2, [%r9+24]\n"
        "sub %r2, %r1\n"
        "jsgt %r7, %r2, out\n"
        "ldxdw %r1, [%r9+16]\n"
        "ldxdw %r2, [%r9+24]\n"
        "add %r1, %r6\n"
        "mov %r3, %r1\n"
        "add %r3, 1\n"
        "jgt %r3, %r2, out\n"
        "mov %r0, 0\n"
        "exit\n"
        "out:\n"
        "mov %r0, 1\n"
        "exit\n";
    assert_int_equal(decide(body, 1, d, sizeof d), 0);
    (void)state;
}

/* the index: i + 2 > n (n = a slot & 65535) exits, then i + 1 > n is
 * never taken and i + 2 <= n always holds (its jump always taken) */
static void test_index_and_always(void **state)
{
    uint8_t d[64];
    const char *bounded =
        "mov %r9, %r2\n"            /* 0 */
        "ldxdw %r4, [%r9+40]\n"     /* 1: n */
        "and %r4, 65535\n"          /* 2: 0..65535 */
        "mov %r3, %r1\n"            /* 3 */
        "add %r3, 2\n"              /* 4 */
        "jgt %r3, %r4, out\n"       /* 5 */
        "mov %r5, %r1\n"            /* 6 */
        "add %r5, 1\n"              /* 7 */
        "jgt %r5, %r4, out\n"       /* 8: never */
        "jle %r3, %r4, ok\n"        /* 9: always */
        "ja out\n"                  /* 10 */
        "ok:\n"
        "mov %r0, 0\n"
        "exit\n"
        "out:\n"
        "mov %r0, 1\n"
        "exit\n";
    assert_int_equal(decide(bounded, 1, d, sizeof d), 2);
    assert_int_equal(d[8], 1);
    assert_int_equal(d[9], 2);
    assert_int_equal(d[5], 0);
    (void)state;
}

/* 2 * i spelled with the constant in the destination register (`mov r6, 2;
 * mul r6, r1`, as compiled for `2 * x`) and as a shift: 2i + 2 <= n
 * decides 2i + 1 > n never, 2i + 3 > n either way */
static void test_product(void **state)
{
    uint8_t d[64];
    char text[1024];
    const char *fmt = "mov %%r9, %%r2\n"          /* 0 */
                      "ldxdw %%r4, [%%r9+40]\n"   /* 1: n */
                      "and %%r4, 65535\n"         /* 2 */
                      "mov %%r6, 2\n"             /* 3 */
                      "mul %%r6, %%r1\n"          /* 4: 2i */
                      "add %%r6, 2\n"             /* 5 */
                      "jgt %%r6, %%r4, out\n"     /* 6 */
                      "mov %%r5, %%r1\n"          /* 7 */
                      "lsh %%r5, 1\n"             /* 8 */
                      "add %%r5, %d\n"            /* 9 */
                      "jgt %%r5, %%r4, out\n"     /* 10 */
                      "mov %%r0, 0\n"
                      "exit\n"
                      "out:\n"
                      "mov %%r0, 1\n"
                      "exit\n";
    snprintf(text, sizeof text, fmt, 1);
    assert_int_equal(decide(text, 1, d, sizeof d), 1);
    assert_int_equal(d[10], 1);
    snprintf(text, sizeof text, fmt, 3);
    assert_int_equal(decide(text, 1, d, sizeof d), 0);
    (void)state;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_walk),
        cmocka_unit_test(test_not_proved),
        cmocka_unit_test(test_needs_bound),
        cmocka_unit_test(test_index_and_always),
        cmocka_unit_test(test_product),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
