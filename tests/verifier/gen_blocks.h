/* gen_blocks.h - the "blocks" program generator shared by the verifier's
 * benchmark (tests/bench/verifier_bench.c, blocks_N) and its unit test
 * (tests/unit/test_verifier.c, test_many_states). Test code only. */
#ifndef BPFLUA_TESTS_GEN_BLOCKS_H
#define BPFLUA_TESTS_GEN_BLOCKS_H

#include "core/object.h"

/* An XDP program: a map lookup, then N blocks, each: idx = (x >> k) & 7;
 * load value[idx]; branch on it, and the two sides meet again. Returns the
 * assembler text (malloc'd; the caller frees it). */
static inline char *gen_blocks(int n)
{
    struct bl_strbuf sb = { 0 };
    bl_strbuf_printf(&sb, ".map vals hash key=4 value=16 entries=16\n"
                          "ldxw %%r6, [%%r1+12]\n"
                          "stw [%%r10-4], 0\n"
                          "mov %%r2, %%r10\n"
                          "add %%r2, -4\n"
                          "lddw %%r1, map:vals\n"
                          "call 1\n"
                          "jne %%r0, 0, go\n"
                          "mov %%r0, 2\n"
                          "exit\n"
                          "go:\n"
                          "mov %%r9, %%r0\n"
                          "mov %%r7, 0\n");
    for (int i = 0; i < n; i++)
        bl_strbuf_printf(&sb, "mov %%r2, %%r6\n"
                              "rsh %%r2, %d\n"
                              "and %%r2, 7\n"
                              "mov %%r3, %%r9\n"
                              "add %%r3, %%r2\n"
                              "ldxb %%r4, [%%r3+0]\n"
                              "jgt %%r4, %d, b%d\n"
                              "add %%r7, %%r4\n"
                              "ja c%d\n"
                              "b%d:\n"
                              "xor %%r7, %%r2\n"
                              "c%d:\n",
                         i % 24, (i * 37) % 200, i, i, i, i);
    bl_strbuf_printf(&sb, "mov %%r0, %%r7\nand %%r0, 3\nexit\n");
    return sb.buf;
}

#endif
