/* map_bench.c - hash map lookup and update cost: bpflua's maps against the
 * kernel's, ns per operation.
 *
 *   map_bench [-n OPS] [-e ENTRIES] [-l LOOPS] [-r RUNS]
 *
 * Columns:
 *   bpflua direct  bl_map_lookup/bl_map_update, what a helper call costs
 *                  in the interpreter and the JIT (minus the call itself);
 *   bpflua API     bpflua_map_lookup/update, the embedder's copying API;
 *   kernel syscall bpf(2) BPF_MAP_*_ELEM from userspace via libbpf, where
 *                  the syscall dominates (the kernel column is "n/a" when
 *                  bpf(2) is unavailable).
 * Keys are u32 drawn from a fixed xorshift sequence over the filled range,
 * values u64; the map holds ENTRIES keys with max_entries = ENTRIES.
 *
 * Then the same from a BPF program: an XDP program calls bpf_loop(LOOPS)
 * whose callback does one map_lookup_elem or map_update_elem on key
 * (i * 0x9e3779b1) % ENTRIES. It runs in the kernel (BPF_PROG_TEST_RUN,
 * loaded here with a minimal BTF for the callback) and in bpflua's
 * interpreter and JIT (bpflua_run). A baseline program with the same loop
 * and key arithmetic but no map call is subtracted, so the "net" column is
 * the map operation alone. Engines that cannot run show n/a and why.
 * Times are thread CPU time, so a busy machine inflates them less.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "core/object.h"
#include "stdlib/maps.h"

/* This thread's CPU time (user + system): time spent preempted by other
 * work on a shared machine is not counted, as BPF_PROG_TEST_RUN's timer
 * does not count it for the kernel column. */
static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
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

/* ---- from a BPF program ---------------------------------------------------- */

enum prog_op { OP_NONE, OP_LOOKUP, OP_UPDATE };

static char *program_text(enum prog_op op, uint32_t entries, uint32_t loops)
{
    const char *body = op == OP_LOOKUP ?
        "  lddw %r1, map:m\n  mov %r2, %r10\n  add %r2, -4\n  call 1\n" :
        op == OP_UPDATE ?
        "  stxdw [%r10-16], %r7\n  lddw %r1, map:m\n  mov %r2, %r10\n  add %r2, -4\n"
        "  mov %r3, %r10\n  add %r3, -16\n  mov %r4, 0\n  call 2\n" : "";
    return bl_asprintf(".map m hash key=4 value=8 entries=%u\n"
                       "  mov %%r1, %u\n  lddw %%r2, func:cb\n  mov %%r3, 0\n  mov %%r4, 0\n"
                       "  call 181\n  mov %%r0, 2\n  exit\n"
                       "cb:\n  mov32 %%r7, %%r1\n  mul32 %%r7, 0x9e3779b1\n  mod32 %%r7, %u\n"
                       "  stxw [%%r10-4], %%r7\n%s  mov %%r0, 0\n  exit\n",
                       entries, loops, entries, body);
}

/* ns per run in the kernel, or a negative errno. */
static double kernel_prog_ns(bpflua_object *obj, uint32_t entries, uint64_t repeat, int *rc)
{
    const struct bl_prog *p = bl_object_prog(obj, 0);
    int map_fd = bpf_map_create(BPF_MAP_TYPE_HASH, "m", 4, 8, entries, NULL);
    *rc = map_fd < 0 ? map_fd : 0;
    if (map_fd < 0)
        return 0;
    for (uint32_t k = 0; k < entries; k++) {
        uint64_t v = k;
        bpf_map_update_elem(map_fd, &k, &v, BPF_NOEXIST);
    }
    struct bpf_insn *insns = malloc(p->n_insns * sizeof *insns);
    struct bpf_func_info *fi = calloc(p->n_funcs, sizeof *fi);
    struct btf *btf = btf__new_empty();
    int prog_fd = -ENOMEM;
    if (insns && fi && btf) {
        memcpy(insns, p->insns, p->n_insns * sizeof *insns);
        for (uint32_t i = 0; i + 1 < p->n_insns; i++)
            if (insns[i].code == (BPF_LD | BPF_IMM | BPF_DW) &&
                insns[i].src_reg == BPF_PSEUDO_MAP_FD)
                insns[i].imm = map_fd;
        /* the callback needs BTF func_info: "int f(void)" per function */
        int proto = btf__add_func_proto(btf, btf__add_int(btf, "int", 4, BTF_INT_SIGNED));
        for (uint32_t f = 0; f < p->n_funcs; f++) {
            fi[f].insn_off = p->funcs[f].insn;
            fi[f].type_id = (uint32_t)btf__add_func(btf, p->funcs[f].name, BTF_FUNC_STATIC,
                                                    proto);
        }
        prog_fd = btf__load_into_kernel(btf);
    }
    if (prog_fd == 0) {
        LIBBPF_OPTS(bpf_prog_load_opts, lo, .prog_btf_fd = btf__fd(btf), .func_info = fi,
                    .func_info_rec_size = sizeof *fi, .func_info_cnt = p->n_funcs);
        prog_fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "map_bench", "GPL", insns, p->n_insns, &lo);
    }
    double ns = 0;
    if (prog_fd >= 0) {
        unsigned char pkt[64] = {0};
        LIBBPF_OPTS(bpf_test_run_opts, ro, .data_in = pkt, .data_size_in = sizeof pkt,
                    .repeat = (int)repeat);
        *rc = bpf_prog_test_run_opts(prog_fd, &ro);
        ns = ro.duration;
        close(prog_fd);
    } else {
        *rc = prog_fd;
    }
    free(insns);
    free(fi);
    btf__free(btf);
    close(map_fd);
    return ns;
}

