/* test_jit.c - the x86-64 JIT against the interpreter.
 *
 * Every conformance file runs in the interpreter (raw mode) and in the JIT
 * (raw mode, bl_jit_run_mem) and must give the same R0 as the file says;
 * then corner cases (division, shifts, atomics, calls, helpers, bpf_loop,
 * for_each over a map) in both engines, raw and verified.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "jit/jit.h"
#include "stdlib/helpers.h"
#include "stdlib/maps.h"
#include "vm/asm.h"
#include "vm/interp.h"
#include "core/object.h"
#include "vm/verifier.h"

/* ---- the conformance helpers (as engine/conformance.c) ------------------------- */

static uint64_t unwind_helper(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                              struct bpflua_run_env *env)
{
    if (r1 == 0)
        env->fault = 1;
    return r1;
}

static const struct bpflua_helper test_helpers[] = {
    {5, "unwind", unwind_helper, BPFLUA_RET_INTEGER, {BPFLUA_ARG_ANYTHING}},
};

static const struct bpflua_helper *conf_helper_find(uint32_t id)
{
    return id == 5 ? &test_helpers[0] : NULL;
}

/* ---- running one program in both engines ------------------------------------ */

struct both {
    int interp_rc;
    uint64_t interp_r0, jit_r0;
    int jit_fault;
};

/* raw mode in both engines: R1 = mem, R2 = len */
static int run_both_raw(bpflua_object *obj, const struct bpflua_helper *(*find)(uint32_t),
                        void *mem, size_t len, struct both *out)
{
    struct bl_prog *p = bl_object_prog(obj, 0);
    size_t n;
    const struct bl_insn *insns = bpflua_prog_insns(obj, 0, &n);
    uint64_t args[5] = {(uint64_t)(uintptr_t)mem, len, 0, 0, 0};

    /* interpreter first, on its own copy of the memory */
    uint8_t *copy = len ? malloc(len) : NULL;
    if (len)
        memcpy(copy, mem, len);
    struct bl_interp_opts io = {
        .raw = 1,
        .helper_find = find,
        .regions = {{(uint64_t)(uintptr_t)copy, len}},
        .n_regions = copy ? 1 : 0,
    };
    args[0] = (uint64_t)(uintptr_t)copy;
    struct bpflua_run_env env = {.obj = obj};
    struct bl_interp_result ir;
    memset(&ir, 0, sizeof ir);
    out->interp_rc = bl_interp_exec(insns, (uint32_t)n, args, &io, &env, &ir);
    out->interp_r0 = env.fault ? 0 : ir.r0;
    free(copy);

    free(p->exec_insns);
    p->exec_insns = malloc(n * sizeof *insns);
    memcpy(p->exec_insns, insns, n * sizeof *insns);
    char *err = NULL;
    struct bl_jit_opts jo = {.raw = 1, .helper_find = find};
    int rc = bl_jit_compile_opts(p, &jo, &err);
    if (rc) {
        print_message("jit compile: %s\n", err ? err : "?");
        free(err);
        return rc;
    }
    struct bpflua_run_env jenv = {.obj = obj};
    out->jit_r0 = bl_jit_run_mem(p->jit, (uint64_t)(uintptr_t)mem, len, mem, len, &jenv);
    out->jit_fault = jenv.fault;
    return 0;
}

static bpflua_object *assemble(const char *text)
{
    char *err = NULL;
    bpflua_object *obj = bl_asm_assemble(text, "t", 1, &err);
    if (!obj) {
        print_message("asm: %s\n", err ? err : "?");
        free(err);
    }
    return obj;
}

/* assembles and runs raw in both; asserts they agree and returns R0 */
static uint64_t raw2(const char *text, void *mem, size_t len)
{
    bpflua_object *obj = assemble(text);
    assert_non_null(obj);
    struct both b;
    assert_int_equal(run_both_raw(obj, bl_helper_find, mem, len, &b), 0);
    assert_int_equal(b.interp_rc, 0);
    assert_int_equal(b.jit_fault, 0);
    if (b.interp_r0 != b.jit_r0)
        print_message("interp 0x%llx jit 0x%llx\n%s\n", (unsigned long long)b.interp_r0,
                      (unsigned long long)b.jit_r0, text);
    assert_true(b.interp_r0 == b.jit_r0);
    bpflua_object_free(obj);
    return b.jit_r0;
}

/* ---- the conformance suite ----------------------------------------------------- */

struct data_file {
    char *asm_text;
    size_t asm_len, asm_cap;
    unsigned asm_line;
    uint8_t mem[4096];
    size_t mem_len;
    int has_result;
    uint64_t result;
};

static void append(struct data_file *df, const char *line)
{
    size_t l = strlen(line);
    if (df->asm_len + l + 1 > df->asm_cap) {
        df->asm_cap = (df->asm_len + l + 1) * 2;
        df->asm_text = realloc(df->asm_text, df->asm_cap);
    }
    memcpy(df->asm_text + df->asm_len, line, l + 1);
    df->asm_len += l;
}

static int parse_data(const char *path, struct data_file *df)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    memset(df, 0, sizeof *df);
    char line[1024];
    enum { NONE, ASM, MEM, RESULT, OTHER } sec = NONE;
    unsigned lineno = 0;
    append(df, "");
    while (fgets(line, sizeof line, f)) {
        lineno++;
        if (strncmp(line, "-- ", 3) == 0) {
            sec = strncmp(line + 3, "asm", 3) == 0 ? ASM
                  : strncmp(line + 3, "mem", 3) == 0 ? MEM
                  : strncmp(line + 3, "result", 6) == 0 ? RESULT : OTHER;
            if (sec == ASM)
                df->asm_line = lineno + 1;
            continue;
        }
        if (sec == ASM) {
            append(df, line);
        } else if (sec == MEM) {
            char *s = line;
            unsigned b;
            int used;
            while (sscanf(s, " %2x%n", &b, &used) == 1 && df->mem_len < sizeof df->mem) {
                df->mem[df->mem_len++] = (uint8_t)b;
                s += used;
            }
        } else if (sec == RESULT) {
            char *s = line + strspn(line, " \t");
            if (*s && *s != '#' && *s != '\n') {
                df->result = strtoull(s, NULL, 0);
                df->has_result = 1;
            }
        }
    }
    fclose(f);
    return 0;
}

/* the next "<prefix>*.data" file in d (of directory dir): its name, its
 * path in path; NULL when there are no more */
static const char *next_data_file(DIR *d, const char *dir, const char *prefix, char *path,
                                  size_t size)
{
    struct dirent *ent;
    size_t p = strlen(prefix);
    while ((ent = readdir(d))) {
        size_t l = strlen(ent->d_name);
        if (strncmp(ent->d_name, prefix, p) || l < 6 || strcmp(ent->d_name + l - 5, ".data"))
            continue;
        snprintf(path, size, "%s/%s", dir, ent->d_name);
        return ent->d_name;
    }
    return NULL;
}

static void test_conformance(void **state)
{
    const char *shared = getenv("SHARED_DIR");
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/conformance", shared ? shared : "../shared");
    DIR *d = opendir(dir);
    if (!d) {
        print_message("no conformance directory %s: skipped\n", dir);
        skip();
    }
    const char *name;
    char path[2048];
    int files = 0, failed = 0;
    while ((name = next_data_file(d, dir, "", path, sizeof path))) {
        struct data_file df;
        memset(&df, 0, sizeof df);
        if (parse_data(path, &df) || !df.has_result) {
            free(df.asm_text);
            continue;
        }
        files++;
        char *err = NULL;
        bpflua_object *obj = bl_asm_assemble(df.asm_text, name, df.asm_line, &err);
        if (!obj) {
            print_message("%s: %s\n", name, err);
            free(err);
            failed++;
            free(df.asm_text);
            continue;
        }
        uint8_t mem[4096];
        memcpy(mem, df.mem, df.mem_len);
        struct both b;
        int rc = run_both_raw(obj, conf_helper_find, df.mem_len ? mem : NULL, df.mem_len, &b);
        if (rc || b.interp_rc || b.jit_fault || b.jit_r0 != df.result || b.interp_r0 != b.jit_r0) {
            print_message("%s: expected 0x%llx interp 0x%llx (rc %d) jit 0x%llx (fault %d)\n",
                          name, (unsigned long long)df.result,
                          (unsigned long long)b.interp_r0, b.interp_rc,
                          (unsigned long long)b.jit_r0, b.jit_fault);
            failed++;
        }
        bpflua_object_free(obj);
        free(df.asm_text);
    }
    closedir(d);
    print_message("conformance through the JIT: %d files, %d failed\n", files, failed);
    assert_true(files >= 200);
    assert_int_equal(failed, 0);
}

/* ---- corner cases, raw mode ---------------------------------------------------- */

static void test_division(void **state)
{
    assert_true(raw2("mov %r0, 7\nmov %r1, 0\ndiv %r0, %r1\nexit\n", NULL, 0) == 0);
    assert_true(raw2("mov %r0, 7\nmov %r1, 0\nmod %r0, %r1\nexit\n", NULL, 0) == 7);
    assert_true(raw2("lddw %r0, 0x100000007\nmov %r1, 0\nmod32 %r0, %r1\nexit\n", NULL, 0) == 7);
    assert_true(raw2("lddw %r0, 0x8000000000000000\nmov %r1, -1\nsdiv %r0, %r1\nexit\n", NULL, 0) ==
                0x8000000000000000ull);
    assert_true(raw2("lddw %r0, 0x8000000000000000\nmov %r1, -1\nsmod %r0, %r1\nexit\n", NULL, 0) == 0);
    assert_true(raw2("mov32 %r0, 0x80000000\nsdiv32 %r0, -1\nexit\n", NULL, 0) == 0x80000000u);
    assert_true(raw2("mov32 %r0, 0x80000000\nsmod32 %r0, -1\nexit\n", NULL, 0) == 0);
    assert_true(raw2("mov %r0, -7\nsmod %r0, 2\nexit\n", NULL, 0) == (uint64_t)-1);
    assert_true(raw2("mov %r0, -7\nsdiv %r0, 0\nexit\n", NULL, 0) == 0);
    /* the divisor or dividend in rax/rdx (R0/R3) */
    assert_true(raw2("mov %r3, 100\nmov %r0, 7\ndiv %r3, %r0\nmov %r0, %r3\nexit\n", NULL, 0) == 14);
    assert_true(raw2("mov %r0, 100\nmov %r3, 7\nmod %r0, %r3\nadd %r0, %r3\nexit\n", NULL, 0) == 9);
    assert_true(raw2("mov %r3, 100\nmov %r0, 9\nmod %r3, %r3\nadd %r0, %r3\nexit\n", NULL, 0) == 9);
    assert_true(raw2("mov %r0, 100\ndiv %r0, %r0\nexit\n", NULL, 0) == 1);
    assert_true(raw2("lddw %r0, 0xffffffffffffffff\ndiv %r0, -1\nexit\n", NULL, 0) == 1);
}

static void test_shifts(void **state)
{
    assert_true(raw2("mov %r0, 1\nmov %r4, 65\nlsh %r0, %r4\nexit\n", NULL, 0) == 2);
    assert_true(raw2("mov %r0, 1\nmov %r1, 33\nlsh32 %r0, %r1\nexit\n", NULL, 0) == 2);
    assert_true(raw2("mov %r4, 1\nmov %r1, 4\nlsh %r4, %r1\nmov %r0, %r4\nexit\n", NULL, 0) == 16);
    assert_true(raw2("mov %r4, 3\nlsh %r4, %r4\nmov %r0, %r4\nexit\n", NULL, 0) == 24);
    assert_true(raw2("lddw %r0, 0xffffffff00000001\nmov %r1, 0\nlsh32 %r0, %r1\nexit\n", NULL, 0) == 1);
    assert_true(raw2("lddw %r0, 0xffffffff00000001\nlsh32 %r0, 32\nexit\n", NULL, 0) == 1);
    assert_true(raw2("mov %r0, -16\nmov %r2, 2\narsh %r0, %r2\nexit\n", NULL, 0) == (uint64_t)-4);
    assert_true(raw2("mov32 %r0, -16\narsh32 %r0, 2\nexit\n", NULL, 0) == 0xfffffffcu);
    assert_true(raw2("mov %r0, -1\nrsh %r0, 63\nexit\n", NULL, 0) == 1);
    assert_true(raw2("lddw %r0, 0x123456789abcdef0\nbe16 %r0\nexit\n", NULL, 0) == 0xf0de);
    assert_true(raw2("lddw %r0, 0x123456789abcdef0\nle32 %r0\nexit\n", NULL, 0) == 0x9abcdef0);
    assert_true(raw2("lddw %r0, 0x123456789abcdef0\nbswap64 %r0\nexit\n", NULL, 0) ==
                0xf0debc9a78563412ull);
    assert_true(raw2("mov %r2, 0x80\nmovsx864 %r0, %r2\nexit\n", NULL, 0) == (uint64_t)-128);
    assert_true(raw2("mov %r2, 0x80\nmovsx832 %r0, %r2\nexit\n", NULL, 0) == 0xffffff80u);
    assert_true(raw2("mov %r6, 0x8000\nmovsx1664 %r0, %r6\nexit\n", NULL, 0) == (uint64_t)-32768);
}

