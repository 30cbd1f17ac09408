/* jit_bench - the JIT against the interpreter and native C, side by side.
 *
 *   jit_bench [SAMPLES]
 *
 * For each workload (the same algorithms as tests/bench/progs and
 * tests/bench/native/algos.c, written here in eBPF assembly the way the
 * compiler lowers `for` loops: a bpf_loop whose callback works on a
 * context struct in the caller's frame), prints the median ns per run of
 * the JIT, the interpreter (verified mode) and the native C function
 * (compiled with this build's flags), their minimum over the samples (the
 * machine is shared), and the JIT's compile time. Then
 * the compile time of a 1,000-instruction program.
 *
 * Programs are run as verified code (every access marked proven, as the
 * verifier marks these), so the JIT emits no checks. Not run by ctest:
 * timing belongs here, not in tests.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jit/jit.h"
#include "stdlib/helpers.h"
#include "vm/asm.h"
#include "vm/interp.h"
#include "core/object.h"
#include "vm/verifier.h"

#include "native/algos.c"

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static const char *SUM1K =
    "mov %r0, 0\njlt %r2, 16, done\nldxh %r6, [%r1+14]\nbe16 %r6\n"
    "stdw [%r10-8], 0\nmov %r1, %r6\nlddw %r2, func:cb\nmov %r3, %r10\nadd %r3, -8\n"
    "mov %r4, 0\ncall 181\nldxdw %r0, [%r10-8]\nand %r0, 0x7fffffff\ndone:\nexit\n"
    "cb:\nldxdw %r3, [%r2]\nadd %r3, %r1\nstxdw [%r2], %r3\nmov %r0, 0\nexit\n";

static const char *CHECKSUM =
    "stxdw [%r10-16], %r1\nstdw [%r10-8], 0\nrsh %r2, 1\nmov %r1, %r2\nlddw %r2, func:cb\n"
    "mov %r3, %r10\nadd %r3, -16\nmov %r4, 0\ncall 181\nldxdw %r0, [%r10-8]\n"
    "mov %r1, %r0\nand %r1, 0xffff\nrsh %r0, 16\nadd %r0, %r1\n"
    "mov %r1, %r0\nand %r1, 0xffff\nrsh %r0, 16\nadd %r0, %r1\n"
    "xor %r0, -1\nand %r0, 0xffff\nexit\n"
    "cb:\nldxdw %r3, [%r2]\nlsh %r1, 1\nadd %r3, %r1\nldxh %r3, [%r3]\nbe16 %r3\n"
    "ldxdw %r4, [%r2+8]\nadd %r4, %r3\nstxdw [%r2+8], %r4\nmov %r0, 0\nexit\n";

static const char *SCAN =
    "stxdw [%r10-16], %r1\nstdw [%r10-8], 0xffff\nmov %r1, %r2\nlddw %r2, func:cb\n"
    "mov %r3, %r10\nadd %r3, -16\nmov %r4, 0\ncall 181\nldxdw %r0, [%r10-8]\nexit\n"
    "cb:\nldxdw %r3, [%r2]\nadd %r3, %r1\nldxb %r3, [%r3]\nmov %r0, 0\njne %r3, 0, +2\n"
    "stxdw [%r2+8], %r1\nmov %r0, 1\nexit\n";

static const char *NESTED =
    "ldxb %r3, [%r1]\nstxdw [%r10-8], %r3\nstdw [%r10-16], 0\nstdw [%r10-24], 0\n"
    "mov %r1, 32\nlddw %r2, func:outer\nmov %r3, %r10\nadd %r3, -24\nmov %r4, 0\ncall 181\n"
    "ldxdw %r0, [%r10-16]\nand %r0, 0xffffff\nexit\n"
    "outer:\nstxdw [%r2], %r1\nmov %r1, 32\nmov %r3, %r2\nlddw %r2, func:inner\nmov %r4, 0\n"
    "call 181\nmov %r0, 0\nexit\n"
    "inner:\nldxdw %r3, [%r2]\nmul %r3, %r1\nldxdw %r4, [%r2+16]\nxor %r3, %r4\n"
    "ldxdw %r4, [%r2+8]\nadd %r4, %r3\nstxdw [%r2+8], %r4\nmov %r0, 0\nexit\n";

/* marks program 0 verified with every access proven */
static struct bl_prog *prepare(bpflua_object *obj)
{
    struct bl_prog *p = bl_object_prog(obj, 0);
    p->exec_insns = malloc(p->n_insns * sizeof *p->insns);
    memcpy(p->exec_insns, p->insns, p->n_insns * sizeof *p->insns);
    p->aux = calloc(p->n_insns, sizeof *p->aux);
    for (uint32_t i = 0; i < p->n_insns; i++)
        p->aux[i].mem_safe = 1;
    p->verdict = 1;
    return p;
}

