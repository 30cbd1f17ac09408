/* test_asm.c - the assembler and disassembler: every opcode of ops.def
 * round-trips (encode -> decode -> text -> encode), conformance spellings
 * encode as bpf_conformance does, bpflua's extensions, and error messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vm/asm.h"

/* An instance of op: fields chosen so that jumps land inside the program. */
static int example_insn(int op, struct bl_insn out[2])
{
    const struct bl_opinfo *o = &bl_ops[op];
    memset(out, 0, 2 * sizeof *out);
    struct bl_insn *i = &out[0];
    i->code = o->code;
    switch (o->fmt) {
    case BL_FMT_ALU_K: i->dst = 3; i->off = (int16_t)o->disc; i->imm = -7; break;
    case BL_FMT_ALU_X: i->dst = 3; i->src = 9; i->off = (int16_t)o->disc; break;
    case BL_FMT_NEG: i->dst = 4; break;
    case BL_FMT_END: i->dst = 5; i->imm = o->disc; break;
    case BL_FMT_LDDW: i->dst = 6; i->imm = 0x55667788; out[1].imm = 0x11223344; return 2;
    case BL_FMT_LDABS: i->imm = 12; break;
    case BL_FMT_LDIND: i->src = 2; i->imm = 14; break;
    case BL_FMT_LDX: i->dst = 1; i->src = 10; i->off = -8; break;
    case BL_FMT_ST: i->dst = 10; i->off = -16; i->imm = 0x12345; break;
    case BL_FMT_STX: i->dst = 10; i->src = 7; i->off = -4; break;
    case BL_FMT_ATOMIC: i->dst = 10; i->src = 2; i->off = -8; i->imm = o->disc; break;
    case BL_FMT_JA: i->off = 1; break;
    case BL_FMT_JA32: i->imm = 1; break;
    case BL_FMT_JMP_K: i->dst = 2; i->imm = -3; i->off = 1; break;
    case BL_FMT_JMP_X: i->dst = 2; i->src = 8; i->off = 1; break;
    case BL_FMT_CALL: i->imm = 181; break;
    case BL_FMT_CALL_LOCAL: i->src = 1; i->imm = 1; break;
    case BL_FMT_CALLX: i->dst = 2; break;
    case BL_FMT_EXIT: break;
    }
    return 1;
}

static void test_every_op_round_trips(void **state)
{
    (void)state;
    for (int op = 0; op < BL_OP_COUNT; op++) {
        struct bl_insn prog[5];
        int slots = example_insn(op, prog);
        assert_int_equal(bl_op_decode(&prog[0]), op);
        /* pad with exits so every jump target exists */
        struct bl_insn exit_insn = { .code = BL_JMP | BL_EXIT };
        for (int k = slots; k < 5; k++)
            prog[k] = exit_insn;

        char text[128];
        int n = bl_disasm_insn(NULL, NULL, prog, 5, 0, text, sizeof text);
        assert_int_equal(n, slots);
        assert_memory_equal(text, bl_ops[op].mnemonic, strlen(bl_ops[op].mnemonic));

        char src[256];
        snprintf(src, sizeof src, "%s\nexit\nexit\nexit\nexit\n", text);
        char *err = NULL;
        bpflua_object *obj = bpflua_object_from_asm(src, "rt.asm", &err);
        if (!obj)
            fail_msg("%s: '%s' does not assemble: %s", bl_ops[op].name, text, err);
        size_t count;
        const struct bl_insn *back = bpflua_prog_insns(obj, 0, &count);
        assert_int_equal(count, (size_t)slots + 4);
        if (memcmp(back, prog, (size_t)slots * sizeof *back) != 0)
            fail_msg("%s: '%s' assembles differently", bl_ops[op].name, text);
        bpflua_object_free(obj);
    }
}