static void test_memory(void **state)
{
    uint8_t mem[16] = {0x80, 0xff, 0x7f, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13};
    assert_true(raw2("ldxsb %r0, [%r1]\nexit\n", mem, sizeof mem) == (uint64_t)-128);
    assert_true(raw2("ldxsh %r0, [%r1]\nexit\n", mem, sizeof mem) == (uint64_t)(int16_t)0xff80);
    assert_true(raw2("ldxdw %r0, [%r1+8]\nexit\n", mem, sizeof mem) == 0x0d0c0b0a09080706ull);
    /* store-to-load forwarding: only while nothing may have changed the slot
     * or the register that was stored */
    assert_true(raw2("mov %r2, 5\nstxdw [%r10-8], %r2\nstb [%r10-7], 1\nldxdw %r0, [%r10-8]\nexit\n",
                     NULL, 0) == 0x105);
    assert_true(raw2("mov %r2, 5\nstxdw [%r10-8], %r2\nmov %r3, %r10\nstw [%r3-4], 2\n"
                     "ldxdw %r0, [%r10-8]\nexit\n", NULL, 0) == 0x200000005ull);
    assert_true(raw2("mov %r2, 5\nstxdw [%r10-8], %r2\nadd %r2, 1\nldxdw %r0, [%r10-8]\nexit\n",
                     NULL, 0) == 5);
    assert_true(raw2("stdw [%r10-8], -3\nstdw [%r10-16], 4\nldxdw %r0, [%r10-8]\nldxdw %r1, [%r10-16]\n"
                     "add %r0, %r1\nexit\n", NULL, 0) == 1);
    assert_true(raw2("mov %r2, 5\nstxdw [%r10-8], %r2\nmov %r1, %r10\nadd %r1, -8\nmov %r3, 1\n"
                     "lock add [%r1], %r3\nldxdw %r0, [%r10-8]\nexit\n", NULL, 0) == 6);
    assert_true(raw2("mov %r2, 5\nstxdw [%r10-8], %r2\nja +0\nstb [%r10-8], 9\nldxdw %r0, [%r10-8]\n"
                     "exit\n", NULL, 0) == 9);
    /* be16 right after ldxh needs no second zero-extension; reached by a
     * jump (upper bits set), it does */
    assert_true(raw2("lddw %r0, -1\nldxh %r0, [%r1+1]\nbe16 %r0\nexit\n", mem, sizeof mem) == 0xff7f);
    assert_true(raw2("mov %r0, -1\nja +1\nldxh %r0, [%r1+1]\nbe16 %r0\nexit\n", mem, sizeof mem) ==
                0xffff);
    assert_true(raw2("ldxh %r0, [%r1+1]\nmov %r0, -1\nbe16 %r0\nexit\n", mem, sizeof mem) == 0xffff);
    /* out of bounds: the JIT faults (R0 = 0) where the interpreter errors */
    bpflua_object *obj = assemble("ldxdw %r0, [%r1+9]\nexit\n");
    struct both b;
    assert_int_equal(run_both_raw(obj, bl_helper_find, mem, sizeof mem, &b), 0);
    assert_true(b.interp_rc < 0);
    assert_int_equal(b.jit_fault, 1);
    assert_true(b.jit_r0 == 0);
    bpflua_object_free(obj);
    /* below the current frame (the interpreter allows its unused frames) */
    obj = assemble("stdw [%r10-520], 1\nmov %r0, 1\nexit\n");
    assert_int_equal(run_both_raw(obj, bl_helper_find, NULL, 0, &b), 0);
    assert_int_equal(b.jit_fault, 1);
    bpflua_object_free(obj);
    obj = assemble("stb [%r10], 1\nmov %r0, 1\nexit\n");
    assert_int_equal(run_both_raw(obj, bl_helper_find, NULL, 0, &b), 0);
    assert_int_equal(b.jit_fault, 1);
    bpflua_object_free(obj);
}

static void test_atomics(void **state)
{
    static const char *ops[] = {"add", "or", "and", "xor", "xchg"};
    char text[1024];
    for (size_t k = 0; k < 5; k++)
        for (int fetch = 0; fetch < 2; fetch++)
            for (int w32 = 0; w32 < 2; w32++)
                for (int src0 = 0; src0 < 2; src0++) {
                    if (!fetch && !strcmp(ops[k], "xchg"))
                        continue;
                    /* R0 or R2 as the source; the memory and both registers come back */
                    snprintf(text, sizeof text,
                             "lddw %%r3, 0x1234567887654321\nstxdw [%%r10-8], %%r3\n"
                             "lddw %%r%d, 0xf0f0f0f00ff00ff0\nmov %%r%d, 77\n"
                             "lock %s%s%s [%%r10-8], %%r%d\n"
                             "ldxdw %%r4, [%%r10-8]\nxor %%r4, %%r0\nlsh %%r2, 1\nxor %%r4, %%r2\n"
                             "mov %%r0, %%r4\nexit\n",
                             src0 ? 0 : 2, src0 ? 2 : 0, fetch && strcmp(ops[k], "xchg") ? "fetch " : "",
                             ops[k], w32 ? "32" : "", src0 ? 0 : 2);
                    raw2(text, NULL, 0);
                }
    /* cmpxchg: equal and not equal, 32 and 64 */
    raw2("stdw [%r10-8], 5\nmov %r0, 5\nmov %r1, 9\nlock cmpxchg [%r10-8], %r1\n"
         "ldxdw %r1, [%r10-8]\nlsh %r1, 8\nadd %r0, %r1\nexit\n", NULL, 0);
    raw2("stdw [%r10-8], 5\nlddw %r0, 0x100000004\nmov %r1, 9\nlock cmpxchg32 [%r10-8], %r1\n"
         "ldxdw %r1, [%r10-8]\nlsh %r1, 8\nadd %r0, %r1\nexit\n", NULL, 0);
    assert_true(raw2("stdw [%r10-8], 5\nlddw %r0, 0x100000005\nmov %r1, 9\nlock cmpxchg32 [%r10-8], %r1\n"
                     "exit\n", NULL, 0) == 5);
    /* the address in R0 itself */
    assert_true(raw2("stdw [%r10-8], 40\nmov %r0, %r10\nmov %r1, 2\nlock fetch or [%r0-8], %r1\n"
                     "mov %r0, %r1\nexit\n", NULL, 0) == 40);
}

static void test_calls(void **state)
{
    /* each call has its own frame; R6-R9 survive; recursion is bounded */
    assert_true(raw2("stdw [%r10-8], 11\nmov %r6, 6\nmov %r1, 5\ncall local f\n"
                     "ldxdw %r1, [%r10-8]\nadd %r0, %r1\nadd %r0, %r6\nexit\n"
                     "f:\nstdw [%r10-8], 100\nmov %r6, 1000\nldxdw %r0, [%r10-8]\nadd %r0, %r1\nexit\n",
                     NULL, 0) == 11 + 6 + 105);
    /* a pointer into the caller's frame */
    assert_true(raw2("stdw [%r10-16], 3\nmov %r1, %r10\nadd %r1, -16\ncall local g\n"
                     "ldxdw %r0, [%r10-16]\nexit\n"
                     "g:\nldxdw %r2, [%r1]\nmul %r2, 7\nstxdw [%r1], %r2\nmov %r0, 0\nexit\n",
                     NULL, 0) == 21);
    bpflua_object *obj = assemble("call local r\nexit\nr:\ncall local r\nexit\n");
    struct both b;
    assert_int_equal(run_both_raw(obj, bl_helper_find, NULL, 0, &b), 0);
    assert_true(b.interp_rc < 0);
    assert_int_equal(b.jit_fault, 1);
    bpflua_object_free(obj);
    /* helpers: unknown id faults, callx finds by register */
    obj = assemble("mov %r1, 1\ncall 5\nexit\n");
    assert_int_equal(run_both_raw(obj, conf_helper_find, NULL, 0, &b), 0);
    assert_true(b.jit_r0 == 1 && b.interp_r0 == 1);
    bpflua_object_free(obj);
    obj = assemble("mov %r1, 0\nmov %r0, 3\ncall 5\nmov %r0, 4\nexit\n"); /* unwind */
    assert_int_equal(run_both_raw(obj, conf_helper_find, NULL, 0, &b), 0);
    assert_true(b.jit_r0 == 0 && b.jit_fault == 1);
    bpflua_object_free(obj);
    obj = assemble("call 99\nexit\n");
    assert_int_equal(run_both_raw(obj, conf_helper_find, NULL, 0, &b), 0);
    assert_true(b.interp_rc < 0 && b.jit_fault == 1);
    bpflua_object_free(obj);
    /* helper through the registry: get_smp_processor_id = 0, prandom is 32-bit */
    assert_true(raw2("mov %r0, 5\ncall 8\nexit\n", NULL, 0) == 0);
    assert_true(raw2("call 7\nrsh %r0, 32\nexit\n", NULL, 0) == 0);
}

/* bpf_loop: callbacks get (i, ctx); ctx points into the caller's frame */
static void test_bpf_loop_raw(void **state)
{
    const char *sum =
        "stdw [%r10-8], 0\nmov %r1, 1000\nlddw %r2, func:cb\nmov %r3, %r10\nadd %r3, -8\n"
        "mov %r4, 0\ncall 181\nmov %r6, %r0\nldxdw %r0, [%r10-8]\nlsh %r0, 16\nadd %r0, %r6\nexit\n"
        "cb:\nldxdw %r3, [%r2]\nadd %r3, %r1\nstxdw [%r2], %r3\nmov %r0, 0\nexit\n";
    assert_true(raw2(sum, NULL, 0) == ((uint64_t)499500 << 16) + 1000);
    /* break at i == 10: returns 11 iterations */
    const char *brk =
        "stdw [%r10-8], 0\nmov %r1, 1000\nlddw %r2, func:cb\nmov %r3, %r10\nadd %r3, -8\n"
        "mov %r4, 0\ncall 181\nmov %r6, %r0\nldxdw %r0, [%r10-8]\nlsh %r0, 16\nadd %r0, %r6\nexit\n"
        "cb:\nldxdw %r3, [%r2]\nadd %r3, %r1\nstxdw [%r2], %r3\nmov %r0, 0\njne %r1, 10, +1\nmov %r0, 1\nexit\n";
    assert_true(raw2(brk, NULL, 0) == ((uint64_t)55 << 16) + 11);
    /* flags != 0, too many loops, zero loops */
    assert_true(raw2("mov %r1, 5\nlddw %r2, func:cb\nmov %r3, 0\nmov %r4, 1\ncall 181\nexit\n"
                     "cb:\nmov %r0, 0\nexit\n", NULL, 0) == (uint64_t)-EINVAL);
    assert_true(raw2("mov %r1, 8388609\nlddw %r2, func:cb\nmov %r3, 0\nmov %r4, 0\ncall 181\nexit\n"
                     "cb:\nmov %r0, 0\nexit\n", NULL, 0) == (uint64_t)-E2BIG);
    assert_true(raw2("lddw %r1, 0x100000003\nlddw %r2, func:cb\nmov %r3, 0\nmov %r4, 0\ncall 181\nexit\n"
                     "cb:\nmov %r0, 0\nexit\n", NULL, 0) == 3);
    assert_true(raw2("mov %r1, 0\nlddw %r2, func:cb\nmov %r3, 0\nmov %r4, 0\ncall 181\nexit\n"
                     "cb:\nmov %r0, 0\nexit\n", NULL, 0) == 0);
    /* nested loops: 7 x 9 inner iterations, R6-R9 of the caller survive */
    const char *nested =
        "mov %r6, 66\nmov %r9, 99\nstdw [%r10-8], 0\nmov %r1, 7\nlddw %r2, func:outer\nmov %r3, %r10\n"
        "add %r3, -8\nmov %r4, 0\ncall 181\nldxdw %r0, [%r10-8]\nmul %r0, 1000\nadd %r0, %r6\n"
        "add %r0, %r9\nexit\n"
        "outer:\nmov %r6, %r2\nmov %r1, 9\nlddw %r2, func:inner\nmov %r3, %r6\nmov %r4, 0\n"
        "call 181\nmov %r0, 0\nexit\n"
        "inner:\nldxdw %r3, [%r2]\nadd %r3, 1\nstxdw [%r2], %r3\nmov %r0, 0\nexit\n";
    assert_true(raw2(nested, NULL, 0) == 63 * 1000 + 165);
    /* the callback chosen at run time (not visible at the call) */
    const char *dyn =
        "stdw [%r10-8], 0\nlddw %r2, func:a\njeq %r1, 0, +2\nlddw %r2, func:b\nmov %r1, 4\n"
        "mov %r3, %r10\nadd %r3, -8\nmov %r4, 0\ncall 181\nldxdw %r0, [%r10-8]\nexit\n"
        "a:\nldxdw %r3, [%r2]\nadd %r3, 1\nstxdw [%r2], %r3\nmov %r0, 0\nexit\n"
        "b:\nldxdw %r3, [%r2]\nadd %r3, 10\nstxdw [%r2], %r3\nmov %r0, 0\nexit\n";
    assert_true(raw2(dyn, NULL, 0) == 4);
    uint8_t m[8] = {0};
    assert_true(raw2(dyn, m, sizeof m) == 40);
}

/* ---- verified mode: accesses trusted, maps linked ------------------------------ */

/* Marks program 0 as verified with every access proven (the programs
 * below are safe by construction), links map lddws to runtime maps, and
 * runs it in the interpreter (verified mode) and the JIT (unchecked code)
 * with R1 = mem, R2 = len. Map contents are reset in between by the caller
 * when it matters; returns the JIT's R0 after asserting both agree. */
static uint64_t trusted2(bpflua_object *obj, void *mem, size_t len, int fresh_maps_each)
{
    struct bl_prog *p = bl_object_prog(obj, 0);
    size_t n = p->n_insns;
    char *err = NULL;
    free(p->exec_insns);
    p->exec_insns = malloc(n * sizeof *p->exec_insns);
    memcpy(p->exec_insns, p->insns, n * sizeof *p->insns);
    for (size_t i = 0; i + 1 < n; i++) {
        struct bl_insn *in = &p->exec_insns[i];
        if (bl_is_lddw(in) && in->src == BL_PSEUDO_MAP_FD) {
            struct bl_map *m = bl_object_map(obj, (size_t)in->imm, &err);
            assert_non_null(m);
            uint64_t v = (uint64_t)(uintptr_t)m;
            in->src = 0;
            in->imm = (int32_t)(uint32_t)v;
            in[1].imm = (int32_t)(uint32_t)(v >> 32);
        }
    }
    free(p->aux);
    p->aux = calloc(n, sizeof *p->aux);
    for (size_t i = 0; i < n; i++)
        p->aux[i].mem_safe = 1;
    p->verdict = 1;

    uint8_t *copy = len ? malloc(len) : NULL;
    if (len)
        memcpy(copy, mem, len);
    uint64_t args[5] = {(uint64_t)(uintptr_t)copy, len, 0, 0, 0};
    struct bl_interp_opts io = {.raw = 0};
    struct bpflua_run_env env = {.obj = obj};
    struct bl_interp_result ir;
    memset(&ir, 0, sizeof ir);
    assert_int_equal(bl_interp_exec(p->exec_insns, (uint32_t)n, args, &io, &env, &ir), 0);
    free(copy);
    (void)fresh_maps_each;

    if (p->jit) {
        bl_jit_free(p->jit);
        p->jit = NULL;
    }
    if (bl_jit_compile(p, &err)) {
        print_message("jit: %s\n", err);
        free(err);
        fail();
    }
    struct bpflua_run_env jenv = {.obj = obj};
    uint64_t r0 = bl_jit_run_mem(p->jit, (uint64_t)(uintptr_t)mem, len, mem, len, &jenv);
    assert_int_equal(jenv.fault, 0);
    if (r0 != ir.r0)
        print_message("interp 0x%llx jit 0x%llx\n", (unsigned long long)ir.r0,
                      (unsigned long long)r0);
    assert_true(r0 == ir.r0);
    return r0;
}

