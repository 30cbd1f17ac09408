/* bench_native - times one native algorithm on packets from files.
 *
 *   bench_native ALGO REPEAT SAMPLES PKT...
 *
 * Runs ALGO over every packet REPEAT times per sample and prints, per
 * sample, the ns per run (averaged over the packets) and the last result:
 *   result=<r> ns=<t> ns=<t> ...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "algos.h"

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

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: bench_native ALGO REPEAT SAMPLES PKT...\n");
        return 2;
    }
    const struct native_algo *a = native_algos;
    while (a->name && strcmp(a->name, argv[1]) != 0)
        a++;
    if (!a->name) {
        fprintf(stderr, "bench_native: no algorithm '%s'\n", argv[1]);
        return 2;
    }
    long repeat = atol(argv[2]), samples = atol(argv[3]);
    int npk = argc - 4;
    uint8_t **pk = calloc((size_t)npk, sizeof *pk);
    size_t *len = calloc((size_t)npk, sizeof *len);
    for (int i = 0; i < npk; i++) {
        pk[i] = read_file(argv[4 + i], &len[i]);
        if (!pk[i]) {
            fprintf(stderr, "bench_native: cannot read %s\n", argv[4 + i]);
            return 2;
        }
    }
    uint64_t r = 0;
    printf("result=");
    for (int i = 0; i < npk; i++)
        printf("%s%llu", i ? "," : "", (unsigned long long)(a->fn(pk[i], len[i]) & 0xffffffff));
    /* warm up (maps' first inserts and page faults, caches) untimed, as the
     * bpflua engines are warm when sampled: each sample is a fresh process */
    for (long k = 0; k < repeat / 10; k++)
        for (int i = 0; i < npk; i++)
            r += a->fn(pk[i], len[i]);
    for (long s = 0; s < samples; s++) {
        uint64_t t0 = now_ns();
        for (long k = 0; k < repeat; k++)
            for (int i = 0; i < npk; i++)
                r += a->fn(pk[i], len[i]);
        uint64_t t1 = now_ns();
        printf(" ns=%.1f", (double)(t1 - t0) / (double)(repeat * npk));
    }
    printf(" sink=%llu\n", (unsigned long long)(r & 1));
    return 0;
}
