/* test_helpers.c - helper prototypes by kernel id, bpf_loop and
 * for_each_map_elem through a fake env->call, the map and ringbuf helpers,
 * trace_printk formatting, prandom/ktime/smp id, and the registry. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/object.h"
#include "stdlib/helpers.h"
#include "stdlib/maps.h"

/* ---- a fake engine: callbacks are C functions ------------------------------ */

typedef uint64_t (*fake_cb)(uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5);

struct fake {
    struct bpflua_run_env env;
    int calls;
    uint64_t args[64][5];
};

static uint64_t fake_call(struct bpflua_run_env *env, uint64_t fn, uint64_t a1, uint64_t a2,
                          uint64_t a3, uint64_t a4, uint64_t a5)
{
    struct fake *f = (struct fake *)env;
    if (f->calls < 64) {
        uint64_t a[5] = {a1, a2, a3, a4, a5};
        memcpy(f->args[f->calls], a, sizeof a);
    }
    f->calls++;
    return ((fake_cb)(uintptr_t)fn)(a1, a2, a3, a4, a5);
}

static void fake_init(struct fake *f, bpflua_object *obj)
{
    memset(f, 0, sizeof *f);
    f->env.obj = obj;
    f->env.call = fake_call;
}

static uint64_t call_helper(uint32_t id, uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
                            uint64_t r5, struct bpflua_run_env *env)
{
    const struct bpflua_helper *h = bl_helper_find(id);
    assert_non_null(h);
    return h->fn(r1, r2, r3, r4, r5, env);
}

static uint64_t ptr(const void *p)
{
    return (uint64_t)(uintptr_t)p;
}

static uint64_t cb_continue(uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
    return 0;
}

static uint64_t cb_stop_at_2(uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
    return a1 == 2;
}

static uint64_t cb_stop(uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
    return 1;
}

/* ---- prototypes ------------------------------------------------------------ */

static void prototypes(void **state)
{
    const struct bpflua_helper *h = bl_helper_find(1);
    assert_string_equal(h->name, "map_lookup_elem");
    assert_int_equal(h->ret, BPFLUA_RET_PTR_TO_MAP_VALUE_OR_NULL);
    assert_int_equal(h->args[0], BPFLUA_ARG_CONST_MAP_PTR);
    assert_int_equal(h->args[1], BPFLUA_ARG_PTR_TO_MAP_KEY);
    assert_int_equal(h->args[2], BPFLUA_ARG_NONE);
    h = bl_helper_find(2);
    assert_int_equal(h->args[2], BPFLUA_ARG_PTR_TO_MAP_VALUE);
    assert_int_equal(h->args[3], BPFLUA_ARG_ANYTHING);
    h = bl_helper_find(6);
    assert_string_equal(h->name, "trace_printk");
    assert_int_equal(h->args[0], BPFLUA_ARG_PTR_TO_MEM);
    assert_int_equal(h->args[1], BPFLUA_ARG_CONST_SIZE);
    assert_int_equal(h->args[4], BPFLUA_ARG_ANYTHING);
    h = bl_helper_find(130);
    assert_int_equal(h->args[2], BPFLUA_ARG_CONST_SIZE_OR_ZERO);
    h = bl_helper_find(164);
    assert_int_equal(h->args[1], BPFLUA_ARG_PTR_TO_FUNC);
    assert_int_equal(h->args[2], BPFLUA_ARG_PTR_TO_STACK_OR_NULL);
    h = bl_helper_find(181);
    assert_string_equal(h->name, "loop");
    assert_int_equal(h->args[0], BPFLUA_ARG_ANYTHING);
    assert_int_equal(h->args[1], BPFLUA_ARG_PTR_TO_FUNC);
    uint32_t ids[] = {1, 2, 3, 5, 6, 7, 8, 130, 164, 181};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        h = bl_helper_find(ids[i]);
        assert_non_null(h);
        assert_int_equal(h->id, ids[i]);
        assert_non_null(h->fn);
        assert_ptr_equal(bl_helper_at(i), h);
    }
    assert_null(bl_helper_find(0));
    h = bl_helper_find(99); /* skc_lookup_tcp: a reference to release, or NULL */
    assert_int_equal(h->ret, BPFLUA_RET_PTR_TO_SOCK_COMMON_OR_NULL);
    assert_int_equal(bl_helper_find(86)->args[0], BPFLUA_ARG_PTR_TO_SOCK_RELEASE);
    assert_int_equal(bl_helper_find(131)->ret, BPFLUA_RET_PTR_TO_ALLOC_MEM_OR_NULL);
    assert_int_equal(bl_helper_find(132)->args[0], BPFLUA_ARG_PTR_TO_ALLOC_MEM_RELEASE);
    assert_int_equal(bl_helper_find(93)->args[0], BPFLUA_ARG_PTR_TO_SPIN_LOCK);
    assert_null(bl_helper_find(99999));
    /* the kernel's prototypes of the map-type and tracing helpers */
    h = bl_helper_find(12);
    assert_string_equal(h->name, "tail_call");
    assert_int_equal(h->ret, BPFLUA_RET_VOID);
    assert_int_equal(h->args[0], BPFLUA_ARG_PTR_TO_CTX);
    assert_int_equal(h->args[1], BPFLUA_ARG_CONST_MAP_PTR);
    h = bl_helper_find(4);
    assert_string_equal(h->name, "probe_read");
    assert_int_equal(h->args[0], BPFLUA_ARG_PTR_TO_UNINIT_MEM);
    assert_int_equal(h->args[1], BPFLUA_ARG_CONST_SIZE_OR_ZERO);
    h = bl_helper_find(88);
    assert_int_equal(h->args[1], BPFLUA_ARG_PTR_TO_UNINIT_MAP_VALUE);
    h = bl_helper_find(28);
    assert_int_equal(h->args[0], BPFLUA_ARG_PTR_TO_MEM_OR_NULL);
    assert_int_equal(h->args[4], BPFLUA_ARG_ANYTHING);
}