static uint64_t median(uint64_t *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_u64);
    return v[n / 2];
}

static volatile uint64_t sink;

static void bench(const char *name, const char *text, uint8_t *pkt, size_t len, int samples)
{
    char *err = NULL;
    const char *only = getenv("JIT_BENCH_ONLY"); /* one workload by name */
    if (only && strcmp(only, name))
        return;
    bpflua_object *obj = bl_asm_assemble(text, name, 1, &err);
    if (!obj) {
        fprintf(stderr, "%s: %s\n", name, err);
        exit(1);
    }
    struct bl_prog *p = prepare(obj);
    if (bl_jit_compile(p, &err)) {
        fprintf(stderr, "%s: %s\n", name, err);
        exit(1);
    }
    if (getenv("JIT_BENCH_DUMP")) { /* JIT_BENCH_DUMP=dir: the code of each workload */
        char path[512];
        snprintf(path, sizeof path, "%s/%s.bin", getenv("JIT_BENCH_DUMP"), name);
        FILE *f = fopen(path, "wb");
        if (f) {
            fwrite(bl_jit_code_bytes(p->jit), 1, bl_jit_code_size(p->jit), f);
            fclose(f);
        }
    }
    const struct native_algo *a = native_algos;
    while (a->name && strcmp(a->name, name))
        a++;

    struct bpflua_run_env env = {.obj = obj};
    uint64_t args[5] = {(uint64_t)(uintptr_t)pkt, len, 0, 0, 0};
    struct bl_interp_opts io = {0};
    struct bl_interp_result ir;
    uint64_t rj = bl_jit_run_mem(p->jit, (uint64_t)(uintptr_t)pkt, len, pkt, len, &env);
    bl_interp_exec(p->exec_insns, p->n_insns, args, &io, &env, &ir);
    uint64_t rn = a->fn ? a->fn(pkt, len) : 0;
    if (rj != ir.r0 || (a->fn && rn != rj)) {
        fprintf(stderr, "%s: results differ: jit %llu interp %llu native %llu\n", name,
                (unsigned long long)rj, (unsigned long long)ir.r0, (unsigned long long)rn);
        exit(1);
    }

    uint64_t tj[64], ti[64], tn[64];
    const int rep_j = 2000, rep_i = 100;
    for (int s = 0; s < samples; s++) {
        uint64_t t0 = now_ns();
        for (int r = 0; r < rep_j; r++)
            sink = bl_jit_run_mem(p->jit, (uint64_t)(uintptr_t)pkt, len, pkt, len, &env);
        tj[s] = (now_ns() - t0) / rep_j;
        t0 = now_ns();
        for (int r = 0; r < rep_i; r++) {
            bl_interp_exec(p->exec_insns, p->n_insns, args, &io, &env, &ir);
            sink = ir.r0;
        }
        ti[s] = (now_ns() - t0) / rep_i;
        t0 = now_ns();
        for (int r = 0; r < rep_j; r++)
            sink = a->fn(pkt, len);
        tn[s] = (now_ns() - t0) / rep_j;
    }
    /* median, and the minimum (the machine is shared: the least disturbed run) */
    uint64_t mj = median(tj, samples), mi = median(ti, samples), mn = median(tn, samples);
    printf("%-9s result=%-7llu median: jit=%5llu interp=%6llu native=%5llu ns | "
           "min: jit=%5llu interp=%6llu native=%5llu ns jit/native=%.2f | compile=%llu ns "
           "(%u insns, %zu bytes)\n",
           name, (unsigned long long)rj, (unsigned long long)mj, (unsigned long long)mi,
           (unsigned long long)mn, (unsigned long long)tj[0], (unsigned long long)ti[0],
           (unsigned long long)tn[0], (double)tj[0] / (double)(tn[0] ? tn[0] : 1),
           (unsigned long long)bl_jit_compile_ns(p->jit), p->n_insns, bl_jit_code_size(p->jit));
    if (!getenv("JIT_BENCH_KEEP"))
        bpflua_object_free(obj);
}

