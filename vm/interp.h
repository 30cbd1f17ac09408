/* interp.h - the eBPF interpreter (vm/interp.c).
 *
 * Two modes:
 *  - verified: the verifier proved every access and jump safe, so the
 *    dispatch loop checks nothing per instruction;
 *  - raw: for the conformance suite and for testing unverified code: every
 *    memory access is checked against the stack frames and the regions
 *    given, jump and call targets and opcodes are validated first, and an
 *    instruction budget bounds the run; of the kernel-id helpers only those
 *    taking no pointers are callable (bpf_loop runs inside the interpreter,
 *    its callbacks checked too). A violation ends the run with an error
 *    message, never a crash.
 * Callback values (what `lddw rX, func` loads) are instruction indexes.
 */
#ifndef BPFLUA_INTERP_H
#define BPFLUA_INTERP_H

#include <stddef.h>
#include <stdint.h>

#include "bpflua.h"
#include "insn.h"

struct bpflua_run_env;

#define BL_INTERP_MAX_REGIONS 4
#define BL_INTERP_RAW_BUDGET 10000000 /* instructions, raw mode default */

struct bl_mem_region { uint64_t start, len; };

struct bl_interp_opts {
    int raw;                  /* bounds-check everything (unverified code) */
    int count;                /* count executed instructions into res->insns */
    uint64_t max_insns;       /* stop with an error after this many (0: none;
                                 raw mode: BL_INTERP_RAW_BUDGET) */
    /* helper lookup; NULL = bl_helper_find (kernel ids) */
    const struct bpflua_helper *(*helper_find)(uint32_t id);
    /* verified, uncounted runs: where to keep the decoded program between
     * runs of the same instructions (*code_cache NULL at first; the caller
     * free()s it). NULL: decode for this run only. */
    void **code_cache;
    /* raw mode: memory the program may touch besides its stack */
    struct bl_mem_region regions[BL_INTERP_MAX_REGIONS];
    unsigned n_regions;
    /* verified and counted runs: put each 512-byte BPF stack frame (calls,
     * bpf_loop and other callback frames) in guarded memory (core/guard.h),
     * its lowest byte right after a PROT_NONE page, so an access below a
     * frame faults at once (SIGSEGV) and the space above it up to the next
     * guard page holds no host data; a write there fails the run with
     * -EFAULT. Raw mode checks every access and ignores this. */
    int guard;
};

struct bl_interp_result {
    uint64_t r0;
    uint64_t insns;           /* executed, when counting */
    char msg[200];            /* the error, when the run failed */
};

/* Runs insns[0..n) from instruction 0 with R1..R5 = args and R10 at the
 * top of a fresh 512-byte frame (8 frames in all). env (may be NULL) gets
 * its call/engine fields set for helpers such as bpf_loop. Returns 0 with
 * res->r0, or a negative errno with res->msg: -EFAULT (bad memory access,
 * bad jump, invalid instruction, unknown helper), -E2BIG (call depth),
 * -ETIME (instruction budget). A helper setting env->fault ends the run
 * with r0 = 0 and no error. */
int bl_interp_exec(const struct bl_insn *insns, uint32_t n, const uint64_t args[5],
                   const struct bl_interp_opts *opts, struct bpflua_run_env *env,
                   struct bl_interp_result *res);

/* Runs program `prog` of obj unverified in raw mode with R1 = mem, R2 =
 * mem_len (maps linked, mem the only memory besides the stack). For tests
 * and the JIT's differential tests. 0 or a negative errno with *err. */
int bl_run_raw(bpflua_object *obj, size_t prog, void *mem, size_t mem_len,
               uint64_t max_insns, uint64_t *r0, char **err);

/* engine/conformance.c: bpflua_conformance_file in the interpreter's verified
 * (unchecked, direct-threaded) loop, for differential tests of programs
 * known to be safe. Only for tests: nothing is checked. */
int bl_conformance_file_unchecked(const char *path, void *out);

#endif