static uint64_t trusted_text(const char *text, void *mem, size_t len)
{
    bpflua_object *obj = assemble(text);
    assert_non_null(obj);
    uint64_t r0 = trusted2(obj, mem, len, 0);
    bpflua_object_free(obj);
    return r0;
}

static void test_bpf_loop_verified(void **state)
{
    const char *sum =
        "stdw [%r10-8], 0\nmov %r1, 1000\nlddw %r2, func:cb\nmov %r3, %r10\nadd %r3, -8\n"
        "mov %r4, 0\ncall 181\nmov %r6, %r0\nldxdw %r0, [%r10-8]\nlsh %r0, 16\nadd %r0, %r6\nexit\n"
        "cb:\nldxdw %r3, [%r2]\nadd %r3, %r1\nstxdw [%r2], %r3\nmov %r0, 0\njne %r1, 900, +1\n"
        "mov %r0, 1\nexit\n";
    assert_true(trusted_text(sum, NULL, 0) == ((uint64_t)405450 << 16) + 901);
    const char *nested =
        "mov %r6, 66\nmov %r9, 99\nstdw [%r10-8], 0\nmov %r1, 7\nlddw %r2, func:outer\nmov %r3, %r10\n"
        "add %r3, -8\nmov %r4, 0\ncall 181\nldxdw %r0, [%r10-8]\nmul %r0, 1000\nadd %r0, %r6\n"
        "add %r0, %r9\nexit\n"
        "outer:\nmov %r6, %r2\nstdw [%r10-8], 1\nmov %r1, 9\nlddw %r2, func:inner\nmov %r3, %r6\n"
        "mov %r4, 0\ncall 181\nldxdw %r0, [%r10-8]\nsub %r0, 1\nexit\n"
        "inner:\nldxdw %r3, [%r2]\nadd %r3, %r1\nstxdw [%r2], %r3\nmov %r0, 0\nexit\n";
    assert_true(trusted_text(nested, NULL, 0) == 7 * 36 * 1000 + 165);
    /* three deep: c writes R6/R7, which b never touches (they hold main's
     * values there, live after main's loop: c's loop must save them even
     * though nothing in b reads them); b writes R9, which a never touches;
     * each passes its own Rb as ctx (the hoisted Rb needs no saving) */
    const char *deep3 =
        "mov %r6, 66\nmov %r7, 77\nmov %r8, 88\nmov %r9, 99\nstdw [%r10-8], 0\nmov %r1, 3\n"
        "lddw %r2, func:a\nmov %r3, %r10\nadd %r3, -8\nmov %r4, 0\ncall 181\n"
        "ldxdw %r0, [%r10-8]\nmul %r0, 1000\nadd %r0, %r6\nadd %r0, %r7\nadd %r0, %r8\n"
        "add %r0, %r9\nexit\n"
        "a:\nmov %r8, %r2\nmov %r1, 4\nlddw %r2, func:b\nmov %r3, %r8\nmov %r4, 0\ncall 181\n"
        "ldxdw %r3, [%r8]\nadd %r3, 1\nstxdw [%r8], %r3\nmov %r0, 0\nexit\n"
        "b:\nmov %r9, %r2\nmov %r1, 5\nlddw %r2, func:c\nmov %r3, %r9\nmov %r4, 0\ncall 181\n"
        "ldxdw %r3, [%r9]\nstxdw [%r9], %r3\nmov %r0, 0\nexit\n"
        "c:\nmov %r6, %r2\nldxdw %r7, [%r6]\nadd %r7, %r1\nstxdw [%r6], %r7\nmov %r0, 0\nexit\n";
    assert_int_equal(trusted_text(deep3, NULL, 0), 123 * 1000 + 66 + 77 + 88 + 99);
    /* data + (i + a), all three in registers (ctx slots and i): the
     * address is [data + r6] once r6 = i + a is computed */
    static uint8_t bytes[32];
    for (int k = 0; k < 32; k++)
        bytes[k] = (uint8_t)(k * 7 + 3);
    const char *three =
        "stxdw [%r10-24], %r1\nstdw [%r10-16], 5\nstdw [%r10-8], 0\nmov %r1, 8\n"
        "lddw %r2, func:cb\nmov %r3, %r10\nadd %r3, -24\nmov %r4, 0\ncall 181\n"
        "ldxdw %r0, [%r10-8]\nexit\n"
        "cb:\nmov %r9, %r2\nmov %r6, %r1\nldxdw %r3, [%r9+8]\nadd %r6, %r3\nldxdw %r1, [%r9]\n"
        "add %r1, %r6\nldxb %r0, [%r1]\nldxdw %r7, [%r9+16]\nadd %r7, %r0\nstxdw [%r9+16], %r7\n"
        "mov %r0, 0\nexit\n";
    uint64_t want3 = 0;
    for (int k = 5; k < 13; k++)
        want3 += bytes[k];
    assert_int_equal(trusted_text(three, bytes, sizeof bytes), want3);
    /* nr bounded by a test before it: the JIT drops the E2BIG test only
     * when the bound proves it cannot fire (here it can: 9,000,000) */
    const char *big =
        "stdw [%r10-8], 0\nmov %r1, 9000000\njge %r1, 9000001, skip\nadd %r1, 0\n"
        "lddw %r2, func:cb\nmov %r3, %r10\nadd %r3, -8\nmov %r4, 0\ncall 181\nexit\n"
        "skip:\nmov %r0, 5\nexit\ncb:\nmov %r0, 0\nexit\n";
    assert_int_equal(trusted_text(big, NULL, 0), (uint64_t)-E2BIG);
    /* a store of the body that writes what the slot holds (the caller
     * stored the same value there) emits nothing; one the caller did not
     * make, or next to another store of other bytes, stays */
    static const struct { int caller_k, other; uint64_t want; } st[] = {
        {7, 0, 7 << 8 | 10}, {5, 0, 7 << 8 | 10}, {7, 1, 7 << 8 | 10}};
    for (size_t t = 0; t < sizeof st / sizeof st[0]; t++) {
        char prog[1024];
        snprintf(prog, sizeof prog,
                 "mov %%r9, %%r10\nadd %%r9, -16\nstdw [%%r9+8], 0\nstdw [%%r9], %d\nmov %%r1, 5\n"
                 "lddw %%r2, func:cb\nmov %%r3, %%r9\nmov %%r4, 0\ncall 181\nldxdw %%r0, [%%r9]\n"
                 "ldxdw %%r1, [%%r9+8]\nlsh %%r0, 8\nadd %%r0, %%r1\nexit\n"
                 "cb:\nmov %%r8, %%r2\nldxdw %%r3, [%%r8+8]\nadd %%r3, %%r1\nstxdw [%%r8+8], %%r3\n"
                 "stdw [%%r8], 7\n%smov %%r0, 0\nexit\n",
                 st[t].caller_k, st[t].other ? "jne %r1, 2, +1\nstdw [%r8], 9\n" : "");
        assert_int_equal(trusted_text(prog, NULL, 0), st[t].want);
    }
    /* induction variables: acc += (m * (k - i)) ^ s with m, k, s ctx slots
     * the body never writes (a triangle's inner loop, counting down): m *
     * (k - i) is kept in a register stepped by -m; with `if i > 1000 goto
     * out` the loop is versioned and its check-free copy unrolled, whose
     * second body reads the value one step on */
    /* the checks after the body's work: never taken (the copy without
     * them runs all iterations, unrolled), or taken from i = 21 on to an
     * exit that goes on (the body as written runs 21..36: its copy starts
     * the variable at i = 21); `mov r1, 0` moves i out of R1's register
     * (the unrolled copy's second body then reads i + 1 as a form) */
    static const char *checks[] = {"", "jgt %r1, 1000, out\n", "jgt %r1, 20, cont\n"};
    for (int sign = -1; sign <= 1; sign += 2)
        for (int check = 0; check < 3; check++)
            for (int r1 = 0; r1 < 4; r1++) {
                /* r1 & 2: times a constant (3) instead of the slot m */
                const char *times = r1 & 2 ? "mov %r2, %r6\nmul %r2, 3\n"
                                           : "ldxdw %r2, [%r9]\nmul %r2, %r6\n";
                char tri[1024];
                snprintf(tri, sizeof tri,
                         "stdw [%%r10-32], 7\nstdw [%%r10-24], 40\nstdw [%%r10-16], 5\n"
                         "stdw [%%r10-8], 0\nmov %%r1, 37\nlddw %%r2, func:cb\nmov %%r3, %%r10\n"
                         "add %%r3, -32\nmov %%r4, 0\ncall 181\nldxdw %%r0, [%%r10-8]\nexit\n"
                         "cb:\nmov %%r9, %%r2\nmov %%r6, %%r1\nmul %%r6, %d\nldxdw %%r3, [%%r9+8]\n"
                         "add %%r6, %%r3\n%sldxdw %%r5, [%%r9+16]\n"
                         "xor %%r2, %%r5\nldxdw %%r7, [%%r9+24]\nadd %%r7, %%r2\n"
                         "stxdw [%%r9+24], %%r7\n%s%smov %%r0, 0\nexit\nout:\nmov %%r0, 1\nexit\n"
                         "cont:\nmov %%r0, 0\nexit\n",
                         sign, times, checks[check], r1 & 1 ? "mov %r1, 0\n" : "");
                uint64_t want_tri = 0;
                for (int64_t i = 0; i < 37; i++)
                    want_tri += (uint64_t)(((r1 & 2 ? 3 : 7) * (40 + sign * i)) ^ 5);
                assert_int_equal(trusted_text(tri, NULL, 0), want_tri);
            }
    /* an induction variable in the register of a slot the body only reads
     * to feed a hoisted value: acc += (a ~ b ~ c) ~ k, k = k0 +- i, with
     * R4 read and R8 written (fewer registers for the loop: without the
     * slots' registers, no room for k), k0 a constant or a slot, and the
     * checks above (a copy starting at i = 21 sets k from i there) */
    for (int sign = -1; sign <= 1; sign += 2)
        for (int check = 0; check < 3; check++)
            for (int v = 0; v < 8; v++) {
                const char *k0 = v & 1 ? "ldxdw %r3, [%r9+8]\nadd %r6, %r3\n" : "add %r6, 40\n";
                char body[1536];
                snprintf(body, sizeof body,
                         "stdw [%%r10-48], 0\nstdw [%%r10-40], 40\nstdw [%%r10-32], 0x55\n"
                         "stdw [%%r10-24], 0x1234\nstdw [%%r10-16], 0x7000\nmov %%r1, 37\n"
                         "lddw %%r2, func:cb\nmov %%r3, %%r10\nadd %%r3, -48\nmov %%r4, 0\n"
                         "call 181\nldxdw %%r0, [%%r10-48]\nexit\n"
                         "cb:\nmov %%r9, %%r2\nmov %%r6, %%r1\nmul %%r6, %d\n%s"
                         "ldxdw %%r2, [%%r9+16]\nldxdw %%r5, [%%r9+24]\nxor %%r2, %%r5\n"
                         "xor %%r2, %%r6\nldxdw %%r5, [%%r9+32]\nxor %%r2, %%r5\n"
                         "ldxdw %%r7, [%%r9]\nadd %%r7, %%r2\n%s%sstxdw [%%r9], %%r7\n%s"
                         "mov %%r0, 0\nexit\nout:\nmov %%r0, 1\nexit\ncont:\nmov %%r0, 0\nexit\n",
                         sign, k0, v & 2 ? "mov %r8, %r7\nadd %r7, %r8\nsub %r7, %r8\n" : "",
                         v & 4 ? "mov %r4, %r1\nand %r4, 0\nadd %r7, %r4\n" : "", checks[check]);
                uint64_t want = 0;
                for (int64_t i = 0; i < 37; i++)
                    want += (uint64_t)((0x55 ^ 0x1234 ^ 0x7000) ^ (40 + sign * i));
                assert_int_equal(trusted_text(body, NULL, 0), want);
            }
    /* stores to the area (R9 = R10 - 32, the callback's R9 = ctx) that
     * something reads stay: through R10 in main at the area's offset, a
     * wider load overlapping a narrower store, an atomic, a pointer other
     * than R9 / R10 (then no store is dead anywhere); [r9+24] is read by
     * nothing (the callback's store emits nothing); the area's last
     * 8 bytes at [r10-8] = [r9+24] */
    static const struct { const char *cb_store, *main_read; uint64_t want; } ds[] = {
        {"stxdw [%r9+8], %r1\n", "ldxdw %r0, [%r10-24]\n", 5},
        {"stxw [%r9+12], %r1\n", "ldxdw %r0, [%r9+8]\nrsh %r0, 32\n", 5},
        {"stxb [%r9+9], %r1\n", "ldxh %r0, [%r10-24]\nrsh %r0, 8\n", 5},
        {"stxdw [%r9+8], %r1\n", "mov %r0, 0\nlock fetch add [%r9+8], %r0\n", 5},
        {"stxdw [%r9+8], %r1\n", "mov %r4, %r9\nadd %r4, 8\nldxdw %r0, [%r4]\n", 5},
        {"stxdw [%r9+24], %r1\n", "ldxdw %r0, [%r10-24]\n", 0},
        {"stxdw [%r9+24], %r1\n", "ldxdw %r0, [%r10-8]\n", 5},
    };
    for (size_t t = 0; t < sizeof ds / sizeof ds[0]; t++) {
        char prog[1024];
        snprintf(prog, sizeof prog,
                 "mov %%r9, %%r10\nadd %%r9, -32\nstdw [%%r9], 0\nstdw [%%r9+8], 0\n"
                 "stdw [%%r9+16], 0\nstdw [%%r9+24], 0\nmov %%r1, 6\nlddw %%r2, func:cb\n"
                 "mov %%r3, %%r9\nmov %%r4, 0\ncall 181\n%sldxdw %%r1, [%%r9]\nlsh %%r1, 8\n"
                 "add %%r0, %%r1\nexit\n"
                 "cb:\nmov %%r9, %%r2\n%sldxdw %%r3, [%%r9]\nadd %%r3, 1\nstxdw [%%r9], %%r3\n"
                 "mov %%r5, 9\nstxdw [%%r9+16], %%r5\nstdw [%%r9+16], 0\nmov %%r0, 0\nexit\n",
                 ds[t].main_read, ds[t].cb_store);
        assert_int_equal(trusted_text(prog, NULL, 0), ds[t].want + (6 << 8));
    }
    /* a nest: the outer callback's store to [r9+16], which only the inner
     * loop reads, is dead when every way from it to the next inner loop
     * (this iteration's, or the next's) writes the bytes first (the
     * compiler's zeroing of an inner start): here after the inner loop,
     * with the store before the next one; not when the next iteration's
     * inner loop reads it first (a nested loop's reads count where it
     * runs), nor when main reads it after the loop */
    static const struct { const char *pre, *post, *main_read; uint64_t want; } nd[] = {
        {"stxdw [%r9+16], %r6\n", "stdw [%r9+16], 0\n", "mov %r0, 0\n", 108},
        {"", "stxdw [%r9+16], %r6\n", "mov %r0, 0\n", 86},
        {"stxdw [%r9+16], %r6\n", "stdw [%r9+16], 0\n", "ldxdw %r0, [%r9+16]\n", 108},
    };
    for (size_t t = 0; t < sizeof nd / sizeof nd[0]; t++) {
        char prog[1024];
        snprintf(prog, sizeof prog,
                 "mov %%r9, %%r10\nadd %%r9, -32\nstdw [%%r9], 0\nstdw [%%r9+8], 0\n"
                 "stdw [%%r9+16], 5\nstdw [%%r9+24], 0\nmov %%r1, 6\nlddw %%r2, func:outer\n"
                 "mov %%r3, %%r9\nmov %%r4, 0\ncall 181\n%sldxdw %%r1, [%%r9]\nlsh %%r1, 8\n"
                 "add %%r0, %%r1\nexit\n"
                 "outer:\nmov %%r9, %%r2\nmov %%r6, %%r1\nmul %%r6, 3\nadd %%r6, 1\n%s"
                 "mov %%r1, 2\nlddw %%r2, func:inner\nmov %%r3, %%r9\nmov %%r4, 0\ncall 181\n"
                 "%smov %%r0, 0\nexit\n"
                 "inner:\nmov %%r9, %%r2\nldxdw %%r3, [%%r9]\nldxdw %%r4, [%%r9+16]\n"
                 "add %%r3, %%r4\nadd %%r3, %%r1\nstxdw [%%r9], %%r3\nmov %%r0, 0\nexit\n",
                 nd[t].main_read, nd[t].pre, nd[t].post);
        assert_int_equal(trusted_text(prog, NULL, 0), nd[t].want << 8);
    }
    /* an inner loop whose j = x - 1 - i ends it by its sign (n = x, so
     * j's last value is 0), with n = 0 possible (x = i & 1): n reaches
     * rdi for the n == 0 test, though the loop never reads it after */
    const char *n_zero =
        "mov %r9, %r10\nadd %r9, -32\nstdw [%r9], 0\nstdw [%r9+8], 0\nstdw [%r9+16], 0\n"
        "stdw [%r9+24], 0\nmov %r1, 4\nlddw %r2, func:outer\nmov %r3, %r9\nmov %r4, 0\n"
        "call 181\nldxdw %r0, [%r9]\nexit\n"
        "outer:\nmov %r9, %r2\nmov %r6, %r1\nand %r6, 1\nstxdw [%r9+8], %r6\nmov %r1, %r6\n"
        "lddw %r2, func:inner\nmov %r3, %r9\nmov %r4, 0\ncall 181\nmov %r0, 0\nexit\n"
        "inner:\nmov %r9, %r2\nldxdw %r6, [%r9+8]\nadd %r6, -1\nsub %r6, %r1\n"
        "ldxdw %r3, [%r9]\nadd %r3, %r6\nadd %r3, 10\nstxdw [%r9], %r3\nmov %r0, 0\nexit\n";
    assert_int_equal(trusted_text(n_zero, NULL, 0), 20);
    /* a packet scan with early exit: the first zero byte at 1400 */
    static uint8_t pkt[1500];
    memset(pkt, 1, sizeof pkt);
    pkt[1400] = 0;
    const char *scan =
        "stxdw [%r10-16], %r1\nstdw [%r10-8], 0xffff\nmov %r1, %r2\nlddw %r2, func:cb\n"
        "mov %r3, %r10\nadd %r3, -16\nmov %r4, 0\ncall 181\nldxdw %r0, [%r10-8]\nexit\n"
        "cb:\nldxdw %r3, [%r2]\nadd %r3, %r1\nldxb %r3, [%r3]\nmov %r0, 0\njne %r3, 0, +2\n"
        "stxdw [%r2+8], %r1\nmov %r0, 1\nexit\n";
    assert_true(trusted_text(scan, pkt, sizeof pkt) == 1400);
    /* a callback known only at run time is called, not inlined */
    const char *dyn =
        "stdw [%r10-8], 0\nlddw %r2, func:a\njeq %r2, 0, +2\nlddw %r2, func:b\nmov %r1, 4\n"
        "mov %r3, %r10\nadd %r3, -8\nmov %r4, 0\ncall 181\nldxdw %r0, [%r10-8]\nexit\n"
        "a:\nldxdw %r3, [%r2]\nadd %r3, 1\nstxdw [%r2], %r3\nmov %r0, 0\nexit\n"
        "b:\nldxdw %r3, [%r2]\nadd %r3, 10\nstxdw [%r2], %r3\nmov %r0, 0\nexit\n";
    assert_true(trusted_text(dyn, NULL, 0) == 40);
    /* an inlined callback that uses R6-R9, its own frame, a helper and R1/R2
     * after writing them: the loop variables live in memory then */
    const char *busy =
        "mov %r6, 6\nmov %r7, 7\nmov %r8, 8\nmov %r9, 9\nstdw [%r10-8], 0\nmov %r1, 20\n"
        "lddw %r2, func:cb\nmov %r3, %r10\nadd %r3, -8\nmov %r4, 0\ncall 181\n"
        "ldxdw %r1, [%r10-8]\nlsh %r0, 32\nadd %r0, %r1\nadd %r0, %r6\nadd %r0, %r7\n"
        "add %r0, %r8\nadd %r0, %r9\nexit\n"
        "cb:\nmov %r6, %r1\nmov %r7, %r2\nmov %r8, 3\nmov %r9, 5\nstxdw [%r10-16], %r6\n"
        "call 8\nldxdw %r1, [%r10-16]\nmul %r1, %r8\nadd %r1, %r9\nmov %r2, 0\n"
        "ldxdw %r3, [%r7]\nadd %r3, %r1\nstxdw [%r7], %r3\nmov %r0, 0\njlt %r6, 15, +1\n"
        "mov %r0, 1\nexit\n";
    /* i = 0..15: sum(3i + 5) = 3 * 120 + 80 = 440, 16 iterations */
    assert_true(trusted_text(busy, NULL, 0) == ((uint64_t)16 << 32) + 440 + 30);
}

