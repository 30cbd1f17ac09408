/* test_guard.c - guard-page memory (core/guard.c) and guarded runs.
 *
 * A deliberately wrong "verified" program (a correct program patched after
 * the verifier accepted it, so the verifier is bypassed) reads one byte past
 * the packet or below its stack frame: in guarded mode the run must die at
 * once by SIGSEGV in a guard page (checked in a forked child, whose SIGSEGV
 * handler tells guard hits from other faults), and the unpatched programs,
 * which touch exactly the last packet byte and the lowest stack byte, must
 * run fine.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/guard.h"
#include "vm/interp.h"
#include "core/object.h"
#include "stdlib/maps.h"
#include "jit/jit.h"
#include "testutil.h"

#define PKT_LEN 64

/* reads the last packet byte after a bounds check; insn 5 is the load */
static const char *pkt_read =
    "ldxw %r2, [%r1+0]\n"
    "ldxw %r3, [%r1+4]\n"
    "mov %r4, %r2\n"
    "add %r4, 64\n"
    "jgt %r4, %r3, out\n"
    "ldxb %r0, [%r2+63]\n"
    "exit\n"
    "out: mov %r0, 0\n"
    "exit\n";
/* writes the last packet byte; insn 5 is the store */
static const char *pkt_write =
    "ldxw %r2, [%r1+0]\n"
    "ldxw %r3, [%r1+4]\n"
    "mov %r4, %r2\n"
    "add %r4, 64\n"
    "jgt %r4, %r3, out\n"
    "stb [%r2+63], 9\n"
    "mov %r0, 1\n"
    "exit\n"
    "out: mov %r0, 0\n"
    "exit\n";
/* the lowest byte of the main frame */
static const char *stack_main =
    "stdw [%r10-512], 7\n"
    "ldxdw %r0, [%r10-512]\n"
    "exit\n";
/* the lowest byte of a BPF-to-BPF callee's frame */
static const char *stack_call =
    "call local f\n"
    "exit\n"
    "f: stdw [%r10-512], 8\n"
    "ldxdw %r0, [%r10-512]\n"
    "exit\n";
/* the lowest byte of a bpf_loop callback's frame, in each of 3 iterations */
static const char *stack_loop =
    "mov %r1, 3\n"
    "lddw %r2, func:cb\n"
    "mov %r3, 0\n"
    "mov %r4, 0\n"
    "call 181\n"
    "exit\n"
    "cb: stdw [%r10-512], 5\n"
    "ldxdw %r1, [%r10-512]\n"
    "mov %r0, 0\n"
    "exit\n";

static bpflua_object *load_verified(const char *text)
{
    bpflua_object *obj = tu_assemble(text, "g.asm");
    char *err = NULL;
    struct bpflua_verify_info info;
    if (bpflua_verify(obj, 0, 0, &info, &err, NULL) != 0)
        fail_msg("verify: %s", err);
    return obj;
}

/* Breaks the accepted program behind the verifier's back: the first
 * instruction with opcode `code` and offset `off` gets offset `new_off`. */
static void patch_off(bpflua_object *obj, uint8_t code, int16_t off, int16_t new_off)
{
    struct bl_prog *p = bl_object_prog(obj, 0);
    assert_non_null(p);
    assert_int_equal(p->verdict, 1);
    assert_null(p->exec_insns);
    for (uint32_t i = 0; i < p->n_insns; i++) {
        if (p->insns[i].code == code && p->insns[i].off == off) {
            p->insns[i].off = new_off;
            return;
        }
    }
    fail_msg("no instruction 0x%02x with offset %d", code, off);
}

static int run(bpflua_object *obj, enum bpflua_engine engine, int guard, uint8_t *pkt,
               size_t len, uint64_t *r0)
{
    struct bpflua_run_opts o = { .engine = engine, .guard = guard };
    struct bpflua_run_result res;
    char *err = NULL;
    int rc = bpflua_run(obj, 0, pkt, len, &o, &res, &err);
    if (rc < 0)
        fprintf(stderr, "run: %s\n", err ? err : "?");
    free(err);
    *r0 = res.retval;
    return rc;
}