/* ---- bpf_loop -------------------------------------------------------------- */

static void loop_semantics(void **state)
{
    struct fake f;
    int ctx;
    fake_init(&f, NULL);
    assert_int_equal(call_helper(181, 5, ptr(cb_continue), ptr(&ctx), 0, 0, &f.env), 5);
    assert_int_equal(f.calls, 5);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(f.args[i][0], i);          /* the index */
        assert_int_equal(f.args[i][1], ptr(&ctx));  /* the context */
        assert_int_equal(f.args[i][2], 0);
    }
    fake_init(&f, NULL);
    assert_int_equal(call_helper(181, 10, ptr(cb_stop_at_2), 0, 0, 0, &f.env), 3);
    assert_int_equal(f.calls, 3);
    fake_init(&f, NULL);
    assert_int_equal(call_helper(181, 0, ptr(cb_continue), 0, 0, 0, &f.env), 0);
    assert_int_equal(call_helper(181, 5, ptr(cb_continue), 0, 1, 0, &f.env), (uint64_t)-EINVAL);
    assert_int_equal(call_helper(181, 8388609, ptr(cb_continue), 0, 0, 0, &f.env),
                     (uint64_t)-E2BIG);
    assert_int_equal(call_helper(181, 0xffffffffu, ptr(cb_continue), 0, 0, 0, &f.env),
                     (uint64_t)-E2BIG);
    assert_int_equal(f.calls, 0);
    /* the limit itself is allowed; nr_loops is a u32 as in the kernel */
    assert_int_equal(call_helper(181, 8388608, ptr(cb_stop), 0, 0, 0, &f.env), 1);
    assert_int_equal(call_helper(181, 0x100000003ull, ptr(cb_continue), 0, 0, 0, &f.env), 3);
}

static struct fake *faulting;
static uint64_t cb_fault(uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
    faulting->env.fault = 1;
    return 0;
}

static void loop_stops_on_fault(void **state)
{
    struct fake f;
    fake_init(&f, NULL);
    faulting = &f;
    call_helper(181, 100, ptr(cb_fault), 0, 0, 0, &f.env);
    assert_int_equal(f.calls, 1);
}

/* ---- for_each_map_elem and the map helpers ----------------------------------- */

static uint64_t cb_sum_values(uint64_t map, uint64_t key, uint64_t value, uint64_t ctx,
                              uint64_t a5)
{
    *(uint64_t *)(uintptr_t)ctx += *(uint64_t *)(uintptr_t)value;
    return *(uint32_t *)(uintptr_t)key == 1;
}

static struct bl_map *make_map(uint32_t type, uint32_t n)
{
    struct bl_map_def d;
    memset(&d, 0, sizeof d);
    snprintf(d.name, sizeof d.name, "t");
    d.type = type;
    d.key_size = type == BPFLUA_MAP_RINGBUF ? 0 : 4;
    d.value_size = type == BPFLUA_MAP_RINGBUF ? 0 : 8;
    d.max_entries = n;
    struct bl_map *m = bl_map_create(&d, NULL);
    assert_non_null(m);
    return m;
}