/* What the inlined loop keeps in registers (ctx slots, loop variables) and
 * what it skips (dead definitions, R1/R2 when the body does not read them,
 * the leading `mov Rb, r2`, R0 at an exit returning a known 0) must never
 * be observable: each program runs in the interpreter and the JIT. */
static void test_inlined_loop_state(void **state)
{
    uint8_t mem[4] = {0x80, 0xff, 0x7f, 1};
    assert_true(trusted_text("lddw %r0, -1\nldxh %r0, [%r1+1]\nbe16 %r0\nmul %r0, 8\nexit\n", mem,
                             sizeof mem) == 0xff7f * 8);
    /* main for both: ctx = [r10-32] (acc, then a pointer to acc at
     * [r10-24], then a sum at [r10-16]), 10 iterations; returns
     * sum * 1000 + acc */
#define SPILLED_MAIN                                                                       \
    "stdw [%r10-32], 0\nmov %r1, %r10\nadd %r1, -32\nstxdw [%r10-24], %r1\n"             \
    "stdw [%r10-16], 0\nmov %r1, 10\nlddw %r2, func:cb\nmov %r3, %r10\nadd %r3, -32\n"    \
    "mov %r4, 0\ncall 181\nldxdw %r0, [%r10-16]\nmul %r0, 1000\nldxdw %r1, [%r10-32]\n" \
    "add %r0, %r1\nexit\n"
    /* a promoted slot written in the loop and read back through a pointer
     * to it that was spilled to the stack: memory must be current */
    const char *spilled =
        SPILLED_MAIN
        "cb:\nmov %r9, %r2\nldxdw %r3, [%r9]\nadd %r3, %r1\nstxdw [%r9], %r3\n"
        "ldxdw %r4, [%r9+8]\nldxdw %r5, [%r4]\nldxdw %r0, [%r9+16]\nadd %r0, %r5\n"
        "stxdw [%r9+16], %r0\nmov %r0, 0\nexit\n";
    /* acc after i = i(i+1)/2; the sum of those for i < 10 is 165 */
    assert_true(trusted_text(spilled, NULL, 0) == 165 * 1000 + 45);
    /* the same slot written through the spilled pointer, read directly */
    const char *spilled_store =
        SPILLED_MAIN
        "cb:\nmov %r9, %r2\nldxdw %r4, [%r9+8]\nldxdw %r3, [%r9]\nadd %r3, %r1\n"
        "stxdw [%r4], %r3\nldxdw %r0, [%r9]\nldxdw %r5, [%r9+16]\nadd %r5, %r0\n"
        "stxdw [%r9+16], %r5\nmov %r0, 0\nexit\n";
    assert_true(trusted_text(spilled_store, NULL, 0) == 165 * 1000 + 45);
#undef SPILLED_MAIN
    /* breaks with dirty promoted slots, from the middle and at the end */
    const char *brk =
        "stdw [%r10-32], 0\nstdw [%r10-24], 7\nmov %r1, 100\nlddw %r2, func:cb\n"
        "mov %r3, %r10\nadd %r3, -32\nmov %r4, 0\ncall 181\nlsh %r0, 32\nldxdw %r1, [%r10-32]\n"
        "add %r0, %r1\nldxdw %r1, [%r10-24]\nmul %r1, 100000\nadd %r0, %r1\nexit\n"
        "cb:\nmov %r9, %r2\nldxdw %r3, [%r9]\nadd %r3, %r1\nstxdw [%r9], %r3\n"
        "ldxdw %r4, [%r9+8]\nadd %r4, 1\nstxdw [%r9+8], %r4\njne %r1, 12, +2\nmov %r0, 1\nexit\n"
        "mov %r0, 0\njlt %r3, 60, +1\nmov %r0, 1\nexit\n";
    /* acc reaches 66 at i = 11 (>= 60): break after 12 iterations */
    assert_true(trusted_text(brk, NULL, 0) == ((uint64_t)12 << 32) + 19 * 100000 + 66);
    const char *brk_mid =
        "stdw [%r10-32], 0\nstdw [%r10-24], 7\nmov %r1, 100\nlddw %r2, func:cb\n"
        "mov %r3, %r10\nadd %r3, -32\nmov %r4, 0\ncall 181\nlsh %r0, 32\nldxdw %r1, [%r10-32]\n"
        "add %r0, %r1\nldxdw %r1, [%r10-24]\nmul %r1, 100000\nadd %r0, %r1\nexit\n"
        "cb:\nmov %r9, %r2\nldxdw %r3, [%r9]\nadd %r3, %r1\nstxdw [%r9], %r3\n"
        "ldxdw %r4, [%r9+8]\nadd %r4, 1\nstxdw [%r9+8], %r4\njne %r1, 12, +2\nmov %r0, 1\nexit\n"
        "mov %r0, 0\nexit\n";
    assert_true(trusted_text(brk_mid, NULL, 0) == ((uint64_t)13 << 32) + 20 * 100000 + 78);
    /* a helper reading the caller's stack inside the loop (the key and
     * value of a map update live in the ctx area the loop also writes) */
    const char *helper =
        ".map h hash key=4 value=8 entries=64\n"
        "stdw [%r10-16], 0\nstdw [%r10-8], 0\nmov %r1, 20\nlddw %r2, func:cb\nmov %r3, %r10\n"
        "add %r3, -16\nmov %r4, 0\ncall 181\nstw [%r10-4], 19\nlddw %r1, map:h\nmov %r2, %r10\n"
        "add %r2, -4\ncall 1\njne %r0, 0, +2\nmov %r0, 99\nexit\nldxdw %r0, [%r0]\nexit\n"
        "cb:\nmov %r9, %r2\nstxw [%r9], %r1\nldxdw %r3, [%r9+8]\nadd %r3, %r1\nstxdw [%r9+8], %r3\n"
        "lddw %r1, map:h\nmov %r2, %r9\nmov %r3, %r9\nadd %r3, 8\nmov %r4, 0\ncall 2\n"
        "mov %r0, 0\nexit\n";
    assert_true(trusted_text(helper, NULL, 0) == 190);
    /* nested loops whose bodies do not read i or R2 after the leading mov,
     * with dead definitions and a known-0 exit in both */
    const char *nested =
        "stdw [%r10-16], 0\nstdw [%r10-8], 3\nmov %r1, 6\nlddw %r2, func:outer\nmov %r3, %r10\n"
        "add %r3, -16\nmov %r4, 0\ncall 181\nldxdw %r0, [%r10-16]\nldxdw %r1, [%r10-8]\n"
        "mul %r1, 1000\nadd %r0, %r1\nexit\n"
        "outer:\nmov %r8, %r2\nmov %r1, 5\nlddw %r2, func:inner\nmov %r3, %r8\nmov %r4, 0\n"
        "call 181\nldxdw %r3, [%r8+8]\nadd %r3, 1\nmov %r3, %r3\nstxdw [%r8+8], %r3\nmov %r0, 7\n"
        "mov %r0, 0\nexit\n"
        "inner:\nmov %r7, %r2\nmov %r2, 11\nmov %r1, 3\nldxdw %r3, [%r7]\nadd %r3, %r1\n"
        "mov %r1, %r3\nstxdw [%r7], %r3\nmov %r0, 0\nexit\n";
    assert_true(trusted_text(nested, NULL, 0) == 9 * 1000 + 90);
    /* atomics after copies: the compiler's launder (`lock add [slot], 0`,
     * which emits nothing) keeps the copy r3 of the slot's register for
     * the test after it; a fetch-add whose source is a copy of i writes
     * that register itself, so the copy must not outlive it */
#define ATOMIC_MAIN                                                                           \
    "stdw [%r10-16], 0\nstdw [%r10-8], 0\nmov %r1, 40\nlddw %r2, func:cb\nmov %r3, %r10\n" \
    "add %r3, -16\nmov %r4, 0\ncall 181\nlsh %r0, 32\nldxdw %r1, [%r10-16]\nadd %r0, %r1\n"  \
    "ldxdw %r1, [%r10-8]\nlsh %r1, 16\nadd %r0, %r1\nexit\n"
    const char *launder =
        ATOMIC_MAIN
        "cb:\nmov %r9, %r2\nldxdw %r3, [%r9]\nadd %r3, %r1\nstxdw [%r9], %r3\nmov %r0, 0\n"
        "lock add [%r9], %r0\njsgt %r3, 300, +2\nmov %r0, 0\nexit\nmov %r0, 1\nexit\n";
    /* sum of i reaches 325 > 300 at i = 25: 26 iterations */
    assert_true(trusted_text(launder, NULL, 0) == ((uint64_t)26 << 32) + 325);
    const char *fetch =
        ATOMIC_MAIN
        "cb:\nmov %r9, %r2\nmov %r3, %r1\nlock fetch add [%r9+8], %r3\nldxdw %r4, [%r9]\n"
        "add %r4, %r3\nstxdw [%r9], %r4\nmov %r0, 0\nexit\n";
    /* [r9+8] = sum of i < 40 = 780; [r9] = sum of the values before each
     * add: sum over i of i(i-1)/2 = 9880 */
    assert_true(trusted_text(fetch, NULL, 0) == ((uint64_t)40 << 32) + (780 << 16) + 9880);
#undef ATOMIC_MAIN
}

