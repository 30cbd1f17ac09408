/* verifier_bench.c - bpflua's verifier against the kernel's, same programs.
 *
 *   verifier_bench [--quick] [--no-kernel] [--runs R] [--corpus DIR]
 *
 * Part 1: generated XDP programs (a map lookup, then N blocks of masked
 * index, map-value load, branch) at sizes from about 1k to 30k verified
 * instructions: bpflua's verification time next to the kernel's
 * BPF_PROG_LOAD time and both instruction counts.
 * Part 2, the seed's case: a 1000-iteration loop with a branchy body,
 * written as a plain loop (what the kernel must unroll; bpflua rejects the
 * back-edge) and as bpf_loop (verified once by both).
 * Times are medians of several runs; with the kernel, each timed (warm)
 * bpflua batch of runs is made right before a kernel run, so both sides of
 * a ratio see the machine at the same moments. bpflua's and the kernel's load time
 * are thread CPU time (user + system, so the kernel's work inside bpf(2)
 * counts and other processes on a busy machine do not); the second kernel
 * column is the kernel's own "verification time" from its BPF_LOG_STATS
 * log, which leaves out the JIT and the program's allocation (wall time:
 * the fastest run is taken). Speedups are given against both. Not a ctest test: nothing is timed in the suite.
 * The kernel columns print "-" when bpf(2) is unavailable.
 *
 *   verifier_bench --profile N [REPEAT]   verify blocks_N REPEAT times, only
 *                                         that (for perf / callgrind)
 *   verifier_bench --profile-stack N [REPEAT]   the same for stack_N
 *   verifier_bench --runs R               median of R runs (default 7)
 *   verifier_bench --corpus DIR           every program of DIR/NAME.o (build/corpus:
 *                                         tests/corpus built), median and smallest speedups
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>

#include "tests/verifier/gen_blocks.h"
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function" /* kernel_load_prog: this file times its own loads (with kernel_prepare) */
#include "tests/verifier/kernel_load.h"
#pragma GCC diagnostic pop
#include "core/bpflua.h"
#include "engine/kernel.h"
#include "core/object.h"
#include "core/progtype.h"
#include "vm/verifier.h"

static int runs = 7;

static uint64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Reading the thread CPU clock is a system call on this VM (about 0.5 us,
 * measured by clock_cost()), as long as a whole verification of a small
 * program: a single bpflua run timed between two reads was a third clock.
 * bpflua's time is therefore that of a batch of runs (verify_ns) divided by
 * its count, and the clock's own cost is taken off the kernel's load time
 * (its one call, timed between two reads) as well, which only lowers the
 * kernel's figure. */
static uint64_t clock_ns;

static uint64_t clock_cost(void)
{
    uint64_t d[101];
    for (int i = 0; i < 101; i++) {
        uint64_t t0 = cpu_ns();
        d[i] = cpu_ns() - t0;
    }
    uint64_t best = d[0];
    for (int i = 1; i < 101; i++)
        best = d[i] < best ? d[i] : best;
    return best; /* the cheapest read: the least taken off the kernel */
}

static uint64_t minus_clock(uint64_t ns)
{
    return ns > 2 * clock_ns ? ns - clock_ns : ns / 2;
}

/* Thread CPU time of one bl_verify_prog of p: a batch of runs lasting
 * about 20 us (one run for programs that take longer), divided by its
 * count; *ok the verdict. */
