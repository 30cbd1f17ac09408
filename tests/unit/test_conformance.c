/* test_conformance.c - every bpf_conformance file of ../shared/conformance
 * passes in the interpreter, in its checked and in its verified loop
 * (skipped where ../shared is absent), and the
 * malformed files of tests/bad/conformance fail with their expected
 * "file:line: message" (each file names it in a "# expect: " line). */
#include <dirent.h>
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
#include "vm/interp.h"

/* The repository root: $BPFLUA_SRC, else from this file's path. */
static void source_dir(char *out, size_t cap)
{
    const char *env = getenv("BPFLUA_SRC");
    if (env && *env) {
        snprintf(out, cap, "%s", env);
        return;
    }
    snprintf(out, cap, "%s", __FILE__);
    char *cut = strstr(out, "/tests/unit/");
    if (cut)
        *cut = '\0';
}

static int has_suffix(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Runs every .data file of dir; returns how many ran. */
static int run_dir(const char *dir, int expect_pass)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int ran = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (!has_suffix(e->d_name, ".data"))
            continue;
        char path[4096], out[4096] = "";
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *mem = fmemopen(out, sizeof out - 1, "w");
        assert_non_null(mem);
        int rc = bpflua_conformance_file(path, BPFLUA_ENGINE_INTERP, mem);
        fclose(mem);
        ran++;
        if (expect_pass) {
            if (rc != 0)
                fail_msg("%s", out);
            /* the same program in the verified loop, which checks nothing */
            mem = fmemopen(out, sizeof out - 1, "w");
            assert_non_null(mem);
            rc = bl_conformance_file_unchecked(path, mem);
            fclose(mem);
            if (rc != 0)
                fail_msg("verified loop: %s", out);
            continue;
        }
        /* the expected message, relative to the directory */
        FILE *f = fopen(path, "r");
        char line[512] = "";
        assert_non_null(f);
        assert_non_null(fgets(line, sizeof line, f));
        fclose(f);
        assert_memory_equal(line, "# expect: ", 10);
        line[strcspn(line, "\n")] = '\0';
        char want[4200];
        snprintf(want, sizeof want, "%s/%s", dir, line + 10);
        if (rc != 1 || strncmp(out, want, strlen(want)) != 0)
            fail_msg("%s: rc %d, output \"%s\", want \"%s\"", e->d_name, rc, out, want);
    }
    closedir(d);
    return ran;
}

static void test_shared_conformance(void **state)
{
    (void)state;
    char dir[4096], src[4000];
    const char *shared = getenv("SHARED_DIR");
    if (shared && *shared) {
        snprintf(dir, sizeof dir, "%s/conformance", shared);
    } else {
        source_dir(src, sizeof src);
        snprintf(dir, sizeof dir, "%s/../shared/conformance", src);
    }
    int ran = run_dir(dir, 1);
    if (ran < 0) {
        printf("skip: no conformance suite at %s\n", dir);
        skip();
    }
    printf("%d conformance files passed\n", ran);
    assert_true(ran > 0);
}

static void test_malformed_files(void **state)
{
    (void)state;
    char dir[4096], src[4000];
    source_dir(src, sizeof src);
    snprintf(dir, sizeof dir, "%s/tests/bad/conformance", src);
    int ran = run_dir(dir, 0);
    assert_true(ran >= 10);
}

/* Writes text to a temporary .data file and runs it; returns the result
 * and the output in out. */
static int run_text(const char *text, char *out, size_t cap)
{
    char path[] = "/tmp/bpflua_conformance_XXXXXX.data";
    int fd = mkstemps(path, 5);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    FILE *mem = fmemopen(out, cap - 1, "w");
    memset(out, 0, cap);
    int rc = bpflua_conformance_file(path, BPFLUA_ENGINE_INTERP, mem);
    fclose(mem);
    unlink(path);
    return rc;
}

static void test_sections(void **state)
{
    (void)state;
    char out[1024];
    /* -- error: a failure containing the text passes, success fails */
    assert_int_equal(run_text("-- asm\nldxdw %r0, [%r10+8]\nexit\n-- error\nout of bounds\n",
                              out, sizeof out), 0);
    assert_int_equal(run_text("-- asm\nmov %r0, 1\nexit\n-- error\nout of bounds\n",
                              out, sizeof out), 1);
    assert_non_null(strstr(out, "expected error 'out of bounds' got 0x1"));
    assert_int_equal(run_text("-- asm\nmov %r0, 1\naddd %r0, 1\nexit\n-- error\nunknown mnemonic\n",
                              out, sizeof out), 0);
    /* -- raw: the assembled slots must match */
    assert_int_equal(run_text("-- asm\nmov %r0, 1\nexit\n-- raw\n0x00000001000000b7\n"
                              "0x0000000000000095\n-- result\n0x1\n", out, sizeof out), 0);
    assert_int_equal(run_text("-- asm\nmov %r0, 2\nexit\n-- raw\n0x00000001000000b7\n"
                              "0x0000000000000095\n-- result\n0x2\n", out, sizeof out), 1);
    assert_non_null(strstr(out, "raw insn 0: expected 0x00000001000000b7 got 0x00000002000000b7"));
    /* -- mem: R1 points to a writable copy, R2 is its length */
    assert_int_equal(run_text("# comment\n-- asm\nstb [%r1+2], 9\nldxb %r0, [%r1+2]\nadd %r0, %r2\n"
                              "exit\n-- mem\n00 01 02\n03\n-- result\n0xd\n", out, sizeof out), 0);
    /* -- c and -- no register offset are notes */
    assert_int_equal(run_text("-- c\nint main() { return 1; }\n-- asm\nmov %r0, 1\nexit\n"
                              "-- no register offset\ncall instruction\n-- result\n1\n",
                              out, sizeof out), 0);
}

static void test_unreadable(void **state)
{
    (void)state;
    char out[512] = "";
    FILE *mem = fmemopen(out, sizeof out - 1, "w");
    assert_int_equal(bpflua_conformance_file("/nonexistent/x.data", BPFLUA_ENGINE_INTERP, mem), 2);
    fclose(mem);
    assert_non_null(strstr(out, "/nonexistent/x.data: cannot read"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shared_conformance),
        cmocka_unit_test(test_malformed_files),
        cmocka_unit_test(test_sections),
        cmocka_unit_test(test_unreadable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