static void test_ops_unique(void **state)
{
    (void)state;
    /* no two ops share mnemonic and shape, or code and discriminator */
    for (int a = 0; a < BL_OP_COUNT; a++)
        for (int b = a + 1; b < BL_OP_COUNT; b++) {
            assert_false(bl_ops[a].code == bl_ops[b].code && bl_ops[a].disc == bl_ops[b].disc &&
                         bl_ops[a].fmt == bl_ops[b].fmt);
            assert_false(strcmp(bl_ops[a].mnemonic, bl_ops[b].mnemonic) == 0 &&
                         bl_ops[a].fmt == bl_ops[b].fmt);
        }
    /* unused fields must be zero */
    struct bl_insn bad = { .code = BL_ALU64 | BL_K | BL_ADD, .src = 1 };
    assert_int_equal(bl_op_decode(&bad), -1);
    struct bl_insn bad_end = { .code = BL_ALU | BL_K | BL_END, .imm = 8 };
    assert_int_equal(bl_op_decode(&bad_end), -1);
    struct bl_insn none = { .code = 0xff };
    assert_int_equal(bl_op_decode(&none), -1);
}

/* bl_op_known (the verifier's table) answers as bl_op_decode, callx aside,
 * over every opcode byte with fields near every op's discriminators */
static void test_enc_rules_agree(void **state)
{
    (void)state;
    const struct bl_enc_rules *t = bl_enc_rules();
    static const int16_t offs[] = { 0, 1, 8, 16, 32, -1 };
    static const int32_t imms[] = { 0, 1, 16, 32, 64, 65, 241, -1, 181 };
    static const uint8_t dsts[] = { 0, 3, 15 };
    int known = 0;
    for (int c = 0; c < 256; c++) {
        assert_false(t->code[c].slow);
        for (size_t d = 0; d < sizeof dsts; d++)
            for (int src = 0; src < 16; src++)
                for (size_t o = 0; o < sizeof offs / sizeof offs[0]; o++)
                    for (size_t k = 0; k < sizeof imms / sizeof imms[0]; k++) {
                        struct bl_insn in = { .code = (uint8_t)c, .dst = dsts[d], .src = (uint8_t)src,
                                              .off = offs[o], .imm = imms[k] };
                        int op = bl_op_decode(&in);
                        int want = op >= 0 && bl_ops[op].fmt != BL_FMT_CALLX;
                        if (bl_op_known(t, &in) != want)
                            fail_msg("code %02x dst %d src %d off %d imm %d: table says %d, decode %d",
                                     c, dsts[d], src, offs[o], imms[k], !want, op);
                        known += want;
                    }
    }
    assert_true(known > 1000);
}

static const struct bl_insn *assemble1(const char *text, bpflua_object **obj)
{
    char *err = NULL;
    *obj = bpflua_object_from_asm(text, "t.asm", &err);
    if (!*obj)
        fail_msg("'%s': %s", text, err);
    size_t n;
    return bpflua_prog_insns(*obj, 0, &n);
}

static void test_conformance_spellings(void **state)
{
    (void)state;
    static const struct { const char *text; uint64_t raw; } cases[] = {
        { "lddw %r0, 0x1122334455667788\nexit", 0x5566778800000018ull },
        { "exit", 0x0000000000000095ull },
        { "mov32 %r1, 0x87654321\nexit", 0x87654321000001b4ull },
        { "lock fetch add32 [%r10-8], %r1\nexit", 0x00000001fff81ac3ull },
        { "lock cmpxchg [%r10-8], %r1\nexit", 0x000000f1fff81adbull },
        { "lock xchg32 [%r1+4], %r2\nexit", 0x000000e1000421c3ull },
        { "movsx1632 %r0, %r1\nexit", 0x00000000001010bcull },
        { "movsx864 %r0, %r1\nexit", 0x00000000000810bfull },
        { "sdiv %r0, -1\nexit", 0xffffffff00010037ull },
        { "smod32 %r0, %r1\nexit", 0x000000000001109cull },
        { "ldxsh %r0, [%r1+2]\nexit", 0x0000000000021089ull },
        { "swap64 %r0\nexit", 0x00000040000000d7ull },
        { "be16 %r3\nexit", 0x00000010000003dcull },
        { "le32 %r3\nexit", 0x00000020000003d4ull },
        { "call %r2\nexit", 0x000000000000028dull },
        { "callx %r2\nexit", 0x000000000000028dull },
        { "call 5\nexit", 0x0000000500000085ull },
        { "ja32 +0\nexit", 0x0000000000000006ull },
        { "stdw [%r10-8], -1\nexit", 0xfffffffffff80a7aull },
        { "jne32 %r1, 0x80000000, +0\nexit", 0x8000000000000156ull },
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        bpflua_object *obj;
        const struct bl_insn *i = assemble1(cases[k].text, &obj);
        uint64_t raw;
        memcpy(&raw, i, 8);
        if (raw != cases[k].raw)
            fail_msg("'%s': 0x%016llx, want 0x%016llx", cases[k].text,
                     (unsigned long long)raw, (unsigned long long)cases[k].raw);
        bpflua_object_free(obj);
    }
}

