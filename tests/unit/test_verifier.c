/* test_verifier.c - the verifier corpus (tests/verifier, *.data) and API checks.
 *
 * Each corpus file has sections:
 *   -- asm         the program (docs/asm.md)
 *   -- verdict     accept | reject
 *   -- error       (reject) a substring of the error line
 *   -- max_insns   (accept) the exact proven bound
 *   -- max_verified (accept) an upper bound on instructions processed
 *   -- kernel      a note for the kernel-differential test
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/bpflua.h"
#include "core/object.h"
#include "vm/verifier.h"
#include "vm/verifier_state.h"
#include "tests/verifier/corpus.h"
#include "tests/verifier/gen_blocks.h"

static int n_files, n_accept, n_reject;

static void run_case(const char *dir, const char *file)
{
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    char *text = corpus_slurp(path);
    assert_non_null(text);
    char *asm_text = corpus_section(text, "asm"), *verdict = corpus_section(text, "verdict");
    char *error = corpus_section(text, "error"), *max_insns = corpus_section(text, "max_insns");
    char *max_verified = corpus_section(text, "max_verified");
    assert_non_null(asm_text);
    assert_non_null(verdict);
    char *err = NULL;
    bpflua_object *obj = bpflua_object_from_asm(asm_text, file, &err);
    if (!obj)
        fail_msg("%s: does not assemble: %s", file, err ? err : "?");
    struct bpflua_verify_info info;
    char *verr = NULL;
    int rc = bpflua_verify(obj, 0, 0, &info, &verr, NULL);
    int want_accept = strcmp(verdict, "accept") == 0;
    if (want_accept) {
        n_accept++;
        if (rc != 0)
            fail_msg("%s: expected accept, got %s", file, verr ? verr : "?");
        assert_true(info.accepted);
        if (max_insns && info.max_insns != strtoull(max_insns, NULL, 0))
            fail_msg("%s: max_insns %llu, expected %s", file, (unsigned long long)info.max_insns,
                     max_insns);
        if (max_verified && info.verified_insns > strtoull(max_verified, NULL, 0))
            fail_msg("%s: %u insns processed, expected at most %s", file, info.verified_insns,
                     max_verified);
    } else {
        n_reject++;
        if (rc != -EACCES)
            fail_msg("%s: expected reject, got rc=%d", file, rc);
        assert_false(info.accepted);
        assert_non_null(verr);
        if (strncmp(verr, "error: ", 7) != 0 || !strstr(verr, " at insn "))
            fail_msg("%s: malformed error line '%s'", file, verr);
        if (error && !strstr(verr, error))
            fail_msg("%s: error '%s' does not contain '%s'", file, verr, error);
    }
    n_files++;
    free(verr);
    free(err);
    bpflua_object_free(obj);
    free(text);
    free(asm_text);
    free(verdict);
    free(error);
    free(max_insns);
    free(max_verified);
}

static void test_corpus(void **state)
{
    char *names[1024];
    int n = corpus_list(".data", names, 1024);
    if (n < 0)
        fail_msg("cannot open %s", corpus_dir);
    for (int i = 0; i < n; i++) {
        run_case(corpus_dir, names[i]);
        free(names[i]);
    }
    print_message("verifier corpus: %d cases, %d accepted, %d rejected as expected\n", n_files,
                  n_accept, n_reject);
    assert_true(n_files >= 60);
    assert_true(n_accept >= 30);
    assert_true(n_reject >= 30);
}

/* Random Lua programs (tests/lang/verifier_repros) the verifier once
 * rejected although the kernel loads them, compiled and verified by the
 * CLI ($BPFLUA_BUILD/bpflua verify): each must now be accepted. rand56 and
 * rand16517: callbacks that leave a caller's slot in a state the first
 * snapshot does not subsume (vf_check_exit widens it to a fixpoint). */