/* Register operands whose value is a known constant become immediates
 * (jit/const_operands.c): only where the value is known on the straight
 * path, with the widths right. Each part folds into r0; the JIT must
 * agree with the interpreter (trusted_text asserts it). */
static void test_const_operands(void **state)
{
    /* 64-bit ops: a small negative constant (rewritten), one above 2^31
     * (mov32 -1: 0xffffffff, kept) and one above 2^32 (lddw, kept), each
     * also through 32-bit ops and jumps (their low 32 bits) */
    const char *widths =
        "mov %r6, -5\nmov32 %r8, -1\nlddw %r7, 0x100000003\nmov %r0, 100\nadd %r0, %r6\n"
        "mul %r0, %r6\nsub32 %r0, %r7\nxor %r0, %r8\nadd %r0, %r7\nor %r0, %r6\n"
        "and32 %r0, %r8\nmov %r1, %r8\nadd %r0, %r1\njsgt %r0, %r6, +1\nadd %r0, 1000\n"
        "jne32 %r0, %r7, +1\nadd %r0, 2000\njgt %r8, %r0, +1\nadd %r0, 4000\n"
        "mov32 %r2, %r7\nlsh %r2, 40\nadd %r0, %r2\nsub %r0, %r6\nadd %r0, %r8\n"
        "exit\n";
    trusted_text(widths, NULL, 0);
    /* a jump target forgets what the straight path knew: r1 is 7 or 9
     * there; a load and an atomic fetch redefine their registers */
    const char *joins =
        "mov %r0, 0\nstdw [%r10-8], 40\nmov %r1, 7\njeq %r0, 0, +1\nmov %r1, 9\n"
        "add %r0, %r1\nmov %r3, 4\nlock fetch add [%r10-8], %r3\nadd %r0, %r3\nmov %r4, 2\n"
        "ldxdw %r4, [%r10-8]\nmul %r0, %r4\nmov %r5, 3\njne %r0, 0, +1\nmov %r5, 6\n"
        "add %r0, %r5\nexit\n";
    /* (7 + 40) * 44 + 3 */
    assert_true(trusted_text(joins, NULL, 0) == 47 * 44 + 3);
    /* the compiler's loop start: stop a constant, read by the range test
     * and the trip count, in a callback inlined into a loop */
    const char *loop =
        "stdw [%r10-8], 0\nmov %r1, 5\nlddw %r2, func:cb\nmov %r3, %r10\nadd %r3, -8\n"
        "mov %r4, 0\ncall 181\nldxdw %r0, [%r10-8]\nexit\n"
        "cb:\nmov %r9, %r2\nmov %r6, %r1\nmov %r7, 2\njslt %r6, %r7, +5\nmov %r1, %r6\n"
        "sub %r1, %r7\nldxdw %r3, [%r9]\nadd %r3, %r1\nstxdw [%r9], %r3\nmov %r0, 0\nexit\n";
    /* i - 2 for i = 2..4 */
    assert_true(trusted_text(loop, NULL, 0) == 0 + 1 + 2);
}

/* bpf_map_lookup_elem / bpf_map_update_elem on array maps are inlined:
 * every outcome (in range, out of range, each flag, value sizes) must be
 * the helper's */
static void test_array_inline(void **state)
{
    const char *prog =
        ".map a array key=4 value=8 entries=5\n"
        ".map w array key=4 value=4 entries=3\n"
        ".map big array key=4 value=16 entries=2\n"
        /* r6 accumulates results; keys 0..6 (5, 6 out of range), flags 0..3 */
        "mov %r6, 0\nmov %r7, 0\n"
        "stxw [%r10-4], %r7\nmov %r1, %r7\nmul %r1, 1000\nadd %r1, 7\nstxdw [%r10-16], %r1\n"
        "lddw %r1, map:a\nmov %r2, %r10\nadd %r2, -4\nmov %r3, %r10\nadd %r3, -16\nmov %r4, %r7\n"
        "and %r4, 3\ncall 2\nmul %r6, 31\nadd %r6, %r0\n"
        "lddw %r1, map:w\nmov %r2, %r10\nadd %r2, -4\nmov %r3, %r10\nadd %r3, -16\nmov %r4, 0\n"
        "call 2\nmul %r6, 31\nadd %r6, %r0\n"
        "lddw %r1, map:a\nmov %r2, %r10\nadd %r2, -4\ncall 1\njeq %r0, 0, +3\nldxdw %r1, [%r0]\n"
        "add %r6, %r1\nja +1\nadd %r6, 1000000\n"
        "lddw %r1, map:w\nmov %r2, %r10\nadd %r2, -4\ncall 1\njeq %r0, 0, +2\nldxw %r1, [%r0]\n"
        "add %r6, %r1\n"
        "lddw %r1, map:big\nmov %r2, %r10\nadd %r2, -4\nmov %r3, %r10\nadd %r3, -16\nmov %r4, 0\n"
        "call 2\nmul %r6, 31\nadd %r6, %r0\n"
        "add %r7, 1\njlt %r7, 7, -56\n"
        /* the map's contents, read back through lookups */
        "mov %r7, 0\nstxw [%r10-4], %r7\nlddw %r1, map:a\nmov %r2, %r10\nadd %r2, -4\ncall 1\n"
        "jeq %r0, 0, +3\nldxdw %r1, [%r0]\nmul %r6, 17\nxor %r6, %r1\nadd %r7, 1\njlt %r7, 5, -12\n"
        "mov %r0, %r6\nexit\n";
    bpflua_object *obj = assemble(prog);
    assert_non_null(obj);
    trusted2(obj, NULL, 0, 0);
    bpflua_object_free(obj);
}

/* loops inside loops inside loops at many call sites: inlining stays
 * bounded (each level would multiply the code by 12 otherwise) */
static void test_inline_budget(void **state)
{
    static char text[65536];
    size_t len = 0;
    len += (size_t)snprintf(text + len, sizeof text - len,
                            "stdw [%%r10-8], 0\nmov %%r1, 1\nlddw %%r2, func:f1\nmov %%r3, %%r10\n"
                            "add %%r3, -8\nmov %%r4, 0\ncall 181\nldxdw %%r0, [%%r10-8]\nexit\n");
    for (int level = 1; level <= 4; level++) {
        len += (size_t)snprintf(text + len, sizeof text - len, "f%d:\nmov %%r6, %%r2\n", level);
        if (level == 4) {
            len += (size_t)snprintf(text + len, sizeof text - len,
                                    "ldxdw %%r1, [%%r6]\nadd %%r1, 1\nstxdw [%%r6], %%r1\n");
        } else {
            for (int k = 0; k < 12; k++)
                len += (size_t)snprintf(text + len, sizeof text - len,
                                        "mov %%r1, 1\nlddw %%r2, func:f%d\nmov %%r3, %%r6\n"
                                        "mov %%r4, 0\ncall 181\n", level + 1);
        }
        len += (size_t)snprintf(text + len, sizeof text - len, "mov %%r0, 0\nexit\n");
    }
    assert_true(trusted_text(text, NULL, 0) == 12 * 12 * 12);
}

static uint64_t run_engine(bpflua_object *obj, enum bpflua_engine engine, uint8_t *pkt,
                           size_t len);

/* An outer loop whose body calls only loops keeps values in r9-r11
 * after the callee-saved registers: here its n and an induction variable
 * (5 * i + 3, read after the inner loop). With a small inlining budget
 * the inner loop is called, and the innermost one, inlined into the inner
 * callback's own code, takes r9-r11 for its slots: what the enclosing
 * loops keep there is saved around the call (not saving it fails). */
static void test_nest_scratch_regs(void **state)
{
    static const char text[] =
        "ldxw %r2, [%r1+0]\nldxw %r3, [%r1+4]\nmov %r4, %r2\nadd %r4, 1\nmov %r0, 0\n"
        "jgt %r4, %r3, out\nldxb %r6, [%r2]\n"
        "mov %r9, %r10\nadd %r9, -64\n"
        "stdw [%r9+8], 0\nstdw [%r9+48], 0\nstdw [%r9+56], 0\n"
        "mov %r1, %r6\nand %r1, 7\nadd %r1, 5\nlddw %r2, func:outer\nmov %r3, %r9\nmov %r4, 0\n"
        "call 181\nldxdw %r0, [%r9+8]\nout:\nexit\n"
        "outer:\nmov %r9, %r2\n"
        "mov %r6, %r1\nmul %r6, 5\nadd %r6, 3\n"
        "mov %r1, 3\nlddw %r2, func:inner\nmov %r3, %r9\nmov %r4, 0\ncall 181\n"
        "ldxdw %r5, [%r9+8]\nmul %r5, 3\nadd %r5, %r6\n"
        "stxdw [%r9+8], %r5\nmov %r0, 0\nexit\n"
        "inner:\nmov %r9, %r2\nmov %r6, %r1\nmul %r6, 7\nstxdw [%r9+56], %r6\n"
        "mov %r1, 4\nlddw %r2, func:inn\nmov %r3, %r9\nmov %r4, 0\ncall 181\n"
        "mov %r0, 0\nexit\n"
        "inn:\nmov %r9, %r2\nldxdw %r7, [%r9+8]\nadd %r7, %r1\nldxdw %r8, [%r9+56]\n"
        "xor %r7, %r8\nstxdw [%r9+8], %r7\nmov %r0, 0\nexit\n";
    uint64_t want = 0;
    for (uint32_t budget = 0; budget < 80; budget += budget ? 1 : 10) {
        bpflua_object *obj = assemble(text);
        assert_non_null(obj);
        assert_int_equal(bpflua_verify(obj, 0, 0, NULL, NULL, NULL), 0);
        struct bl_prog *p = bl_object_prog(obj, 0);
        uint8_t pkt[16] = {6};
        uint64_t ri = run_engine(obj, BPFLUA_ENGINE_INTERP, pkt, sizeof pkt);
        if (p->jit) {
            bl_jit_free(p->jit);
            p->jit = NULL;
        }
        char *err = NULL;
        struct bl_jit_opts jo = {.inline_budget = budget};
        assert_int_equal(bl_jit_compile_opts(p, &jo, &err), 0);
        uint8_t pkt2[16] = {6};
        uint64_t rj = run_engine(obj, BPFLUA_ENGINE_JIT, pkt2, sizeof pkt2);
        if (ri != rj)
            print_message("budget %u: interp %llu jit %llu\n", budget, (unsigned long long)ri,
                          (unsigned long long)rj);
        assert_true(ri == rj);
        assert_true(!want || ri == want);
        want = ri;
        bpflua_object_free(obj);
    }
}

static void test_maps_and_for_each(void **state)
{
    /* fill an array map in a bpf_loop (helper calls from a callback: the
     * stack must stay 16-byte aligned), then sum it with for_each */
    const char *text =
        ".map arr array key=4 value=8 entries=16\n"
        "mov %r1, 16\nlddw %r2, func:fill\nmov %r3, 0\nmov %r4, 0\ncall 181\n"
        "mov %r6, %r0\n"
        "stdw [%r10-8], 0\nlddw %r1, map:arr\nlddw %r2, func:sum\nmov %r3, %r10\nadd %r3, -8\n"
        "mov %r4, 0\ncall 164\nlsh %r0, 32\nldxdw %r1, [%r10-8]\nadd %r0, %r1\nlsh %r6, 48\n"
        "add %r0, %r6\nexit\n"
        "fill:\nstxw [%r10-4], %r1\nmov %r6, %r1\nlddw %r1, map:arr\nmov %r2, %r10\nadd %r2, -4\n"
        "call 1\njeq %r0, 0, +3\nmov %r1, %r6\nmul %r1, %r1\nstxdw [%r0], %r1\nmov %r0, 0\nexit\n"
        "sum:\nldxdw %r1, [%r3]\nldxdw %r5, [%r4]\nadd %r5, %r1\nstxdw [%r4], %r5\nmov %r0, 0\nexit\n";
    bpflua_object *obj = assemble(text);
    assert_non_null(obj);
    uint64_t r0 = trusted2(obj, NULL, 0, 0);
    /* sum of squares 0..15 = 1240, 16 elements, 16 loop iterations */
    assert_true(r0 == ((uint64_t)16 << 48) + ((uint64_t)16 << 32) + 1240);
    bpflua_object_free(obj);

    /* a hash map, updated from the main program, for_each that stops early */
    text =
        ".map h hash key=4 value=8 entries=64\n"
        "mov %r6, 0\n"
        "again:\nstxw [%r10-4], %r6\nstxdw [%r10-16], %r6\nlddw %r1, map:h\nmov %r2, %r10\n"
        "add %r2, -4\nmov %r3, %r10\nadd %r3, -16\nmov %r4, 0\ncall 2\nadd %r6, 1\n"
        "jlt %r6, 10, again\n"
        "stdw [%r10-24], 0\nlddw %r1, map:h\nlddw %r2, func:cb\nmov %r3, %r10\nadd %r3, -24\n"
        "mov %r4, 0\ncall 164\nlsh %r0, 32\nldxdw %r1, [%r10-24]\nadd %r0, %r1\nexit\n"
        "cb:\nldxdw %r1, [%r4]\nadd %r1, 1\nstxdw [%r4], %r1\nmov %r0, 0\njlt %r1, 4, +1\n"
        "mov %r0, 1\nexit\n";
    obj = assemble(text);
    assert_non_null(obj);
    r0 = trusted2(obj, NULL, 0, 0);
    assert_true(r0 == ((uint64_t)4 << 32) + 4);
    bpflua_object_free(obj);
}