static void test_labels_and_exit(void **state)
{
    (void)state;
    bpflua_object *obj;
    const struct bl_insn *i = assemble1("mov %r0, 1 # one\n"
                                        "jeq %r0, 1, exit ; an undefined 'exit' = next exit\n"
                                        "back: mov %r0, 2\n"
                                        "exit\n"
                                        "ja back\n", &obj);
    assert_int_equal(i[1].off, 1);
    assert_int_equal(i[4].off, -3);
    bpflua_object_free(obj);
}

static void test_extensions(void **state)
{
    (void)state;
    bpflua_object *obj;
    const char *text =
        ".map hits hash key=4 value=8 entries=16\n"
        ".map ring ringbuf entries=4096\n"
        "lddw %r1, map:ring\n"
        "lddw %r2, func:body\n"
        "call local helper\n"
        "exit\n"
        "body:\n"
        "  mov %r0, 0\n"
        "  exit\n"
        "helper: mov %r0, 7\n"
        "exit\n";
    const struct bl_insn *i = assemble1(text, &obj);
    assert_int_equal(bpflua_map_count(obj), 2);
    assert_int_equal(bpflua_map_find(obj, "ring"), 1);
    assert_int_equal(i[0].src, BL_PSEUDO_MAP_FD);
    assert_int_equal(i[0].imm, 1);
    assert_int_equal(i[2].src, BL_PSEUDO_FUNC);
    assert_int_equal(i[2].imm, 6 - 3);
    assert_int_equal(i[4].src, BL_PSEUDO_CALL);
    assert_int_equal(i[4].imm, 8 - 5);
    const struct bl_prog *p = &obj->progs[0];
    assert_int_equal(p->n_funcs, 3);
    assert_int_equal(p->funcs[0].insn, 0);
    assert_string_equal(p->funcs[0].name, "t");
    assert_int_equal(p->funcs[1].insn, 6);
    assert_string_equal(p->funcs[1].name, "body");
    assert_int_equal(p->funcs[2].insn, 8);
    assert_string_equal(p->funcs[2].name, "helper");

    /* the disassembly names maps and functions, shows the source, and reads back */
    char *d = bpflua_disasm(obj, 0, 1);
    assert_non_null(d);
    assert_non_null(strstr(d, "lddw %r1, map:ring"));
    assert_non_null(strstr(d, "lddw %r2, func:body"));
    assert_non_null(strstr(d, "call local helper"));
    assert_non_null(strstr(d, "helper:\n"));
    assert_non_null(strstr(d, "; t.asm:10: helper: mov %r0, 7"));
    /* the maps are declared in the disassembly itself, so it reads back alone */
    assert_non_null(strstr(d, ".map hits hash key=4 value=8 entries=16\n"));
    assert_non_null(strstr(d, ".map ring ringbuf key=0 value=0 entries=4096\n"));
    char *err = NULL;
    bpflua_object *again = bpflua_object_from_asm(d, "again.asm", &err);
    if (!again)
        fail_msg("disassembly does not assemble: %s\n%s", err, d);
    size_t n1, n2;
    const void *a = bpflua_prog_insns(obj, 0, &n1), *b = bpflua_prog_insns(again, 0, &n2);
    assert_int_equal(n1, n2);
    assert_memory_equal(a, b, n1 * 8);
    assert_int_equal(bpflua_map_count(again), 2);
    free(d);
    bpflua_object_free(again);
    bpflua_object_free(obj);
}