static uint64_t verify_ns(bpflua_object *obj, struct bl_prog *p, int *ok)
{
    uint64_t t0 = cpu_ns();
    int r = bl_verify_prog(obj, p, 0, NULL);
    uint64_t one = cpu_ns() - t0;
    if (ok)
        *ok = r == 0;
    if (one >= 20000)
        return minus_clock(one);
    uint64_t n = 20000 / (one ? one : 1);
    n = n < 2 ? 2 : n > 256 ? 256 : n;
    t0 = cpu_ns();
    for (uint64_t i = 0; i < n; i++)
        bl_verify_prog(obj, p, 0, NULL);
    return (cpu_ns() - t0) / n;
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

/* N blocks over a packet and a full stack: each reads a packet byte (in
 * the 64 bytes a bounds check proved), spills it to one of 32 stack slots,
 * branches on it, and on one side reloads another slot. States carry the
 * whole 256-byte stack, so copies and comparisons cost more per insn than
 * in gen_blocks. */
static char *gen_stack(int n)
{
    struct bl_strbuf sb = { 0 };
    bl_strbuf_printf(&sb, "ldxw %%r2, [%%r1+0]\nldxw %%r3, [%%r1+4]\nmov %%r7, 0\n");
    for (int s = 1; s <= 32; s++)
        bl_strbuf_printf(&sb, "stdw [%%r10-%d], 0\n", 8 * s);
    bl_strbuf_printf(&sb, "mov %%r6, %%r2\nmov %%r4, %%r2\nadd %%r4, 64\njgt %%r4, %%r3, out\n");
    for (int i = 0; i < n; i++)
        bl_strbuf_printf(&sb, "ldxb %%r5, [%%r6+%d]\n"
                              "stxdw [%%r10-%d], %%r5\n"
                              "jgt %%r5, %d, b%d\n"
                              "add %%r7, %%r5\n"
                              "ja c%d\n"
                              "b%d:\n"
                              "ldxdw %%r8, [%%r10-%d]\n"
                              "xor %%r7, %%r8\n"
                              "c%d:\n",
                         i % 64, 8 * (i % 32 + 1), (i * 13) % 250, i, i, i, 8 * ((i + 5) % 32 + 1), i);
    bl_strbuf_printf(&sb, "out:\nmov %%r0, %%r7\nand %%r0, 3\nexit\n");
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
    uint64_t k_ns;           /* thread CPU time of the BPF_PROG_LOAD call */
    uint64_t k_verif_ns;     /* the kernel's own "verification time" (0: not in its log) */
};

/* The kernel's side, timed as narrowly as we can: maps and BTF are made
 * once, outside the clock; each run times only the bpf(BPF_PROG_LOAD)
 * call (thread CPU time: the verifier, then the JIT and allocation), and
 * reads the kernel's own "verification time N usec" from its
 * BPF_LOG_STATS log (log_level 4): the time bpf_check() measured around
 * the verification alone, the fairest figure to set against bpflua's. */
static void measure_kernel(bpflua_object *obj, size_t prog, struct measure *m)
{
    struct bl_prog *p = bl_object_prog(obj, prog);
    struct kprep k;
    if (kernel_prepare(obj, p, &k))
        return;
    static char logbuf[1 << 16];
    uint64_t t[32], v[32], bt[32];
    int nv = 0;
    for (int r = 0; r < runs; r++) {
        LIBBPF_OPTS(bpf_prog_load_opts, opts,
                    .expected_attach_type = (enum bpf_attach_type)p->type->attach_type);
        kernel_prep_opts(&k, &opts);
        logbuf[0] = 0;
        opts.log_buf = logbuf;
        opts.log_size = sizeof logbuf;
        opts.log_level = 4; /* BPF_LOG_STATS: only the summary lines */
        /* a bpflua run right before each kernel run: this machine's speed
         * shifts from moment to moment, so both sides of a ratio are
         * sampled at the same moments. The untimed run first warms the
         * caches the previous kernel load evicted, as the kernel's own
         * runs are warm after each other. */
        bl_verify_prog(obj, p, 0, NULL);
        bt[r] = verify_ns(obj, p, NULL);
        uint64_t t0 = cpu_ns();
        int fd = bpf_prog_load((enum bpf_prog_type)p->type->kernel_type, "bl_bench", "GPL", (const struct bpf_insn *)k.insns,
                               p->n_insns, &opts);
        t[r] = minus_clock(cpu_ns() - t0);
        m->k_ok = fd >= 0;
        const char *vt = strstr(logbuf, "verification time ");
        unsigned long long us;
        if (vt && sscanf(vt, "verification time %llu usec", &us) == 1)
            v[nv++] = us * 1000ull;
        if (fd >= 0) {
            struct bpf_prog_info info;
            uint32_t len = sizeof info;
            memset(&info, 0, sizeof info);
            if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0)
                m->k_verified = info.verified_insns;
            close(fd);
        }
    }
    m->k_ns = median(t, runs);
    m->bl_ns = median(bt, runs);
    /* the fastest run: the kernel measures its verification time in wall
     * time (ktime), so on a busy machine preemption only ever adds to it;
     * its minimum is the figure least in bpflua's favour */
    qsort(v, (size_t)nv, sizeof *v, cmp_u64);
    m->k_verif_ns = nv ? v[0] : 0;
    kernel_release(&k);
}

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
    for (int r = 0; r < runs; r++)
        t[r] = verify_ns(obj, p, &m->ok);
    m->bl_ns = median(t, runs);
    m->bl_verified = p->verified_insns;
    m->max_insns = p->max_insns;
    if (use_kernel)
        measure_kernel(obj, 0, m);
    bpflua_object_free(obj);
    return 0;
}

