/* test_verifier_kernel.c - the verifier corpus against the running kernel.
 *
 * Every tests/verifier case is loaded with bpf_prog_load(BPF_PROG_TYPE_XDP)
 * and the kernel's verdict compared with bpflua's. Cases with a "-- kernel"
 * section starting "differs:" are the documented deliberate differences
 * (DESIGN.md): there the kernel must decide the other way, which checks the
 * documentation as much as the verifier. Skipped, with the reason, when
 * bpf(2) cannot load programs here. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tests/verifier/kernel_load.h"
#include "vm/bpflua.h"
#include "vm/kernel.h"

static char corpus_dir[4096];

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    if (buf)
        buf[n] = '\0';
    fclose(f);
    return buf;
}

static char *section(const char *text, const char *name)
{
    char hdr[64];
    snprintf(hdr, sizeof hdr, "-- %s\n", name);
    const char *p = strstr(text, hdr);
    if (!p)
        return NULL;
    p += strlen(hdr);
    const char *e = strstr(p, "\n-- ");
    size_t n = e ? (size_t)(e - p) + 1 : strlen(p);
    char *s = malloc(n + 2);
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

/* the last line of the kernel's log: its error message */
static const char *last_line(char *log)
{
    if (!log)
        return "";
    size_t n = strlen(log);
    while (n && log[n - 1] == '\n')
        log[--n] = '\0';
    char *nl = strrchr(log, '\n');
    return nl ? nl + 1 : log;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_corpus_matches_kernel(void **state)
{
    char *why = NULL;
    if (!bl_kernel_available(&why)) {
        print_message("skip: %s\n", why ? why : "bpf(2) unavailable");
        free(why);
        skip();
    }
    DIR *d = opendir(corpus_dir);
    assert_non_null(d);
    char *names[1024];
    int n = 0, same = 0, differs = 0, bad = 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < 1024) {
        size_t l = strlen(de->d_name);
        if (l > 5 && strcmp(de->d_name + l - 5, ".data") == 0)
            names[n++] = strdup(de->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, cmp_str);
    for (int i = 0; i < n; i++) {
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", corpus_dir, names[i]);
        char *text = slurp(path);
        assert_non_null(text);
        char *asm_text = section(text, "asm"), *kernel = section(text, "kernel");
        char *err = NULL;
        bpflua_object *obj = bpflua_object_from_asm(asm_text, names[i], &err);
        assert_non_null(obj);
        int ours = bpflua_verify(obj, 0, 0, NULL, NULL, NULL) == 0;
        struct kload k;
        assert_int_equal(kernel_load_prog(obj, 0, 1 << 20, &k), 0);
        int expect_differ = kernel && strncmp(kernel, "differs:", 8) == 0;
        int agree = ours == k.accepted;
        if (agree == !expect_differ) {
            if (agree)
                same++;
            else
                differs++;
        } else {
            bad++;
            print_message("MISMATCH %s: bpflua %s, kernel %s (%s)%s\n", names[i],
                          ours ? "accepts" : "rejects", k.accepted ? "accepts" : "rejects",
                          last_line(k.log), expect_differ ? " [documented as a difference]" : "");
        }
        free(k.log);
        free(err);
        free(asm_text);
        free(kernel);
        free(text);
        bpflua_object_free(obj);
        free(names[i]);
    }
    print_message("kernel differential: %d cases, %d same verdict, %d documented differences, %d mismatches\n",
                  n, same, differs, bad);
    assert_int_equal(bad, 0);
    assert_true(n >= 60);
}

int main(void)
{
    const char *src = getenv("BPFLUA_SRC");
    if (src) {
        snprintf(corpus_dir, sizeof corpus_dir, "%s/tests/verifier", src);
    } else {
        snprintf(corpus_dir, sizeof corpus_dir, "%s", __FILE__);
        char *slash = strrchr(corpus_dir, '/');
        if (slash)
            *slash = '\0';
        strncat(corpus_dir, "/../verifier", sizeof corpus_dir - strlen(corpus_dir) - 1);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_corpus_matches_kernel),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
