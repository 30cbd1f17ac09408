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
void bl_jit_free(struct bl_jit_code *code);
/* Native code size and time spent compiling, for benchmarks. */
size_t bl_jit_code_size(const struct bl_jit_code *code);
uint64_t bl_jit_compile_ns(const struct bl_jit_code *code);

#endif
