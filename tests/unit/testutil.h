/* testutil.h - helpers shared by the unit tests.
 *
 * Header-only (static inline), so each test_*.c stays one executable
 * (tests/tests.cmake) and uses only what it needs. Include it after the
 * system headers; it brings cmocka and the engine's headers.
 */
#ifndef BPFLUA_TESTUTIL_H
#define BPFLUA_TESTUTIL_H

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/bpflua.h"
#include "core/object.h"

/* Assembles text; fails the test with the assembler's message. */
static inline bpflua_object *tu_assemble(const char *text, const char *name)
{
    char *err = NULL;
    bpflua_object *obj = bpflua_object_from_asm(text, name, &err);
    if (!obj)
        fail_msg("assembler: %s", err ? err : "?");
    free(err);
    return obj;
}

/* A map definition built by hand. */
static inline struct bl_map_def tu_map_def(const char *name, uint32_t type, uint32_t key_size,
                                           uint32_t value_size, uint32_t max_entries,
                                           uint32_t flags)
{
    struct bl_map_def d;
    memset(&d, 0, sizeof d);
    snprintf(d.name, sizeof d.name, "%s", name);
    d.type = type;
    d.key_size = key_size;
    d.value_size = value_size;
    d.max_entries = max_entries;
    d.flags = flags;
    return d;
}

/* Runs program `prog` of obj once in the interpreter: 1 with *retval, or 0
 * (said on stdout) when that engine is not built. Fails on other errors. */
static inline int tu_interp_run(bpflua_object *obj, const char *prog, uint8_t *pkt, size_t len,
                                uint64_t *retval)
{
    int idx = bpflua_prog_find(obj, prog);
    assert_true(idx >= 0);
    struct bpflua_run_opts opts = { .engine = BPFLUA_ENGINE_INTERP };
    struct bpflua_run_result res;
    char *err = NULL;
    int rc = bpflua_run(obj, (size_t)idx, pkt, len, &opts, &res, &err);
    if (rc == -ENOSYS) {
        printf("# skip running %s in the interpreter: %s\n", prog, err ? err : "not built");
        free(err);
        return 0;
    }
    if (rc)
        fail_msg("interpreter run of %s: %s", prog, err ? err : "?");
    free(err);
    *retval = res.retval;
    return 1;
}

/* The program test_elf and test_kernel share: counts[1] += 1, a bpf_loop
 * of 10 iterations summing 0..9 on the stack, a local call doubling the
 * sum; returns (45 * 2) & 3 = 2. Between head and tail a test may use the
 * second map (hash key=4 value=8 entries=16, named `second`). */
#define TU_LOOP_ASM_HEAD(second)                  \
    ".map counts array key=4 value=8 entries=4\n" \
    ".map " second " hash key=4 value=8 entries=16\n" \
    "  stw [%r10-4], 1\n"                         \
    "  mov %r2, %r10\n"                           \
    "  add %r2, -4\n"                             \
    "  lddw %r1, map:counts\n"                    \
    "  call 1\n"                                  \
    "  jeq %r0, 0, skip\n"                        \
    "  ldxdw %r1, [%r0]\n"                        \
    "  add %r1, 1\n"                              \
    "  stxdw [%r0], %r1\n"                        \
    "skip:\n"                                     \
    "  stdw [%r10-16], 0\n"                       \
    "  mov %r1, 10\n"                             \
    "  lddw %r2, func:body\n"                     \
    "  mov %r3, %r10\n"                           \
    "  add %r3, -16\n"                            \
    "  mov %r4, 0\n"                              \
    "  call 181\n"
#define TU_LOOP_ASM_TAIL          \
    "  ldxdw %r1, [%r10-16]\n"    \
    "  call local double\n"       \
    "  and %r0, 3\n"              \
    "  exit\n"                    \
    "body:\n"                     \
    "  ldxdw %r3, [%r2]\n"        \
    "  add %r3, %r1\n"            \
    "  stxdw [%r2], %r3\n"        \
    "  mov %r0, 0\n"              \
    "  exit\n"                    \
    "double:\n"                   \
    "  mov %r0, %r1\n"            \
    "  lsh %r0, 1\n"              \
    "  exit\n"

#endif