static void test_unlabelled_functions(void **state)
{
    (void)state;
    bpflua_object *obj;
    assemble1("call local +2\nlddw %r2, func:+2\nexit\nexit\nexit\n", &obj);
    const struct bl_prog *p = &obj->progs[0];
    assert_int_equal(p->n_funcs, 3);
    assert_int_equal(p->funcs[1].insn, 3);
    assert_string_equal(p->funcs[1].name, "func_3");
    assert_int_equal(p->funcs[2].insn, 4);
    assert_string_equal(p->funcs[2].name, "func_4");
    bpflua_object_free(obj);
}

static void expect_error(const char *text, const char *message)
{
    char *err = NULL;
    bpflua_object *obj = bpflua_object_from_asm(text, "t.asm", &err);
    assert_null(obj);
    assert_non_null(err);
    if (strcmp(err, message) != 0)
        fail_msg("'%s': got \"%s\", want \"%s\"", text, err, message);
    free(err);
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("mov %r0, 1\naddd %r0, 1\nexit", "t.asm:2: unknown mnemonic 'addd'");
    expect_error("mov %r11, 1\nexit", "t.asm:1: bad register '%r11'");
    expect_error("mov %rx, 1\nexit", "t.asm:1: bad register '%rx'");
    expect_error("ja +5\nexit", "t.asm:1: jump target out of range '+5' (insn 6, the program has 2)");
    expect_error("ja -3\nexit", "t.asm:1: jump target out of range '-3'");
    expect_error("\njne %r0, 1, nowhere\nexit", "t.asm:2: undefined label 'nowhere'");
    expect_error("add %r0\nexit", "t.asm:1: 'add' takes 2 operands, got 1");
    expect_error("mov %r0, 0x100000000\nexit",
                 "t.asm:1: 'mov': immediate '0x100000000' does not fit in 32 bits");
    expect_error("a:\na:\nexit", "t.asm:2: label 'a' defined twice");
    expect_error("lddw %r1, map:nope\nexit", "t.asm:1: undefined map 'nope'");
    expect_error(".map m tree key=4 value=4 entries=1\nexit",
                 "t.asm:1: unknown map type 'tree' (the kernel's names: hash, array, lru_hash, percpu_array, percpu_hash, lpm_trie, ringbuf, ...)");
    expect_error("ldxw %r0, [%r1+70000]\nexit",
                 "t.asm:1: bad offset in memory operand '[%r1+70000]'");
    expect_error("ldxw %r0, %r1\nexit",
                 "t.asm:1: 'ldxw': operand 2 must be [%rN+off], got '%r1'");
    expect_error("# nothing\n", "t.asm:1: no instructions");
    expect_error("lddw %r0, 1\nja -2\nexit",
                 "t.asm:2: jump target is the second half of lddw (insn 1)");
    expect_error("call local f\nexit", "t.asm:1: undefined label 'f'");
    expect_error("mov %r0, $\nexit", "t.asm:1: bad operand '$'");
    expect_error(".frobnicate\nexit", "t.asm:1: unknown directive '.frobnicate'");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_op_round_trips),
        cmocka_unit_test(test_ops_unique),
        cmocka_unit_test(test_enc_rules_agree),
        cmocka_unit_test(test_conformance_spellings),
        cmocka_unit_test(test_labels_and_exit),
        cmocka_unit_test(test_extensions),
        cmocka_unit_test(test_unlabelled_functions),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
