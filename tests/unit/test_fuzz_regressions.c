/* test_fuzz_regressions.c - every input fuzz_bytecode ever crashed on.
 *
 * tests/fuzz/regressions/ holds raw programs (8-byte instructions) that
 * the verifier once accepted although a branch it pruned as impossible was
 * taken at run time (fixed: bounds/tnum sanity in verifier_alu.c). The
 * property is the fuzzer's: a program the verifier accepts runs in the
 * interpreter to its end within its proven max_insns bound.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/bpflua.h"

static int check_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    uint8_t buf[8 * 4096];
    size_t n = fread(buf, 1, sizeof buf, f) / 8;
    fclose(f);
    if (n == 0)
        return 0;
    /* the same object as tests/fuzz/fuzz_bytecode.c builds */
    bpflua_object *obj = bpflua_object_new();
    struct bpflua_map_spec hash = {.name = "h", .type = BPFLUA_MAP_HASH, .key_size = 4,
                                   .value_size = 8, .max_entries = 16};
    struct bpflua_map_spec arr = {.name = "a", .type = BPFLUA_MAP_ARRAY, .key_size = 4,
                                  .value_size = 8, .max_entries = 4};
    assert_true(bpflua_object_add_map(obj, &hash) >= 0 && bpflua_object_add_map(obj, &arr) >= 0);
    if (bpflua_object_add_prog(obj, "fuzz", "xdp", buf, n, NULL, 0, NULL, 0) < 0) {
        bpflua_object_free(obj);
        return 0;
    }
    struct bpflua_verify_info info;
    char *err = NULL;
    int rc = 0;
    if (bpflua_verify(obj, 0, 0, &info, &err, NULL) == 0 && info.max_insns <= 200000) {
        uint8_t pkt[64];
        for (int i = 0; i < 64; i++)
            pkt[i] = (uint8_t)(i * 37 + 11);
        struct bpflua_run_opts o = {.engine = BPFLUA_ENGINE_INTERP, .repeat = 1,
                                    .max_insns = info.max_insns};
        struct bpflua_run_result r;
        free(err);
        err = NULL;
        if (bpflua_run(obj, 0, pkt, sizeof pkt, &o, &r, &err) < 0) {
            printf("%s: accepted, but the run failed: %s\n", path, err ? err : "?");
            rc = 1;
        }
    }
    free(err);
    bpflua_object_free(obj);
    return rc;
}

static void fuzz_regressions(void **state)
{
    const char *src = getenv("BPFLUA_SRC");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/tests/fuzz/regressions", src ? src : ".");
    DIR *d = opendir(dir);
    assert_non_null(d);
    int files = 0, bad = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (!strstr(e->d_name, ".bin"))
            continue;
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        bad += check_file(path) != 0;
        files++;
    }
    closedir(d);
    printf("fuzz regressions: %d inputs, %d failing\n", files, bad);
    assert_true(files >= 15);
    assert_int_equal(bad, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(fuzz_regressions)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