static void map_helpers(void **state)
{
    struct fake f;
    fake_init(&f, NULL);
    struct bl_map *m = make_map(BPFLUA_MAP_HASH, 4);
    uint32_t k = 1;
    uint64_t v = 11;
    assert_int_equal(call_helper(1, ptr(m), ptr(&k), 0, 0, 0, &f.env), 0); /* NULL */
    assert_int_equal(call_helper(2, ptr(m), ptr(&k), ptr(&v), 0, 0, &f.env), 0);
    assert_int_equal(call_helper(2, ptr(m), ptr(&k), ptr(&v), 1, 0, &f.env), (uint64_t)-EEXIST);
    assert_int_equal(call_helper(2, ptr(m), ptr(&k), ptr(&v), 7, 0, &f.env), (uint64_t)-EINVAL);
    uint64_t *p = (uint64_t *)(uintptr_t)call_helper(1, ptr(m), ptr(&k), 0, 0, 0, &f.env);
    assert_non_null(p);
    assert_int_equal(*p, 11);
    assert_int_equal(call_helper(3, ptr(m), ptr(&k), 0, 0, 0, &f.env), 0);
    assert_int_equal(call_helper(3, ptr(m), ptr(&k), 0, 0, 0, &f.env), (uint64_t)-ENOENT);
    bl_map_free(m);

    m = make_map(BPFLUA_MAP_ARRAY, 4);
    for (uint32_t i = 0; i < 4; i++) {
        v = 10 + i;
        assert_int_equal(bl_map_update(m, &i, &v, 0), 0);
    }
    uint64_t sum = 0;
    /* the callback stops at key 1: two elements visited */
    assert_int_equal(call_helper(164, ptr(m), ptr(cb_sum_values), ptr(&sum), 0, 0, &f.env), 2);
    assert_int_equal(sum, 10 + 11);
    assert_int_equal(f.calls, 2);
    assert_int_equal(f.args[0][0], ptr(m));
    assert_int_equal(*(uint32_t *)(uintptr_t)f.args[1][1], 1);
    assert_int_equal(f.args[1][3], ptr(&sum));
    assert_int_equal(call_helper(164, ptr(m), ptr(cb_sum_values), ptr(&sum), 1, 0, &f.env),
                     (uint64_t)-EINVAL);
    bl_map_free(m);

    m = make_map(BPFLUA_MAP_RINGBUF, 4096);
    assert_int_equal(call_helper(130, ptr(m), ptr("abcd"), 4, 0, 0, &f.env), 0);
    assert_int_equal(call_helper(130, ptr(m), ptr("abcd"), 4, 8, 0, &f.env), (uint64_t)-EINVAL);
    char out[8];
    assert_int_equal(bl_ringbuf_pop(m, out, sizeof out), 4);
    assert_memory_equal(out, "abcd", 4);
    bl_map_free(m);
}

/* ---- trace_printk ------------------------------------------------------------ */

static int printk(bpflua_object *obj, const char *fmt, uint64_t a1, uint64_t a2, uint64_t a3)
{
    struct fake f;
    fake_init(&f, obj);
    return (int)(int64_t)call_helper(6, ptr(fmt), strlen(fmt) + 1, a1, a2, a3, &f.env);
}

static void expect_format(const char *fmt, uint64_t a1, uint64_t a2, uint64_t a3,
                          const char *want)
{
    bpflua_object *obj = bpflua_object_new();
    int len = printk(obj, fmt, a1, a2, a3);
    if (len != (int)strlen(want) || strncmp(bpflua_trace_output(obj), want, strlen(want)))
        fail_msg("format \"%s\": got %d \"%s\", want \"%s\"", fmt, len,
                 bpflua_trace_output(obj), want);
    bpflua_object_free(obj);
}

static void printk_formats(void **state)
{
    expect_format("hello", 0, 0, 0, "hello");
    expect_format("%d %i %u", (uint32_t)-5, 7, (uint64_t)-1, "-5 7 4294967295");
    expect_format("%x %X", 0x1abcdef12ull, 0xbeef, 0, "abcdef12 BEEF");
    expect_format("%ld %lu %lx", (uint64_t)-5, (uint64_t)-1, 0x1ffffffffull,
                  "-5 18446744073709551615 1ffffffff");
    expect_format("%lld %llu %llx", (uint64_t)-9, 9, 255, "-9 9 ff");
    expect_format("[%5d|%-4u|%05x]", 42, 7, 0xab, "[   42|7   |000ab]");
    expect_format("100%% %c!", 'A', 0, 0, "100% A!");
    expect_format("p=%p", 0x1234, 0, 0, "p=0000000000001234");
    expect_format("[%8p|%-6p]", 0x1234, 0xab, 0, "[    1234|ab    ]");
    expect_format("%px=%pK", 0x1234, 0xab, 0, "0000000000001234=00000000000000ab");
    expect_format("%pxab1 %pKz.", 1, 2, 0, "0000000000000001 0000000000000002."); /* as vsprintf */
    expect_format("tab\there\n", 0, 0, 0, "tab\there\n");
}

static void printk_trace_lines(void **state)
{
    bpflua_object *obj = bpflua_object_new();
    assert_int_equal(printk(obj, "a=%d", 1, 0, 0), 3);
    assert_int_equal(printk(obj, "b=%d\n", 2, 0, 0), 4);
    assert_int_equal(printk(obj, "", 0, 0, 0), 0);
    assert_string_equal(bpflua_trace_output(obj), "a=1\nb=2\n\n");
    bpflua_trace_clear(obj);
    assert_string_equal(bpflua_trace_output(obj), "");
    /* no object: still formats */
    assert_int_equal(printk(NULL, "x%d", 12, 0, 0), 3);
    bpflua_object_free(obj);
}

