/* STUB (the JIT replaces this file) */
#include <errno.h>
#include "jit.h"
#include "../vm/object.h"
int bl_jit_available(void) { return 0; }
int bl_jit_compile(struct bl_prog *p, char **err) { bl_set_err(err, "JIT not built yet"); return -ENOSYS; }
uint64_t bl_jit_run(const struct bl_jit_code *c, void *ctx, struct bpflua_run_env *env) { return 0; }
void bl_jit_free(struct bl_jit_code *c) {}
size_t bl_jit_code_size(const struct bl_jit_code *c) { return 0; }
uint64_t bl_jit_compile_ns(const struct bl_jit_code *c) { return 0; }