static void fill(uint8_t *pkt)
{
    for (int i = 0; i < PKT_LEN; i++)
        pkt[i] = (uint8_t)(i * 3 + 1);
}

/* A guarded run that must fail with -EFAULT, saying msg. */
static void expect_guard_error(bpflua_object *obj, enum bpflua_engine engine, const char *msg)
{
    uint8_t pkt[PKT_LEN];
    fill(pkt);
    struct bpflua_run_opts o = { .engine = engine, .guard = 1 };
    struct bpflua_run_result res;
    char *err = NULL;
    assert_int_equal(bpflua_run(obj, 0, pkt, PKT_LEN, &o, &res, &err), -EFAULT);
    assert_non_null(err);
    if (!strstr(err, msg))
        fail_msg("error \"%s\", want \"%s\"", err, msg);
    free(err);
}

/* ---- the allocator --------------------------------------------------------- */

static void test_alloc_layout(void **state)
{
    (void)state;
    size_t page = bl_guard_page_size();
    size_t sizes[] = { 0, 1, 100, 4095, 4096, 4097, 70000 };
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t size = sizes[k];
        struct bl_guard g;
        assert_int_equal(bl_guard_alloc(&g, size, 3, BL_GUARD_END), 0);
        for (size_t i = 0; i < 3; i++) {
            uint8_t *e = bl_guard_elem(&g, i);
            assert_int_equal((uintptr_t)(e + size) % page, 0);
            assert_true(bl_guard_is_guard_addr(e + size));
            if (size) {
                assert_false(bl_guard_is_guard_addr(e));
                assert_false(bl_guard_is_guard_addr(e + size - 1));
                assert_int_equal(e[0], 0);
                assert_int_equal(e[size - 1], 0);
                memset(e, 0x5a, size);
            }
        }
        assert_null(bl_guard_elem(&g, 3));
        assert_int_equal(bl_guard_check(&g), 0);
        void *first = g.mem;
        bl_guard_free(&g);
        assert_false(bl_guard_is_guard_addr((uint8_t *)first + size));

        assert_int_equal(bl_guard_alloc(&g, size, 2, BL_GUARD_START), 0);
        for (size_t i = 0; i < 2; i++) {
            uint8_t *e = bl_guard_elem(&g, i);
            assert_int_equal((uintptr_t)e % page, 0);
            assert_true(bl_guard_is_guard_addr(e - 1));
            if (size) {
                assert_false(bl_guard_is_guard_addr(e + size - 1));
                memset(e, 0x5a, size);
            }
        }
        assert_int_equal(bl_guard_check(&g), 0);
        bl_guard_free(&g);
    }
    uint8_t *p = bl_guard_malloc(10, BL_GUARD_END);
    assert_non_null(p);
    assert_true(bl_guard_is_guard_addr(p + 10));
    memset(p, 1, 10);
    bl_guard_free_ptr(p, 10, BL_GUARD_END);
    assert_false(bl_guard_is_guard_addr(p + 10));
    struct bl_guard g;
    assert_int_equal(bl_guard_alloc(&g, 8, 0, BL_GUARD_END), -EINVAL);
    bl_guard_free(&g); /* zeroed: a no-op */
}

/* A write into the slack (not the guard page) is found by bl_guard_check.
 * The write goes through a raw read(2) so that AddressSanitizer, which
 * has the slack poisoned, does not stop it first. */