static double bpflua_prog_ns(bpflua_object *obj, uint32_t entries, enum bpflua_engine engine,
                             uint64_t repeat, int *rc, char **err)
{
    for (uint32_t k = 0; k < entries; k++) {
        uint64_t v = k;
        bpflua_map_update(obj, 0, &k, &v, BL_ANY);
    }
    unsigned char pkt[64] = {0};
    struct bpflua_run_opts ro = {.engine = engine, .repeat = 1};
    struct bpflua_run_result res;
    /* a first run verifies and compiles; the timed one only runs */
    *rc = bpflua_run(obj, 0, pkt, sizeof pkt, &ro, &res, err);
    if (*rc)
        return 0;
    ro.repeat = repeat;
    uint64_t start = now_ns();
    *rc = bpflua_run(obj, 0, pkt, sizeof pkt, &ro, &res, err);
    return *rc == 0 ? (double)(now_ns() - start) / (double)repeat : 0;
}

struct column {
    const char *name;
    enum bpflua_engine engine;
    double ns[3]; /* per run: baseline, lookup, update */
    int rc;
    char *why;
};

static void bench_programs(uint32_t entries, uint32_t loops, uint64_t repeat)
{
    struct column cols[] = {
        {"kernel", BPFLUA_ENGINE_KERNEL, {0}, 0, NULL},
        {"bpflua interp", BPFLUA_ENGINE_INTERP, {0}, 0, NULL},
        {"bpflua jit", BPFLUA_ENGINE_JIT, {0}, 0, NULL},
    };
    const size_t n_cols = sizeof cols / sizeof cols[0];
    for (int op = OP_NONE; op <= OP_UPDATE; op++) {
        char *text = program_text((enum prog_op)op, entries, loops);
        for (size_t c = 0; c < n_cols; c++) {
            if (cols[c].rc)
                continue;
            bpflua_object *obj = text ? bpflua_object_from_asm(text, "map_bench", &cols[c].why)
                                      : NULL;
            if (!obj) {
                cols[c].rc = -EINVAL;
                continue;
            }
            if (cols[c].engine == BPFLUA_ENGINE_KERNEL)
                cols[c].ns[op] = kernel_prog_ns(obj, entries, repeat, &cols[c].rc);
            else
                cols[c].ns[op] = bpflua_prog_ns(obj, entries, cols[c].engine, repeat,
                                                &cols[c].rc, &cols[c].why);
            bpflua_object_free(obj);
        }
        free(text);
    }
    printf("\nfrom a BPF program: bpf_loop(%u) callback, %u entries, %llu runs; ns per op\n",
           loops, entries, (unsigned long long)repeat);
    printf("%-14s %12s %12s %12s %12s %12s\n", "engine", "loop only", "lookup", "update",
           "net lookup", "net update");
    for (size_t c = 0; c < n_cols; c++) {
        if (cols[c].rc) {
            printf("%-14s n/a (%s)\n", cols[c].name,
                   cols[c].why ? cols[c].why : strerror(cols[c].rc < 0 ? -cols[c].rc : 0));
        } else {
            double *ns = cols[c].ns;
            printf("%-14s %12.1f %12.1f %12.1f %12.1f %12.1f\n", cols[c].name, ns[0] / loops,
                   ns[1] / loops, ns[2] / loops, (ns[1] - ns[0]) / loops,
                   (ns[2] - ns[0]) / loops);
        }
        free(cols[c].why);
    }
}

int main(int argc, char **argv)
{
    size_t ops = 1000000;
    uint32_t entries = 10000, loops = 100000;
    uint64_t runs = 10;
    int opt;
    while ((opt = getopt(argc, argv, "n:e:l:r:")) != -1) {
        if (opt == 'n')
            ops = strtoull(optarg, NULL, 10);
        else if (opt == 'e')
            entries = (uint32_t)strtoul(optarg, NULL, 10);
        else if (opt == 'l')
            loops = (uint32_t)strtoul(optarg, NULL, 10);
        else if (opt == 'r')
            runs = strtoull(optarg, NULL, 10);
        else {
            fprintf(stderr, "usage: map_bench [-n OPS] [-e ENTRIES] [-l LOOPS] [-r RUNS]\n");
            return 2;
        }
    }
    /* LOOPS is bpf_loop's count: at most BPF_MAX_LOOPS, and an immediate */
    if (ops == 0 || entries == 0 || entries > INT32_MAX || loops == 0 || loops > 8388608 ||
        runs == 0 || runs > INT32_MAX) {
        fprintf(stderr, "map_bench: OPS, ENTRIES, RUNS must be > 0, LOOPS in 1..8388608\n");
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
    bench_programs(entries, loops, runs);
    return 0;
}
