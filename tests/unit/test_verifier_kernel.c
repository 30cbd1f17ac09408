/* test_verifier_kernel.c - the verifier corpus against the running kernel.
 *
 * Every tests/verifier case (hand-assembled .data and clang-built .c) is
 * loaded with bpf_prog_load(BPF_PROG_TYPE_XDP) and the kernel's verdict
 * compared with bpflua's. Cases marked "kernel: differs: ..." are the
 * documented deliberate differences (DESIGN.md): there the kernel must
 * decide the other way, which checks the documentation as much as the
 * verifier. Skipped, with the reason, when bpf(2) cannot load programs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "tests/verifier/corpus.h"
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function" /* shared test helpers this file does not use */
#include "tests/verifier/kernel_load.h"
#pragma GCC diagnostic pop
#include "core/bpflua.h"
#include "engine/kernel.h"

static int same, differs, bad, checked;

/* the last line of the kernel's log: its error message */
static const char *last_line(char *log)
{
    if (!log)
        return "";
    size_t n = strlen(log);
    while (n && log[n - 1] == '\n')
        log[--n] = '\0';
    char *nl = strrchr(log, '\n');
    if (nl && strncmp(nl + 1, "processed ", 10) == 0) {
        *nl = '\0';
        nl = strrchr(log, '\n');
    }
    return nl ? nl + 1 : log;
}

static void compare(const char *name, bpflua_object *obj, const char *kernel_note)
{
    int ours = bpflua_verify(obj, 0, 0, NULL, NULL, NULL) == 0;
    struct kload k;
    assert_int_equal(kernel_load_prog(obj, 0, 1 << 20, &k), 0);
    int expect_differ = kernel_note && strncmp(kernel_note, "differs:", 8) == 0;
    int agree = ours == k.accepted;
    checked++;
    if (agree == !expect_differ) {
        if (agree)
            same++;
        else
            differs++;
    } else {
        bad++;
        print_message("MISMATCH %s: bpflua %s, kernel %s (%s)%s\n", name,
                      ours ? "accepts" : "rejects", k.accepted ? "accepts" : "rejects",
                      last_line(k.log), expect_differ ? " [documented as a difference]" : "");
    }
    free(k.log);
}

static int kernel_usable(void)
{
    char *why = NULL;
    if (bl_kernel_available(&why))
        return 1;
    print_message("skip: %s\n", why ? why : "bpf(2) unavailable");
    free(why);
    return 0;
}

static void test_asm_corpus_matches_kernel(void **state)
{
    if (!kernel_usable())
        skip();
    char *names[1024];
    int n = corpus_list(".data", names, 1024);
    assert_true(n >= 60);
    for (int i = 0; i < n; i++) {
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", corpus_dir, names[i]);
        char *text = corpus_slurp(path);
        assert_non_null(text);
        char *asm_text = corpus_section(text, "asm"), *kernel = corpus_section(text, "kernel");
        char *err = NULL;
        bpflua_object *obj = bpflua_object_from_asm(asm_text, names[i], &err);
        assert_non_null(obj);
        compare(names[i], obj, kernel);
        free(err);
        free(asm_text);
        free(kernel);
        free(text);
        bpflua_object_free(obj);
        free(names[i]);
    }
}

static void test_c_corpus_matches_kernel(void **state)
{
    if (!kernel_usable())
        skip();
    char *names[256];
    int n = corpus_list(".c", names, 256);
    for (int i = 0; i < n; i++) {
        char src[8192], obj_path[8192];
        snprintf(src, sizeof src, "%s/%s", corpus_dir, names[i]);
        char *text = corpus_slurp(src);
        assert_non_null(text);
        char *kernel = corpus_c_field(text, "kernel");
        if (corpus_object_path(names[i], obj_path, sizeof obj_path) && !access(obj_path, R_OK)) {
            char *err = NULL;
            bpflua_object *obj = bpflua_object_open_elf(obj_path, &err);
            if (!obj)
                fail_msg("%s: %s", obj_path, err ? err : "?");
            compare(names[i], obj, kernel);
            bpflua_object_free(obj);
            free(err);
        } else {
            print_message("skip %s: not built (no clang or BPFLUA_BUILD unset)\n", names[i]);
        }
        free(kernel);
        free(text);
        free(names[i]);
    }
}

static void test_summary(void **state)
{
    if (!checked)
        skip();
    print_message("kernel differential: %d cases, %d same verdict, %d documented differences, %d mismatches\n",
                  checked, same, differs, bad);
    assert_int_equal(bad, 0);
}

int main(void)
{
    corpus_find_dir(__FILE__);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_asm_corpus_matches_kernel),
        cmocka_unit_test(test_c_corpus_matches_kernel),
        cmocka_unit_test(test_summary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
