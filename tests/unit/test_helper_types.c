/* test_helper_types.c - the per-type helper allow-lists (core/progtype.c,
 * core/type_*.c) against the running kernel: for every program type and
 * every helper id 1..211, a three-instruction program calling it is loaded
 * (BPF_PROG_LOAD with the type and its expected attach type); the kernel
 * refuses a helper the type may not call with "program of this type cannot
 * use helper" (or "unknown func"), and anything else (loaded, or an
 * argument error) means the type may call it. bl_prog_type_allows must say
 * the same, and for helpers with a prototype so must `verify`'s check.
 * Skips with the reason when bpf(2) does not work here. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cmocka.h>

#include <linux/bpf.h>

#include "core/bpflua.h"
#include "core/progtype.h"
#include "engine/kernel.h"
#include "stdlib/helpers.h"
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function" /* shared test helpers this file does not use */
#include "tests/verifier/kernel_load.h"
#pragma GCC diagnostic pop

#define MAX_ID 211

/* 1 if the kernel lets a program of type t call helper id */
static int kernel_allows(const struct bl_prog_type *t, int id)
{
    return kernel_allows_helper(t->kernel_type, t->attach_type, id);
}

static void test_allow_lists_match_the_kernel(void **state)
{
    (void)state;
    char *why = NULL;
    if (!bl_kernel_available(&why)) {
        printf("# skip: %s\n", why ? why : "bpf(2) unavailable");
        free(why);
        skip();
        return;
    }
    free(why);
    /* the tables are Linux 6.18's answers; other kernels allow other sets */
    struct utsname u;
    if (uname(&u) == 0 &&
        (strncmp(u.release, "6.18", 4) != 0 || (u.release[4] >= '0' && u.release[4] <= '9'))) {
        printf("# skip: the tables were probed on Linux 6.18, this kernel is %s\n", u.release);
        skip();
        return;
    }
    int mismatches = 0, checked = 0, allowed = 0;
    const struct bl_prog_type *t;
    for (size_t i = 0; (t = bl_prog_type_at(i)); i++) {
        for (int id = 1; id <= MAX_ID; id++) {
            int k = kernel_allows(t, id), ours = bl_prog_type_allows(t, (uint32_t)id);
            checked++;
            if (!k && ours && bl_prog_type_config_helper(t, (uint32_t)id)) {
                /* allowed where the kernel is configured for it (lockdown
                 * off, CONFIG_BPF_KPROBE_OVERRIDE): this one may refuse */
                printf("# %s: helper %d: a kernel-config helper this kernel refuses\n", t->name,
                       id);
                continue;
            }
            allowed += k;
            if (k != ours) {
                const struct bpflua_helper *h = bl_helper_find((uint32_t)id);
                printf("# %s: helper %d (%s): kernel %s, bpflua %s\n", t->name, id,
                       h ? h->name : "no prototype", k ? "allows" : "refuses",
                       ours ? "allows" : "refuses");
                mismatches++;
            }
        }
    }
    printf("# %d (type, helper) pairs, %d allowed by the kernel\n", checked, allowed);
    assert_int_equal(mismatches, 0);
    assert_true(allowed > 1000); /* the probe itself works */
}

/* verify's check uses the table: a helper the type may not call is refused
 * by name, one it may is not refused for that reason */
static void test_verify_uses_the_table(void **state)
{
    (void)state;
    static const struct { const char *type; int id; int ok; } cases[] = {
        { "xdp", 9, 0 },            /* skb_store_bytes */
        { "sched_cls", 9, 1 },
        { "sched_cls", 51, 0 },     /* redirect_map: not for tc on 6.18 */
        { "xdp", 51, 1 },
        { "kprobe", 4, 1 },         /* probe_read */
        { "socket_filter", 4, 0 },
        { "lwt_xmit", 152, 0 },     /* redirect_neigh: tc only */
        { "sched_cls", 152, 1 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct bl_prog_type *t = bl_prog_type_by_name(cases[i].type);
        assert_non_null(t);
        assert_non_null(bl_helper_find((uint32_t)cases[i].id));
        if (bl_prog_type_allows(t, (uint32_t)cases[i].id) != cases[i].ok)
            fail_msg("%s helper %d: want %d", cases[i].type, cases[i].id, cases[i].ok);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_allow_lists_match_the_kernel),
        cmocka_unit_test(test_verify_uses_the_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
