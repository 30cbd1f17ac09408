/* test_soundness.c - bpflua's verifier against the kernel's, on generated programs.
 *
 * A seeded generator strings together snippets that sit right at the edge
 * of what a verifier must prove: packet reads with checks that are just
 * enough or one byte short, variable packet offsets under different masks,
 * map lookups with and without the NULL check and in- or out-of-range value
 * offsets, stack stores and loads, ALU noise, forward branches, and bpf_loop
 * callbacks whose return value may be out of [0, 1]. Every program goes to
 * both verifiers. The property: no program that bpflua accepts is rejected
 * by the kernel for a memory-safety reason. Other disagreements (bpflua is
 * deliberately stricter in places, see DESIGN.md) are counted and printed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/bpflua.h"
#include "engine/kernel.h"

#define PROGRAMS 1500

static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state % n);
}

struct text { char buf[16384]; size_t len; };

static void put(struct text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->buf + t->len, sizeof t->buf - t->len, fmt, ap);
    va_end(ap);
    if (n > 0 && t->len + (size_t)n < sizeof t->buf)
        t->len += (size_t)n;
}

/* r6 = ctx, r7 = data, r8 = data_end, r9 = a scalar the snippets churn */
static void snippet(struct text *t, struct text *cbs, int *label, int *ncb)
{
    static const char *sizes[] = {"b", "h", "w", "dw"};
    int l = (*label)++;
    switch (rnd(8)) {
    case 0: { /* constant-offset packet read, check possibly one byte short */
        int s = (int)rnd(4), k1 = 1 + (int)rnd(48), k2 = (int)rnd(48);
        put(t, "mov %%r2, %%r7\nadd %%r2, %d\n", k1);
        if (rnd(10))
            put(t, "jgt %%r2, %%r8, L%d\n", l);
        put(t, "ldx%s %%r9, [%%r7+%d]\nL%d:\n", sizes[s], k2, l);
        break;
    }
    case 1: { /* variable packet offset under a mask */
        static const uint32_t masks[] = {0xff, 0x3fff, 0xffff, 0x7fffffff};
        put(t, "mov %%r3, %%r9\nand %%r3, %u\nmov %%r2, %%r7\nadd %%r2, %%r3\n", masks[rnd(4)]);
        put(t, "mov %%r4, %%r2\nadd %%r4, %d\njgt %%r4, %%r8, L%d\nldxb %%r9, [%%r2]\nL%d:\n",
            (int)rnd(3), l, l);
        break;
    }
    case 2: { /* map lookup, NULL check sometimes missing, offset sometimes out of range */
        static const int offs[] = {0, 8, 8, 16, -8, 12};
        put(t, "stxw [%%r10-8], %%r9\nlddw %%r1, map:h\nmov %%r2, %%r10\nadd %%r2, -8\ncall 1\n");
        if (rnd(7))
            put(t, "jeq %%r0, 0, L%d\n", l);
        int off = offs[rnd(6)];
        put(t, "ldxdw %%r9, [%%r0%+d]\n", off);
        if (rnd(3) == 0)
            put(t, "stxdw [%%r0%+d], %%r9\n", off);
        put(t, "L%d:\n", l);
        break;
    }
    case 3: { /* stack store then load, possibly of a slot never written */
        int a = 8 * (2 + (int)rnd(6)), b = 8 * (2 + (int)rnd(6));
        put(t, "stxdw [%%r10-%d], %%r9\nldxdw %%r9, [%%r10-%d]\n", a, rnd(4) ? a : b);
        break;
    }
    case 4: { /* ALU noise, including division by a register that may be zero */
        static const char *ops[] = {"add", "sub", "mul", "or", "and", "xor", "lsh", "rsh",
                                    "arsh", "div", "mod", "add32", "xor32"};
        const char *op = ops[rnd(13)];
        if (rnd(2))
            put(t, "%s %%r9, %d\n", op, (int)rnd(64) + 1);
        else
            put(t, "mov %%r3, %d\n%s %%r9, %%r3\n", (int)rnd(5), op);
        break;
    }
    case 5: /* a forward branch over nothing much */
        put(t, "jgt %%r9, %d, L%d\nadd %%r9, 3\nL%d:\n", (int)rnd(100), l, l);
        break;
    case 6: { /* bpf_loop with a callback that reads its ctx; R0 may be out of range */
        int cb = (*ncb)++;
        put(t, "stdw [%%r10-16], 0\nmov %%r1, %d\nlddw %%r2, func:cb%d\nmov %%r3, %%r10\n"
               "add %%r3, -16\nmov %%r4, 0\ncall 181\n", 1 + (int)rnd(100), cb);
        put(cbs, "cb%d:\nldxdw %%r0, [%%r2]\nmov %%r0, %d\nexit\n", cb, rnd(8) ? (int)rnd(2) : 2);
        break;
    }
    default: /* reload the packet pointers from ctx */
        put(t, "ldxw %%r7, [%%r6]\nldxw %%r8, [%%r6+4]\n");
        break;
    }
}