static void test_slack_write_detected(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    struct bl_guard g;
    assert_int_equal(bl_guard_alloc(&g, 100, 2, BL_GUARD_END), 0);
    uint8_t *e = bl_guard_elem(&g, 1);
    assert_int_equal(write(fds[1], "x", 1), 1);
    assert_int_equal(syscall(SYS_read, fds[0], e - 1, 1), 1);
    assert_int_equal(bl_guard_check(&g), -EFAULT);
    assert_int_equal(bl_guard_check(&g), 0); /* the pattern was restored */
    bl_guard_free(&g);

    assert_int_equal(bl_guard_alloc(&g, 100, 1, BL_GUARD_START), 0);
    assert_int_equal(write(fds[1], "y", 1), 1);
    assert_int_equal(syscall(SYS_read, fds[0], g.mem + 100, 1), 1);
    assert_int_equal(bl_guard_check(&g), -EFAULT);
    bl_guard_free(&g);
    close(fds[0]);
    close(fds[1]);
}

/* ---- correct programs at the exact boundary --------------------------------- */

static void test_boundary_runs(void **state)
{
    (void)state;
    uint8_t pkt[PKT_LEN];
    uint64_t r0;
    enum bpflua_engine engines[2] = { BPFLUA_ENGINE_INTERP, BPFLUA_ENGINE_JIT };
    for (int e = 0; e < 2; e++) {
        if (engines[e] == BPFLUA_ENGINE_JIT && !bl_jit_available())
            continue;
        for (int guard = -1; guard <= 1; guard += 2) {
            bpflua_object *obj = load_verified(pkt_read);
            fill(pkt);
            assert_int_equal(run(obj, engines[e], guard, pkt, PKT_LEN, &r0), 0);
            assert_int_equal(r0, pkt[PKT_LEN - 1]);
            /* a packet one byte too short takes the bounds check's way out */
            assert_int_equal(run(obj, engines[e], guard, pkt, PKT_LEN - 1, &r0), 0);
            assert_int_equal(r0, 0);
            assert_int_equal(run(obj, engines[e], guard, NULL, 0, &r0), 0);
            assert_int_equal(r0, 0);
            bpflua_object_free(obj);

            obj = load_verified(pkt_write);
            fill(pkt);
            assert_int_equal(run(obj, engines[e], guard, pkt, PKT_LEN, &r0), 0);
            assert_int_equal(r0, 1);
            assert_int_equal(pkt[PKT_LEN - 1], 9); /* copied back from the guarded copy */
            assert_int_equal(pkt[PKT_LEN - 2], (uint8_t)((PKT_LEN - 2) * 3 + 1));
            bpflua_object_free(obj);
        }
    }
    const char *stacks[] = { stack_main, stack_call, stack_loop };
    const uint64_t want[] = { 7, 8, 3 };
    for (int s = 0; s < 3; s++) {
        for (int guard = -1; guard <= 1; guard += 2) {
            bpflua_object *obj = load_verified(stacks[s]);
            fill(pkt);
            assert_int_equal(run(obj, BPFLUA_ENGINE_INTERP, guard, pkt, PKT_LEN, &r0), 0);
            assert_int_equal(r0, want[s]);
            /* repeat runs reuse the guarded frames */
            struct bpflua_run_opts o = { .engine = BPFLUA_ENGINE_INTERP, .guard = guard,
                                         .repeat = 5 };
            struct bpflua_run_result res;
            assert_int_equal(bpflua_run(obj, 0, pkt, PKT_LEN, &o, &res, NULL), 0);
            assert_int_equal(res.retval, want[s]);
            bpflua_object_free(obj);
        }
    }
}

/* ---- escaping accesses fault ---------------------------------------------- */

static void on_segv(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    if (bl_guard_is_guard_addr(si->si_addr)) {
        /* a guard hit: die by the signal itself (the access repeats) */
        signal(sig, SIG_DFL);
        return;
    }
    _exit(42); /* some other fault */
}

struct escape { const char *text; uint8_t code; int16_t off, new_off; enum bpflua_engine engine; };

/* Runs the patched program in a child; returns its wait status. */
static int run_escape(const struct escape *x, int guard)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_segv;
        sa.sa_flags = SA_SIGINFO | SA_NODEFER;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGSEGV, &sa, NULL);
        sigaction(SIGBUS, &sa, NULL);
        bpflua_object *obj = load_verified(x->text);
        patch_off(obj, x->code, x->off, x->new_off);
        uint8_t pkt[PKT_LEN];
        fill(pkt);
        uint64_t r0;
        int rc = run(obj, x->engine, guard, pkt, PKT_LEN, &r0);
        _exit(rc == 0 ? 0 : 1);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return status;
}

