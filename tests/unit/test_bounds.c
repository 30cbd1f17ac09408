/* test_bounds.c - a verified program's run stays within its proven bound.
 *
 * Every program of tests/verifier/ .data files that the verifier accepts, and every
 * program compiled from the .lua files of tests/lang and tests/bench/progs (with
 * the `bpflua` command), runs in the interpreter's counted mode on several
 * packets; the instructions executed must not exceed the verifier's
 * max_insns. Each is also run guarded (core/guard.h), where bpflua_run itself
 * holds the first run to the proven bound.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function" /* only corpus_slurp and corpus_section here */
#include "tests/verifier/corpus.h"
#pragma GCC diagnostic pop
#include "core/bpflua.h"

static const char *src_dir(void)
{
    const char *s = getenv("BPFLUA_SRC");
    return s && *s ? s : ".";
}

struct tally { int progs, runs, unrunnable; uint64_t max_ratio_pct; };

#define N_PKTS 4
static const size_t pkt_lens[N_PKTS] = { 0, 14, 64, 1500 };

static void make_pkt(uint8_t *pkt, size_t len, int k)
{
    for (size_t i = 0; i < len; i++)
        pkt[i] = k == 1 ? 0xff : k == 2 ? (uint8_t)(i * 131 + 7) : 0;
    if (len >= 14) { /* an IPv4 UDP frame for programs that parse */
        pkt[12] = 0x08;
        pkt[13] = 0x00;
    }
    if (len >= 34) {
        pkt[14] = 0x45;
        pkt[23] = 17;
    }
}

/* Verifies and runs every program of obj; fails on any run past the bound. */
static void check_object(bpflua_object *obj, const char *what, struct tally *t)
{
    for (size_t p = 0; p < bpflua_prog_count(obj); p++) {
        struct bpflua_verify_info info;
        char *err = NULL;
        if (bpflua_verify(obj, p, 0, &info, &err, NULL) != 0) {
            free(err);
            continue;
        }
        t->progs++;
        for (int k = 0; k < N_PKTS; k++) {
            size_t len = pkt_lens[k];
            uint8_t *pkt = calloc(1, len + 1);
            assert_non_null(pkt);
            for (int guard = -1; guard <= 1; guard += 2) {
                make_pkt(pkt, len, k);
                struct bpflua_run_opts o = { .engine = BPFLUA_ENGINE_INTERP, .guard = guard };
                struct bpflua_run_result res;
                int rc = bpflua_run(obj, p, len ? pkt : NULL, len, &o, &res, &err);
                if (rc == -ETIME)
                    fail_msg("%s prog %s, packet %zu: %s", what, bpflua_prog_name(obj, p), len,
                             err ? err : "?");
                if (rc < 0) {
                    t->unrunnable++;
                    free(err);
                    err = NULL;
                    continue;
                }
                t->runs++;
                if (res.insns > info.max_insns)
                    fail_msg("%s prog %s, packet %zu: %llu instructions executed, proven bound %llu",
                             what, bpflua_prog_name(obj, p), len, (unsigned long long)res.insns,
                             (unsigned long long)info.max_insns);
                assert_true(res.insns > 0);
                uint64_t pct = info.max_insns ? res.insns * 100 / info.max_insns : 0;
                if (pct > t->max_ratio_pct)
                    t->max_ratio_pct = pct;
            }
            free(pkt);
        }
    }
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static void test_verifier_corpus(void **state)
{
    (void)state;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/tests/verifier", src_dir());
    DIR *d = opendir(dir);
    if (!d)
        fail_msg("cannot open %s (set BPFLUA_SRC)", dir);
    struct tally t = { 0 };
    int files = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!ends_with(e->d_name, ".data"))
            continue;
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        char *text = corpus_slurp(path);
        char *as = text ? corpus_section(text, "asm") : NULL;
        char *err = NULL;
        bpflua_object *obj = as ? bpflua_object_from_asm(as, e->d_name, &err) : NULL;
        if (obj) {
            files++;
            check_object(obj, e->d_name, &t);
        }
        bpflua_object_free(obj);
        free(err);
        free(as);
        free(text);
    }
    closedir(d);
    printf("verifier corpus: %d files, %d accepted programs, %d runs within the bound "
           "(max %llu%% of it), %d runs refused\n", files, t.progs, t.runs,
           (unsigned long long)t.max_ratio_pct, t.unrunnable);
    assert_true(files >= 50);
    assert_true(t.progs >= 20);
    assert_true(t.runs >= 100);
}