static double per_insn(uint64_t ns, uint32_t n)
{
    return n ? (double)ns / n : 0;
}

static void print_header(void)
{
    printf("%-20s %6s %7s %7s %9s %6s | %7s %7s %9s %6s %9s %6s | %7s %7s\n", "program", "insns",
           "bpflua", "verif", "bl_us", "ns/in", "kernel", "k_verif", "k_load_us", "ns/in",
           "k_vrf_us", "ns/in", "x_load", "x_verif");
}

static void print_row(const char *name, const struct measure *m)
{
    printf("%-20s %6u %7s %7u %9.2f %6.1f |", name, m->insns, m->ok ? "accept" : "reject",
           m->bl_verified, m->bl_ns / 1000.0, per_insn(m->bl_ns, m->bl_verified));
    if (m->k_ok < 0) {
        printf(" %7s %7s %9s %6s %9s %6s | %7s %7s\n", "-", "-", "-", "-", "-", "-", "-", "-");
        return;
    }
    printf(" %7s %7u %9.1f %6.1f", m->k_ok ? "accept" : "reject", m->k_verified, m->k_ns / 1000.0,
           per_insn(m->k_ns, m->k_verified));
    if (m->k_verif_ns)
        printf(" %9.1f %6.1f |", m->k_verif_ns / 1000.0, per_insn(m->k_verif_ns, m->k_verified));
    else
        printf(" %9s %6s |", "-", "-");
    if (m->ok && m->k_ok) {
        double b = (double)(m->bl_ns ? m->bl_ns : 1);
        printf(" %6.1fx", (double)m->k_ns / b);
        if (m->k_verif_ns)
            printf(" %6.1fx\n", (double)m->k_verif_ns / b);
        else
            printf(" %7s\n", "-");
    } else {
        printf(" %7s %7s\n", "-", "-");
    }
}

/* --profile N [REPEAT]: verify blocks_N REPEAT times and nothing else, for
 * perf or callgrind (the assembler runs once, outside the loop). */
static int profile(int n, int repeat, int stack)
{
    char *text = stack ? gen_stack(n) : gen_blocks(n), *err = NULL;
    bpflua_object *obj = bpflua_object_from_asm(text, "bench.asm", &err);
    free(text);
    if (!obj) {
        fprintf(stderr, "verifier_bench: %s\n", err ? err : "assembler failed");
        free(err);
        return 1;
    }
    struct bl_prog *p = bl_object_prog(obj, 0);
    uint64_t t0 = cpu_ns();
    int ok = 1;
    for (int r = 0; r < repeat; r++)
        ok &= bl_verify_prog(obj, p, 0, NULL) == 0;
    uint64_t ns = (cpu_ns() - t0) / (uint64_t)(repeat ? repeat : 1);
    printf("%s_%d: %s, verified_insns=%u, %.1f us per verification, %.1f ns per insn\n",
           stack ? "stack" : "blocks", n,
           ok ? "accept" : "reject", p->verified_insns, ns / 1000.0, per_insn(ns, p->verified_insns));
    bpflua_object_free(obj);
    return !ok;
}

static int corpus_names(const char *dir, char **names, int max);
static int cmp_name(const void *a, const void *b);

/* --profile-object FILE|DIR [REPEAT]: verify every program of one ELF
 * object (the corpus's cilium_big.o, say), or of every object run_corpus
 * would time in DIR, REPEAT times and nothing else, for callgrind; prints
 * the time per round. */
static int profile_object(const char *path, int repeat)
{
    char *names[512];
    int n = corpus_names(path, names, 512);
    if (n >= 0) {
        int bad = 0;
        for (int i = 0; i < n; i++) {
            char file[4096];
            snprintf(file, sizeof file, "%s/%s", path, names[i]);
            bad |= profile_object(file, repeat);
            free(names[i]);
        }
        return bad;
    }
    char *err = NULL;
    bpflua_object *obj = bpflua_object_open_elf(path, &err);
    if (!obj) {
        fprintf(stderr, "verifier_bench: %s\n", err ? err : "cannot open");
        free(err);
        return 1;
    }
    uint64_t t0 = cpu_ns();
    unsigned verified = 0;
    int accepted = 0;
    for (int r = 0; r < repeat; r++) {
        accepted = 0;
        verified = 0;
        for (size_t j = 0; j < bpflua_prog_count(obj); j++) {
            struct bl_prog *p = bl_object_prog(obj, j);
            accepted += bl_verify_prog(obj, p, 0, NULL) == 0;
            verified += p->verified_insns;
        }
    }
    uint64_t ns = (cpu_ns() - t0) / (uint64_t)(repeat > 0 ? repeat : 1);
    printf("%s: %d of %zu programs accepted, verified_insns=%u, %.1f us per round\n", path,
           accepted, bpflua_prog_count(obj), verified, ns / 1000.0);
    bpflua_object_free(obj);
    return 0;
}

