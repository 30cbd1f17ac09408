/* jit.h - x86-64 JIT from verified eBPF to native code. */
#ifndef BPFLUA_JIT_H
#define BPFLUA_JIT_H

#include <stddef.h>
#include <stdint.h>

struct bl_prog;
struct bpflua_run_env;
struct bl_jit_code;

/* 1 if this build can JIT on this machine (x86-64), else 0. */
int bl_jit_available(void);
/* Compiles p->exec_insns (verified, linked) into p->jit. 0 or -errno. */
int bl_jit_compile(struct bl_prog *p, char **err);
/* Runs the compiled code: R1 = ctx. Returns R0. */
uint64_t bl_jit_run(const struct bl_jit_code *code, void *ctx, struct bpflua_run_env *env);
/* The code's fast entry (verified code that needs no run state), or NULL:
 * fn(ctx, env) is then what bl_jit_run(code, ctx, env) does, without its
 * test and jump, for a runner's loop of repeated runs. */
typedef uint64_t (*bl_jit_fast_fn)(void *ctx, struct bpflua_run_env *env);
bl_jit_fast_fn bl_jit_fast_entry(const struct bl_jit_code *code);
void bl_jit_free(struct bl_jit_code *code);
/* Native code size and time spent compiling, for benchmarks. */
size_t bl_jit_code_size(const struct bl_jit_code *code);
uint64_t bl_jit_compile_ns(const struct bl_jit_code *code);
/* Inlined bpf_loops given a second copy of their body without the bounds
 * checks one test before the loop decides (jit/loop_checks.h). */
unsigned bl_jit_versioned_loops(const struct bl_jit_code *code);
/* Of those, the check-free copies that run the body twice per trip round
 * the loop (bodies that never break). */
unsigned bl_jit_unrolled_loops(const struct bl_jit_code *code);
/* Values of inlined loop bodies computed once before the loop
 * (jit/inline_hoist.c), counted per copy of a loop. */
unsigned bl_jit_hoisted_values(const struct bl_jit_code *code);
/* Inlined loops nested in another that keep ctx slots in the enclosing
 * loop's registers (jit/inline_loop.c), counted per copy. */
unsigned bl_jit_shared_loops(const struct bl_jit_code *code);
/* Tests of inlined loop bodies dropped because the values reaching them
 * (the enclosing loops' ranges, jit/inline_ranges.c) decide them, counted
 * per copy of a loop. */
unsigned bl_jit_proved_tests(const struct bl_jit_code *code);
/* Outermost inlined loops given a second copy for packets of at most
 * 65,528 bytes, whose checks those packets decide (jit/inline_loop.c). */
unsigned bl_jit_pkt_versioned(const struct bl_jit_code *code);
/* The native code (bl_jit_code_size bytes), e.g. to disassemble it. */
const void *bl_jit_code_bytes(const struct bl_jit_code *code);

/* Options for bl_jit_compile_opts. */
struct bpflua_helper;
struct bl_jit_opts {
    /* Raw mode, for unverified programs (the conformance suite): every
     * memory access is bounds-checked against the current 512-byte frame
     * and the region given to bl_jit_run_mem; a bad access, an unknown
     * helper or a runaway recursion ends the run with env->fault set and
     * R0 = 0. (bl_jit_compile falls back to it when p is not verified.) */
    int raw;
    /* helper lookup (also for callx at run time); NULL = bl_helper_find */
    const struct bpflua_helper *(*helper_find)(uint32_t id);
    /* tests: instructions inlining may add (0 = the default, the
     * program's length + 4096); a small one leaves some loops called */
    uint32_t inline_budget;
};
int bl_jit_compile_opts(struct bl_prog *p, const struct bl_jit_opts *opts, char **err);
/* Runs with R1 = r1, R2 = r2; checked accesses may also touch mem[0..len).
 * (bl_jit_run gives checked code of a verified program the packet of its
 * XDP ctx; raw code run by bl_jit_run gets no region.) */
uint64_t bl_jit_run_mem(const struct bl_jit_code *code, uint64_t r1, uint64_t r2,
                        void *mem, size_t len, struct bpflua_run_env *env);

#endif