/* Compiles every .lua file of a directory with the command and checks the
 * objects. */
static void check_lua_dir(const char *sub, int min_progs)
{
    const char *b = getenv("BPFLUA");
    if (!b || access(b, X_OK) != 0)
        skip(); /* run from ctest, which sets BPFLUA */
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/%s", src_dir(), sub);
    DIR *d = opendir(dir);
    if (!d)
        fail_msg("cannot open %s", dir);
    char tmpl[] = "/tmp/bl_bounds_XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    struct tally t = { 0 };
    int compiled = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!ends_with(e->d_name, ".lua"))
            continue;
        char cmd[16384], obj_path[4352];
        snprintf(obj_path, sizeof obj_path, "%s/%s.o", tmpl, e->d_name);
        snprintf(cmd, sizeof cmd, "'%s' compile '%s/%s' -o '%s' >/dev/null 2>&1", b, dir,
                 e->d_name, obj_path);
        if (system(cmd) != 0)
            continue; /* helper modules and deliberate errors */
        char *err = NULL;
        bpflua_object *obj = bpflua_object_open_elf(obj_path, &err);
        if (!obj)
            fail_msg("%s: %s", obj_path, err ? err : "?");
        compiled++;
        check_object(obj, e->d_name, &t);
        bpflua_object_free(obj);
        unlink(obj_path);
    }
    closedir(d);
    rmdir(tmpl);
    printf("%s: %d files compiled, %d programs, %d runs within the bound (max %llu%% of it), "
           "%d runs refused\n", sub, compiled, t.progs, t.runs,
           (unsigned long long)t.max_ratio_pct, t.unrunnable);
    assert_true(t.progs >= min_progs);
    assert_true(t.runs >= min_progs);
}

static void test_lang_programs(void **state)
{
    (void)state;
    check_lua_dir("tests/lang", 20);
}

static void test_bench_programs(void **state)
{
    (void)state;
    check_lua_dir("tests/bench/progs", 5);
}

/* A limit below what the run needs stops it with a clear error in the
 * interpreter; the JIT refuses up front when the proven bound exceeds it. */
static void test_max_insns_limit(void **state)
{
    (void)state;
    const char *text =
        "mov %r1, 100\nlddw %r2, func:body\nmov %r3, 0\nmov %r4, 0\ncall 181\nexit\n"
        "body: mov %r0, 0\nexit\n";
    char *err = NULL;
    bpflua_object *obj = bpflua_object_from_asm(text, "limit.asm", &err);
    if (!obj)
        fail_msg("%s", err);
    struct bpflua_verify_info info;
    assert_int_equal(bpflua_verify(obj, 0, 0, &info, &err, NULL), 0);
    struct bpflua_run_opts o = { .engine = BPFLUA_ENGINE_INTERP };
    struct bpflua_run_result res;
    assert_int_equal(bpflua_run(obj, 0, NULL, 0, &o, &res, &err), 0);
    assert_int_equal(res.retval, 100);
    uint64_t needed = res.insns;
    assert_true(needed <= info.max_insns);

    o.max_insns = needed; /* exactly enough */
    assert_int_equal(bpflua_run(obj, 0, NULL, 0, &o, &res, &err), 0);
    assert_int_equal(res.insns, needed);
    o.max_insns = needed - 1;
    assert_int_equal(bpflua_run(obj, 0, NULL, 0, &o, &res, &err), -ETIME);
    assert_non_null(err);
    assert_non_null(strstr(err, "instruction limit of"));
    assert_non_null(strstr(err, "--max-insns limit"));
    assert_non_null(strstr(err, "proven bound"));
    free(err);
    err = NULL;

    o.engine = BPFLUA_ENGINE_JIT;
    o.max_insns = info.max_insns - 1;
    int rc = bpflua_run(obj, 0, NULL, 0, &o, &res, &err);
    if (rc != -ENOTSUP) {
        assert_int_equal(rc, -E2BIG);
        assert_non_null(strstr(err, "exceeds the --max-insns limit"));
        free(err);
        err = NULL;
        o.max_insns = info.max_insns; /* the bound fits: the JIT runs */
        assert_int_equal(bpflua_run(obj, 0, NULL, 0, &o, &res, &err), 0);
        assert_int_equal(res.retval, 100);
    }
    free(err);
    bpflua_object_free(obj);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_max_insns_limit),
        cmocka_unit_test(test_verifier_corpus),
        cmocka_unit_test(test_lang_programs),
        cmocka_unit_test(test_bench_programs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
