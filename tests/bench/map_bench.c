/* map_bench.c - hash map lookup and update cost: bpflua's maps against the
 * kernel's, ns per operation.
 *
 *   map_bench [-n OPS] [-e ENTRIES]
 *
 * Columns:
 *   bpflua direct  bl_map_lookup/bl_map_update, what a helper call costs
 *                  in the interpreter and the JIT (minus the call itself);
 *   bpflua API     bpflua_map_lookup/update, the embedder's copying API;
 *   kernel syscall bpf(2) BPF_MAP_*_ELEM from userspace via libbpf, where
 *                  the syscall dominates (the kernel column is "n/a" when
 *                  bpf(2) is unavailable).
 * The fair in-program comparison (a BPF program calling the helpers in a
 * bpf_loop, under BPF_PROG_TEST_RUN against bpflua_run) belongs to the
 * engine benchmarks in tests/bench; this driver isolates the maps.
 * Keys are u32 drawn from a fixed xorshift sequence over the filled range,
 * values u64; the map holds ENTRIES keys with max_entries = ENTRIES.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "vm/object.h"
#include "stdlib/maps.h"

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint32_t *make_keys(size_t n, uint32_t range)
{
    uint32_t *keys = malloc(n * sizeof *keys);
    uint64_t x = 0x2545f4914f6cdd1dull;
    for (size_t i = 0; keys && i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        keys[i] = (uint32_t)(x % range);
    }
    return keys;
}

struct result {
    double lookup, update;
};

static int bench_direct(uint32_t entries, const uint32_t *keys, size_t ops, struct result *r)
{
    struct bl_map_def d = {.name = "bench", .type = BPFLUA_MAP_HASH, .key_size = 4,
                           .value_size = 8, .max_entries = entries};
    char *err = NULL;
    struct bl_map *m = bl_map_create(&d, &err);
    if (!m) {
        fprintf(stderr, "map_bench: %s\n", err ? err : "map creation failed");
        free(err);
        return -1;
    }
    for (uint32_t k = 0; k < entries; k++) {
        uint64_t v = k;
        bl_map_update(m, &k, &v, BL_NOEXIST);
    }
    volatile uint64_t sink = 0;
    uint64_t t0 = now_ns();
    for (size_t i = 0; i < ops; i++) {
        uint64_t *v = bl_map_lookup(m, &keys[i]);
        sink += v ? *v : 0;
    }
    uint64_t t1 = now_ns();
    for (size_t i = 0; i < ops; i++) {
        uint64_t v = i;
        bl_map_update(m, &keys[i], &v, BL_ANY);
    }
    uint64_t t2 = now_ns();
    r->lookup = (double)(t1 - t0) / (double)ops;
    r->update = (double)(t2 - t1) / (double)ops;
    bl_map_free(m);
    return (int)(sink & 0);
}

static int bench_api(uint32_t entries, const uint32_t *keys, size_t ops, struct result *r)
{
    bpflua_object *obj = bpflua_object_new();
    struct bpflua_map_spec s = {.name = "bench", .type = BPFLUA_MAP_HASH, .key_size = 4,
                                .value_size = 8, .max_entries = entries};
    if (!obj || bpflua_object_add_map(obj, &s) != 0) {
        bpflua_object_free(obj);
        return -1;
    }
    for (uint32_t k = 0; k < entries; k++) {
        uint64_t v = k;
        bpflua_map_update(obj, 0, &k, &v, BL_NOEXIST);
    }
    volatile uint64_t sink = 0;
    uint64_t t0 = now_ns();
    for (size_t i = 0; i < ops; i++) {
        uint64_t v = 0;
        bpflua_map_lookup(obj, 0, &keys[i], &v);
        sink += v;
    }
    uint64_t t1 = now_ns();
    for (size_t i = 0; i < ops; i++) {
        uint64_t v = i;
        bpflua_map_update(obj, 0, &keys[i], &v, BL_ANY);
    }
    uint64_t t2 = now_ns();
    r->lookup = (double)(t1 - t0) / (double)ops;
    r->update = (double)(t2 - t1) / (double)ops;
    bpflua_object_free(obj);
    return 0;
}

static int bench_kernel(uint32_t entries, const uint32_t *keys, size_t ops, struct result *r)
{
    int fd = bpf_map_create(BPF_MAP_TYPE_HASH, "bench", 4, 8, entries, NULL);
    if (fd < 0)
        return fd;
    for (uint32_t k = 0; k < entries; k++) {
        uint64_t v = k;
        bpf_map_update_elem(fd, &k, &v, BPF_NOEXIST);
    }
    volatile uint64_t sink = 0;
    uint64_t t0 = now_ns();
    for (size_t i = 0; i < ops; i++) {
        uint64_t v = 0;
        bpf_map_lookup_elem(fd, &keys[i], &v);
        sink += v;
    }
    uint64_t t1 = now_ns();
    for (size_t i = 0; i < ops; i++) {
        uint64_t v = i;
        bpf_map_update_elem(fd, &keys[i], &v, BPF_ANY);
    }
    uint64_t t2 = now_ns();
    r->lookup = (double)(t1 - t0) / (double)ops;
    r->update = (double)(t2 - t1) / (double)ops;
    close(fd);
    return 0;
}

int main(int argc, char **argv)
{
    size_t ops = 1000000;
    uint32_t entries = 10000;
    int opt;
    while ((opt = getopt(argc, argv, "n:e:")) != -1) {
        if (opt == 'n')
            ops = strtoull(optarg, NULL, 10);
        else if (opt == 'e')
            entries = (uint32_t)strtoul(optarg, NULL, 10);
        else {
            fprintf(stderr, "usage: map_bench [-n OPS] [-e ENTRIES]\n");
            return 2;
        }
    }
    if (ops == 0 || entries == 0) {
        fprintf(stderr, "map_bench: OPS and ENTRIES must be > 0\n");
        return 2;
    }
    libbpf_set_print(NULL);
    uint32_t *keys = make_keys(ops, entries);
    if (!keys) {
        fprintf(stderr, "map_bench: out of memory\n");
        return 1;
    }
    struct result direct, api, kernel;
    if (bench_direct(entries, keys, ops, &direct) || bench_api(entries, keys, ops, &api)) {
        free(keys);
        return 1;
    }
    /* syscalls are ~10x slower: a tenth of the operations is plenty */
    size_t kops = ops / 10 ? ops / 10 : 1;
    int krc = bench_kernel(entries, keys, kops, &kernel);
    printf("hash map, %u entries, u32 keys, u64 values, %zu ops (kernel: %zu)\n", entries, ops,
           kops);
    printf("%-8s %14s %14s %16s\n", "op", "bpflua direct", "bpflua API", "kernel syscall");
    char kl[32], ku[32];
    if (krc == 0) {
        snprintf(kl, sizeof kl, "%.1f", kernel.lookup);
        snprintf(ku, sizeof ku, "%.1f", kernel.update);
    } else {
        snprintf(kl, sizeof kl, "n/a (%s)", strerror(-krc));
        snprintf(ku, sizeof ku, "n/a");
    }
    printf("%-8s %11.1f ns %11.1f ns %13s ns\n", "lookup", direct.lookup, api.lookup, kl);
    printf("%-8s %11.1f ns %11.1f ns %13s ns\n", "update", direct.update, api.update, ku);
    free(keys);
    return 0;
}