/* compile time of a 1,000-instruction program (ALU, stack, branches, calls) */
static void bench_compile(int samples)
{
    struct bl_insn insns[1000];
    uint32_t n = 0;
    for (int r = 0; r <= 9; r++)
        insns[n++] = (struct bl_insn){BL_ALU64 | BL_MOV | BL_K, (uint8_t)r, 0, 0, r};
    while (n < 990) {
        uint8_t d = (uint8_t)(n % 10), s = (uint8_t)((n * 7) % 10);
        switch (n % 6) {
        case 0: insns[n++] = (struct bl_insn){BL_ALU64 | BL_ADD | BL_X, d, s, 0, 0}; break;
        case 1: insns[n++] = (struct bl_insn){BL_ALU | BL_XOR | BL_K, d, 0, 0, (int32_t)n}; break;
        case 2: insns[n++] = (struct bl_insn){BL_STX | BL_MEM | BL_DW, BL_R10, s, -8, 0}; break;
        case 3: insns[n++] = (struct bl_insn){BL_LDX | BL_MEM | BL_DW, d, BL_R10, -8, 0}; break;
        case 4: insns[n++] = (struct bl_insn){BL_JMP | BL_JGT | BL_K, d, 0, 1, 100}; break;
        default: insns[n++] = (struct bl_insn){BL_ALU64 | BL_LSH | BL_K, d, 0, 0, 3}; break;
        }
    }
    while (n < 999)
        insns[n++] = (struct bl_insn){BL_ALU64 | BL_MOV | BL_K, 0, 0, 0, 1};
    insns[n++] = (struct bl_insn){BL_JMP | BL_EXIT, 0, 0, 0, 0};
    bpflua_object *obj = bpflua_object_new();
    bpflua_object_add_prog(obj, "big", "xdp", insns, n, NULL, 0, NULL, 0);
    struct bl_prog *p = prepare(obj);
    uint64_t t[64];
    char *err = NULL;
    for (int s = 0; s < samples; s++) {
        if (bl_jit_compile(p, &err)) {
            fprintf(stderr, "compile: %s\n", err);
            exit(1);
        }
        t[s] = bl_jit_compile_ns(p->jit);
    }
    printf("compile   1000 insns: median %llu ns (%zu bytes of code), including mmap/mprotect\n",
           (unsigned long long)median(t, samples), bl_jit_code_size(p->jit));
    bpflua_object_free(obj);
}

int main(int argc, char **argv)
{
    int samples = argc > 1 ? atoi(argv[1]) : 7;
    if (samples < 1 || samples > 64)
        samples = 7;
    static uint8_t pkt[1500];
    /* sum1k: n = 1000 at offset 14; nested: seed at 0; checksum: 1000 bytes */
    for (size_t i = 0; i < sizeof pkt; i++)
        pkt[i] = (uint8_t)(i * 7 + 1);
    pkt[0] = 0x5a;
    pkt[14] = 1000 >> 8;
    pkt[15] = 1000 & 0xff;
    bench("sum1k", SUM1K, pkt, 64, samples);
    bench("checksum", CHECKSUM, pkt, 1000, samples);
    for (size_t i = 0; i < sizeof pkt; i++)
        pkt[i] = 1;
    pkt[1400] = 0;
    bench("scan", SCAN, pkt, 1500, samples);
    pkt[0] = 0x5a;
    bench("nested", NESTED, pkt, 64, samples);
    bench_compile(samples * 4);
    return 0;
}