/* runs text in the JIT's raw mode only, with helpers from find; returns
 * R0, *fault whether the run faulted */
static uint64_t jit_raw_find(const char *text, const struct bpflua_helper *(*find)(uint32_t),
                             int *fault)
{
    bpflua_object *obj = assemble(text);
    assert_non_null(obj);
    struct bl_prog *p = bl_object_prog(obj, 0);
    p->exec_insns = malloc(p->n_insns * sizeof *p->insns);
    memcpy(p->exec_insns, p->insns, p->n_insns * sizeof *p->insns);
    struct bl_jit_opts jo = {.raw = 1, .helper_find = find};
    char *err = NULL;
    assert_int_equal(bl_jit_compile_opts(p, &jo, &err), 0);
    struct bpflua_run_env env = {.obj = obj};
    uint64_t r0 = bl_jit_run_mem(p->jit, 0, 0, NULL, 0, &env);
    *fault = env.fault;
    bpflua_object_free(obj);
    return r0;
}

static const struct bpflua_helper *find_7777(uint32_t id);

/* raw mode with a helper table of the caller's own (as the conformance
 * runner's), which the JIT then trusts */
static uint64_t jit_raw_only(const char *text)
{
    int fault;
    uint64_t r0 = jit_raw_find(text, find_7777, &fault);
    assert_int_equal(fault, 0);
    return r0;
}

/* a helper that calls back into the engine through env->call */
static uint64_t call_twice_helper(uint64_t cb, uint64_t a, uint64_t b, uint64_t r4, uint64_t r5,
                                  struct bpflua_run_env *env)
{
    uint64_t x = env->call(env, cb, a, b, 0, 0, 0);
    uint64_t y = env->call(env, cb, b, a, 0, 0, 0);
    return x * 1000 + y;
}

static const struct bpflua_helper call_twice = {
    7777, "call_twice", call_twice_helper, BPFLUA_RET_INTEGER,
    {BPFLUA_ARG_PTR_TO_FUNC, BPFLUA_ARG_ANYTHING, BPFLUA_ARG_ANYTHING}};

static const struct bpflua_helper *find_7777(uint32_t id)
{
    return id == 7777 ? &call_twice : bl_helper_find(id);
}

static void test_env_call(void **state)
{
    const struct bpflua_helper h = call_twice;
    int rc = bpflua_register_helper(&h);
    assert_true(rc == 0 || rc == -EEXIST);
    const char *text =
        "mov %r6, 5\nlddw %r1, func:cb\nmov %r2, 3\nmov %r3, 40\ncall 7777\nadd %r0, %r6\nexit\n"
        "cb:\nstxdw [%r10-8], %r1\nmov %r6, %r2\nmov %r1, 2\nlddw %r2, func:inner\nmov %r3, %r10\n"
        "add %r3, -8\nmov %r4, 0\ncall 181\nldxdw %r0, [%r10-8]\nsub %r0, %r6\nexit\n"
        "inner:\nldxdw %r1, [%r2]\nmul %r1, 2\nstxdw [%r2], %r1\nmov %r0, 0\nexit\n";
    /* cb(3, 40) = 12 - 40, cb(40, 3) = 160 - 3 */
    uint64_t want = (uint64_t)(12 - 40) * 1000 + 157 + 5;
    assert_true(trusted_text(text, NULL, 0) == want);
    /* the interpreter's raw mode refuses helpers taking pointers: JIT only,
     * with a helper table of our own; with the kernel's ids, raw code may
     * not call a helper that takes pointers (nor for_each) */
    assert_true(jit_raw_only(text) == want);
    int fault = 0;
    jit_raw_find(text, NULL, &fault);
    assert_int_equal(fault, 1);
    jit_raw_find("mov %r1, 0\nmov %r2, 0\nmov %r3, 0\nmov %r4, 0\ncall 164\nexit\n", NULL, &fault);
    assert_int_equal(fault, 1);
    /* a callback value that is no function of the program */
    jit_raw_find("mov %r6, 1\nlddw %r2, func:cb\nadd %r2, %r6\nmov %r1, 3\nmov %r3, 0\n"
                 "mov %r4, 0\ncall 181\nexit\ncb:\nmov %r0, 0\nexit\n", NULL, &fault);
    assert_int_equal(fault, 1);
    /* callx reaches the same helper */
    const char *cx = "mov %r6, 7777\nlddw %r1, func:cb\nmov %r2, 1\nmov %r3, 2\ncallx %r6\nexit\n"
                     "cb:\nmov %r0, %r1\nmul %r0, 10\nadd %r0, %r2\nexit\n";
    assert_true(jit_raw_only(cx) == 12 * 1000 + 21);
}

static void test_code_properties(void **state)
{
    bpflua_object *obj = assemble("mov %r0, 1\nexit\n");
    struct both b;
    assert_int_equal(run_both_raw(obj, bl_helper_find, NULL, 0, &b), 0);
    struct bl_prog *p = bl_object_prog(obj, 0);
    assert_true(bl_jit_code_size(p->jit) > 0);
    assert_true(bl_jit_compile_ns(p->jit) > 0);
    bpflua_object_free(obj);
    /* bad programs are refused, not crashed on */
    static const char *bad[] = {
        "mov %r10, 1\nexit\n",
        "mov %r0, 1\n",
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        obj = assemble(bad[k]);
        assert_non_null(obj);
        struct bl_prog *q = bl_object_prog(obj, 0);
        q->exec_insns = malloc(q->n_insns * sizeof *q->insns);
        memcpy(q->exec_insns, q->insns, q->n_insns * sizeof *q->insns);
        char *err = NULL;
        int rc = bl_jit_compile(q, &err);
        if (rc == 0) { /* falls off the end: faults at run time */
            struct bpflua_run_env env = {.obj = obj};
            bl_jit_run_mem(q->jit, 0, 0, NULL, 0, &env);
            assert_int_equal(env.fault, 1);
        } else {
            assert_non_null(err);
        }
        free(err);
        bpflua_object_free(obj);
    }
    /* a jump out of range, an invalid register, crafted directly */
    obj = bpflua_object_new();
    struct bl_insn insns[3] = {{.code = BL_JMP | BL_JA, .off = 5}, {.code = BL_JMP | BL_EXIT}};
    assert_true(bpflua_object_add_prog(obj, "x", "xdp", insns, 2, NULL, 0, NULL, 0) >= 0);
    p = bl_object_prog(obj, 0);
    char *err = NULL;
    assert_true(bl_jit_compile(p, &err) < 0);
    free(err);
    err = NULL;
    p->insns[0] = (struct bl_insn){.code = BL_ALU64 | BL_MOV | BL_K, .dst = 12};
    assert_true(bl_jit_compile(p, &err) < 0);
    free(err);
    bpflua_object_free(obj);
}

/* ---- the verifier corpus: every accepted program, both engines -------------- */

/* runs a packet through program 0 of obj; the verdict, then the packet */
static uint64_t run_engine(bpflua_object *obj, enum bpflua_engine engine, uint8_t *pkt, size_t len)
{
    struct bpflua_run_opts opts = {.engine = engine};
    struct bpflua_run_result res;
    char *err = NULL;
    int rc = bpflua_run(obj, 0, pkt, len, &opts, &res, &err);
    if (rc) {
        print_message("run (%s): %s\n", engine == BPFLUA_ENGINE_JIT ? "jit" : "interp",
                      err ? err : "?");
        free(err);
        return (uint64_t)(int64_t)rc;
    }
    return res.retval;
}

/* A bpf_loop body reading (and writing) the packet while it keeps ctx slots
 * in registers. The verifier records which kind of memory each access
 * touched (aux.mem_kinds); the JIT writes the slots back only after the
 * loop when no other access of the body may touch the stack. Verified by
 * the real verifier, run in both engines, packets and R0 compared; the
 * variants read a slot through a spilled stack pointer (must see current
 * memory) and store into the packet. */
static void test_packet_loads_in_loops(void **state)
{
    static const char *variants[] = {
        "",
        "ldxdw %r8, [%r9-8]\nldxdw %r6, [%r8+16]\nldxdw %r7, [%r9+24]\nadd %r7, %r6\n"
        "stxdw [%r9+24], %r7\n",
        "stxb [%r3], %r7\n",
        "stxb [%r3+1], %r7\nldxdw %r8, [%r9-8]\nmov %r6, 5\nstxdw [%r8+24], %r6\n",
    };
    for (size_t v = 0; v < sizeof variants / sizeof variants[0]; v++) {
        char text[2048];
        snprintf(text, sizeof text,
                 "ldxw %%r2, [%%r1+0]\nldxw %%r3, [%%r1+4]\nstxdw [%%r10-40], %%r2\n"
                 "stxdw [%%r10-32], %%r3\nstdw [%%r10-24], 0\nstdw [%%r10-16], 0\n"
                 "mov %%r4, %%r10\nadd %%r4, -40\nstxdw [%%r10-48], %%r4\nmov %%r1, 700\n"
                 "lddw %%r2, func:cb\nmov %%r3, %%r10\nadd %%r3, -40\nmov %%r4, 0\ncall 181\n"
                 "ldxdw %%r0, [%%r10-24]\nldxdw %%r1, [%%r10-16]\nmul %%r1, 3\nxor %%r0, %%r1\n"
                 "and %%r0, 0xffffff\nexit\n"
                 "cb:\nmov %%r9, %%r2\nldxdw %%r3, [%%r9+0]\nldxdw %%r4, [%%r9+8]\nmov %%r5, %%r1\n"
                 "lsh %%r5, 1\njgt %%r5, 1400, out\nadd %%r3, %%r5\nmov %%r6, %%r3\nadd %%r6, 2\n"
                 "jgt %%r6, %%r4, out\nldxh %%r0, [%%r3]\nldxdw %%r7, [%%r9+16]\nadd %%r7, %%r0\n"
                 "stxdw [%%r9+16], %%r7\n%smov %%r0, 0\nexit\nout:\nmov %%r0, 1\nexit\n",
                 variants[v]);
        bpflua_object *oi = assemble(text), *oj = assemble(text);
        assert_non_null(oi);
        assert_non_null(oj);
        assert_int_equal(bpflua_verify(oi, 0, 0, NULL, NULL, NULL), 0);
        assert_int_equal(bpflua_verify(oj, 0, 0, NULL, NULL, NULL), 0);
        /* the packet load in the callback touched the packet only */
        struct bl_prog *p = bl_object_prog(oj, 0);
        int pkt_loads = 0;
        for (uint32_t i = 0; i < p->n_insns; i++)
            if (p->insns[i].code == (BL_LDX | BL_MEM | BL_H)) {
                assert_int_equal(p->aux[i].mem_kinds, BL_MEMK_PACKET);
                pkt_loads++;
            }
        assert_int_equal(pkt_loads, 1);
        static const size_t lens[] = {1500, 1000, 101, 14};
        for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
            uint8_t pi[1500], pj[1500];
            for (size_t b = 0; b < lens[k]; b++)
                pi[b] = pj[b] = (uint8_t)(b * 29 + k + v);
            uint64_t ri = run_engine(oi, BPFLUA_ENGINE_INTERP, pi, lens[k]);
            uint64_t rj = run_engine(oj, BPFLUA_ENGINE_JIT, pj, lens[k]);
            if (ri != rj || memcmp(pi, pj, lens[k]))
                print_message("variant %zu, %zu bytes: interp %llu jit %llu\n", v, lens[k],
                              (unsigned long long)ri, (unsigned long long)rj);
            assert_true(ri == rj);
            assert_memory_equal(pi, pj, lens[k]);
        }
        bpflua_object_free(oi);
        bpflua_object_free(oj);
    }
}

/* Loop versioning: a bpf_loop callback whose straight-line start checks
 * i*c against a constant and data + i*c + w against data_end gets a copy
 * without those jumps, run when a test before the loop (at i = n - 1)
 * says they never fire. Both programs are verified by the real verifier
 * and run in both engines on packet lengths where that test passes, where
 * it fails before the first iteration, and where the check fires in the
 * middle of the loop (the slow copy must stop, or skip, at the right
 * iteration); n = 0 and n = 1 loops, 0/1/2-byte packets. The ctx of the
 * callback is a stack struct {data, data_end, sum, count}; R0 folds the
 * sum, the count of iterations that passed the checks and bpf_loop's
 * return value. The bodies with `extra` store into the data_end slot or
 * call a helper: no copy for the scan (its only check reads data_end), a
 * copy for the checksum's i*2 check alone where the ranges leave it open,
 * the same results. */
static const char versioning_main[] =
    "ldxw %%r2, [%%r1+0]\nldxw %%r3, [%%r1+4]\nstxdw [%%r10-40], %%r2\n"
    "stxdw [%%r10-32], %%r3\nstdw [%%r10-24], 0\nstdw [%%r10-16], 0\n"
    "mov %%r1, %u\nlddw %%r2, func:cb\nmov %%r3, %%r10\nadd %%r3, -40\nmov %%r4, 0\ncall 181\n"
    "mov %%r6, %%r0\nldxdw %%r0, [%%r10-24]\nmul %%r0, 31\nldxdw %%r1, [%%r10-16]\n"
    "mul %%r1, 1000003\nadd %%r0, %%r1\nmul %%r6, 7919\nxor %%r0, %%r6\n"
    "and %%r0, 0x7fffffff\nexit\n";

/* the compiler's checksum: 2-byte words, i*2 <= 1400, data + 2i + 2 <= data_end */
static const char versioning_checksum[] =
    "cb:\nmov %%r9, %%r2\nldxdw %%r3, [%%r9+0]\nldxdw %%r4, [%%r9+8]\nmov %%r5, %%r1\n"
    "lsh %%r5, 1\njgt %%r5, 1400, out\nadd %%r3, %%r5\nmov %%r6, %%r3\nadd %%r6, 2\n"
    "jgt %%r6, %%r4, out\nldxh %%r0, [%%r3]\nldxdw %%r7, [%%r9+16]\nadd %%r7, %%r0\n"
    "stxdw [%%r9+16], %%r7\nldxdw %%r7, [%%r9+24]\nadd %%r7, 1\nstxdw [%%r9+24], %%r7\n"
    "%smov %%r0, 0\nexit\nout:\nmov %%r0, %d\nexit\n";