static void expect_guard_hit(const struct escape *x)
{
    int status = run_escape(x, 1);
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGSEGV)
        fail_msg("escape 0x%02x off %d -> %d (engine %d): child %s %d, want SIGSEGV in a guard page",
                 x->code, x->off, x->new_off, (int)x->engine,
                 WIFSIGNALED(status) ? "killed by signal" : "exited with",
                 WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
}

static void test_packet_overread_faults(void **state)
{
    (void)state;
    struct escape x = { pkt_read, 0x71 /* ldxb */, 63, 64, BPFLUA_ENGINE_INTERP };
    expect_guard_hit(&x);
    x.new_off = 4096 + 63; /* past the guard page too: still faults */
    expect_guard_hit(&x);
    if (bl_jit_available()) {
        x.engine = BPFLUA_ENGINE_JIT;
        x.new_off = 64;
        expect_guard_hit(&x);
    }
}

static void test_packet_overwrite_faults(void **state)
{
    (void)state;
    struct escape x = { pkt_write, 0x72 /* stb */, 63, 64, BPFLUA_ENGINE_INTERP };
    expect_guard_hit(&x);
    if (bl_jit_available()) {
        x.engine = BPFLUA_ENGINE_JIT;
        expect_guard_hit(&x);
    }
}

static void test_stack_underrun_faults(void **state)
{
    (void)state;
    /* a load one byte below the frame: main, callee and bpf_loop callback */
    const char *texts[] = { stack_main, stack_call, stack_loop };
    for (int s = 0; s < 3; s++) {
        struct escape x = { texts[s], 0x79 /* ldxdw */, -512, -513, BPFLUA_ENGINE_INTERP };
        expect_guard_hit(&x);
    }
    /* a store below the main frame */
    struct escape w = { stack_main, 0x7a /* stdw */, -512, -520, BPFLUA_ENGINE_INTERP };
    expect_guard_hit(&w);
}

/* Without guard pages the same escape reads the neighbouring memory
 * silently: the child exits normally (what guarded mode prevents). The
 * interpreter's unguarded frames are one array, so a read below frame 0
 * lands in frame 1. */
static void test_unguarded_escape_is_silent(void **state)
{
    (void)state;
    struct escape x = { stack_main, 0x79, -512, -513, BPFLUA_ENGINE_INTERP };
    int status = run_escape(&x, -1);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* The JIT's code is not instrumented: a write just before the packet (into
 * the slack of its guarded copy) is found when the run ends. */
static void test_packet_underwrite_detected(void **state)
{
    (void)state;
    if (!bl_jit_available())
        skip();
    bpflua_object *obj = load_verified(pkt_write);
    patch_off(obj, 0x72, 63, -1);
    expect_guard_error(obj, BPFLUA_ENGINE_JIT, "guard: the program wrote outside its packet");
    bpflua_object_free(obj);
}

/* ---- map values --------------------------------------------------------------- */

/* Guarded maps (created while guarded mode is on) keep each value apart
 * from the map's metadata: small maps with each value's 8-byte rounding
 * ending at a guard page, large ones (over BL_VALUES_GUARD_PAGES pages) in
 * one region with a canary after each value; bl_map_guard_check() reports
 * a write into a canary or below a value. */

static struct bl_map *new_map(uint32_t type, uint32_t vs, uint32_t n)
{
    struct bl_map_def d = tu_map_def("m", type, 4, vs, n, 0);
    char *err = NULL;
    struct bl_map *m = bl_map_create(&d, &err);
    if (!m)
        fail_msg("create: %s", err ? err : "?");
    return m;
}

