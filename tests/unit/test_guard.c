/* test_guard.c - guard-page memory (vm/guard.c) and guarded runs.
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

#include "vm/guard.h"
#include "vm/interp.h"
#include "vm/object.h"
#include "jit/jit.h"

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
    char *err = NULL;
    bpflua_object *obj = bpflua_object_from_asm(text, "g.asm", &err);
    if (!obj)
        fail_msg("asm: %s", err);
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
    uint8_t pkt[PKT_LEN];
    fill(pkt);
    struct bpflua_run_opts o = { .engine = BPFLUA_ENGINE_JIT, .guard = 1 };
    struct bpflua_run_result res;
    char *err = NULL;
    assert_int_equal(bpflua_run(obj, 0, pkt, PKT_LEN, &o, &res, &err), -EFAULT);
    assert_non_null(err);
    assert_non_null(strstr(err, "guard: the program wrote outside its packet"));
    free(err);
    bpflua_object_free(obj);
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
        cmocka_unit_test(test_default_mode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
