/* test_corpus.c - programs shaped like the ones real projects ship
 * (tests/corpus/NAME.c, README there), each built as written and as its
 * unsafe twin (-DUNSAFE), against bpflua's verifier and the kernel's.
 *
 * Per program: as written (and built with -mcpu=v3: 32-bit subregisters,
 * as Cilium builds), bpflua and the kernel both accept it; in the
 * twin, the sections the source's header lists under "unsafe:" are
 * rejected by both and the others still accepted. "kernel-differs: SEC"
 * marks a twin the kernel accepts though bpflua rejects it (a documented
 * difference: README, "stricter than the kernel"); the kernel must then
 * really accept it. "kernel-rejects: SEC" marks a safe program the kernel
 * rejects and bpflua accepts (shapes PREVAIL accepts; README). "back-edge: SEC" marks a program with a loop clang did
 * not unroll: bpflua rejects it (both builds) with its back-edge hint, the
 * kernel accepts it (README counts these). "unsupported: all" files are rejected by bpflua with
 * the "does not support" error and not given to the kernel.
 *
 * The kernel loads each program alone, with the type bpflua verified it as
 * (the section's, or the one it chose for a section that names none):
 * through libbpf from the original file when libbpf opens it (BTF, global
 * functions, frozen .rodata as in production), else (legacy `maps`
 * sections, code only in .text) from bpflua's reading of the object with
 * bpf_prog_load. Skipped, with the reason, without bpf(2). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function" /* shared test helpers this file does not use */
#include "tests/verifier/corpus.h"
#include "tests/verifier/kernel_load.h"
#pragma GCC diagnostic pop
#include "core/bpflua.h"
#include "core/progtype.h"
#include "engine/kernel.h"

static int kernel_ok;
static int n_programs, n_bad, n_kernel, n_differs, n_guessed, n_loops, n_config_skips;

static int silent(enum libbpf_print_level l, const char *f, va_list ap)
{
    (void)l, (void)f, (void)ap;
    return 0;
}

/* SEC is listed in the header line "key: a b c (comment)" */
static int listed(const char *line, const char *sec)
{
    if (!line)
        return 0;
    size_t n = strlen(sec);
    for (const char *p = line; *p && *p != '(';) {
        while (*p == ' ')
            p++;
        size_t w = strcspn(p, " (");
        if (w == n && strncmp(p, sec, n) == 0)
            return 1;
        p += w;
    }
    return 0;
}

/* the kernel's verdict through libbpf from the file: 1, 0, or -1 when
 * libbpf cannot open or find the program (the caller falls back) */
static int kernel_libbpf(const char *path, const struct bl_prog *p)
{
    struct bpf_object *bo = bpf_object__open_file(path, NULL);
    if (!bo)
        return -1;
    struct bpf_program *bp, *mine = NULL;
    bpf_object__for_each_program(bp, bo) {
        int me = strcmp(bpf_program__name(bp), p->name) == 0 &&
                 strcmp(bpf_program__section_name(bp), p->section) == 0;
        bpf_program__set_autoload(bp, me);
        if (me)
            mine = bp;
    }
    if (!mine) {
        bpf_object__close(bo);
        return -1;
    }
    bpf_program__set_type(mine, (enum bpf_prog_type)p->type->kernel_type);
    bpf_program__set_expected_attach_type(mine, (enum bpf_attach_type)p->type->attach_type);
    int rc = bpf_object__load(bo);
    bpf_object__close(bo);
    return rc == 0;
}

static int kernel_verdict(const char *path, bpflua_object *obj, size_t i)
{
    const struct bl_prog *p = bl_object_prog(obj, i);
    int v = kernel_libbpf(path, p);
    if (v >= 0)
        return v;
    struct kload k;
    int e = kernel_load_prog_as(obj, i, 0, &k, (enum bpf_prog_type)p->type->kernel_type,
                                (enum bpf_attach_type)p->type->attach_type);
    if (e)
        fail_msg("%s: maps for the kernel load: %s", path, strerror(-e));
    return k.accepted;
}

/* a helper program i calls that bpflua allows its type as a kernel-config
 * helper and this kernel refuses (core/progtype.h), or 0: the kernel's
 * verdict on such a program says nothing about bpflua's */
static int refused_config_helper(bpflua_object *obj, size_t i)
{
    const struct bl_prog *p = bl_object_prog(obj, i);
    for (uint32_t k = 0; k < p->n_insns; k++) {
        const struct bl_insn *in = &p->insns[k];
        if (in->code == (BPF_JMP | BPF_CALL) && in->src == 0 &&
            bl_prog_type_config_helper(p->type, (uint32_t)in->imm) &&
            !kernel_allows_helper(p->type->kernel_type, p->type->attach_type, in->imm))
            return in->imm;
    }
    return 0;
}

