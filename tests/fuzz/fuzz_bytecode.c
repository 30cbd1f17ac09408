/* fuzz_bytecode - random bytecode through the verifier, then both engines.
 *
 * The promise under test: a program the verifier accepts runs in the
 * interpreter without a sanitizer report, within its proven max_insns
 * bound, and the JIT computes exactly what the interpreter computes (the
 * verdict and every byte of the packet).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpflua.h"

#define PKT_LEN 64
#define RUN_BUDGET 200000 /* skip programs whose proven bound is larger */

static bpflua_object *make_object(const uint8_t *data, size_t n_insns)
{
    bpflua_object *obj = bpflua_object_new();
    struct bpflua_map_spec hash = {.name = "h", .type = BPFLUA_MAP_HASH, .key_size = 4,
                                   .value_size = 8, .max_entries = 16};
    struct bpflua_map_spec arr = {.name = "a", .type = BPFLUA_MAP_ARRAY, .key_size = 4,
                                  .value_size = 8, .max_entries = 4};
    if (!obj || bpflua_object_add_map(obj, &hash) < 0 || bpflua_object_add_map(obj, &arr) < 0 ||
        bpflua_object_add_prog(obj, "fuzz", "xdp", data, n_insns, NULL, 0, NULL, 0) < 0) {
        bpflua_object_free(obj);
        return NULL;
    }
    return obj;
}

static int run(bpflua_object *obj, enum bpflua_engine engine, uint8_t *pkt, uint64_t bound,
               struct bpflua_run_result *res)
{
    struct bpflua_run_opts o = {.engine = engine, .repeat = 1, .max_insns = bound};
    char *err = NULL;
    int rc = bpflua_run(obj, 0, pkt, PKT_LEN, &o, res, &err);
    if (rc < 0 && engine == BPFLUA_ENGINE_INTERP) {
        fprintf(stderr, "accepted program failed to run within its bound %llu: %s\n",
                (unsigned long long)bound, err ? err : "?");
        abort();
    }
    free(err);
    return rc;
}

/* Programs whose results depend on the clock or on random numbers (the
 * helpers below, or a helper id chosen at run time by callx) cannot be
 * compared across engines; they still run. */
static int clock_or_random(int32_t helper)
{
    switch (helper) {
    case 5:   /* ktime_get_ns */
    case 7:   /* get_prandom_u32 */
    case 118: /* jiffies64 */
    case 125: /* ktime_get_boot_ns */
    case 160: /* ktime_get_coarse_ns */
    case 208: /* ktime_get_tai_ns */
        return 1;
    default:
        return 0;
    }
}

static int deterministic(const uint8_t *data, size_t n_insns)
{
    for (size_t i = 0; i < n_insns; i++) {
        const uint8_t *in = data + 8 * i;
        int32_t imm;
        memcpy(&imm, in + 4, 4);
        if (in[0] == 0x8d || (in[0] == 0x85 && (in[1] >> 4) == 0 && clock_or_random(imm)))
            return 0;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t n = size / 8;
    if (n == 0 || n > 4096)
        return 0;
    bpflua_object *obj = make_object(data, n);
    if (!obj)
        return 0;
    struct bpflua_verify_info info;
    char *err = NULL;
    if (bpflua_verify(obj, 0, 0, &info, &err, NULL) == 0 && info.max_insns <= RUN_BUDGET) {
        uint8_t pkt_i[PKT_LEN], pkt_j[PKT_LEN];
        for (int i = 0; i < PKT_LEN; i++)
            pkt_i[i] = pkt_j[i] = (uint8_t)(i * 37 + 11);
        struct bpflua_run_result ri, rj;
        run(obj, BPFLUA_ENGINE_INTERP, pkt_i, info.max_insns, &ri);
        /* the JIT on a fresh object, so both start from empty maps */
        bpflua_object *twin = make_object(data, n);
        if (twin && run(twin, BPFLUA_ENGINE_JIT, pkt_j, 0, &rj) == 0) {
            if (deterministic(data, n) &&
                (ri.retval != rj.retval || memcmp(pkt_i, pkt_j, PKT_LEN) != 0)) {
                fprintf(stderr, "JIT and interpreter differ: %llu vs %llu\n",
                        (unsigned long long)ri.retval, (unsigned long long)rj.retval);
                abort();
            }
        }
        bpflua_object_free(twin);
    }
    free(err);
    bpflua_object_free(obj);
    return 0;
}