static void generate(struct text *t)
{
    struct text cbs = {{0}, 0};
    int label = 0, ncb = 0;
    t->len = 0;
    put(t, ".map h hash key=4 value=16 entries=8\n");
    put(t, "mov %%r6, %%r1\nldxw %%r7, [%%r6]\nldxw %%r8, [%%r6+4]\nmov %%r9, 0\n");
    int n = 1 + (int)rnd(6);
    for (int i = 0; i < n; i++)
        snippet(t, &cbs, &label, &ncb);
    put(t, rnd(20) ? "mov %%r0, %%r9\nand %%r0, 3\nexit\n" : "mov %%r0, %%r7\nexit\n");
    put(t, "%s", cbs.buf);
}

/* kernel reasons that mean "this program would touch memory it must not" */
static int memory_safety_reason(const char *msg)
{
    static const char *patterns[] = {
        "invalid access to packet", "invalid mem access", "invalid access to map value",
        "out of bounds", "min value is negative", "unbounded memory access",
        "invalid stack", "invalid read from stack", "invalid write to stack",
        "map_value_or_null", "pointer arithmetic", "invalid indirect read",
        "leaks addr", "R0 leaks", "math between", "outside of the packet",
    };
    for (size_t i = 0; i < sizeof patterns / sizeof *patterns; i++)
        if (msg && strstr(msg, patterns[i]))
            return 1;
    return 0;
}

static void soundness_against_kernel(void **state)
{
    char *why = NULL;
    if (!bl_kernel_available(&why)) {
        printf("skip: the kernel cannot load BPF programs here: %s\n", why ? why : "?");
        free(why);
        skip();
    }
    rng_state = 0x9e3779b97f4a7c15ull;
    int both_accept = 0, both_reject = 0, only_kernel = 0, only_bpflua_other = 0, unsound = 0;
    struct text t;
    for (int i = 0; i < PROGRAMS; i++) {
        generate(&t);
        char *err = NULL;
        bpflua_object *obj = bpflua_object_from_asm(t.buf, "gen", &err);
        if (!obj) {
            fail_msg("generator produced text the assembler refuses: %s\n%s", err, t.buf);
        }
        struct bpflua_verify_info info;
        char *verr = NULL;
        int ours = bpflua_verify(obj, 0, 0, &info, &verr, NULL) == 0;
        char *kerr = NULL;
        int theirs = bl_kernel_load(obj, &kerr) == 0;
        if (ours && theirs)
            both_accept++;
        else if (!ours && !theirs)
            both_reject++;
        else if (!ours) {
            /* by design bpflua refuses reads of uninitialised stack and returned
             * pointers (DESIGN.md); show any other reason */
            if (++only_kernel <= 40 && verr && !strstr(verr, "invalid read from stack") &&
                !strstr(verr, "would leak"))
                printf("note: kernel accepted, bpflua rejected: %.160s\n", verr);
        }
        else if (memory_safety_reason(kerr)) {
            unsound++;
            printf("UNSOUND: bpflua accepted, kernel rejected: %s\n%s\n", kerr, t.buf);
        } else {
            only_bpflua_other++;
            if (only_bpflua_other <= 3)
                printf("note: bpflua accepted, kernel rejected (not memory safety): %.200s\n", kerr);
        }
        free(verr);
        free(kerr);
        free(err);
        bpflua_object_free(obj);
    }
    printf("soundness: %d programs: both accept %d, both reject %d, kernel-only accept %d "
           "(bpflua stricter), bpflua-only accept %d (other reasons), unsound %d\n",
           PROGRAMS, both_accept, both_reject, only_kernel, only_bpflua_other, unsound);
    assert_int_equal(unsound, 0);
    /* the generator must exercise both verdicts, or it tests nothing */
    assert_true(both_accept > PROGRAMS / 20);
    assert_true(both_reject > PROGRAMS / 20);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(soundness_against_kernel),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