static void test_lang_repros_accepted(void **state)
{
    (void)state;
    static const char *const accepted[] = { "rand56.lua", "rand16517.lua" };
    const char *build = getenv("BPFLUA_BUILD"), *src = getenv("BPFLUA_SRC");
    char cli[4096];
    if (!build || !src) {
        print_message("skip: BPFLUA_BUILD or BPFLUA_SRC unset\n");
        return;
    }
    snprintf(cli, sizeof cli, "%s/bpflua", build);
    if (access(cli, X_OK)) {
        print_message("skip: no %s\n", cli);
        return;
    }
    for (size_t i = 0; i < sizeof accepted / sizeof *accepted; i++) {
        char cmd[16384];
        snprintf(cmd, sizeof cmd, "'%s' verify '%s/tests/lang/verifier_repros/%s' >/dev/null", cli, src,
                 accepted[i]);
        int rc = system(cmd);
        if (rc != 0)
            fail_msg("%s: expected accept, `%s` exited with %d", accepted[i], cmd, rc);
    }
}

/* C cases: the clang-built object through the ELF reader */
static void test_c_corpus(void **state)
{
    char *names[256];
    int n = corpus_list(".c", names, 256), ran = 0, accepted = 0;
    assert_true(n > 0);
    for (int i = 0; i < n; i++) {
        char src[8192], obj_path[8192];
        snprintf(src, sizeof src, "%s/%s", corpus_dir, names[i]);
        char *text = corpus_slurp(src);
        assert_non_null(text);
        char *verdict = corpus_c_field(text, "verdict"), *error = corpus_c_field(text, "error");
        if (!verdict)
            fail_msg("%s: no 'verdict:' line", names[i]);
        if (!corpus_object_path(names[i], obj_path, sizeof obj_path) || access(obj_path, R_OK)) {
            print_message("skip %s: no clang-built object (BPFLUA_BUILD unset or clang missing)\n",
                          names[i]);
        } else {
            char *err = NULL, *verr = NULL;
            bpflua_object *obj = bpflua_object_open_elf(obj_path, &err);
            if (!obj)
                fail_msg("%s: cannot open: %s", obj_path, err ? err : "?");
            struct bpflua_verify_info info;
            int rc = bpflua_verify(obj, 0, 0, &info, &verr, NULL);
            if (strcmp(verdict, "accept") == 0) {
                if (rc)
                    fail_msg("%s: expected accept, got %s", names[i], verr ? verr : "?");
                assert_true(info.max_insns > 0 && info.verified_insns > 0);
                accepted++;
            } else {
                if (rc != -EACCES)
                    fail_msg("%s: expected reject, got %d", names[i], rc);
                if (error && !strstr(verr, error))
                    fail_msg("%s: '%s' does not contain '%s'", names[i], verr, error);
                /* clang's line info names the C source line */
                if (!strstr(verr, ".c:"))
                    fail_msg("%s: no file:line in '%s'", names[i], verr);
            }
            ran++;
            free(err);
            free(verr);
            bpflua_object_free(obj);
        }
        free(verdict);
        free(error);
        free(text);
        free(names[i]);
    }
    print_message("verifier C corpus: %d of %d objects checked, %d accepted\n", ran, n, accepted);
}

/* ---- API behaviour --------------------------------------------------------- */

static bpflua_object *assemble(const char *text)
{
    char *err = NULL;
    bpflua_object *obj = bpflua_object_from_asm(text, "t.asm", &err);
    if (!obj)
        fail_msg("assemble: %s", err ? err : "?");
    return obj;
}

static void test_error_line_and_log(void **state)
{
    bpflua_object *obj = assemble("mov %r0, 0\nmov %r1, 0\nldxw %r0, [%r1+0]\nexit\n");
    char *err = NULL, *log = NULL;
    struct bpflua_verify_info info;
    assert_int_equal(bpflua_verify(obj, 0, 2, &info, &err, &log), -EACCES);
    /* assembled programs carry line info: the error names t.asm:3 */
    assert_non_null(strstr(err, "error: R1 invalid mem access 'scalar' at insn 2"));
    assert_non_null(strstr(err, "(t.asm:3)"));
    assert_non_null(log);
    assert_non_null(strstr(log, "R1=scalar(0)"));
    assert_non_null(strstr(log, "invalid mem access"));
    free(err);
    free(log);
    bpflua_object_free(obj);
}

