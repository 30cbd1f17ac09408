/* verifier_bench.c - bpflua's verifier against the kernel's, same programs.
 *
 *   verifier_bench [--quick] [--no-kernel]
 *
 * Part 1: generated XDP programs (a map lookup, then N blocks of masked
 * index, map-value load, branch) at sizes from about 1k to 30k verified
 * instructions: bpflua's verification time next to the kernel's
 * BPF_PROG_LOAD time and both instruction counts.
 * Part 2, the seed's case: a 1000-iteration loop with a branchy body,
 * written as a plain loop (what the kernel must unroll; bpflua rejects the
 * back-edge) and as bpf_loop (verified once by both).
 * Times are medians of several runs, in thread CPU time (user + system,
 * so the kernel's work inside bpf(2) counts and other processes on a busy
 * machine do not). Not a ctest test: nothing is timed in the suite. The kernel columns print "-" when bpf(2) is unavailable.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/verifier/kernel_load.h"
#include "vm/bpflua.h"
#include "vm/kernel.h"
#include "vm/object.h"
#include "vm/verifier.h"

static int runs = 7;

static uint64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static uint64_t median(uint64_t *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_u64);
    return v[n / 2];
}

/* N blocks, each: idx = (x >> k) & 7; load value[idx]; branch on it. */
static char *gen_blocks(int n)
{
    struct bl_strbuf sb = { 0 };
    bl_strbuf_printf(&sb, ".map vals hash key=4 value=16 entries=16\n"
                          "ldxw %%r6, [%%r1+12]\n"
                          "stw [%%r10-4], 0\n"
                          "mov %%r2, %%r10\n"
                          "add %%r2, -4\n"
                          "lddw %%r1, map:vals\n"
                          "call 1\n"
                          "jne %%r0, 0, go\n"
                          "mov %%r0, 2\n"
                          "exit\n"
                          "go:\n"
                          "mov %%r9, %%r0\n"
                          "mov %%r7, 0\n");
    for (int i = 0; i < n; i++)
        bl_strbuf_printf(&sb, "mov %%r2, %%r6\n"
                              "rsh %%r2, %d\n"
                              "and %%r2, 7\n"
                              "mov %%r3, %%r9\n"
                              "add %%r3, %%r2\n"
                              "ldxb %%r4, [%%r3+0]\n"
                              "jgt %%r4, %d, b%d\n"
                              "add %%r7, %%r4\n"
                              "ja c%d\n"
                              "b%d:\n"
                              "xor %%r7, %%r2\n"
                              "c%d:\n",
                         i % 24, (i * 37) % 200, i, i, i, i);
    bl_strbuf_printf(&sb, "mov %%r0, %%r7\nand %%r0, 3\nexit\n");
    return sb.buf;
}

/* The seed's loop body on a = r7, b = r8, i = r6 (registers r2, r3 scratch). */
static void body(struct bl_strbuf *sb, const char *p)
{
    bl_strbuf_printf(sb, "mov %%r2, %%r6\n"
                         "and %%r2, 1\n"
                         "jeq %%r2, 0, %s_even\n"
                         "add %%r7, %%r6\n"
                         "ja %s_n1\n"
                         "%s_even:\n"
                         "xor %%r8, %%r6\n"
                         "%s_n1:\n"
                         "mov %%r2, %%r6\n"
                         "mod %%r2, 3\n"
                         "jne %%r2, 0, %s_n3\n"
                         "mul %%r7, 3\n"
                         "add %%r7, 1\n"
                         "ja %s_n2\n"
                         "%s_n3:\n"
                         "mov %%r2, %%r6\n"
                         "mod %%r2, 5\n"
                         "jne %%r2, 0, %s_n2\n"
                         "add %%r8, %%r7\n"
                         "%s_n2:\n"
                         "jle %%r7, %%r8, %s_n4\n"
                         "sub %%r7, %%r8\n"
                         "%s_n4:\n",
                     p, p, p, p, p, p, p, p, p, p, p);
}

static char *gen_plain_loop(int iters)
{
    struct bl_strbuf sb = { 0 };
    bl_strbuf_printf(&sb, "ldxw %%r7, [%%r1+12]\nldxw %%r8, [%%r1+16]\nmov %%r6, 0\nloop:\n");
    body(&sb, "p");
    bl_strbuf_printf(&sb, "add %%r6, 1\njlt %%r6, %d, loop\n"
                          "mov %%r0, %%r7\nxor %%r0, %%r8\nand %%r0, 1\nexit\n", iters);
    return sb.buf;
}

static char *gen_bpf_loop(int iters)
{
    struct bl_strbuf sb = { 0 };
    bl_strbuf_printf(&sb, "ldxw %%r7, [%%r1+12]\nldxw %%r8, [%%r1+16]\n"
                          "stxdw [%%r10-16], %%r7\nstxdw [%%r10-8], %%r8\n"
                          "mov %%r1, %d\nlddw %%r2, func:cb\nmov %%r3, %%r10\nadd %%r3, -16\n"
                          "mov %%r4, 0\ncall 181\n"
                          "ldxdw %%r0, [%%r10-16]\nldxdw %%r1, [%%r10-8]\nxor %%r0, %%r1\n"
                          "and %%r0, 1\nexit\n"
                          "cb:\nmov %%r6, %%r1\nmov %%r9, %%r2\n"
                          "ldxdw %%r7, [%%r9+0]\nldxdw %%r8, [%%r9+8]\n", iters);
    body(&sb, "c");
    bl_strbuf_printf(&sb, "stxdw [%%r9+0], %%r7\nstxdw [%%r9+8], %%r8\nmov %%r0, 0\nexit\n");
    return sb.buf;
}