/* The value for key (inserted, zeroed, for hash maps). */
static uint8_t *value_of(struct bl_map *m, uint32_t key)
{
    uint8_t zero[64] = { 0 };
    const struct bl_map_def *d = bl_map_def(m);
    if (d->type == BPFLUA_MAP_HASH || d->type == BPFLUA_MAP_LRU_HASH)
        assert_int_equal(bl_map_update(m, &key, zero, BL_ANY), 0);
    uint8_t *v = bl_map_lookup_sys(m, &key);
    assert_non_null(v);
    return v;
}

/* One byte written at p behind AddressSanitizer's back (it has the
 * canaries poisoned), as uninstrumented JIT code would: 1 written, or 0 if
 * p is not writable (a guard page: read(2) fails with EFAULT). */
static int raw_poke(uint8_t *p)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    assert_int_equal(write(fds[1], "z", 1), 1);
    long n = syscall(SYS_read, fds[0], p, 1);
    close(fds[0]);
    close(fds[1]);
    return n == 1;
}

static const uint32_t map_types[] = { BPFLUA_MAP_ARRAY, BPFLUA_MAP_PERCPU_ARRAY, BPFLUA_MAP_HASH,
                                      BPFLUA_MAP_LRU_HASH };

static void test_map_value_layout(void **state)
{
    (void)state;
    bl_guard_set_default(1);
    const uint32_t sizes[] = { 1, 3, 8, 12, 64 };
    const uint32_t entries[] = { 4, 3000 }; /* guard pages; canaries */
    for (size_t t = 0; t < 4; t++) {
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            for (size_t e = 0; e < 2; e++) {
                uint32_t vs = sizes[s], n = entries[e];
                struct bl_map *m = new_map(map_types[t], vs, n);
                uint32_t keys[] = { 0, 1, n - 1 };
                for (size_t k = 0; k < 3; k++) {
                    uint8_t *v = value_of(m, keys[k]);
                    assert_int_equal((uintptr_t)v % 8, 0);
                    memset(v, 0x77, vs); /* the whole value is the program's */
                    assert_int_equal(bl_map_guard_check(m), 0);
                    uint8_t *past = v + vs;
                    size_t rounded = (vs + 7) & ~7u;
                    if (e == 0) {
                        /* the rounding ends at a guard page */
                        assert_true(bl_guard_is_guard_addr(v + rounded));
                        assert_false(bl_guard_is_guard_addr(v + rounded - 1));
                    }
                    if (raw_poke(past)) {
                        assert_int_equal(bl_map_guard_check(m), -EFAULT);
                        assert_int_equal(bl_map_guard_check(m), 0); /* restored */
                    } else {
                        /* only where the value fills its rounding */
                        assert_int_equal(e, 0);
                        assert_int_equal(vs % 8, 0);
                        assert_true(bl_guard_is_guard_addr(past));
                    }
                    /* a byte below the value: the slack of its page run or
                     * the canary of the value before it */
                    assert_int_equal(raw_poke(v - 1), 1);
                    assert_int_equal(bl_map_guard_check(m), -EFAULT);
                    assert_int_equal(bl_map_guard_check(m), 0);
                    assert_int_equal(v[0], 0x77);
                    assert_int_equal(v[vs - 1], 0x77);
                }
                bl_map_free(m);
            }
        }
    }
    /* unguarded maps have nothing to check */
    bl_guard_set_default(0);
    struct bl_map *m = new_map(BPFLUA_MAP_ARRAY, 12, 4);
    assert_int_equal(bl_map_guard_check(m), 0);
    bl_map_free(m);
    bl_guard_set_default(-1);
}

/* Map helper calls in assembly, the key at r10-4 (and the value at r10-32). */
#define ASM_LOOKUP(map) \
    "lddw %r1, map:" map "\n" "mov %r2, %r10\n" "add %r2, -4\n" "call 1\n"
#define ASM_UPDATE(map)                                                       \
    "lddw %r1, map:" map "\n" "mov %r2, %r10\n" "add %r2, -4\n" "mov %r3, %r10\n" \
    "add %r3, -32\n" "mov %r4, 0\n" "call 2\n"