static void test_results_cached(void **state)
{
    bpflua_object *obj = assemble("mov %r0, 1\nexit\n");
    struct bl_prog *p = bl_object_prog(obj, 0);
    struct bpflua_verify_info a, b;
    assert_int_equal(bpflua_verify(obj, 0, 0, &a, NULL, NULL), 0);
    assert_int_equal(p->verdict, 1);
    assert_non_null(p->aux);
    assert_true(p->aux[0].seen && p->aux[1].seen);
    uint64_t ns = p->verify_ns;
    assert_int_equal(bpflua_verify(obj, 0, 0, &b, NULL, NULL), 0);
    assert_int_equal(p->verify_ns, ns); /* not verified again */
    assert_int_equal(a.verified_insns, b.verified_insns);
    assert_int_equal(b.max_insns, 2);
    assert_int_equal(bpflua_verify(obj, 7, 0, &b, NULL, NULL), -EINVAL);
    bpflua_object_free(obj);
}

static void test_ctx_field_and_loop_bound_annotations(void **state)
{
    bpflua_object *obj = assemble("ldxw %r2, [%r1+4]\n"
                                  "ldxw %r6, [%r1+16]\n"
                                  "mov %r1, 7\n"
                                  "lddw %r2, func:cb\n"
                                  "mov %r3, 0\n"
                                  "mov %r4, 0\n"
                                  "call 181\n"
                                  "mov %r0, 2\n"
                                  "exit\n"
                                  "cb:\n"
                                  "mov %r0, 0\n"
                                  "exit\n");
    assert_int_equal(bpflua_verify(obj, 0, 0, NULL, NULL, NULL), 0);
    struct bl_prog *p = bl_object_prog(obj, 0);
    assert_int_equal(p->aux[0].ctx_field, 1 + 1); /* data_end */
    assert_int_equal(p->aux[1].ctx_field, 1 + 4); /* rx_queue_index */
    assert_int_equal(p->aux[2].ctx_field, 0);
    assert_int_equal(p->aux[7].loop_bound, 7);
    assert_true(p->aux[0].mem_safe);
    assert_int_equal(p->max_insns, 9 + 7 * 2);
    bpflua_object_free(obj);
}

/* aux.mem_kinds: the kinds of memory each access touched, OR-ed over all
 * paths that reached it; 0 for dead code and non-memory instructions */