static void printk_rejects(void **state)
{
    bpflua_object *obj = bpflua_object_new();
    const char *bad[] = {
        "%s", "%d %d %d %d", "%q", "%pS", "%pI4", "%pks", "%lf", "%lllx", "bell\a", "%5",
        "%99999d",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (printk(obj, bad[i], 1, 2, 3) != -EINVAL)
            fail_msg("format \"%s\" accepted", bad[i]);
    struct fake f;
    fake_init(&f, obj);
    /* no NUL within fmt_size */
    assert_int_equal(call_helper(6, ptr("abc"), 3, 0, 0, 0, &f.env), (uint64_t)-EINVAL);
    assert_int_equal(call_helper(6, ptr("abc"), 0, 0, 0, 0, &f.env), (uint64_t)-EINVAL);
    assert_int_equal(call_helper(6, 0, 4, 0, 0, 0, &f.env), (uint64_t)-EINVAL);
    /* the first NUL ends the format */
    assert_int_equal(call_helper(6, ptr("ab\0%s"), 6, 0, 0, 0, &f.env), 2);
    unsigned char high[] = {'a', 0xe9, 0};
    assert_int_equal(call_helper(6, ptr(high), 3, 0, 0, 0, &f.env), (uint64_t)-EINVAL);
    assert_string_equal(bpflua_trace_output(obj), "ab\n");
    bpflua_object_free(obj);
}


/* Random bytes as formats: never a crash (ASan/UBSan watch), and either
 * -EINVAL or a length that matches what was appended to the trace. */
static void printk_random_formats(void **state)
{
    static const char alphabet[] = "%%%%dilux Xcp0-+ 123456789lls\n\t\a\x80zq";
    bpflua_object *obj = bpflua_object_new();
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int round = 0; round < 3000; round++) {
        char fmt[24];
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        size_t n = (size_t)(x % (sizeof fmt));
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            fmt[i] = alphabet[x % (sizeof alphabet - 1)];
        }
        /* sometimes NUL-terminated inside fmt_size, sometimes not */
        uint32_t size = (uint32_t)n;
        if (n < sizeof fmt && (x & 1)) {
            fmt[n] = '\0';
            size = (uint32_t)n + 1;
        }
        bpflua_trace_clear(obj);
        struct fake f;
        fake_init(&f, obj);
        int64_t rc = (int64_t)call_helper(6, ptr(fmt), size, x, x >> 3, (uint64_t)-1, &f.env);
        const char *out = bpflua_trace_output(obj);
        if (rc == -EINVAL) {
            assert_string_equal(out, "");
        } else {
            assert_true(rc >= 0);
            /* the line is cut at the kernel's 1023 characters; %c may print a NUL */
            size_t want = rc < 1023 ? (size_t)rc : 1023, shown = obj->trace.len;
            assert_true(shown == want || shown == want + 1); /* + the newline */
        }
    }
    bpflua_object_free(obj);
}

/* ---- the rest ---------------------------------------------------------------- */

static void prandom_ktime_smp(void **state)
{
    struct fake f;
    fake_init(&f, NULL);
    uint64_t a[8], b[8];
    bl_prandom_seed(42);
    for (int i = 0; i < 8; i++)
        a[i] = call_helper(7, 0, 0, 0, 0, 0, &f.env);
    bl_prandom_seed(42);
    int distinct = 0;
    for (int i = 0; i < 8; i++) {
        b[i] = call_helper(7, 0, 0, 0, 0, 0, &f.env);
        assert_true(b[i] <= UINT32_MAX);
        distinct += i > 0 && b[i] != b[i - 1];
    }
    assert_memory_equal(a, b, sizeof a);
    assert_true(distinct >= 6);
    uint64_t t1 = call_helper(5, 0, 0, 0, 0, 0, &f.env);
    uint64_t t2 = call_helper(5, 0, 0, 0, 0, 0, &f.env);
    assert_true(t1 > 0 && t2 >= t1);
    assert_int_equal(call_helper(8, 0, 0, 0, 0, 0, &f.env), 0);
}

/* ---- task, memory and checksum helpers -------------------------------------- */