/* One object of --verdicts: an ELF file, or a tests/verifier .data case
 * (its `-- asm` part assembled); NULL with a message if unreadable. */
static bpflua_object *open_any(const char *path)
{
    char *err = NULL;
    bpflua_object *obj = NULL;
    size_t l = strlen(path);
    if (l > 5 && strcmp(path + l - 5, ".data") == 0) {
        FILE *f = fopen(path, "rb");
        static char text[1 << 16];
        size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
        if (f)
            fclose(f);
        text[n] = 0;
        char *asm_at = strstr(text, "-- asm\n");
        if (asm_at) {
            asm_at += 7;
            char *end = strstr(asm_at, "\n-- ");
            if (end)
                end[1] = 0;
            obj = bpflua_object_from_asm(asm_at, path, &err);
        }
    } else {
        obj = bpflua_object_open_elf(path, &err);
    }
    if (!obj)
        printf("%s: unreadable: %s\n", path, err ? err : "?");
    free(err);
    return obj;
}

/* --verdicts PATH...: each program's verdict, verified_insns and max_insns
 * (ELF objects, every .o of a directory with the unsafe twins and v3
 * builds, .data cases): two builds' outputs compared show a change that
 * moves a verdict or a count. */
static int verdicts(int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        DIR *d = opendir(argv[i]);
        if (d) {
            char *names[1024];
            int n = 0;
            struct dirent *de;
            while ((de = readdir(d)) && n < 1024) {
                size_t l = strlen(de->d_name);
                if ((l > 2 && strcmp(de->d_name + l - 2, ".o") == 0) ||
                    (l > 5 && strcmp(de->d_name + l - 5, ".data") == 0))
                    names[n++] = strdup(de->d_name);
            }
            closedir(d);
            qsort(names, (size_t)n, sizeof *names, cmp_name);
            for (int j = 0; j < n; j++) {
                char path[4096];
                snprintf(path, sizeof path, "%s/%s", argv[i], names[j]);
                char *one[1] = { path };
                verdicts(1, one);
                free(names[j]);
            }
            continue;
        }
        bpflua_object *obj = open_any(argv[i]);
        if (!obj)
            continue;
        for (size_t j = 0; j < bpflua_prog_count(obj); j++) {
            struct bl_prog *p = bl_object_prog(obj, j);
            int ok = bl_verify_prog(obj, p, 0, NULL) == 0;
            printf("%s:%s %s verified=%u max=%llu\n", argv[i], p->section,
                   ok ? "accept" : "reject", p->verified_insns, (unsigned long long)p->max_insns);
        }
        bpflua_object_free(obj);
    }
    return 0;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The NAME.o files of dir, sorted (not the .unsafe.o twins nor the .v3.o
 * builds); -1 if dir is no directory. */
static int corpus_names(const char *dir, char **names, int max)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < max) {
        size_t l = strlen(de->d_name);
        if (l > 2 && strcmp(de->d_name + l - 2, ".o") == 0 && !strstr(de->d_name, ".unsafe.") &&
            !strstr(de->d_name, ".v3."))
            names[n++] = strdup(de->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, cmp_name);
    return n;
}

/* --corpus DIR: every program of every DIR/NAME.o (the real-world-shapes
 * corpus the build puts in build/corpus; the *.unsafe.o twins and *.v3.o
 * builds are left out),
 * a row each, then the median and smallest speedups over the programs
 * both verifiers accept. The kernel loads each program alone with the
 * type bpflua verified it as, from bpflua's reading of the object. */