static void test_mem_kinds_annotation(void **state)
{
    bpflua_object *obj = assemble(".map a array key=4 value=8 entries=4\n"
                                  "ldxw %r2, [%r1+0]\n"      /* 0: ctx */
                                  "ldxw %r3, [%r1+4]\n"      /* 1: ctx */
                                  "stdw [%r10-8], 0\n"       /* 2: stack */
                                  "mov %r4, %r2\n"           /* 3 */
                                  "add %r4, 8\n"             /* 4 */
                                  "jgt %r4, %r3, +17\n"      /* 5 -> 23 */
                                  "ldxb %r5, [%r2+1]\n"      /* 6: packet */
                                  "mov %r6, %r10\n"          /* 7 */
                                  "add %r6, -8\n"            /* 8 */
                                  "jeq %r5, 0, +1\n"         /* 9 */
                                  "mov %r6, %r2\n"           /* 10 */
                                  "ldxb %r0, [%r6+0]\n"      /* 11: stack or packet */
                                  "mov %r7, 0\n"             /* 12 */
                                  "jeq %r7, 0, +1\n"         /* 13: always taken */
                                  "ldxb %r0, [%r10-8]\n"     /* 14: dead */
                                  "stw [%r10-4], 1\n"        /* 15: stack */
                                  "lddw %r1, map:a\n"        /* 16, 17 */
                                  "mov %r2, %r10\n"          /* 18 */
                                  "add %r2, -4\n"            /* 19 */
                                  "call 1\n"                 /* 20 */
                                  "jeq %r0, 0, +1\n"         /* 21 */
                                  "ldxdw %r0, [%r0+0]\n"     /* 22: map value */
                                  "mov %r0, 2\n"             /* 23 */
                                  "exit\n");                 /* 24 */
    assert_int_equal(bpflua_verify(obj, 0, 0, NULL, NULL, NULL), 0);
    struct bl_prog *p = bl_object_prog(obj, 0);
    assert_int_equal(p->aux[0].mem_kinds, BL_MEMK_CTX);
    assert_int_equal(p->aux[1].mem_kinds, BL_MEMK_CTX);
    assert_int_equal(p->aux[2].mem_kinds, BL_MEMK_STACK);
    assert_int_equal(p->aux[3].mem_kinds, 0);
    assert_int_equal(p->aux[6].mem_kinds, BL_MEMK_PACKET);
    assert_int_equal(p->aux[11].mem_kinds, BL_MEMK_STACK | BL_MEMK_PACKET);
    assert_int_equal(p->aux[14].seen, 0);
    assert_int_equal(p->aux[14].mem_kinds, 0);
    assert_int_equal(p->aux[15].mem_kinds, BL_MEMK_STACK);
    assert_int_equal(p->aux[20].mem_kinds, 0);
    assert_int_equal(p->aux[22].mem_kinds, BL_MEMK_MAP_VALUE);
    bpflua_object_free(obj);
}

static void test_raw_insns_without_assembler(void **state)
{
    /* r0 = 0; if r0 == 0 goto +0; exit  -- built from struct bl_insn */
    struct bl_insn prog[] = {
        { .code = BL_ALU64 | BL_MOV | BL_K, .dst = 0, .imm = 0 },
        { .code = BL_JMP | BL_JEQ | BL_K, .dst = 0, .off = 0, .imm = 0 },
        { .code = BL_JMP | BL_EXIT },
    };
    bpflua_object *obj = bpflua_object_new();
    assert_int_equal(bpflua_object_add_prog(obj, "raw", "xdp", prog, 3, NULL, 0, NULL, 0), 0);
    assert_int_equal(bpflua_verify(obj, 0, 0, NULL, NULL, NULL), 0);
    /* a register number above 10 is bad input, not a crash */
    struct bl_insn bad[] = {
        { .code = BL_ALU64 | BL_MOV | BL_X, .dst = 0, .src = 12 },
        { .code = BL_JMP | BL_EXIT },
    };
    assert_int_equal(bpflua_object_add_prog(obj, "bad", "xdp", bad, 2, NULL, 0, NULL, 0), 1);
    char *err = NULL;
    assert_int_equal(bpflua_verify(obj, 1, 0, NULL, &err, NULL), -EACCES);
    assert_non_null(strstr(err, "R12 is invalid at insn 0"));
    free(err);
    err = NULL;
    /* a lddw cut in half */
    struct bl_insn half[] = { { .code = BL_LD | BL_IMM | BL_DW, .dst = 0 } };
    assert_int_equal(bpflua_object_add_prog(obj, "half", "xdp", half, 1, NULL, 0, NULL, 0), 2);
    assert_int_equal(bpflua_verify(obj, 2, 0, NULL, &err, NULL), -EACCES);
    assert_non_null(strstr(err, "invalid bpf_ld_imm64 insn"));
    free(err);
    bpflua_object_free(obj);
}

/* The arena (verifier_state.c): freed states and frames are handed out
 * again, by size; released chunks wait in the cache for the next
 * verification, which never holds more than its cap. */