/* A program that looks up (after inserting, for hash maps) the value of
 * key 3 and writes its last byte (stb with offset vs - 1), where a patch
 * sends the store outside the value. */
static const char *map_write_prog(char *buf, size_t cap, const char *type, uint32_t vs, uint32_t n)
{
    snprintf(buf, cap, ".map m %s key=4 value=%u entries=%u\n%s" "stb [%%r0+%u], 9\n%s", type, vs,
             n,
             "stw [%r10-4], 3\n"
             "stdw [%r10-32], 0\n"
             "stdw [%r10-24], 0\n"
             "stdw [%r10-16], 0\n"
             ASM_UPDATE("m")
             ASM_LOOKUP("m")
             "jeq %r0, 0, out\n",
             vs - 1,
             "mov %r0, 1\n"
             "exit\n"
             "out: mov %r0, 0\n"
             "exit\n");
    return buf;
}

static const char *type_names[] = { "array", "percpu_array", "hash", "lru_hash" };

/* Correct map programs run alike guarded and not. */
static void test_map_write_boundary(void **state)
{
    (void)state;
    char text[1024];
    enum bpflua_engine engines[2] = { BPFLUA_ENGINE_INTERP, BPFLUA_ENGINE_JIT };
    for (int e = 0; e < 2; e++) {
        if (engines[e] == BPFLUA_ENGINE_JIT && !bl_jit_available())
            continue;
        for (int t = 0; t < 4; t++) {
            for (int guard = -1; guard <= 1; guard += 2) {
                bl_guard_set_default(guard > 0);
                bpflua_object *obj = load_verified(map_write_prog(text, sizeof text,
                                                                  type_names[t], 12, 3000));
                uint8_t pkt[PKT_LEN];
                uint64_t r0;
                fill(pkt);
                assert_int_equal(run(obj, engines[e], guard, pkt, PKT_LEN, &r0), 0);
                assert_int_equal(r0, 1);
                uint32_t key = 3;
                uint8_t value[12];
                assert_int_equal(bpflua_map_lookup(obj, 0, &key, value), 0);
                assert_int_equal(value[11], 9);
                assert_int_equal(value[10], 0);
                bpflua_object_free(obj);
            }
        }
    }
    bl_guard_set_default(-1);
}

/* A store one byte past a value whose size is a multiple of 8 (a small
 * map: per-value guard pages) faults at once, in both engines. */
static void test_map_overwrite_faults(void **state)
{
    (void)state;
    static char text[1024];
    enum bpflua_engine engines[2] = { BPFLUA_ENGINE_INTERP, BPFLUA_ENGINE_JIT };
    bl_guard_set_default(1); /* the forked child creates its maps guarded */
    for (int e = 0; e < 2; e++) {
        if (engines[e] == BPFLUA_ENGINE_JIT && !bl_jit_available())
            continue;
        for (int t = 0; t < 4; t++) {
            struct escape x = { map_write_prog(text, sizeof text, type_names[t], 16, 8),
                                0x72 /* stb */, 15, 16, engines[e] };
            expect_guard_hit(&x);
        }
    }
    bl_guard_set_default(-1);
}

/* A store into a canary (the bytes after a value, up to the guard page or
 * the next value) or below a value fails the run with a clear message. The
 * interpreter is left out in sanitizer builds: ASan, which has the
 * canaries poisoned, stops its store first. */