/* the checksum as the compiler writes it: i moves to R6 and R1 is reused,
 * so the JIT keeps i in a register of its own and an unrolled copy reads
 * i + 1 as a displacement */
static const char versioning_checksum_compiled[] =
    "cb:\nmov %%r9, %%r2\nmov %%r6, %%r1\nldxdw %%r7, [%%r9+16]\nmov %%r3, %%r6\nlsh %%r3, 1\n"
    "jgt %%r3, 1400, out\nldxdw %%r1, [%%r9+0]\nldxdw %%r2, [%%r9+8]\nadd %%r1, %%r3\n"
    "mov %%r3, %%r1\nadd %%r3, 2\njgt %%r3, %%r2, out\nldxh %%r0, [%%r1]\nbe16 %%r0\n"
    "add %%r7, %%r0\nstxdw [%%r9+16], %%r7\nldxdw %%r7, [%%r9+24]\nadd %%r7, %%r6\n"
    "stxdw [%%r9+24], %%r7\n%smov %%r0, 0\nexit\nout:\nmov %%r0, %d\nexit\n";

/* scan: one byte per iteration (jlt data_end, p + 1), the sum of the bytes
 * before the first 0x2c, its index in the count slot; i bounded for the
 * verifier by signed compares (tests the loop settles too) */
static const char versioning_scan[] =
    "cb:\nmov %%r9, %%r2\njsgt %%r1, 4000, out\njslt %%r1, 0, out\nldxdw %%r3, [%%r9+0]\n"
    "add %%r3, %%r1\nldxdw %%r4, [%%r9+8]\n"
    "mov %%r5, %%r3\nadd %%r5, 1\njlt %%r4, %%r5, out\nldxb %%r0, [%%r3]\n"
    "jeq %%r0, 0x2c, found\nldxdw %%r7, [%%r9+16]\nadd %%r7, %%r0\nstxdw [%%r9+16], %%r7\n"
    "%smov %%r0, 0\nexit\nfound:\nstxdw [%%r9+24], %%r1\nmov %%r0, 1\nexit\n"
    "out:\nmov %%r0, %d\nexit\n";

static void test_loop_versioning(void **state)
{
    static const char *extras[] = {
        "",
        "ldxdw %r4, [%r9+8]\nstxdw [%r9+8], %r4\n",   /* rewrites data_end (the same value) */
        "call 8\n",                                  /* a helper call */
    };
    static const unsigned counts[] = {0, 1, 2, 7, 100, 700, 701, 702, 750};
    static const char *progs[] = {versioning_checksum, versioning_scan,
                                  versioning_checksum_compiled};
    static const char *names[] = {"checksum", "scan", "compiled checksum"};
    for (int prog = 0; prog < 3; prog++)
        for (size_t x = 0; x < sizeof extras / sizeof extras[0]; x++)
            for (int out_ret = 0; out_ret < 2; out_ret++)
                for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
                    unsigned n = counts[c];
                    char text[4096];
                    int len = snprintf(text, sizeof text, versioning_main, n);
                    snprintf(text + len, sizeof text - (size_t)len,
                             progs[prog], extras[x], out_ret);
                    bpflua_object *oi = assemble(text), *oj = assemble(text);
                    assert_non_null(oi);
                    assert_non_null(oj);
                    char *verr = NULL;
                    int vrc = bpflua_verify(oi, 0, 0, NULL, &verr, NULL);
                    if (vrc)
                        print_message("verifier: %s\n%s\n", verr ? verr : "?", text);
                    free(verr);
                    assert_int_equal(vrc, 0);
                    assert_int_equal(bpflua_verify(oj, 0, 0, NULL, NULL, NULL), 0);
                    /* lengths around where the test before the loop flips
                     * (the checksum needs 2n bytes, the scan n) */
                    unsigned need = prog == 1 ? n : 2 * n;
                    size_t lens[] = {0, 1, 2, 3, 64, 1500, need ? need - 1 : 0, need, need + 1,
                                     need / 2, need / 2 + 1};
                    for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
                        size_t l = lens[k] > 1500 ? 1500 : lens[k];
                        uint8_t pi[1500], pj[1500];
                        for (size_t b = 0; b < l; b++)
                            pi[b] = pj[b] = (uint8_t)(b * 29 + k + c + 1);
                        /* the scan stops at a 0x2c near the end, sometimes */
                        if (prog == 1 && (k & 1) && l > 2)
                            pi[l - 2] = pj[l - 2] = 0x2c;
                        else
                            for (size_t b = 0; b < l; b++)
                                if (pi[b] == 0x2c)
                                    pi[b] = pj[b] = 0x2d;
                        uint64_t ri = run_engine(oi, BPFLUA_ENGINE_INTERP, pi, l);
                        uint64_t rj = run_engine(oj, BPFLUA_ENGINE_JIT, pj, l);
                        if (ri != rj || memcmp(pi, pj, l))
                            print_message("%s, extra %zu, out returns %d, n %u, %zu bytes: "
                                          "interp 0x%llx jit 0x%llx\n%s\n",
                                          names[prog], x, out_ret, n, l,
                                          (unsigned long long)ri, (unsigned long long)rj, text);
                        assert_true(ri == rj);
                        assert_memory_equal(pi, pj, l);
                    }
                    /* the checksum's i*2 <= 1400 and the scan's signed
                     * 0 <= i <= 4000 need no ctx slot: their copies stay
                     * with the store (without the data_end check) */
                    struct bl_prog *p = bl_object_prog(oj, 0);
                    assert_non_null(p->jit);
                    /* ... unless no check is left to test before the
                     * loop: the ranges decide i*2 <= 1400 for 1 <= n <=
                     * 701, the scan's bounds always */
                    int decided = prog == 1 || (n >= 1 && n <= 701);
                    unsigned want = x == 0 || !decided;
                    if (n > 0 && bl_jit_versioned_loops(p->jit) != want)
                        print_message("%s, extra %zu, n %u: %u versioned loops\n",
                                      names[prog], x, n,
                                      bl_jit_versioned_loops(p->jit));
                    if (n > 0)   /* (n = 0: the body never runs, anything it proves holds) */
                        assert_int_equal(bl_jit_versioned_loops(p->jit), want);
                    /* the check-free copy runs its body twice per trip when
                     * nothing in it can break the loop: the checksum's, unless
                     * it calls or keeps a check whose exit returns 1; never
                     * the scan's (it stops at the 0x2c); so does the body
                     * without versioning when every check is decided, but a
                     * loop of 2-8 iterations (written out whole when the
                     * caller does not read R0) */
                    unsigned unrolled = prog != 1 && ((want && (x == 0 || (x == 1 && out_ret == 0))) ||
                                                      (!want && x == 1 && out_ret == 0 &&
                                                       (n < 2 || n > 8)));
                    if (n > 0)
                        assert_int_equal(bl_jit_unrolled_loops(p->jit), unrolled);
                    bpflua_object_free(oi);
                    bpflua_object_free(oj);
                }
}

/* Window nests as the compiler writes them (pkt_win of the bench's
 * survey, win16_brk of tests/lang/jit_pkt_nests.lua): the JIT copies each
 * nest for packets of at most 65,528 bytes (jit/inline_loop.c), where the
 * inner loop's `j > 65527` cannot fire once its read lies in the packet
 * (the relation of the bounds: j <= i + 7 <= len - 1, or i + 16 <= len
 * from the user's break, and len <= 65,528: inline_ranges.c). Both
 * engines on lengths around the windows' ends and around 65,528, where
 * the last windows reach bytes 65,528-65,535 and the check fires; the
 * copy must exist (it needs the relation through a fact with a term the
 * compare lacks, len, for win16_brk) and its inner loop be written out
 * whole (pkt_win) or run twice per trip (win16_brk). */
static const char *const pkt_nests[] = {
        "pkt_win:\nmov %r9, %r10\nadd %r9, -104\nstdw [%r9], 0\nstdw [%r9+8], 0\n"
        "ldxw %r2, [%r1]\nldxw %r3, [%r1+4]\nstxdw [%r9+16], %r2\nstxdw [%r9+24], %r3\n"
        "stdw [%r9+32], 0\nstdw [%r9+40], 0\nstdw [%r9+48], 0\nstdw [%r9+56], 0\n"
        "stdw [%r9+64], 0\nstdw [%r9+72], 0\nstdw [%r9+80], 0\nstdw [%r9+88], 0\n"
        "stdw [%r9+96], 0\nldxdw %r1, [%r9+16]\nldxdw %r2, [%r9+24]\nsub %r2, %r1\nmov %r6, %r2\n"
        "mov %r7, 0\nstxdw [%r9+40], %r7\nmov %r7, 0\nmov %r8, %r6\nsub %r8, 8\nmov %r0, 8\n"
        "stxdw [%r9+72], %r0\nstxdw [%r9+48], %r7\nmov %r5, 8\nstxdw [%r9+56], %r5\n"
        "jsgt %r7, %r8, +17\nmov %r1, %r8\nsub %r1, %r7\ndiv %r1, 8\njge %r1, 8388608, +16\n"
        "add %r1, 1\nstdw [%r9+64], 0\nstdw [%r9+72], 0\nstdw [%r9+80], 0\nstdw [%r9+88], 0\n"
        "stdw [%r9+96], 0\nlddw %r2, func:pkt_win__for_L7\nmov %r3, %r9\nmov %r4, 0\ncall 181\n"
        "ldxdw %r1, [%r9]\njne %r1, 0, +5\nldxdw %r0, [%r9+40]\nand %r0, 16777215\nexit\n"
        "mov %r0, 0\nexit\njeq %r1, 4, +3\njeq %r1, 3, +4\nldxdw %r0, [%r9+8]\nexit\nmov %r0, 2\n"
        "exit\nmov %r0, 0\nexit\npkt_win__for_L7:\nmov %r9, %r2\nmov %r6, %r1\nlsh %r6, 3\n"
        "mov %r7, 0\nstxdw [%r9+72], %r7\nmov %r7, %r6\nmov %r8, %r6\nadd %r8, 7\n"
        "stxdw [%r9+80], %r7\nmov %r5, 1\nstxdw [%r9+88], %r5\njsgt %r7, %r8, +12\nmov %r1, %r8\n"
        "sub %r1, %r7\njge %r1, 8388608, +22\nadd %r1, 1\nstdw [%r9+96], 0\n"
        "lddw %r2, func:pkt_win__for_L9\nmov %r3, %r9\nmov %r4, 0\ncall 181\nldxdw %r1, [%r9]\n"
        "jne %r1, 0, +15\nldxdw %r7, [%r9+40]\nldxdw %r8, [%r9+72]\nmov %r2, %r6\nadd %r2, 1\n"
        "mul %r8, %r2\nxor %r7, %r8\nstxdw [%r9+40], %r7\nstdw [%r9+72], 0\nstdw [%r9+80], 0\n"
        "stdw [%r9+88], 0\nstdw [%r9+96], 0\nmov %r0, 0\nexit\nstdw [%r9], 3\nja +1\nja +0\n"
        "stdw [%r9+72], 0\nstdw [%r9+80], 0\nstdw [%r9+88], 0\nstdw [%r9+96], 0\nmov %r0, 1\n"
        "exit\npkt_win__for_L9:\nmov %r9, %r2\nmov %r6, %r1\nldxdw %r3, [%r9+80]\nadd %r6, %r3\n"
        "ldxdw %r7, [%r9+72]\njgt %r6, 65527, +13\nldxdw %r1, [%r9+16]\nldxdw %r2, [%r9+24]\n"
        "add %r1, %r6\nmov %r3, %r1\nadd %r3, 1\njgt %r3, %r2, +7\nldxb %r0, [%r1]\n"
        "add %r7, %r0\nstxdw [%r9+72], %r7\nmov %r0, 0\nlock add [%r9+72], %r0\nmov %r0, 0\n"
        "exit\nstdw [%r9], 3\nja +0\nmov %r0, 1\nexit\n",
        "win16_brk:\nmov %r9, %r10\nadd %r9, -96\nstdw [%r9], 0\nstdw [%r9+8], 0\n"
        "ldxw %r2, [%r1]\nldxw %r3, [%r1+4]\nstxdw [%r9+16], %r2\nstxdw [%r9+24], %r3\n"
        "stdw [%r9+32], 0\nstdw [%r9+40], 0\nstdw [%r9+48], 0\nstdw [%r9+56], 0\n"
        "stdw [%r9+64], 0\nstdw [%r9+72], 0\nstdw [%r9+80], 0\nstdw [%r9+88], 0\nmov %r6, 0\n"
        "stxdw [%r9+32], %r6\nmov %r3, 0\nstxdw [%r9+40], %r3\nmov %r5, 16\nstxdw [%r9+48], %r5\n"
        "mov %r1, 4096\nstdw [%r9+56], 0\nstdw [%r9+64], 0\nstdw [%r9+72], 0\nstdw [%r9+80], 0\n"
        "stdw [%r9+88], 0\nlddw %r2, func:win16_brk__for_L3\nmov %r3, %r9\nmov %r4, 0\ncall 181\n"
        "ldxdw %r1, [%r9]\njne %r1, 0, +3\nldxdw %r0, [%r9+32]\nand %r0, 16777215\nexit\n"
        "jeq %r1, 4, +3\njeq %r1, 3, +4\nldxdw %r0, [%r9+8]\nexit\nmov %r0, 2\nexit\nmov %r0, 0\n"
        "exit\nwin16_brk__for_L3:\nmov %r9, %r2\nmov %r6, %r1\nlsh %r6, 4\nstxdw [%r9+56], %r6\n"
        "mov %r7, %r6\nadd %r7, 16\nldxdw %r1, [%r9+16]\nldxdw %r2, [%r9+24]\nsub %r2, %r1\n"
        "mov %r8, %r2\njsle %r7, %r8, +1\nja +29\nmov %r7, 0\nstxdw [%r9+64], %r7\nmov %r3, 0\n"
        "stxdw [%r9+72], %r3\nmov %r5, 1\nstxdw [%r9+80], %r5\nmov %r1, 16\nstdw [%r9+88], 0\n"
        "lddw %r2, func:win16_brk__for_L6\nmov %r3, %r9\nmov %r4, 0\ncall 181\nldxdw %r1, [%r9]\n"
        "jne %r1, 0, +15\nldxdw %r7, [%r9+32]\nldxdw %r8, [%r9+64]\nldxdw %r6, [%r9+56]\n"
        "mov %r2, %r6\nadd %r2, 3\nmul %r8, %r2\nxor %r7, %r8\nstxdw [%r9+32], %r7\n"
        "stdw [%r9+64], 0\nstdw [%r9+72], 0\nstdw [%r9+80], 0\nstdw [%r9+88], 0\nmov %r0, 0\n"
        "exit\nja +1\nja +0\nstdw [%r9+64], 0\nstdw [%r9+72], 0\nstdw [%r9+80], 0\n"
        "stdw [%r9+88], 0\nmov %r0, 1\nexit\nwin16_brk__for_L6:\nmov %r9, %r2\nmov %r6, %r1\n"
        "ldxdw %r7, [%r9+64]\nldxdw %r3, [%r9+56]\nadd %r3, %r6\njgt %r3, 65527, +13\n"
        "ldxdw %r1, [%r9+16]\nldxdw %r2, [%r9+24]\nadd %r1, %r3\nmov %r3, %r1\nadd %r3, 1\n"
        "jgt %r3, %r2, +7\nldxb %r0, [%r1]\nadd %r7, %r0\nstxdw [%r9+64], %r7\nmov %r0, 0\n"
        "lock add [%r9+64], %r0\nmov %r0, 0\nexit\nstdw [%r9], 3\nja +0\nmov %r0, 1\nexit\n",
};