struct measure {
    int ok;                  /* bpflua accepted */
    uint32_t insns;          /* program length */
    uint32_t bl_verified;
    uint64_t bl_ns, max_insns;
    int k_ok;                /* -1: kernel not measured */
    uint32_t k_verified;
    uint64_t k_ns;
};

static int measure(const char *text, int use_kernel, struct measure *m)
{
    char *err = NULL;
    bpflua_object *obj = bpflua_object_from_asm(text, "bench.asm", &err);
    memset(m, 0, sizeof *m);
    m->k_ok = -1;
    if (!obj) {
        fprintf(stderr, "verifier_bench: %s\n", err ? err : "assembler failed");
        free(err);
        return -1;
    }
    struct bl_prog *p = bl_object_prog(obj, 0);
    uint64_t t[32];
    m->insns = p->n_insns;
    for (int r = 0; r < runs; r++) {
        uint64_t t0 = cpu_ns();
        m->ok = bl_verify_prog(obj, p, 0, NULL) == 0;
        t[r] = cpu_ns() - t0;
    }
    m->bl_ns = median(t, runs);
    m->bl_verified = p->verified_insns;
    m->max_insns = p->max_insns;
    if (use_kernel) {
        struct kload k;
        for (int r = 0; r < runs; r++) {
            uint64_t t0 = cpu_ns();
            if (kernel_load_prog(obj, 0, 0, &k))
                break;
            t[r] = cpu_ns() - t0;
            m->k_ok = k.accepted;
            m->k_verified = k.verified_insns;
        }
        if (m->k_ok >= 0)
            m->k_ns = median(t, runs);
    }
    bpflua_object_free(obj);
    return 0;
}

static void print_row(const char *name, const struct measure *m)
{
    printf("%-22s %7u %9s %9u %10.1f", name, m->insns, m->ok ? "accept" : "reject",
           m->bl_verified, m->bl_ns / 1000.0);
    if (m->k_ok < 0) {
        printf(" %9s %9s %10s %8s\n", "-", "-", "-", "-");
        return;
    }
    printf(" %9s %9u %10.1f", m->k_ok ? "accept" : "reject", m->k_verified, m->k_ns / 1000.0);
    if (m->ok && m->k_ok)
        printf(" %7.1fx\n", (double)m->k_ns / (double)(m->bl_ns ? m->bl_ns : 1));
    else
        printf(" %8s\n", "-");
}

int main(int argc, char **argv)
{
    int quick = 0, want_kernel = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            quick = 1;
        else if (strcmp(argv[i], "--no-kernel") == 0)
            want_kernel = 0;
    }
    char *why = want_kernel ? NULL : strdup("--no-kernel");
    int kernel = want_kernel && bl_kernel_available(&why);
    if (quick)
        runs = 1;
    if (!kernel)
        printf("# kernel columns skipped: %s\n", why ? why : "bpf(2) unavailable");
    free(why);
    printf("%-22s %7s %9s %9s %10s %9s %9s %10s %8s\n", "program", "insns", "bpflua", "verified",
           "bpflua_us", "kernel", "k_verif", "kernel_us", "speedup");

    static const int blocks[] = { 80, 160, 400, 800, 1600, 2500 };
    for (size_t i = 0; i < sizeof blocks / sizeof blocks[0]; i++) {
        if (quick && i > 0)
            break;
        char name[64];
        snprintf(name, sizeof name, "blocks_%d", blocks[i]);
        char *text = gen_blocks(blocks[i]);
        struct measure m;
        if (!measure(text, kernel, &m))
            print_row(name, &m);
        free(text);
    }

    int iters = quick ? 50 : 1000;
    char name[64];
    struct measure m;
    char *plain = gen_plain_loop(iters), *looped = gen_bpf_loop(iters);
    snprintf(name, sizeof name, "seed_plain_loop_%d", iters);
    if (!measure(plain, kernel, &m))
        print_row(name, &m);
    uint64_t kernel_plain_ns = m.k_ns;
    snprintf(name, sizeof name, "seed_bpf_loop_%d", iters);
    if (!measure(looped, kernel, &m))
        print_row(name, &m);
    if (kernel && m.ok && m.bl_ns)
        printf("# seed case: kernel on the plain loop %.1f us, bpflua on bpf_loop %.1f us: %.0fx; "
               "bpflua max_insns=%llu\n",
               kernel_plain_ns / 1000.0, m.bl_ns / 1000.0, (double)kernel_plain_ns / m.bl_ns,
               (unsigned long long)m.max_insns);
    free(plain);
    free(looped);
    return 0;
}