static void trace_helpers(void **state)
{
    struct fake f;
    fake_init(&f, NULL);
    uint64_t pid_tgid = call_helper(14, 0, 0, 0, 0, 0, &f.env);
    assert_int_equal(pid_tgid >> 32, (uint64_t)getpid());
    uint64_t uid_gid = call_helper(15, 0, 0, 0, 0, 0, &f.env);
    assert_int_equal((uint32_t)uid_gid, getuid());
    char comm[16];
    memset(comm, 'x', sizeof comm);
    assert_int_equal(call_helper(16, ptr(comm), sizeof comm, 0, 0, 0, &f.env), 0);
    assert_true(strlen(comm) > 0 && strlen(comm) < 16);
    char small[4];
    call_helper(16, ptr(small), sizeof small, 0, 0, 0, &f.env);
    assert_int_equal(small[3], 0);

    /* probe_read: only the memory the run was given */
    static const char kmem[] = "kernel\0tail";
    struct bpflua_mem_region mem = {0xffff888000001000ull, kmem, sizeof kmem};
    f.env.mem = &mem;
    f.env.n_mem = 1;
    char buf[8];
    assert_int_equal(call_helper(4, ptr(buf), 6, mem.addr, 0, 0, &f.env), 0);
    assert_memory_equal(buf, "kernel", 6);
    assert_int_equal(call_helper(113, ptr(buf), 4, mem.addr + 8, 0, 0, &f.env), 0);
    assert_memory_equal(buf, "ail", 4);
    memset(buf, 'x', sizeof buf);
    /* one byte past the region, an address nowhere, the host's own memory */
    assert_int_equal((int64_t)call_helper(4, ptr(buf), 8, mem.addr + 5, 0, 0, &f.env), -EFAULT);
    assert_memory_equal(buf, "\0\0\0\0\0\0\0\0", 8);
    assert_int_equal((int64_t)call_helper(112, ptr(buf), 1, 16, 0, 0, &f.env), -EFAULT);
    assert_int_equal((int64_t)call_helper(4, ptr(buf), 4, ptr(kmem), 0, 0, &f.env), -EFAULT);
    assert_int_equal(call_helper(4, ptr(buf), 0, 16, 0, 0, &f.env), 0); /* nothing to read */
    /* _str: up to the NUL, the length with it; truncated with a NUL */
    assert_int_equal(call_helper(45, ptr(buf), sizeof buf, mem.addr, 0, 0, &f.env), 7);
    assert_string_equal(buf, "kernel");
    assert_int_equal(call_helper(115, ptr(buf), 4, mem.addr, 0, 0, &f.env), 4);
    assert_string_equal(buf, "ker");
    assert_int_equal((int64_t)call_helper(114, ptr(buf), 8, 99, 0, 0, &f.env), -EFAULT);
    assert_int_equal(buf[0], 0);
    assert_int_equal(call_helper(45, ptr(buf), 0, mem.addr, 0, 0, &f.env), 0);
    f.env.mem = NULL;
    f.env.n_mem = 0;

    /* csum_diff: words removed (from) and added (to), the seed folded in */
    uint32_t from[2] = {0x11223344, 0x55667788}, to[1] = {0x01020304};
    /* the sum folded to 16 bits, not inverted (Linux 6.18) */
    assert_int_equal(call_helper(28, 0, 0, ptr(to), 4, 0, &f.env), 0x0102 + 0x0304);
    assert_int_equal(call_helper(28, ptr(from), 4, 0, 0, 0, &f.env), 0xbb99); /* ~0x11223344 */
    uint64_t d = call_helper(28, ptr(from), 8, ptr(to), 4, 7, &f.env);
    uint64_t want = 7ull + (uint32_t)~from[0] + (uint32_t)~from[1] + to[0];
    while (want >> 16)
        want = (want & 0xffffu) + (want >> 16);
    assert_int_equal(d, want);
    assert_int_equal((int64_t)call_helper(28, ptr(from), 3, 0, 0, 0, &f.env), -EINVAL);
    assert_int_equal((int64_t)call_helper(28, ptr(from), 512, ptr(to), 4, 0, &f.env), -EINVAL);
    assert_int_equal(call_helper(42, 0, 0, 0, 0, 0, &f.env), 0);
    uint64_t mono = call_helper(5, 0, 0, 0, 0, 0, &f.env);
    uint64_t boot = call_helper(125, 0, 0, 0, 0, 0, &f.env);
    assert_true(boot >= mono); /* boot time also counts suspended time */
}

/* ---- packet helpers ------------------------------------------------------------ */

