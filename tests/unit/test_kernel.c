/* test_kernel.c - the kernel engine: objects bpflua writes load into the
 * running kernel through libbpf and return what bpflua's interpreter
 * returns; map contents read back through bl_kernel_map_fd agree;
 * verifier rejections name the source line; bad input is refused.
 * Skips (with the reason) where bpf(2) cannot load programs.
 */
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "core/bpflua.h"
#include "engine/kernel.h"
#include "core/object.h"
#include "testutil.h"

static int kernel_ok;

static int setup(void **state)
{
    (void)state;
    char *why = NULL;
    kernel_ok = bl_kernel_available(&why);
    if (!kernel_ok)
        printf("# skip kernel tests: %s\n", why ? why : "bpf(2) unavailable");
    free(why);
    return 0;
}

#define NEED_KERNEL() do { if (!kernel_ok) { skip(); return; } } while (0)

static uint64_t kernel_run(bpflua_object *obj, const char *prog, uint8_t *pkt, size_t len)
{
    int idx = bpflua_prog_find(obj, prog);
    assert_true(idx >= 0);
    struct bpflua_run_result res;
    char *err = NULL;
    int rc = bl_kernel_run(obj, (size_t)idx, pkt, len, 1, &res, &err);
    if (rc)
        fail_msg("kernel run of %s: %s", prog, err ? err : "?");
    free(err);
    return res.retval;
}

/* test_elf's program, with an update of sums[7] = 45 */
static const char *loop_asm = TU_LOOP_ASM_HEAD("sums")
    "  ldxdw %r1, [%r10-16]\n"
    "  stxdw [%r10-24], %r1\n"
    "  stw [%r10-28], 7\n"
    "  mov %r2, %r10\n"
    "  add %r2, -28\n"
    "  mov %r3, %r10\n"
    "  add %r3, -24\n"
    "  mov %r4, 0\n"
    "  lddw %r1, map:sums\n"
    "  call 2\n"
    TU_LOOP_ASM_TAIL;

/* A callback, a local call and two maps: same verdict and same map
 * contents in the kernel and in bpflua, over three runs. */
static void test_loop_maps_parity(void **state)
{
    (void)state;
    NEED_KERNEL();
    bpflua_object *obj = tu_assemble(loop_asm, "loop_prog");
    uint8_t pkt[64] = {0};
    for (int run = 0; run < 3; run++) {
        assert_int_equal(kernel_run(obj, "loop_prog", pkt, sizeof pkt), 2); /* 90 & 3 */
        uint64_t ret;
        if (tu_interp_run(obj, "loop_prog", pkt, sizeof pkt, &ret))
            assert_int_equal(ret, 2);
    }
    int counts_fd = bl_kernel_map_fd(obj, 0), sums_fd = bl_kernel_map_fd(obj, 1);
    assert_true(counts_fd >= 0 && sums_fd >= 0);
    uint32_t key = 1, k7 = 7;
    uint64_t kv = 0, ks = 0;
    assert_int_equal(bpf_map_lookup_elem(counts_fd, &key, &kv), 0);
    assert_int_equal(kv, 3);
    assert_int_equal(bpf_map_lookup_elem(sums_fd, &k7, &ks), 0);
    assert_int_equal(ks, 45);
    uint64_t iv = 0, is = 0;
    if (bpflua_map_lookup(obj, 0, &key, &iv) == 0) {
        assert_int_equal(iv, kv);
        assert_int_equal(bpflua_map_lookup(obj, 1, &k7, &is), 0);
        assert_int_equal(is, ks);
    }
    assert_true(bl_kernel_map_fd(obj, 2) < 0);
    bpflua_object_free(obj);
}

/* Several programs in two sections, subprograms with repeated names. */
static void test_multi_prog_object(void **state)
{
    (void)state;
    NEED_KERNEL();
    bpflua_object *a = tu_assemble("  mov %r1, 1\n  call local twice\n  exit\n"
                                "twice:\n  mov %r0, %r1\n  lsh %r0, 1\n  exit\n", "a");
    bpflua_object *obj = bpflua_object_new();
    const char *names[] = { "first", "second", "third" };
    const char *secs[] = { "xdp", "xdp", "xdp/other" };
    for (int i = 0; i < 3; i++) {
        struct bpflua_func_info funcs[2] = { { 0, names[i], NULL }, { a->progs[0].funcs[1].insn, "twice", NULL } };
        assert_true(bpflua_object_add_prog(obj, names[i], secs[i], a->progs[0].insns,
                                           a->progs[0].n_insns, funcs, 2, NULL, 0) >= 0);
    }
    uint8_t pkt[14] = {0};
    for (int i = 0; i < 3; i++)
        assert_int_equal(kernel_run(obj, names[i], pkt, sizeof pkt), 2);
    bpflua_object_free(obj);
    bpflua_object_free(a);
}