static void test_pkt_versioning(void **state)
{
    (void)state;
    static uint8_t pi[65536], pj[65536];
    static const size_t lens[] = {0,     1,     7,     8,     9,     15,    16,    17,    100,
                                  1500,  65519, 65520, 65527, 65528, 65529, 65535, 65536};
    for (size_t k = 0; k < sizeof pkt_nests / sizeof pkt_nests[0]; k++) {
        bpflua_object *oi = assemble(pkt_nests[k]), *oj = assemble(pkt_nests[k]);
        assert_non_null(oi);
        assert_non_null(oj);
        assert_int_equal(bpflua_verify(oi, 0, 0, NULL, NULL, NULL), 0);
        assert_int_equal(bpflua_verify(oj, 0, 0, NULL, NULL, NULL), 0);
        int faults = 0;
        for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++) {
            for (size_t b = 0; b < lens[l]; b++)
                pi[b] = pj[b] = (uint8_t)(b * 7 + (b >> 5) + k);
            uint64_t ri = run_engine(oi, BPFLUA_ENGINE_INTERP, pi, lens[l]);
            uint64_t rj = run_engine(oj, BPFLUA_ENGINE_JIT, pj, lens[l]);
            if (ri != rj)
                print_message("nest %zu, %zu bytes: interp %llu jit %llu\n", k, lens[l],
                              (unsigned long long)ri, (unsigned long long)rj);
            assert_true(ri == rj);
            faults += lens[l] > 8 && ri == 0;
        }
        assert_true(faults > 0);             /* (the check fired, at 65,536 bytes) */
        struct bl_prog *p = bl_object_prog(oj, 0);
        assert_non_null(p->jit);
        assert_int_equal(bl_jit_pkt_versioned(p->jit), 1);
        assert_true(bl_jit_unrolled_loops(p->jit) >= 1);
        bpflua_object_free(oi);
        bpflua_object_free(oj);
    }
}

/* Nested loops as the compiler writes them (jit/inline_ranges.c): the
 * outer body tests the inner range (`if K > i goto skip`), the trip count
 * (`if i - K >= 2^23 goto fault`) and, after the inner loop, the status
 * slot; the inner body tests j == i (true at its last iteration only) and
 * may return when j == seed & 7. The outer index counts up or down (i =
 * n - 1 - index), K is 0 (all three outer tests decided), 1 or 3 (the
 * range test stays: empty inner loops). Verified by the real verifier,
 * run in both engines on packets with several seeds; and the number of
 * tests the JIT dropped. Area at r10-64: status, acc, seed, i. */
static const char nest_main[] =
    "stdw [%%r10-64], 0\nstdw [%%r10-56], 0\nstdw [%%r10-48], 0\nstdw [%%r10-40], 0\n"
    "ldxw %%r2, [%%r1+0]\nldxw %%r3, [%%r1+4]\nmov %%r4, %%r2\nadd %%r4, 1\n"
    "jgt %%r4, %%r3, noseed\nldxb %%r5, [%%r2]\nstxdw [%%r10-48], %%r5\nnoseed:\n"
    "mov %%r9, %%r10\nadd %%r9, -64\n"
    "mov %%r1, %u\nlddw %%r2, func:outer\nmov %%r3, %%r9\nmov %%r4, 0\ncall 181\n"
    "ldxdw %%r1, [%%r9]\njne %%r1, 0, left\nldxdw %%r0, [%%r9+8]\nexit\n"
    "left:\nldxdw %%r0, [%%r9+8]\nadd %%r0, 1000000\nexit\n"
    "outer:\nmov %%r9, %%r2\n%s"
    "mov %%r6, %d\nldxdw %%r7, [%%r9+24]\n"
    "jsgt %%r6, %%r7, skip\nmov %%r1, %%r7\nsub %%r1, %%r6\njge %%r1, 8388608, big\nadd %%r1, 1\n"
    "lddw %%r2, func:inner\nmov %%r3, %%r9\nmov %%r4, 0\ncall 181\n"
    "ldxdw %%r1, [%%r9]\njne %%r1, 0, brk\nskip:\nmov %%r0, 0\nexit\n"
    "big:\nstdw [%%r9], 3\nbrk:\nmov %%r0, 1\nexit\n"
    "inner:\nmov %%r9, %%r2\nmov %%r6, %%r1\nadd %%r6, %d\nldxdw %%r7, [%%r9+24]\n"
    "ldxdw %%r8, [%%r9+8]\njne %%r6, %%r7, notlast\nadd %%r8, 100\nnotlast:\n"
    "ldxdw %%r3, [%%r9+16]\nmov %%r4, %%r3\nxor %%r3, %%r6\nadd %%r8, %%r3\n"
    "stxdw [%%r9+8], %%r8\n%smov %%r0, 0\nexit\n";

static void test_nest_ranges(void **state)
{
    static const char *outer_i[] = {"stxdw [%r9+24], %r1\n", NULL};
    static const int ks[] = {0, 1, 3};
    static const unsigned ns[] = {1, 2, 9, 16};
    static const char *ret = "and %r4, 7\njne %r4, %r6, goon\nstdw [%r9], 2\nmov %r0, 1\nexit\ngoon:\n";
    for (int down = 0; down < 2; down++)
        for (size_t k = 0; k < sizeof ks / sizeof ks[0]; k++)
            for (size_t c = 0; c < sizeof ns / sizeof ns[0]; c++)
                for (int brk = 0; brk < 2; brk++) {
                    char oi[64], text[4096];
                    if (down)
                        snprintf(oi, sizeof oi, "mul %%r1, -1\nadd %%r1, %u\nstxdw [%%r9+24], %%r1\n",
                                 ns[c] - 1);
                    snprintf(text, sizeof text, nest_main, ns[c], down ? oi : outer_i[0], ks[k],
                             ks[k], brk ? ret : "");
                    bpflua_object *o1 = assemble(text), *o2 = assemble(text);
                    assert_non_null(o1);
                    assert_non_null(o2);
                    char *verr = NULL;
                    int vrc = bpflua_verify(o1, 0, 0, NULL, &verr, NULL);
                    if (vrc)
                        print_message("verifier: %s\n%s\n", verr ? verr : "?", text);
                    free(verr);
                    assert_int_equal(vrc, 0);
                    assert_int_equal(bpflua_verify(o2, 0, 0, NULL, NULL, NULL), 0);
                    for (int seed = 0; seed < 12; seed++) {
                        uint8_t pi[4] = {(uint8_t)(seed * 37 + 2), 1, 2, 3}, pj[4];
                        memcpy(pj, pi, sizeof pi);
                        size_t len = seed == 11 ? 0 : sizeof pi;
                        uint64_t ri = run_engine(o1, BPFLUA_ENGINE_INTERP, pi, len);
                        uint64_t rj = run_engine(o2, BPFLUA_ENGINE_JIT, pj, len);
                        if (ri != rj)
                            print_message("down %d K %d n %u return %d seed %d: interp %llu jit %llu\n",
                                          down, ks[k], ns[c], brk, seed, (unsigned long long)ri,
                                          (unsigned long long)rj);
                        assert_true(ri == rj);
                    }
                    struct bl_prog *p = bl_object_prog(o2, 0);
                    assert_non_null(p->jit);
                    /* K = 0: the range test, the trip-count limit and
                     * (when the inner loop cannot return) the status test;
                     * j == i too when n = 1. Else the range test when it
                     * always skips (i < K everywhere: all else unreached),
                     * or the status test alone */
                    unsigned n = ns[c], want = ks[k] == 0          ? 2 + !brk + (n == 1)
                                               : n <= (unsigned)ks[k] ? 1
                                                                      : !brk;
                    /* n = K + 1: one outer iteration runs the inner loop,
                     * once, with j == i (the facts of the range test) */
                    want += ks[k] != 0 && n == (unsigned)ks[k] + 1;
                    if (bl_jit_proved_tests(p->jit) != want)
                        print_message("down %d K %d n %u return %d: %u tests dropped\n", down,
                                      ks[k], n, brk, bl_jit_proved_tests(p->jit));
                    assert_int_equal(bl_jit_proved_tests(p->jit), want);
                    bpflua_object_free(o1);
                    bpflua_object_free(o2);
                }
}

/* every map entry of both objects agrees (a key whose slot is empty in
 * both, as in a prog_array or devmap, agrees too) */
static int maps_equal(bpflua_object *a, bpflua_object *b)
{
    for (size_t m = 0; m < bpflua_map_count(a); m++) {
        struct bpflua_map_spec spec;
        bpflua_map_spec(a, m, &spec);
        if (spec.type == BPFLUA_MAP_RINGBUF || spec.key_size > 64 || spec.value_size > 4096)
            continue;
        uint8_t key[64], next[64], va[4096], vb[4096];
        const void *k = NULL;
        while (bpflua_map_next_key(a, m, k, next) == 0) {
            memcpy(key, next, spec.key_size);
            k = key;
            int ra = bpflua_map_lookup(a, m, key, va), rb = bpflua_map_lookup(b, m, key, vb);
            if (ra != rb || (ra == 0 && memcmp(va, vb, spec.value_size)))
                return 0;
        }
    }
    return 1;
}

static void test_verifier_corpus(void **state)
{
    const char *src = getenv("BPFLUA_SRC");
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/tests/verifier", src ? src : "..");
    DIR *d = opendir(dir);
    if (!d) {
        print_message("no verifier corpus at %s: skipped\n", dir);
        skip();
    }
    const char *name;
    char path[2048];
    int programs = 0, failed = 0;
    while ((name = next_data_file(d, dir, "accept_", path, sizeof path))) {
        struct data_file df;
        memset(&df, 0, sizeof df);
        if (parse_data(path, &df))
            continue;
        bpflua_object *oi = bl_asm_assemble(df.asm_text, name, df.asm_line, NULL);
        bpflua_object *oj = bl_asm_assemble(df.asm_text, name, df.asm_line, NULL);
        free(df.asm_text);
        if (!oi || !oj || bpflua_verify(oi, 0, 0, NULL, NULL, NULL) ||
            bpflua_verify(oj, 0, 0, NULL, NULL, NULL)) {
            bpflua_object_free(oi);
            bpflua_object_free(oj);
            continue;
        }
        /* time and random numbers differ from run to run */
        size_t n;
        const struct bl_insn *in = bpflua_prog_insns(oi, 0, &n);
        int nondet = 0;
        for (size_t k = 0; k < n; k++)
            nondet |= in[k].code == (BL_JMP | BL_CALL) && in[k].src == 0 &&
                      (in[k].imm == BL_HELPER_KTIME_GET_NS || in[k].imm == BL_HELPER_GET_PRANDOM_U32);
        if (nondet) {
            bpflua_object_free(oi);
            bpflua_object_free(oj);
            continue;
        }
        programs++;
        /* the same packets in the same order through both engines */
        static const size_t lens[] = {14, 60, 64, 128, 1500};
        for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
            uint8_t pi[1500], pj[1500];
            for (size_t b = 0; b < lens[k]; b++)
                pi[b] = pj[b] = (uint8_t)(b * 13 + k + (b == 12 ? 0x08 : 0));
            uint64_t ri = run_engine(oi, BPFLUA_ENGINE_INTERP, pi, lens[k]);
            uint64_t rj = run_engine(oj, BPFLUA_ENGINE_JIT, pj, lens[k]);
            if (ri != rj || memcmp(pi, pj, lens[k])) {
                print_message("%s, %zu-byte packet: interp %llu jit %llu%s\n", name, lens[k],
                              (unsigned long long)ri, (unsigned long long)rj,
                              memcmp(pi, pj, lens[k]) ? ", packets differ" : "");
                failed++;
                break;
            }
        }
        if (!maps_equal(oi, oj)) {
            print_message("%s: maps differ\n", name);
            failed++;
        }
        bpflua_object_free(oi);
        bpflua_object_free(oj);
    }
    closedir(d);
    print_message("verifier corpus: %d accepted programs in both engines, %d failed\n", programs,
                  failed);
    assert_true(programs > 0);
    assert_int_equal(failed, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conformance),
        cmocka_unit_test(test_division),
        cmocka_unit_test(test_shifts),
        cmocka_unit_test(test_memory),
        cmocka_unit_test(test_atomics),
        cmocka_unit_test(test_const_operands),
        cmocka_unit_test(test_calls),
        cmocka_unit_test(test_bpf_loop_raw),
        cmocka_unit_test(test_bpf_loop_verified),
        cmocka_unit_test(test_inline_budget),
        cmocka_unit_test(test_nest_scratch_regs),
        cmocka_unit_test(test_inlined_loop_state),
        cmocka_unit_test(test_array_inline),
        cmocka_unit_test(test_maps_and_for_each),
        cmocka_unit_test(test_env_call),
        cmocka_unit_test(test_code_properties),
        cmocka_unit_test(test_packet_loads_in_loops),
        cmocka_unit_test(test_loop_versioning),
        cmocka_unit_test(test_pkt_versioning),
        cmocka_unit_test(test_nest_ranges),
        cmocka_unit_test(test_verifier_corpus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