static int run_corpus(const char *dir, int kernel)
{
    char *names[512];
    int n = corpus_names(dir, names, 512);
    if (n < 0) {
        fprintf(stderr, "verifier_bench: cannot open %s\n", dir);
        return 1;
    }
    double xl[1024], xv[1024];
    int nx = 0, nv = 0, n_progs = 0;
    uint64_t bl_total = 0, k_total = 0;
    for (int i = 0; i < n; i++) {
        char path[4096], *err = NULL;
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        bpflua_object *obj = bpflua_object_open_elf(path, &err);
        if (!obj) {
            printf("# %s: %s\n", names[i], err ? err : "?");
            free(err);
            free(names[i]);
            continue;
        }
        for (size_t j = 0; j < bpflua_prog_count(obj); j++) {
            struct bl_prog *p = bl_object_prog(obj, j);
            struct measure m = { .k_ok = -1, .insns = p->n_insns };
            uint64_t t[32];
            for (int r = 0; r < runs; r++)
                t[r] = verify_ns(obj, p, &m.ok);
            m.bl_ns = median(t, runs);
            m.bl_verified = p->verified_insns;
            if (!p->unsupported && kernel)
                measure_kernel(obj, j, &m);
            char row[96];
            snprintf(row, sizeof row, "%.40s:%.40s", names[i], p->section);
            print_row(row, &m);
            n_progs++;
            if (m.ok && m.k_ok > 0 && m.bl_ns) {
                xl[nx++] = (double)m.k_ns / m.bl_ns;
                bl_total += m.bl_ns;
                k_total += m.k_ns;
                if (m.k_verif_ns)
                    xv[nv++] = (double)m.k_verif_ns / m.bl_ns;
            }
            if (nx >= 1024 || nv >= 1024)
                break;
        }
        bpflua_object_free(obj);
        free(names[i]);
    }
    qsort(xl, (size_t)nx, sizeof *xl, cmp_double);
    qsort(xv, (size_t)nv, sizeof *xv, cmp_double);
    printf("# corpus: %d programs from %d objects; %d accepted by both\n", n_progs, n, nx);
    if (nx)
        printf("# speedup over the kernel's BPF_PROG_LOAD: median %.1fx, smallest %.1fx; whole corpus "
               "%.1f ms (kernel) / %.2f ms (bpflua) = %.1fx\n", xl[nx / 2], xl[0], k_total / 1e6,
               bl_total / 1e6, (double)k_total / (double)(bl_total ? bl_total : 1));
    if (nv)
        printf("# speedup over the kernel's own verification time: median %.1fx, smallest %.1fx\n",
               xv[nv / 2], xv[0]);
    return 0;
}

/* What a run says in its closing lines: the spread of ns per verified insn
 * (rows with >= 1000 verified insns) and the smallest speedups. */
struct summary {
    double min_npi, max_npi;
    double min_x[2]; /* against the kernel's load time, its verification time */
};

static void note_speedup(struct summary *s, const struct measure *m)
{
    if (!m->ok || m->k_ok <= 0 || !m->bl_ns)
        return;
    double xl = (double)m->k_ns / m->bl_ns, xv = (double)m->k_verif_ns / m->bl_ns;
    if (!s->min_x[0] || xl < s->min_x[0])
        s->min_x[0] = xl;
    if (m->k_verif_ns && (!s->min_x[1] || xv < s->min_x[1]))
        s->min_x[1] = xv;
}

/* One family of generated programs at the given sizes, a row each. */
static void run_family(const char *family, char *(*gen)(int), const int *sizes, size_t n,
                       int quick, int kernel, struct summary *fam, struct summary *all)
{
    for (size_t i = 0; i < n && !(quick && i > 0); i++) {
        char name[64];
        snprintf(name, sizeof name, "%s_%d", family, sizes[i]);
        char *text = gen(sizes[i]);
        struct measure m;
        if (!measure(text, kernel, &m)) {
            print_row(name, &m);
            double npi = per_insn(m.bl_ns, m.bl_verified);
            if (m.bl_verified >= 1000) {
                if (!fam->min_npi || npi < fam->min_npi)
                    fam->min_npi = npi;
                if (npi > fam->max_npi)
                    fam->max_npi = npi;
            }
            note_speedup(all, &m);
        }
        free(text);
    }
}