static void test_map_canary_write_detected(void **state)
{
    (void)state;
    char text[1024];
    struct { uint32_t vs, n; int16_t new_off; } cases[] = {
        { 12, 8, 12 },     /* guard pages: the 4 bytes up to the rounding */
        { 12, 8, -1 },     /* guard pages: the slack below the value */
        { 8, 3000, 8 },    /* canary region: the 8 bytes after the value */
        { 12, 3000, 15 },  /* canary region: the last byte before the next value */
        { 8, 3000, -1 },   /* canary region: the canary of the value before */
    };
    enum bpflua_engine engines[2] = { BPFLUA_ENGINE_JIT, BPFLUA_ENGINE_INTERP };
#if defined(__SANITIZE_ADDRESS__)
    int n_engines = 1;
#else
    int n_engines = 2;
#endif
    bl_guard_set_default(1);
    int ran = 0;
    for (int e = 0; e < n_engines; e++) {
        if (engines[e] == BPFLUA_ENGINE_JIT && !bl_jit_available())
            continue;
        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
            for (int t = 0; t < 4; t++) {
                bpflua_object *obj = load_verified(map_write_prog(text, sizeof text,
                                                                  type_names[t], cases[c].vs,
                                                                  cases[c].n));
                patch_off(obj, 0x72, (int16_t)(cases[c].vs - 1), cases[c].new_off);
                /* twice: the check restores the canaries, and finds the next write */
                for (int again = 0; again < 2; again++)
                    expect_guard_error(obj, engines[e],
                                       "guard: the program wrote outside a value of map 'm'");
                bpflua_object_free(obj);
                ran++;
            }
        }
    }
    bl_guard_set_default(-1);
    if (!ran)
        skip();
}

/* Many runs of a program using all four map types, over varied packets:
 * the same return values and the same map contents guarded and not. */
static const char *maps_mix =
    ".map a array key=4 value=12 entries=8\n"
    ".map h hash key=4 value=12 entries=5\n"
    ".map l lru_hash key=4 value=8 entries=3\n"
    ".map pc percpu_array key=4 value=8 entries=2\n"
    "mov %r6, %r1\n"
    "ldxw %r2, [%r6+0]\n"
    "ldxw %r3, [%r6+4]\n"
    "mov %r4, %r2\n"
    "add %r4, 2\n"
    "jgt %r4, %r3, out\n"
    "ldxb %r7, [%r2+0]\n"
    "ldxb %r8, [%r2+1]\n"
    "mov %r9, 0\n"
    /* a[k & 7]: u64 += v, u32 at 8 = k */
    "mov %r1, %r7\n"
    "and %r1, 7\n"
    "stxw [%r10-4], %r1\n"
    ASM_LOOKUP("a")
    "jeq %r0, 0, hash\n"
    "ldxdw %r1, [%r0+0]\n"
    "add %r1, %r8\n"
    "stxdw [%r0+0], %r1\n"
    "stxw [%r0+8], %r7\n"
    "add %r9, %r1\n"
    /* h[k] = { v, k } (-E2BIG once full), l[k] = v (evicting) */
    "hash: stxw [%r10-4], %r7\n"
    "stxdw [%r10-32], %r8\n"
    "stxdw [%r10-24], %r7\n"
    ASM_UPDATE("h")
    "lsh %r9, 8\n"
    "add %r9, %r0\n"
    ASM_UPDATE("l")
    "add %r9, %r0\n"
    /* the value of k - 1 in h, if any, plus 3 if l has it */
    "sub %r7, 1\n"
    "stxw [%r10-4], %r7\n"
    ASM_LOOKUP("h")
    "jeq %r0, 0, lru\n"
    "ldxw %r1, [%r0+8]\n"
    "add %r9, %r1\n"
    "lru:\n"
    ASM_LOOKUP("l")
    "jeq %r0, 0, pcpu\n"
    "add %r9, 3\n"
    /* pc[k & 1] += 1 */
    "pcpu: and %r7, 1\n"
    "stxw [%r10-4], %r7\n"
    ASM_LOOKUP("pc")
    "jeq %r0, 0, done\n"
    "ldxdw %r1, [%r0+0]\n"
    "add %r1, 1\n"
    "stxdw [%r0+0], %r1\n"
    "done: mov %r0, %r9\n"
    "exit\n"
    "out: mov %r0, 0\n"
    "exit\n";