/* variant: "" as written, ".unsafe" the twin, ".v3" as written with -mcpu=v3 */
static void check_object(const char *name, const char *text, const char *variant)
{
    char path[8192];
    const char *build = getenv("BPFLUA_BUILD");
    int unsafe = strcmp(variant, ".unsafe") == 0;
    snprintf(path, sizeof path, "%s/corpus/%.*s%s.o", build, (int)(strlen(name) - 2), name,
             variant);
    if (access(path, R_OK)) {
        print_message("skip %s: not built (no clang?)\n", path);
        return;
    }
    char *bad = corpus_c_field(text, "unsafe"), *differs = corpus_c_field(text, "kernel-differs");
    char *unsupported = corpus_c_field(text, "unsupported");
    char *loops = corpus_c_field(text, "back-edge");
    char *krejects = corpus_c_field(text, "kernel-rejects");
    char *err = NULL;
    bpflua_object *obj = bpflua_object_open_elf(path, &err);
    if (!obj)
        fail_msg("%s: %s", path, err ? err : "?");
    for (size_t i = 0; i < bpflua_prog_count(obj); i++) {
        const char *sec = bpflua_prog_section(obj, i);
        int loop = listed(loops, sec);
        int want = !(unsupported || loop || (unsafe && listed(bad, sec)));
        char *verr = NULL;
        int ours = bpflua_verify(obj, i, 0, NULL, &verr, NULL) == 0;
        n_programs++;
        n_guessed += bpflua_prog_type_guessed(obj, i);
        if (ours != want) {
            n_bad++;
            print_message("BPFLUA %s %s: %s, expected %s (%s)\n", path, sec,
                          ours ? "accepts" : "rejects", want ? "accept" : "reject", verr ? verr : "");
        }
        if (unsupported && !(verr && strstr(verr, "does not support"))) {
            n_bad++;
            print_message("BPFLUA %s %s: no clear 'does not support' error: %s\n", path, sec,
                          verr ? verr : "(none)");
        }
        if (loop && !(verr && strstr(verr, "back-edge"))) {
            n_bad++;
            print_message("BPFLUA %s %s: no back-edge hint: %s\n", path, sec, verr ? verr : "(none)");
        }
        n_loops += loop;
        free(verr);
        if (!kernel_ok || unsupported)
            continue;
        int kwant = (unsafe && listed(differs, sec)) || loop ? !want : want;
        if (listed(krejects, sec)) /* in every build (the twin of an unsafe one is rejected) */
            kwant = 0;
        int refused = refused_config_helper(obj, i);
        if (refused) {
            print_message("skip kernel %s %s: this kernel refuses helper %d to %s (a kernel-config "
                          "helper)\n", path, sec, refused, bpflua_prog_type(obj, i));
            n_config_skips++;
            continue;
        }
        int k = kernel_verdict(path, obj, i);
        n_kernel++;
        n_differs += kwant != want;
        if (k != kwant) {
            n_bad++;
            print_message("KERNEL %s %s (as %s): kernel %s, expected %s\n", path, sec,
                          bpflua_prog_type(obj, i), k ? "accepts" : "rejects",
                          kwant ? "accept" : "reject");
        }
    }
    bpflua_object_free(obj);
    free(err);
    free(bad);
    free(differs);
    free(unsupported);
    free(loops);
    free(krejects);
}

static void test_corpus_verdicts(void **state)
{
    (void)state;
    if (!getenv("BPFLUA_BUILD"))
        skip();
    char *names[256];
    int n = corpus_list(".c", names, 256);
    assert_true(n >= 20);
    for (int i = 0; i < n; i++) {
        char src[8192];
        snprintf(src, sizeof src, "%s/%s", corpus_dir, names[i]);
        char *text = corpus_slurp(src);
        assert_non_null(text);
        check_object(names[i], text, "");
        check_object(names[i], text, ".v3");
        char *twin = corpus_c_field(text, "unsafe");
        if (twin) /* else the -DUNSAFE build is the same program */
            check_object(names[i], text, ".unsafe");
        free(twin);
        free(text);
        free(names[i]);
    }
    print_message("corpus: %d programs verified, %d with a chosen type, %d rejected for a "
                  "back-edge, %d also by the kernel (%d documented differences, %d not compared: a "
                  "kernel-config helper this kernel refuses), %d wrong verdicts\n",
                  n_programs, n_guessed, n_loops, n_kernel, n_differs, n_config_skips, n_bad);
    if (!kernel_ok)
        print_message("kernel verdicts skipped: bpf(2) cannot load programs here\n");
    assert_true(n_programs >= 120);
    assert_int_equal(n_bad, 0);
}

int main(void)
{
    const char *src = getenv("BPFLUA_SRC");
    char here[4096];
    snprintf(here, sizeof here, "%s/tests/corpus", src ? src : ".");
    snprintf(corpus_dir, sizeof corpus_dir, "%s", here);
    char *why = NULL;
    kernel_ok = bl_kernel_available(&why);
    if (!kernel_ok)
        print_message("skip kernel verdicts: %s\n", why ? why : "bpf(2) unavailable");
    free(why);
    libbpf_set_print(silent);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_corpus_verdicts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