int main(int argc, char **argv)
{
    int quick = 0, want_kernel = 1;
    const char *corpus = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            quick = 1;
        else if (strcmp(argv[i], "--no-kernel") == 0)
            want_kernel = 0;
        else if (strcmp(argv[i], "--profile") == 0 && i + 1 < argc)
            return profile(atoi(argv[i + 1]), i + 2 < argc ? atoi(argv[i + 2]) : 100, 0);
        else if (strcmp(argv[i], "--profile-stack") == 0 && i + 1 < argc)
            return profile(atoi(argv[i + 1]), i + 2 < argc ? atoi(argv[i + 2]) : 100, 1);
        else if (strcmp(argv[i], "--profile-object") == 0 && i + 1 < argc)
            return profile_object(argv[i + 1], i + 2 < argc ? atoi(argv[i + 2]) : 100);
        else if (strcmp(argv[i], "--verdicts") == 0)
            return verdicts(argc - i - 1, argv + i + 1);
        else if (strcmp(argv[i], "--corpus") == 0 && i + 1 < argc)
            corpus = argv[++i];
        else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
            runs = atoi(argv[++i]);
            if (runs < 1 || runs > 31)
                runs = 7;
        }
    }
    clock_ns = clock_cost();
    char *why = want_kernel ? NULL : strdup("--no-kernel");
    int kernel = want_kernel && bl_kernel_available(&why);
    if (quick)
        runs = 1;
    printf("# bpflua: bl_verify_prog; kernel: BPF_PROG_LOAD of the same object (maps and BTF made\n"
           "# beforehand), %d runs each. bl_us, k_load_us: median thread CPU time (user + system)\n"
           "# of the call; k_vrf_us: the kernel's own \"verification time\" from its BPF_LOG_STATS\n"
           "# log (bpf_check alone, no JIT; wall time in 1 us steps, so the fastest run is shown).\n"
           "# ns/in: time per verified insn (bpflua's count for bpflua, the kernel's for the\n"
           "# kernel). x_load = k_load_us / bl_us, x_verif = k_vrf_us / bl_us. A read of the\n"
           "# clock costs %.2f us: bl_us is timed over a batch of runs (>= 20 us), and that\n"
           "# cost is taken off k_load_us.\n", runs, clock_ns / 1000.0);
    if (!kernel)
        printf("# kernel columns skipped: %s\n", why ? why : "bpf(2) unavailable");
    free(why);
    print_header();
    if (corpus)
        return run_corpus(corpus, kernel);

    static const int blocks[] = { 80, 160, 400, 800, 1200, 1600, 2000, 2700 };
    static const int stacks[] = { 150, 600, 1500, 3500 };
    struct summary sum_blocks = { 0 }, sum_stack = { 0 }, all = { 0 };
    run_family("blocks", gen_blocks, blocks, sizeof blocks / sizeof blocks[0], quick, kernel,
               &sum_blocks, &all);
    run_family("stack", gen_stack, stacks, sizeof stacks / sizeof stacks[0], quick, kernel,
               &sum_stack, &all);

    int iters = quick ? 50 : 1000;
    char name[64];
    struct measure m;
    char *plain = gen_plain_loop(iters), *looped = gen_bpf_loop(iters);
    snprintf(name, sizeof name, "seed_plain_loop_%d", iters);
    if (!measure(plain, kernel, &m))
        print_row(name, &m);
    uint64_t kernel_plain_ns = m.k_ns, kernel_plain_verif = m.k_verif_ns;
    snprintf(name, sizeof name, "seed_bpf_loop_%d", iters);
    if (!measure(looped, kernel, &m)) {
        print_row(name, &m);
        note_speedup(&all, &m);
    }
    if (kernel && m.ok && m.bl_ns)
        printf("# seed case: kernel on the plain loop %.1f us (load) / %.1f us (its verification "
               "time), bpflua on bpf_loop %.1f us: %.0fx / %.0fx; bpflua max_insns=%llu\n",
               kernel_plain_ns / 1000.0, kernel_plain_verif / 1000.0, m.bl_ns / 1000.0,
               (double)kernel_plain_ns / m.bl_ns, (double)kernel_plain_verif / m.bl_ns,
               (unsigned long long)m.max_insns);
    if (sum_blocks.max_npi || sum_stack.max_npi) {
        printf("# linearity: bpflua ns per verified insn, rows with >= 1000 verified insns:");
        if (sum_blocks.max_npi)
            printf(" blocks_N %.1f to %.1f (ratio %.2f)%s", sum_blocks.min_npi, sum_blocks.max_npi,
                   sum_blocks.max_npi / sum_blocks.min_npi, sum_stack.max_npi ? "," : "");
        if (sum_stack.max_npi)
            printf(" stack_N %.1f to %.1f (ratio %.2f)", sum_stack.min_npi, sum_stack.max_npi,
                   sum_stack.max_npi / sum_stack.min_npi);
        printf("\n");
    }
    if (kernel && all.min_x[0])
        printf("# smallest speedup over the kernel's objects: %.1fx against its load time, %.1fx "
               "against its own verification time (target: 10x against both)\n", all.min_x[0],
               all.min_x[1]);
    free(plain);
    free(looped);
    return 0;
}