/* The writer's output after reading clang's objects loads and runs. */
static void test_clang_objects_through_writer(void **state)
{
    (void)state;
    NEED_KERNEL();
#ifdef BPFLUA_ELF_OBJ_DIR
    struct { const char *file, *prog; uint8_t first; uint64_t want; } cases[] = {
        { "loop_maps.o", "count_len", 0, 2 },
        { "plain.o", "first_byte", 0xff, 1 },
        { "plain.o", "first_byte", 0x00, 2 },
        { "multi.o", "prog_a", 0, 2 },
        { "multi.o", "prog_b", 0, 1 },
        { "multi.o", "prog_c", 0, 3 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char path[1024];
        char *err = NULL;
        snprintf(path, sizeof path, "%s/%s", BPFLUA_ELF_OBJ_DIR, cases[i].file);
        bpflua_object *obj = bpflua_object_open_elf(path, &err);
        if (!obj)
            fail_msg("%s: %s", path, err);
        uint8_t pkt[60] = { cases[i].first };
        assert_int_equal(kernel_run(obj, cases[i].prog, pkt, sizeof pkt), cases[i].want);
        uint64_t ret;
        if (tu_interp_run(obj, cases[i].prog, pkt, sizeof pkt, &ret))
            assert_int_equal(ret, cases[i].want);
        bpflua_object_free(obj);
    }
#else
    printf("# skip: no clang-built objects\n");
    skip();
#endif
}

/* The kernel's and our engines' slots of per-CPU map m agree, key by key. */
static void same_percpu_slots(bpflua_object *kobj, bpflua_object *obj, size_t m, const char *engine)
{
    int fd = bl_kernel_map_fd(kobj, m), n = bpflua_num_possible_cpus(), keys = 0;
    uint64_t kv[256], ov[256];
    assert_true(fd >= 0 && n <= 256);
    uint32_t key;
    for (int r = bpf_map_get_next_key(fd, NULL, &key); r == 0;
         r = bpf_map_get_next_key(fd, &key, &key)) {
        keys++;
        assert_int_equal(bpf_map_lookup_elem(fd, &key, kv), 0);
        assert_int_equal(bpflua_map_lookup_percpu(obj, m, &key, ov), 0);
        if (memcmp(kv, ov, (size_t)n * 8) != 0)
            fail_msg("%s: map %zu key %u: the slots differ from the kernel's", engine, m, key);
    }
    for (int r = bpflua_map_next_key(obj, m, NULL, &key); r == 0;
         r = bpflua_map_next_key(obj, m, &key, &key))
        keys--;
    assert_int_equal(keys, 0);
}

/* percpu_lpm.o (clang): the same verdicts and the same per-CPU slots and
 * routes in the kernel (BPF_PROG_TEST_RUN on the CPU this test is pinned
 * to) and in the interpreter and the JIT told to run on that CPU. */
static void test_percpu_lpm_object(void **state)
{
    (void)state;
    NEED_KERNEL();
#ifdef BPFLUA_ELF_OBJ_DIR
    cpu_set_t set;
    uint32_t cpu = 0;
    assert_int_equal(sched_getaffinity(0, sizeof set, &set), 0);
    while (!CPU_ISSET(cpu, &set))
        cpu++;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    assert_int_equal(sched_setaffinity(0, sizeof set, &set), 0);
    char path[1024];
    snprintf(path, sizeof path, "%s/percpu_lpm.o", BPFLUA_ELF_OBJ_DIR);
    bpflua_object *kobj = bpflua_object_open_elf(path, NULL);
    assert_non_null(kobj);
    static const uint8_t pkts[4][5] = {
        {6, 10, 1, 2, 3}, {17, 10, 9, 9, 9}, {6, 11, 0, 0, 0}, {1, 10, 1, 255, 255},
    };
    static const uint64_t want[4] = {XDP_DROP, XDP_PASS, XDP_TX, XDP_DROP};
    for (int i = 0; i < 4; i++) {
        uint8_t pkt[40] = {0};
        memcpy(pkt, pkts[i], 5);
        assert_int_equal(kernel_run(kobj, "route", pkt, sizeof pkt - (size_t)i), want[i]);
    }
    static const enum bpflua_engine engines[2] = {BPFLUA_ENGINE_INTERP, BPFLUA_ENGINE_JIT};
    for (int e = 0; e < 2; e++) {
        bpflua_object *obj = bpflua_object_open_elf(path, NULL);
        assert_non_null(obj);
        struct bpflua_run_opts ro = {.engine = engines[e], .cpu = cpu};
        struct bpflua_run_result res;
        int rc = 0;
        for (int i = 0; i < 4 && rc == 0; i++) {
            uint8_t pkt[40] = {0};
            memcpy(pkt, pkts[i], 5);
            rc = bpflua_run(obj, 0, pkt, sizeof pkt - (size_t)i, &ro, &res, NULL);
            if (rc == 0)
                assert_int_equal(res.retval, want[i]);
        }
        if (rc == -ENOTSUP) { /* no JIT here */
            bpflua_object_free(obj);
            continue;
        }
        assert_int_equal(rc, 0);
        const char *name = e ? "jit" : "interp";
        same_percpu_slots(kobj, obj, 0, name);
        same_percpu_slots(kobj, obj, 1, name);
        /* the routes, in the same next_key order */
        int fd = bl_kernel_map_fd(kobj, 2);
        struct { uint32_t len; uint8_t a[4]; } kk, ok;
        int kr = bpf_map_get_next_key(fd, NULL, &kk), orc = bpflua_map_next_key(obj, 2, NULL, &ok);
        for (; kr == 0 && orc == 0;
             kr = bpf_map_get_next_key(fd, &kk, &kk), orc = bpflua_map_next_key(obj, 2, &ok, &ok))
            assert_memory_equal(&kk, &ok, sizeof kk);
        assert_int_equal(kr, orc);
        bpflua_object_free(obj);
    }
    bpflua_object_free(kobj);
#else
    printf("# skip: no clang-built objects\n");
    skip();
#endif
}

/* csum_diff over packet bytes (as stored), xdp_get_buff_len, and
 * redirect's verdict, in each engine: out[0..2]; returns redirect's */
#define STORE_OUT(k) \
    "  stw [%r10-4], " #k "\n  stxdw [%r10-16], %r0\n  lddw %r1, map:out\n  mov %r2, %r10\n" \
    "  add %r2, -4\n  mov %r3, %r10\n  add %r3, -16\n  mov %r4, 0\n  call 2\n"
static const char *pkt_helpers_asm =
    ".map out array key=4 value=8 entries=4\n"
    "  ldxw %r6, [%r1+0]\n  ldxw %r7, [%r1+4]\n  mov %r9, %r1\n"
    "  mov %r2, %r6\n  add %r2, 16\n  jgt %r2, %r7, short\n"
    "  mov %r1, %r6\n  mov %r2, 8\n  mov %r3, %r6\n  add %r3, 8\n  mov %r4, 8\n"
    "  mov %r5, 0x1234\n  call 28\n" STORE_OUT(0)
    "  mov %r1, %r9\n  call 188\n" STORE_OUT(1)
    "  ldxw %r6, [%r9+0]\n  ldxw %r7, [%r9+4]\n  mov %r2, %r6\n  add %r2, 16\n"
    "  jgt %r2, %r7, short\n"
    "  mov %r1, %r6\n  mov %r2, 4\n  mov %r3, 0\n  mov %r4, 0\n  mov %r5, 7\n  call 28\n"
    STORE_OUT(2)
    "  mov %r1, 5\n  mov %r2, 0\n  call 23\n  exit\n"
    "short:\n  mov %r0, 1\n  exit\n";

static void test_pkt_helpers_parity(void **state)
{
    (void)state;
    NEED_KERNEL();
    uint8_t pkt[64];
    for (int i = 0; i < 64; i++)
        pkt[i] = (uint8_t)(i * 37 + 11);
    bpflua_object *obj = tu_assemble(pkt_helpers_asm, "pkt_helpers");
    uint8_t kp[64];
    memcpy(kp, pkt, sizeof kp);
    uint64_t kret = kernel_run(obj, "pkt_helpers", kp, sizeof kp);
    assert_int_equal(kret, 4); /* XDP_REDIRECT */
    int fd = bl_kernel_map_fd(obj, 0);
    uint64_t kout[3];
    for (uint32_t k = 0; k < 3; k++)
        assert_int_equal(bpf_map_lookup_elem(fd, &k, &kout[k]), 0);
    assert_int_equal(kout[1], 64);
    static const enum bpflua_engine engines[2] = {BPFLUA_ENGINE_INTERP, BPFLUA_ENGINE_JIT};
    for (int e = 0; e < 2; e++) {
        bpflua_object *o = tu_assemble(pkt_helpers_asm, "pkt_helpers");
        struct bpflua_run_opts ro = {.engine = engines[e]};
        struct bpflua_run_result res;
        uint8_t p2[64];
        memcpy(p2, pkt, sizeof p2);
        int rc = bpflua_run(o, 0, p2, sizeof p2, &ro, &res, NULL);
        if (rc == -ENOTSUP) {
            bpflua_object_free(o);
            continue;
        }
        assert_int_equal(rc, 0);
        assert_int_equal(res.retval, kret);
        assert_int_equal(res.redirect_key, 5);
        for (uint32_t k = 0; k < 3; k++) {
            uint64_t v;
            assert_int_equal(bpflua_map_lookup(o, 0, &k, &v), 0);
            if (v != kout[k])
                fail_msg("engine %d: out[%u] = 0x%llx, kernel 0x%llx", e, k,
                         (unsigned long long)v, (unsigned long long)kout[k]);
        }
        bpflua_object_free(o);
    }
    bpflua_object_free(obj);
}

/* bpf_xdp_adjust_head(+14) then bpf_xdp_adjust_tail(-10): out[0] = the
 * first byte after the head moved, out[1] = the length left, out[2] =
 * adjust_tail's result when it would leave less than a header (-EINVAL);
 * returns 2. Shrinking needs no headroom, so the sandbox agrees with the
 * kernel (growing is -EINVAL in the sandbox: README). */
static const char *adjust_asm =
    ".map out array key=4 value=8 entries=4\n"
    "  mov %r9, %r1\n  mov %r2, 14\n  call 44\n  jne %r0, 0, bad\n"
    "  mov %r1, %r9\n  mov %r2, -10\n  call 65\n  jne %r0, 0, bad\n"
    "  ldxw %r6, [%r9+0]\n  ldxw %r7, [%r9+4]\n  mov %r2, %r6\n  add %r2, 1\n"
    "  jgt %r2, %r7, bad\n  ldxb %r0, [%r6+0]\n" STORE_OUT(0)
    "  ldxw %r6, [%r9+0]\n  ldxw %r7, [%r9+4]\n  mov %r0, %r7\n  sub %r0, %r6\n" STORE_OUT(1)
    "  mov %r1, %r9\n  mov %r2, -100\n  call 65\n" STORE_OUT(2)
    "  mov %r0, 2\n  exit\n"
    "bad:\n  mov %r0, 1\n  exit\n";

static void test_xdp_adjust_parity(void **state)
{
    (void)state;
    NEED_KERNEL();
    uint8_t pkt[64];
    for (int i = 0; i < 64; i++)
        pkt[i] = (uint8_t)(100 + i);
    bpflua_object *obj = tu_assemble(adjust_asm, "adjust");
    uint8_t kp[64];
    memcpy(kp, pkt, sizeof kp);
    assert_int_equal(kernel_run(obj, "adjust", kp, sizeof kp), 2);
    uint64_t kout[3];
    for (uint32_t k = 0; k < 3; k++)
        assert_int_equal(bpf_map_lookup_elem(bl_kernel_map_fd(obj, 0), &k, &kout[k]), 0);
    assert_int_equal(kout[0], 114);
    assert_int_equal(kout[1], 40);
    assert_int_equal((int64_t)kout[2], -EINVAL);
    static const enum bpflua_engine engines[2] = {BPFLUA_ENGINE_INTERP, BPFLUA_ENGINE_JIT};
    for (int e = 0; e < 2; e++) {
        bpflua_object *o = tu_assemble(adjust_asm, "adjust");
        struct bpflua_run_opts ro = {.engine = engines[e]};
        struct bpflua_run_result res;
        uint8_t p2[64];
        memcpy(p2, pkt, sizeof p2);
        int rc = bpflua_run(o, 0, p2, sizeof p2, &ro, &res, NULL);
        if (rc == -ENOTSUP) {
            bpflua_object_free(o);
            continue;
        }
        assert_int_equal(rc, 0);
        assert_int_equal(res.retval, 2);
        for (uint32_t k = 0; k < 3; k++) {
            uint64_t v;
            assert_int_equal(bpflua_map_lookup(o, 0, &k, &v), 0);
            assert_int_equal(v, kout[k]);
        }
        bpflua_object_free(o);
    }
    bpflua_object_free(obj);
}

/* map_in_map.o through bpflua's writer: libbpf creates the array of maps
 * from the `values` template we write; the kernel's answers before and
 * after outer[0] holds counters are the sandbox's (test_elf) */
static void test_map_in_map_object(void **state)
{
    (void)state;
    NEED_KERNEL();
#ifdef BPFLUA_ELF_OBJ_DIR
    char path[1024];
    snprintf(path, sizeof path, "%s/map_in_map.o", BPFLUA_ELF_OBJ_DIR);
    bpflua_object *obj = bpflua_object_open_elf(path, NULL);
    assert_non_null(obj);
    uint8_t pkt[64] = {0};
    assert_int_equal(kernel_run(obj, "via_outer", pkt, sizeof pkt), XDP_DROP);
    int outer = bpflua_map_find(obj, "outer"), counters = bpflua_map_find(obj, "counters");
    int cfd = bl_kernel_map_fd(obj, (size_t)counters);
    uint32_t k0 = 0, k1 = 1;
    assert_int_equal(bpf_map_update_elem(bl_kernel_map_fd(obj, (size_t)outer), &k0, &cfd, 0), 0);
    assert_int_equal(kernel_run(obj, "via_outer", pkt, sizeof pkt), XDP_PASS);
    uint64_t v = 0;
    assert_int_equal(bpf_map_lookup_elem(cfd, &k1, &v), 0);
    assert_int_equal(v, 1);
    bpflua_object_free(obj);
#else
    printf("# skip: no clang-built objects\n");
    skip();
#endif
}

struct perf_seen { int n; uint32_t first[2]; uint32_t size; };

static void on_sample(void *ctx, int cpu, void *data, uint32_t size)
{
    struct perf_seen *p = ctx;
    if (p->n == 0)
        p->size = size;
    if (p->n++ == 0 && size >= 8)
        memcpy(p->first, data, 8);
}

/* tail_calls.o (clang): 33 tail calls and no more, a queue, a perf event
 * record and bpf_redirect_map, in the kernel (with a perf buffer open, as
 * the sandbox assumes) and in the interpreter and the JIT: the same
 * verdict, counters, queue contents and record. */
static void test_tail_calls_object(void **state)
{
    (void)state;
    NEED_KERNEL();
#ifdef BPFLUA_ELF_OBJ_DIR
    char path[1024];
    snprintf(path, sizeof path, "%s/tail_calls.o", BPFLUA_ELF_OBJ_DIR);
    bpflua_object *kobj = bpflua_object_open_elf(path, NULL);
    assert_non_null(kobj);
    char *err = NULL;
    if (bl_kernel_load(kobj, &err) < 0)
        fail_msg("kernel load: %s", err);
    int entry = bpflua_prog_find(kobj, "entry"), again = bpflua_prog_find(kobj, "again");
    int jmp = bpflua_map_find(kobj, "jmp"), out = bpflua_map_find(kobj, "out");
    int events = bpflua_map_find(kobj, "events"), ports = bpflua_map_find(kobj, "ports");
    int fifo = bpflua_map_find(kobj, "fifo");
    assert_true(entry >= 0 && again >= 0 && jmp >= 0 && out >= 0 && events >= 0 && ports >= 0 &&
                fifo >= 0);
    uint32_t k1 = 1, k2 = 2, lo = 1;
    int again_fd = bl_kernel_prog_fd(kobj, (size_t)again);
    assert_int_equal(bpf_map_update_elem(bl_kernel_map_fd(kobj, (size_t)jmp), &k1, &again_fd, 0), 0);
    assert_int_equal(bpf_map_update_elem(bl_kernel_map_fd(kobj, (size_t)ports), &k2, &lo, 0), 0);
    struct perf_seen kseen = {0};
    struct perf_buffer *pb = perf_buffer__new(bl_kernel_map_fd(kobj, (size_t)events), 1,
                                              on_sample, NULL, &kseen, NULL);
    assert_non_null(pb);
    uint8_t pkt[64] = {0};
    uint64_t kret = kernel_run(kobj, "entry", pkt, sizeof pkt);
    perf_buffer__consume(pb);
    perf_buffer__free(pb);
    assert_int_equal(kret, XDP_REDIRECT);
    uint64_t kout[8];
    for (uint32_t k = 0; k < 8; k++)
        assert_int_equal(bpf_map_lookup_elem(bl_kernel_map_fd(kobj, (size_t)out), &k, &kout[k]), 0);
    assert_int_equal(kout[0], 1);
    assert_int_equal(kout[1], 33);   /* again ran 33 times: the 34th tail call failed */
    assert_int_equal(kout[7], 0);
    assert_int_equal(kseen.n, 1);
    uint64_t kfifo[4];
    int kfifo_n = 0;
    while (kfifo_n < 4 && bpf_map_lookup_and_delete_elem(bl_kernel_map_fd(kobj, (size_t)fifo),
                                                         NULL, &kfifo[kfifo_n]) == 0)
        kfifo_n++;

    static const enum bpflua_engine engines[2] = {BPFLUA_ENGINE_INTERP, BPFLUA_ENGINE_JIT};
    for (int e = 0; e < 2; e++) {
        bpflua_object *obj = bpflua_object_open_elf(path, NULL);
        assert_non_null(obj);
        uint32_t again_idx = (uint32_t)again;
        assert_int_equal(bpflua_map_update(obj, (size_t)jmp, &k1, &again_idx, 0), 0);
        assert_int_equal(bpflua_map_update(obj, (size_t)ports, &k2, &lo, 0), 0);
        struct bpflua_run_opts ro = {.engine = engines[e]};
        struct bpflua_run_result res;
        uint8_t p2[64] = {0};
        int rc = bpflua_run(obj, (size_t)entry, p2, sizeof p2, &ro, &res, &err);
        if (rc == -ENOTSUP) {
            bpflua_object_free(obj);
            continue;
        }
        if (rc)
            fail_msg("engine %d: %s", e, err ? err : "?");
        assert_int_equal(res.retval, kret);
        assert_int_equal(res.tail_calls, 33);
        assert_int_equal(res.redirect_key, 2);
        for (uint32_t k = 0; k < 8; k++) {
            uint64_t v;
            assert_int_equal(bpflua_map_lookup(obj, (size_t)out, &k, &v), 0);
            if (v != kout[k])
                fail_msg("engine %d: out[%u] = %llu, kernel %llu", e, k, (unsigned long long)v,
                         (unsigned long long)kout[k]);
        }
        /* the record reached the run's event log, as ring buffer records do */
        assert_int_equal(bpflua_event_count(obj), 1);
        struct bpflua_event ev;
        assert_int_equal(bpflua_event_get(obj, 0, &ev), 0);
        assert_int_equal(ev.map, (uint32_t)events);
        assert_int_equal(ev.size, kseen.size); /* 12: the kernel pads 8 bytes of data */
        assert_int_equal(ev.size, 12);
        assert_memory_equal(ev.data, kseen.first, 8);
        uint64_t v;
        for (int i = 0; i < kfifo_n; i++) {
            assert_int_equal(bpflua_map_pop(obj, (size_t)fifo, &v), 0);
            assert_int_equal(v, kfifo[i]);
        }
        assert_int_equal(bpflua_map_pop(obj, (size_t)fifo, &v), -ENOENT);
        bpflua_object_free(obj);
    }
    free(err);
    bpflua_object_free(kobj);
#else
    printf("# skip: no clang-built objects\n");
    skip();
#endif
}

/* tail_sub.o: bpf_tail_call taken two subprogram calls deep unwinds every
 * frame; 33 of them and no more, then the call fails and the subprograms
 * return; an empty slot fails at once. Kernel, interpreter and JIT: the
 * same verdicts and run counts. */
static void test_tail_call_in_subprogram(void **state)
{
    (void)state;
    NEED_KERNEL();
#ifdef BPFLUA_ELF_OBJ_DIR
    char path[1024];
    snprintf(path, sizeof path, "%s/tail_sub.o", BPFLUA_ELF_OBJ_DIR);
    bpflua_object *kobj = bpflua_object_open_elf(path, NULL);
    assert_non_null(kobj);
    char *err = NULL;
    if (bl_kernel_load(kobj, &err) < 0)
        fail_msg("kernel load: %s", err);
    int chain = bpflua_prog_find(kobj, "chain"), jmp = bpflua_map_find(kobj, "jmp");
    int cnt = bpflua_map_find(kobj, "cnt");
    assert_true(chain >= 0 && jmp >= 0 && cnt >= 0);
    uint32_t k0 = 0, k1 = 1;
    int chain_fd = bl_kernel_prog_fd(kobj, (size_t)chain);
    assert_int_equal(bpf_map_update_elem(bl_kernel_map_fd(kobj, (size_t)jmp), &k0, &chain_fd, 0), 0);
    uint8_t pkt[64] = {0};
    uint64_t kchain = kernel_run(kobj, "chain", pkt, sizeof pkt);
    uint64_t kmissing = kernel_run(kobj, "missing", pkt, sizeof pkt);
    uint64_t kc0, kc1;
    assert_int_equal(bpf_map_lookup_elem(bl_kernel_map_fd(kobj, (size_t)cnt), &k0, &kc0), 0);
    assert_int_equal(bpf_map_lookup_elem(bl_kernel_map_fd(kobj, (size_t)cnt), &k1, &kc1), 0);
    assert_int_equal(kchain, 9);      /* deeper 7, hop + 1, chain + 1 */
    assert_int_equal(kmissing, 8);
    assert_int_equal(kc0, 34);        /* the first run and 33 tail calls */
    assert_int_equal(kc1, 1);
    static const enum bpflua_engine engines[2] = {BPFLUA_ENGINE_INTERP, BPFLUA_ENGINE_JIT};
    for (int e = 0; e < 2; e++) {
        bpflua_object *obj = bpflua_object_open_elf(path, NULL);
        assert_non_null(obj);
        uint32_t chain_idx = (uint32_t)chain;
        assert_int_equal(bpflua_map_update(obj, (size_t)jmp, &k0, &chain_idx, 0), 0);
        struct bpflua_run_opts ro = {.engine = engines[e]};
        struct bpflua_run_result res;
        uint8_t p2[64] = {0};
        int rc = bpflua_run(obj, (size_t)chain, p2, sizeof p2, &ro, &res, &err);
        if (rc == -ENOTSUP) {
            bpflua_object_free(obj);
            continue;
        }
        if (rc)
            fail_msg("engine %d: %s", e, err ? err : "?");
        assert_int_equal(res.retval, kchain);
        assert_int_equal(res.tail_calls, 33);
        assert_int_equal(bpflua_run(obj, (size_t)bpflua_prog_find(obj, "missing"), p2, sizeof p2,
                                    &ro, &res, &err), 0);
        assert_int_equal(res.retval, kmissing);
        uint64_t c0, c1;
        assert_int_equal(bpflua_map_lookup(obj, (size_t)cnt, &k0, &c0), 0);
        assert_int_equal(bpflua_map_lookup(obj, (size_t)cnt, &k1, &c1), 0);
        assert_int_equal(c0, kc0);
        assert_int_equal(c1, kc1);
        bpflua_object_free(obj);
    }
    free(err);
    bpflua_object_free(kobj);
#else
    printf("# skip: no clang-built objects\n");
    skip();
#endif
}

/* A program the kernel rejects: the error names the source line. */
static void test_rejection_names_source_line(void **state)
{
    (void)state;
    NEED_KERNEL();
    bpflua_object *as = tu_assemble("  mov %r0, 2\n  ldxdw %r0, [%r1+4000]\n  exit\n", "bad");
    bpflua_object *obj = bpflua_object_new();
    struct bpflua_line_info lines[] = { { 0, 1, 1 }, { 1, 2, 3 }, { 2, 3, 3 } };
    assert_true(bpflua_object_add_prog(obj, "bad", "xdp", as->progs[0].insns, 3, NULL, 0,
                                       lines, 3) >= 0);
    bpflua_object_set_source(obj, "rejected.lua",
                             "function xdp.bad(pkt)\n  return pkt.far_away\nend\n");
    char *err = NULL;
    assert_true(bl_kernel_load(obj, &err) < 0);
    assert_non_null(err);
    if (!strstr(err, "kernel verifier rejected 'bad': ") || !strstr(err, "rejected.lua:2") ||
        !strstr(err, "return pkt.far_away") || !strstr(err, "invalid bpf_context access"))
        fail_msg("unexpected rejection: %s", err);
    free(err);
    /* run reports the same */
    err = NULL;
    uint8_t pkt[20] = {0};
    struct bpflua_run_result res;
    assert_true(bl_kernel_run(obj, 0, pkt, sizeof pkt, 1, &res, &err) < 0);
    assert_non_null(strstr(err, "rejected.lua:2"));
    free(err);
    bpflua_object_free(obj);
    bpflua_object_free(as);
}

/* Every map type bpflua has, as the kernel creates it from our BTF; a
 * ring buffer record written by the program is there to read. */
static void test_all_map_types(void **state)
{
    (void)state;
    NEED_KERNEL();
    bpflua_object *obj = tu_assemble(
        ".map h hash key=8 value=16 entries=8\n"
        ".map a array key=4 value=4 entries=2\n"
        ".map pa percpu_array key=4 value=8 entries=2\n"
        ".map lru lru_hash key=2 value=2 entries=4\n"
        ".map rb ringbuf key=0 value=0 entries=4096\n"
        ".map ph percpu_hash key=4 value=8 entries=4\n"
        ".map lph lru_percpu_hash key=4 value=12 entries=4\n"
        ".map lpm lpm_trie key=8 value=3 entries=4 flags=1\n"
        "  lddw %r1, map:h\n  lddw %r1, map:a\n  lddw %r1, map:pa\n  lddw %r1, map:lru\n"
        "  lddw %r1, map:ph\n  lddw %r1, map:lph\n  lddw %r1, map:lpm\n"
        "  stdw [%r10-8], 42\n"
        "  lddw %r1, map:rb\n  mov %r2, %r10\n  add %r2, -8\n  mov %r3, 8\n  mov %r4, 0\n"
        "  call 130\n"
        "  mov %r0, 2\n  exit\n", "maps");
    uint8_t pkt[14] = {0};
    assert_int_equal(kernel_run(obj, "maps", pkt, sizeof pkt), 2);
    for (uint32_t m = 0; m < 8; m++)
        assert_true(bl_kernel_map_fd(obj, m) >= 0);
    static const uint32_t types[8] = {BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_ARRAY,
        BPF_MAP_TYPE_PERCPU_ARRAY, BPF_MAP_TYPE_LRU_HASH, BPF_MAP_TYPE_RINGBUF,
        BPF_MAP_TYPE_PERCPU_HASH, BPF_MAP_TYPE_LRU_PERCPU_HASH, BPF_MAP_TYPE_LPM_TRIE};
    for (uint32_t m = 0; m < 8; m++) {
        struct bpf_map_info mi;
        uint32_t mlen = sizeof mi;
        memset(&mi, 0, sizeof mi);
        assert_int_equal(bpf_obj_get_info_by_fd(bl_kernel_map_fd(obj, m), &mi, &mlen), 0);
        assert_int_equal(mi.type, types[m]);
        if (m == 7) /* created with our BTF: the lpm key is a struct, as the kernel insists */
            assert_true(mi.btf_key_type_id != 0);
    }
    struct bpf_map_info info;
    uint32_t len = sizeof info;
    memset(&info, 0, sizeof info);
    assert_int_equal(bpf_obj_get_info_by_fd(bl_kernel_map_fd(obj, 0), &info, &len), 0);
    assert_int_equal(info.type, BPF_MAP_TYPE_HASH);
    assert_int_equal(info.key_size, 8);
    assert_int_equal(info.value_size, 16);
    assert_int_equal(info.max_entries, 8);
    assert_true(info.btf_key_type_id != 0); /* created with our BTF */
    for (uint32_t m = 1; m < 4; m++) { /* arrays insist on a 32-bit int key */
        memset(&info, 0, sizeof info);
        len = sizeof info;
        assert_int_equal(bpf_obj_get_info_by_fd(bl_kernel_map_fd(obj, m), &info, &len), 0);
        assert_true(info.btf_value_type_id != 0);
    }
    memset(&info, 0, sizeof info);
    len = sizeof info;
    assert_int_equal(bpf_obj_get_info_by_fd(bl_kernel_map_fd(obj, 4), &info, &len), 0);
    assert_int_equal(info.type, BPF_MAP_TYPE_RINGBUF);
    assert_int_equal(info.max_entries, 4096);
    bpflua_object_free(obj);
}

static void test_bad_runs(void **state)
{
    (void)state;
    NEED_KERNEL();
    bpflua_object *obj = tu_assemble("mov %r0, 2\nexit\n", "pass");
    char *err = NULL;
    uint8_t pkt[13] = {0};
    struct bpflua_run_result res;
    assert_int_equal(bl_kernel_run(obj, 0, pkt, sizeof pkt, 1, &res, &err), -EINVAL);
    assert_non_null(strstr(err, "at least 14 bytes"));
    free(err);
    err = NULL;
    assert_int_equal(bl_kernel_run(obj, 5, pkt, sizeof pkt, 1, &res, &err), -EINVAL);
    assert_non_null(strstr(err, "no program 5"));
    free(err);
    /* repeat: the kernel reports time per run */
    uint8_t big[64] = {0};
    assert_int_equal(bl_kernel_run(obj, 0, big, sizeof big, 100, &res, NULL), 0);
    assert_int_equal(res.retval, 2);
    assert_int_equal(bl_kernel_prog_fd(obj, 1), -EINVAL);
    assert_true(bl_kernel_prog_fd(obj, 0) >= 0);
    bpflua_object_free(obj);
    /* not loaded: no fds */
    bpflua_object *fresh = tu_assemble("mov %r0, 1\nexit\n", "x");
    assert_true(bl_kernel_map_fd(fresh, 0) < 0);
    bpflua_object_free(fresh);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loop_maps_parity),
        cmocka_unit_test(test_percpu_lpm_object),
        cmocka_unit_test(test_tail_calls_object),
        cmocka_unit_test(test_tail_call_in_subprogram),
        cmocka_unit_test(test_pkt_helpers_parity),
        cmocka_unit_test(test_xdp_adjust_parity),
        cmocka_unit_test(test_map_in_map_object),
        cmocka_unit_test(test_multi_prog_object),
        cmocka_unit_test(test_clang_objects_through_writer),
        cmocka_unit_test(test_rejection_names_source_line),
        cmocka_unit_test(test_all_map_types),
        cmocka_unit_test(test_bad_runs),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