/* Appends every key and value of map i to buf (iteration order included). */
static size_t dump_map(bpflua_object *obj, size_t i, uint8_t *buf, size_t cap)
{
    struct bpflua_map_spec spec;
    assert_int_equal(bpflua_map_spec(obj, i, &spec), 0);
    uint32_t key, next;
    size_t len = 0;
    for (int rc = bpflua_map_next_key(obj, i, NULL, &next); rc == 0;
         rc = bpflua_map_next_key(obj, i, &key, &next)) {
        key = next;
        assert_true(len + 4 + spec.value_size <= cap);
        memcpy(buf + len, &key, 4);
        assert_int_equal(bpflua_map_lookup(obj, i, &key, buf + len + 4), 0);
        len += 4 + spec.value_size;
    }
    return len;
}

static void test_map_results_guarded_vs_unguarded(void **state)
{
    (void)state;
    enum bpflua_engine engines[2] = { BPFLUA_ENGINE_INTERP, BPFLUA_ENGINE_JIT };
    for (int e = 0; e < 2; e++) {
        if (engines[e] == BPFLUA_ENGINE_JIT && !bl_jit_available())
            continue;
        bpflua_object *objs[2];
        for (int g = 0; g < 2; g++) {
            bl_guard_set_default(g);
            objs[g] = load_verified(maps_mix);
            for (size_t i = 0; i < bpflua_map_count(objs[g]); i++) /* create them now */
                assert_non_null(bl_object_map(objs[g], i, NULL));
        }
        bl_guard_set_default(-1);
        uint32_t seed = 12345;
        for (int r = 0; r < 300; r++) {
            uint8_t pkt[2][PKT_LEN];
            seed = seed * 1103515245u + 12345u;
            pkt[0][0] = (uint8_t)(seed >> 16) % 11;
            pkt[0][1] = (uint8_t)(seed >> 8);
            memcpy(pkt[1], pkt[0], 2);
            uint64_t r0[2];
            for (int g = 0; g < 2; g++)
                assert_int_equal(run(objs[g], engines[e], g ? 1 : -1, pkt[g], PKT_LEN, &r0[g]), 0);
            assert_int_equal(r0[0], r0[1]);
        }
        for (size_t i = 0; i < 4; i++) {
            uint8_t dump[2][1024];
            size_t len[2];
            for (int g = 0; g < 2; g++)
                len[g] = dump_map(objs[g], i, dump[g], sizeof dump[g]);
            assert_true(len[0] > 0);
            assert_int_equal(len[0], len[1]);
            assert_memory_equal(dump[0], dump[1], len[0]);
        }
        for (int g = 0; g < 2; g++)
            bpflua_object_free(objs[g]);
    }
}

static void test_default_mode(void **state)
{
    (void)state;
    /* BPFLUA_GUARD decides, else the build: on with AddressSanitizer */
    const char *e = getenv("BPFLUA_GUARD");
    int want;
    if (e && *e)
        want = strcmp(e, "0") != 0;
    else
#if defined(__SANITIZE_ADDRESS__)
        want = 1;
#else
        want = 0;
#endif
    assert_int_equal(bl_guard_default(), want);
    assert_int_equal(bl_guard_wanted(1), 1);
    assert_int_equal(bl_guard_wanted(-1), 0);
    assert_int_equal(bl_guard_wanted(0), want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alloc_layout),
        cmocka_unit_test(test_slack_write_detected),
        cmocka_unit_test(test_boundary_runs),
        cmocka_unit_test(test_packet_overread_faults),
        cmocka_unit_test(test_packet_overwrite_faults),
        cmocka_unit_test(test_stack_underrun_faults),
        cmocka_unit_test(test_unguarded_escape_is_silent),
        cmocka_unit_test(test_packet_underwrite_detected),
        cmocka_unit_test(test_map_value_layout),
        cmocka_unit_test(test_map_write_boundary),
        cmocka_unit_test(test_map_overwrite_faults),
        cmocka_unit_test(test_map_canary_write_detected),
        cmocka_unit_test(test_map_results_guarded_vs_unguarded),
        cmocka_unit_test(test_default_mode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