/* RFC 1071 over 16-bit words as stored */
static uint16_t ip_checksum(const uint8_t *p, size_t n)
{
    uint32_t s = 0;
    for (size_t i = 0; i + 1 < n; i += 2) {
        uint16_t w;
        memcpy(&w, p + i, 2);
        s += w;
    }
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

static void pkt_helpers(void **state)
{
    struct fake f;
    fake_init(&f, NULL);
    uint8_t pkt[48] = {0};
    /* an IPv4 header at 14 with its checksum at 24 */
    static const uint8_t ip[20] = {0x45, 0, 0, 34, 0x12, 0x34, 0x40, 0, 64, 17, 0, 0,
                                   10, 0, 0, 1, 192, 168, 1, 2};
    memcpy(pkt + 14, ip, sizeof ip);
    uint16_t sum = ip_checksum(pkt + 14, 20);
    memcpy(pkt + 24, &sum, 2);
    uint64_t ctx[2] = {ptr(pkt), ptr(pkt + sizeof pkt)};
    /* TTL 64 -> 63 in the 16-bit word at 22 (TTL, protocol): as stored */
    uint16_t old_w, new_w;
    memcpy(&old_w, pkt + 22, 2);
    pkt[22] = 63;
    memcpy(&new_w, pkt + 22, 2);
    assert_int_equal(call_helper(10, ptr(ctx), 24, old_w, new_w, 2, &f.env), 0);
    memcpy(&sum, pkt + 24, 2);
    pkt[24] = pkt[25] = 0;
    assert_int_equal(sum, ip_checksum(pkt + 14, 20));
    memcpy(pkt + 24, &sum, 2);
    /* a 4-byte change (the source address) */
    uint32_t old_a, new_a = 0x0a0b0c0d;
    memcpy(&old_a, pkt + 26, 4);
    memcpy(pkt + 26, &new_a, 4);
    assert_int_equal(call_helper(10, ptr(ctx), 24, old_a, new_a, 4, &f.env), 0);
    memcpy(&sum, pkt + 24, 2);
    pkt[24] = pkt[25] = 0;
    assert_int_equal(sum, ip_checksum(pkt + 14, 20));
    memcpy(pkt + 24, &sum, 2);
    /* bad flags and offsets */
    assert_int_equal((int64_t)call_helper(10, ptr(ctx), 24, 0, 0, 3, &f.env), -EINVAL);
    assert_int_equal((int64_t)call_helper(10, ptr(ctx), 24, 1, 0, 0, &f.env), -EINVAL);
    assert_int_equal((int64_t)call_helper(10, ptr(ctx), 47, 0, 0, 2, &f.env), -EFAULT);
    assert_int_equal((int64_t)call_helper(11, ptr(ctx), 40, 0, 0, 0x102, &f.env), -EINVAL);
    /* l4 with BPF_F_MARK_MANGLED_0: a zero UDP checksum stays zero */
    pkt[40] = pkt[41] = 0;
    assert_int_equal(call_helper(11, ptr(ctx), 40, 1, 2, 0x20 | 2, &f.env), 0);
    assert_int_equal(pkt[40] | pkt[41], 0);
    /* skb_load_bytes / skb_store_bytes inside the packet only */
    uint8_t buf[4];
    assert_int_equal(call_helper(26, ptr(ctx), 26, ptr(buf), 4, 0, &f.env), 0);
    assert_memory_equal(buf, &new_a, 4);
    assert_int_equal((int64_t)call_helper(26, ptr(ctx), 46, ptr(buf), 4, 0, &f.env), -EFAULT);
    assert_memory_equal(buf, "\0\0\0\0", 4);
    assert_int_equal(call_helper(9, ptr(ctx), 0, ptr("abcd"), 4, 0, &f.env), 0);
    assert_memory_equal(pkt, "abcd", 4);
    assert_int_equal((int64_t)call_helper(9, ptr(ctx), 46, ptr("abcd"), 4, 0, &f.env), -EFAULT);
    assert_int_equal((int64_t)call_helper(9, ptr(ctx), 0, ptr("abcd"), 4, 4, &f.env), -EINVAL);
    assert_int_equal((int64_t)call_helper(9, ptr(ctx), 0xffffffffu, ptr("ab"), 2, 0, &f.env),
                     -EFAULT);
    assert_int_equal(call_helper(188, ptr(ctx), 0, 0, 0, 0, &f.env), sizeof pkt);
    /* redirect: the verdict of the run's type */
    f.env.prog_type = 6; /* XDP */
    assert_int_equal(call_helper(23, 3, 0, 0, 0, 0, &f.env), 4);
    assert_int_equal(call_helper(23, 3, 1, 0, 0, 0, &f.env), 0);
    f.env.prog_type = 3; /* sched_cls */
    assert_int_equal(call_helper(23, 3, 1, 0, 0, 0, &f.env), 7);
    assert_int_equal(call_helper(23, 3, 2, 0, 0, 0, &f.env), 2);
    assert_int_equal(call_helper(13, ptr(ctx), 3, 0, 0, 0, &f.env), 0);
    assert_int_equal((int64_t)call_helper(13, ptr(ctx), 0, 0, 0, 0, &f.env), -EINVAL);
}

static uint64_t custom_fn(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                          struct bpflua_run_env *env)
{
    return r1 * 2;
}

static uint64_t custom_fn2(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                           struct bpflua_run_env *env)
{
    return r1 * 3;
}

static void register_helper(void **state)
{
    char name[16];
    snprintf(name, sizeof name, "double_it");
    struct bpflua_helper h = {1000, name, custom_fn, BPFLUA_RET_INTEGER,
                              {BPFLUA_ARG_ANYTHING}};
    assert_int_equal(bpflua_register_helper(&h), 0);
    name[0] = 'X'; /* the registry keeps its own copy of the name */
    const struct bpflua_helper *got = bl_helper_find(1000);
    assert_non_null(got);
    assert_string_equal(got->name, "double_it");
    assert_int_equal(got->args[0], BPFLUA_ARG_ANYTHING);
    assert_int_equal(got->fn(21, 0, 0, 0, 0, NULL), 42);
    /* replacing a registered helper */
    h.fn = custom_fn2;
    assert_int_equal(bpflua_register_helper(&h), 0);
    assert_ptr_equal(bl_helper_find(1000), got);
    assert_int_equal(got->fn(21, 0, 0, 0, 0, NULL), 63);
    const struct bpflua_helper *listed = NULL;
    for (size_t i = 0; bl_helper_at(i); i++)
        if (bl_helper_at(i)->id == 1000)
            listed = bl_helper_at(i);
    assert_ptr_equal(listed, got);

    struct bpflua_helper builtin = h;
    builtin.id = 181;
    assert_int_equal(bpflua_register_helper(&builtin), -EEXIST);
    assert_int_equal(bl_helper_find(181)->fn != custom_fn2, 1);
    struct bpflua_helper bad = h;
    bad.id = 1001;
    bad.fn = NULL;
    assert_int_equal(bpflua_register_helper(&bad), -EINVAL);
    bad.fn = custom_fn;
    bad.name = "";
    assert_int_equal(bpflua_register_helper(&bad), -EINVAL);
    bad.name = "ok";
    bad.args[2] = (enum bpflua_arg_type)77;
    assert_int_equal(bpflua_register_helper(&bad), -EINVAL);
    bad.args[2] = BPFLUA_ARG_NONE;
    bad.id = 0;
    assert_int_equal(bpflua_register_helper(&bad), -EINVAL);
    assert_int_equal(bpflua_register_helper(NULL), -EINVAL);
    assert_null(bl_helper_find(1001));

    /* the registry is bounded */
    int rc = 0;
    for (uint32_t id = 2000; id < 2200 && rc == 0; id++) {
        bad.id = id;
        rc = bpflua_register_helper(&bad);
    }
    assert_int_equal(rc, -ENOSPC);
    assert_non_null(bl_helper_find(1000));
}


/* A registered helper is verified against its prototype and called by
 * the interpreter and the JIT; an unknown id is refused. */
static uint64_t triple_plus(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                            struct bpflua_run_env *env)
{
    return r1 * 3 + r2;
}

/* ---- maps of maps ------------------------------------------------------------ */

/* outer[0] names an inner array; inner[2] += 5 through it: 2, or 1 when
 * a lookup finds nothing */
#define OF_MAPS_HEAD \
    ".map tmpl array key=4 value=8 entries=4\n" \
    ".map second array key=4 value=8 entries=4\n" \
    ".map other hash key=4 value=8 entries=4\n" \
    ".map outer array_of_maps key=4 value=4 entries=2 inner=tmpl\n"
static const char of_maps_asm[] = OF_MAPS_HEAD
    "  stw [%r10-4], 0\n  lddw %r1, map:outer\n  mov %r2, %r10\n  add %r2, -4\n  call 1\n"
    "  jeq %r0, 0, none\n"
    "  mov %r1, %r0\n  stw [%r10-8], 2\n  mov %r2, %r10\n  add %r2, -8\n  call 1\n"
    "  jeq %r0, 0, none\n  ldxdw %r1, [%r0]\n  add %r1, 5\n  stxdw [%r0], %r1\n"
    "  mov %r0, 2\n  exit\n"
    "none:\n  mov %r0, 1\n  exit\n";

static void maps_of_maps(void **state)
{
    const enum bpflua_engine engines[] = {BPFLUA_ENGINE_INTERP, BPFLUA_ENGINE_JIT};
    for (size_t e = 0; e < 2; e++) {
        char *err = NULL;
        bpflua_object *obj = bpflua_object_from_asm(of_maps_asm, "of_maps", &err);
        if (!obj)
            fail_msg("%s", err);
        unsigned char pkt[64] = {0};
        struct bpflua_run_opts ro = {.engine = engines[e]};
        struct bpflua_run_result res;
        /* an empty slot: the lookup gives NULL */
        int rc = bpflua_run(obj, 0, pkt, sizeof pkt, &ro, &res, &err);
        if (rc == -ENOTSUP) {
            free(err);
            bpflua_object_free(obj);
            continue;
        }
        if (rc)
            fail_msg("%s", err ? err : "?");
        assert_int_equal(res.retval, 1);
        uint32_t k0 = 0, second = 1, other = 2, got = 99, k2 = 2;
        assert_int_equal(bpflua_map_update(obj, 3, &k0, &other, 0), -EINVAL); /* not like tmpl */
        assert_int_equal(bpflua_map_update(obj, 3, &k0, &(uint32_t){77}, 0), -EBADF);
        assert_int_equal(bpflua_map_lookup(obj, 3, &k0, &got), -ENOENT);
        assert_int_equal(bpflua_map_update(obj, 3, &k0, &second, 0), 0);
        assert_int_equal(bpflua_map_lookup(obj, 3, &k0, &got), 0);
        assert_int_equal(got, 1);
        for (int run = 0; run < 2; run++) {
            assert_int_equal(bpflua_run(obj, 0, pkt, sizeof pkt, &ro, &res, NULL), 0);
            assert_int_equal(res.retval, 2);
        }
        uint64_t v = 0;
        assert_int_equal(bpflua_map_lookup(obj, 1, &k2, &v), 0);
        assert_int_equal(v, 10);                     /* second[2], through outer[0] */
        assert_int_equal(bpflua_map_lookup(obj, 0, &k2, &v), 0);
        assert_int_equal(v, 0);                      /* the template is only a shape */
        assert_int_equal(bpflua_map_delete(obj, 3, &k0), 0);
        assert_int_equal(bpflua_map_delete(obj, 3, &k0), -ENOENT);
        assert_int_equal(bpflua_map_delete(obj, 3, &(uint32_t){5}), -E2BIG);
        assert_int_equal(bpflua_run(obj, 0, pkt, sizeof pkt, &ro, &res, NULL), 0);
        assert_int_equal(res.retval, 1);             /* emptied: the lookup finds nothing */
        free(err);
        bpflua_object_free(obj);
    }
    /* the verifier: the inner map needs its null check; programs do not
     * update a map of maps; a map of maps needs its template */
    const char *bad[] = {
        OF_MAPS_HEAD "  stw [%r10-4], 0\n  lddw %r1, map:outer\n  mov %r2, %r10\n"
        "  add %r2, -4\n  call 1\n  mov %r1, %r0\n  stw [%r10-8], 2\n  mov %r2, %r10\n"
        "  add %r2, -8\n  call 1\n  mov %r0, 2\n  exit\n",
        OF_MAPS_HEAD "  stw [%r10-4], 0\n  stw [%r10-8], 1\n  lddw %r1, map:outer\n"
        "  mov %r2, %r10\n  add %r2, -4\n  mov %r3, %r10\n  add %r3, -8\n  mov %r4, 0\n"
        "  call 2\n  mov %r0, 2\n  exit\n",
    };
    const char *why[] = {"expected=map_ptr", "cannot pass map_type 12"};
    for (size_t i = 0; i < 2; i++) {
        bpflua_object *obj = bpflua_object_from_asm(bad[i], "bad", NULL);
        assert_non_null(obj);
        char *err = NULL;
        assert_int_equal(bpflua_verify(obj, 0, 0, NULL, &err, NULL), -EACCES);
        if (!strstr(err, why[i]))
            fail_msg("case %zu: %s", i, err);
        free(err);
        bpflua_object_free(obj);
    }
    char *err = NULL;
    assert_null(bpflua_object_from_asm(".map o array_of_maps key=4 value=4 entries=2\nexit\n",
                                       "noinner", &err));
    assert_non_null(strstr(err, "inner map template"));
    free(err);
}

static void registered_helper_in_programs(void **state)
{
    struct bpflua_helper h = {3000, "triple_plus", triple_plus, BPFLUA_RET_INTEGER,
                              {BPFLUA_ARG_ANYTHING, BPFLUA_ARG_ANYTHING}};
    assert_int_equal(bpflua_register_helper(&h), 0);
    const enum bpflua_engine engines[] = {BPFLUA_ENGINE_INTERP, BPFLUA_ENGINE_JIT};
    for (size_t e = 0; e < 2; e++) {
        char *err = NULL;
        bpflua_object *obj = bpflua_object_from_asm(
            "  mov %r1, 14\n  mov %r2, 2\n  call 3000\n  exit\n", "custom", &err);
        assert_non_null(obj);
        unsigned char pkt[64] = {0};
        struct bpflua_run_opts ro = {.engine = engines[e]};
        struct bpflua_run_result res;
        int rc = bpflua_run(obj, 0, pkt, sizeof pkt, &ro, &res, &err);
        if (rc == -ENOTSUP || rc == -ENOSYS) {
            fprintf(stderr, "skipping engine %d: %s\n", (int)engines[e], err ? err : "");
        } else {
            if (rc != 0)
                fail_msg("engine %d: %d %s", (int)engines[e], rc, err ? err : "");
            assert_int_equal(res.retval, 44);
        }
        free(err);
        err = NULL;
        bpflua_object_free(obj);

        /* the prototype is checked: R2 is not initialised here */
        obj = bpflua_object_from_asm("  mov %r1, 14\n  call 3000\n  exit\n", "custom", NULL);
        assert_non_null(obj);
        assert_int_equal(bpflua_run(obj, 0, pkt, sizeof pkt, &ro, &res, &err), -EACCES);
        free(err);
        err = NULL;
        bpflua_object_free(obj);

        obj = bpflua_object_from_asm("  mov %r1, 14\n  call 3001\n  exit\n", "unknown", NULL);
        assert_non_null(obj);
        assert_int_equal(bpflua_run(obj, 0, pkt, sizeof pkt, &ro, &res, &err), -EACCES);
        free(err);
        bpflua_object_free(obj);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(prototypes),
        cmocka_unit_test(loop_semantics),
        cmocka_unit_test(loop_stops_on_fault),
        cmocka_unit_test(map_helpers),
        cmocka_unit_test(printk_formats),
        cmocka_unit_test(printk_trace_lines),
        cmocka_unit_test(printk_rejects),
        cmocka_unit_test(printk_random_formats),
        cmocka_unit_test(prandom_ktime_smp),
        cmocka_unit_test(trace_helpers),
        cmocka_unit_test(pkt_helpers),
        cmocka_unit_test(maps_of_maps),
        cmocka_unit_test(registered_helper_in_programs),
        cmocka_unit_test(register_helper),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
