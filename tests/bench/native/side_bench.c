/* side_bench - one workload's JIT against its native-C twin, in one process.
 *
 *   side_bench OBJ.o PROG ALGO ROUNDS REPEAT PKT...
 *
 * Each round times REPEAT runs of the native twin (clang -O2, algos.c)
 * over every packet, then one bpflua_run of the JIT with repeat = REPEAT
 * on every packet, and takes their ratio. Prints the median of the
 * per-round ratios and each side's minimum: on a shared machine the ratio
 * of runs taken side by side is steadier than either time. Results must
 * agree, or it exits 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "algos.h"
#include "core/bpflua.h"
#include "core/object.h"
#include "jit/jit.h"

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *buf = malloc(1 << 17);
    *len = buf ? fread(buf, 1, 1 << 17, f) : 0;
    fclose(f);
    return buf;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc < 7) {
        fprintf(stderr, "usage: side_bench OBJ.o PROG ALGO ROUNDS REPEAT PKT...\n");
        return 2;
    }
    const struct native_algo *a = native_algos;
    while (a->name && strcmp(a->name, argv[3]) != 0)
        a++;
    if (!a->name) /* the survey's twins (spellings.c) */
        for (a = native_spellings; a->name && strcmp(a->name, argv[3]) != 0;)
            a++;
    if (!a->name) {
        fprintf(stderr, "side_bench: no algorithm '%s'\n", argv[3]);
        return 2;
    }
    char *err = NULL;
    bpflua_object *obj = bpflua_object_open_elf(argv[1], &err);
    if (!obj) {
        fprintf(stderr, "side_bench: %s\n", err ? err : "cannot open");
        return 2;
    }
    int prog = bpflua_prog_find(obj, argv[2]);
    if (prog < 0) {
        fprintf(stderr, "side_bench: no program '%s'\n", argv[2]);
        return 2;
    }
    long rounds = atol(argv[4]), repeat = atol(argv[5]);
    int npk = argc - 6;
    if (rounds < 1 || repeat < 1)
        return 2;
    uint8_t **pk = calloc((size_t)npk, sizeof *pk);
    size_t *len = calloc((size_t)npk, sizeof *len);
    for (int i = 0; i < npk; i++) {
        pk[i] = read_file(argv[6 + i], &len[i]);
        if (!pk[i]) {
            fprintf(stderr, "side_bench: cannot read %s\n", argv[6 + i]);
            return 2;
        }
    }
    struct bpflua_run_opts ro = {.engine = BPFLUA_ENGINE_JIT, .repeat = (uint64_t)repeat};
    struct bpflua_run_result res;
    for (int i = 0; i < npk; i++) {
        if (bpflua_run(obj, (size_t)prog, pk[i], len[i], &ro, &res, &err) != 0) {
            fprintf(stderr, "side_bench: run: %s\n", err ? err : "?");
            return 1;
        }
        uint64_t want = a->fn(pk[i], len[i]) & 0xffffffff;
        if ((res.retval & 0xffffffff) != want) {
            fprintf(stderr, "side_bench: JIT %llu, native %llu\n", (unsigned long long)res.retval,
                    (unsigned long long)want);
            return 1;
        }
    }
    if (getenv("SIDE_DUMP")) { /* SIDE_DUMP=file: the JIT's code, for objdump -b binary */
        const struct bl_prog *p = &obj->progs[prog];
        FILE *f = p->jit ? fopen(getenv("SIDE_DUMP"), "wb") : NULL;
        if (f) {
            fwrite(bl_jit_code_bytes(p->jit), 1, bl_jit_code_size(p->jit), f);
            fclose(f);
        }
    }
    double *ratio = calloc((size_t)rounds, sizeof *ratio), nmin = 1e300, jmin = 1e300;
    uint64_t sink = 0;
    for (long r = 0; r < rounds; r++) {
        uint64_t t0 = now_ns();
        for (long k = 0; k < repeat; k++)
            for (int i = 0; i < npk; i++)
                sink += a->fn(pk[i], len[i]);
        double nat = (double)(now_ns() - t0) / (double)(repeat * npk), jit = 0;
        for (int i = 0; i < npk; i++) {
            bpflua_run(obj, (size_t)prog, pk[i], len[i], &ro, &res, &err);
            jit += (double)res.ns_per_run / npk;
        }
        ratio[r] = jit / nat;
        nmin = nat < nmin ? nat : nmin;
        jmin = jit < jmin ? jit : jmin;
    }
    qsort(ratio, (size_t)rounds, sizeof *ratio, cmp_double);
    const struct bl_prog *bp = &obj->progs[prog];
    printf("%-14s ratio=%.2f (q1 %.2f q3 %.2f) native_min=%.1f jit_min=%.1f sink=%llu "
           "compile=%llu ns for %u insns\n", argv[3],
           ratio[rounds / 2], ratio[rounds / 4], ratio[3 * rounds / 4], nmin, jmin,
           (unsigned long long)(sink & 1),
           (unsigned long long)(bp->jit ? bl_jit_compile_ns(bp->jit) : 0), bp->n_insns);
    bpflua_object_free(obj);
    return 0;
}