static void test_arena_reuse(void **state)
{
    (void)state;
    struct bl_venv env;
    memset(&env, 0, sizeof env);
    struct bl_vstate *a = vf_vstate_new(&env);
    assert_non_null(a);
    a->frames[0] = vf_frame_new(&env);
    assert_non_null(a->frames[0]);
    assert_int_equal(vf_frame_reserve(&env, a, 0, 3), 0);
    assert_int_equal(a->frames[0]->n_slots, 3);
    a->frames[0]->regs[BL_R6].type = REG_SCALAR;
    a->frames[0]->stack[2].bytes[0] = SLOT_MISC;
    struct bl_vstate *b = vf_vstate_copy(&env, a);
    assert_non_null(b);
    assert_int_equal(b->frames[0]->n_slots, 3);
    assert_int_equal(b->frames[0]->regs[BL_R6].type, REG_SCALAR);
    assert_int_equal(b->frames[0]->stack[2].bytes[0], SLOT_MISC);
    struct bl_frame *bf = b->frames[0];
    void *bp = b;
    uint64_t reused = env.arena.n_reused;
    vf_vstate_free(&env, b);
    struct bl_vstate *c = vf_vstate_copy(&env, a); /* takes b's blocks back */
    assert_ptr_equal(c, bp);
    assert_ptr_equal(c->frames[0], bf);
    assert_int_equal(env.arena.n_reused, reused + 2);
    /* a frame of another size does not take that block */
    vf_vstate_free(&env, c);
    struct bl_frame *small = vf_frame_new(&env);
    assert_true(small != bf);
    vf_frame_free(&env, small);
    /* many states: the arena grows by chunks and stays consistent */
    for (int i = 0; i < 20000; i++) {
        struct bl_vstate *s = vf_vstate_copy(&env, a);
        assert_non_null(s);
        assert_int_equal(s->frames[0]->stack[2].bytes[0], SLOT_MISC);
        if (i % 3)
            vf_vstate_free(&env, s);
    }
    assert_true(env.arena.chunk_bytes > (size_t)20000 / 3 * sizeof(struct bl_frame));
    vf_arena_release(&env.arena);
    assert_true(vf_arena_cached_bytes() > 0 && vf_arena_cached_bytes() <= (16u << 20));
    vf_arena_trim_cache();
    assert_int_equal(vf_arena_cached_bytes(), 0);
}

/* N blocks that each branch and meet again (gen_blocks, as in
 * tests/bench/verifier_bench.c):
 * pruning (with explored states stored compactly) must keep verification
 * to one walk per block, as the kernel's does: 11 N + 14 insns processed,
 * the same count as the kernel reports, and again on a second verification
 * that starts from the arena cache. */
static void test_many_states(void **state)
{
    (void)state;
    int n = 600;
    char *text = gen_blocks(n);
    char *err = NULL;
    bpflua_object *obj = bpflua_object_from_asm(text, "blocks.asm", &err);
    assert_non_null(obj);
    struct bl_prog *p = bl_object_prog(obj, 0);
    for (int round = 0; round < 2; round++) {
        assert_int_equal(bl_verify_prog(obj, p, 0, NULL), 0);
        assert_int_equal(p->verified_insns, 11u * (uint32_t)n + 14);
    }
    free(text);
    bpflua_object_free(obj);
}

int main(void)
{
    corpus_find_dir(__FILE__);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_corpus),
        cmocka_unit_test(test_c_corpus),
        cmocka_unit_test(test_lang_repros_accepted),
        cmocka_unit_test(test_error_line_and_log),
        cmocka_unit_test(test_results_cached),
        cmocka_unit_test(test_ctx_field_and_loop_bound_annotations),
        cmocka_unit_test(test_mem_kinds_annotation),
        cmocka_unit_test(test_raw_insns_without_assembler),
        cmocka_unit_test(test_arena_reuse),
        cmocka_unit_test(test_many_states),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
