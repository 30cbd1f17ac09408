/* x86_64.c - the JIT: eBPF (a program's exec_insns) to x86-64 machine code.
 *
 * This file is the driver: it finds the functions and jump targets
 * (analyse), emits the trampoline, the fault stub, the fast entry and each
 * function's prologue and epilogue, runs the translation pass and owns the
 * code once compiled (the bl_jit_* interface, running it, the C functions
 * it calls). The rest of the JIT:
 *
 *   translate.c      one eBPF instruction to x86 (jit_emit_insn)
 *   inline_loop.c    bpf_loop as a native loop, the callback's body inlined
 *   inline_copies.c  liveness and copies of registers in an inlined body
 *   jit_internal.h   what these files share (struct jit, the register map)
 *   x86_emit.[ch]    the emitter; loop_checks.[ch] the analysis behind loop
 *                    versioning; range_facts.[ch] the tests of a body its
 *                    earlier tests decide
 *
 * How a program becomes code
 * --------------------------
 * One pass over the instructions emits code through the layered emitter
 * (x86_emit.h); pc_locs[i] records where instruction i starts, jumps and
 * calls are fixups, and one resolve pass patches them. The buffer is then
 * copied into fresh mmap'd memory, which is writable while we copy and is
 * then mprotect'ed to read+execute: never both (W^X).
 *
 * Layout of the code:   [trampoline][fault stub][function 0][function 1]...
 *
 * Each eBPF function (main at insn 0, every BPF-to-BPF call target and
 * every BL_PSEUDO_FUNC callback) becomes a native function following the
 * SysV ABI for its arguments (R1-R5 are the SysV argument registers) and
 * its return value (R0 = rax). Its prologue pushes rbp and those of R6-R9
 * it touches, and reserves its own 512-byte frame below rbp (R10) when it
 * uses R10; so BPF-to-BPF calls are plain `call`s and every call gets its
 * own frame, like in the kernel.
 *
 * The trampoline is the only way into the code: it saves the C caller's
 * callee-saved registers, puts env in r12, records its rsp in the run
 * state (for the fault stub), loads R1-R5 and calls the function. Both
 * bl_jit_run and env->call (a helper calling a callback back) use it.
 *
 * Memory safety: an access the verifier proved safe (aux[i].mem_safe, a
 * rewritten ctx load, or code it never reached) is one x86 instruction.
 * Any other access (raw mode, i.e. an unverified program from the
 * conformance suite, or an access the verifier did not mark) first checks
 * that [addr, addr + size) lies in the current frame or a caller's, or in
 * the region of the run (the conformance memory, or the packet); checked
 * code keeps its eBPF frames in a separate area of the run, so no access
 * can reach a return address. A failed check jumps to the fault stub,
 * which resets rsp to the innermost trampoline, sets env->fault and
 * returns 0.
 *
 * bpf_loop (helper 181) is never a helper call: see inline_loop.c. Outside
 * inlined bodies, an 8-byte load of a slot stored in the same basic block
 * is forwarded from the stored register (translate.c). Verified code that
 * needs no run state is entered through a fast entry with no trampoline.
 */

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "jit.h"
#include "skb.h"
#include "jit_internal.h"
#include "x86_emit.h"
#include "../vm/asm.h"
#include "../core/object.h"
#include "../vm/verifier.h"
#include "../core/xdp.h"
#include "../stdlib/helpers.h"
#include "../stdlib/maps.h"

/* the register map (jit_internal.h) */
const uint8_t jit_register_map[BL_NREGS] = {
    RAX, RDI, RSI, RDX, RCX, R8, RBX, R13, R14, R15, RBP,
};

/* frames checked code may use (main, callees and callbacks) */
#define CHECKED_FRAMES BL_MAX_CALL_DEPTH
/* back-edges and function entries checked code may run (an unverified
 * program may loop forever; the interpreter's raw mode has the same kind
 * of budget) */
#define CHECKED_BUDGET 10000000

struct bl_jit_code {
    uint8_t *mem;
    size_t map_size;
    size_t code_len;
    uint32_t main_off;
    int checked;          /* some accesses are bounds-checked */
    int raw;              /* compiled unverified */
    const struct bpflua_helper *(*helper_find)(uint32_t id);
    uint64_t compile_ns;
    uint32_t versioned_loops;   /* inlined loops with a copy free of bounds checks */
    uint32_t unrolled_loops;    /* of those, the copies running the body twice per trip */
    uint32_t hoisted_values;    /* loop-invariant values computed before inlined loops */
    uint32_t shared_loops;      /* inlined loops keeping slots in their enclosing loop's registers */
    uint32_t proved_tests;      /* tests of inlined bodies proved to go one way (inline_ranges.c) */
    uint32_t pkt_versioned;     /* loop nests with a copy for short packets */
    uint64_t *entries;    /* native entries of the functions after main: the */
    size_t n_entries;     /*   callback values env->call accepts */
    uint32_t fast_off;    /* the fast entry, or 0: see emit_fast_entry */
};

typedef uint64_t (*fast_fn)(void *ctx, struct bpflua_run_env *env);

typedef uint64_t (*tramp_fn)(const uint64_t *args, struct bpflua_run_env *env, void *fn);

int jit_fail(struct jit *j, uint32_t pc, const char *msg)
{
    if (!j->failed)
        bl_set_err(j->errp, "jit: insn %u: %s", pc, msg);
    j->failed = 1;
    return -EINVAL;
}

static int reg_ok(int r)
{
    return r >= 0 && r < BL_NREGS;
}

uint32_t jit_func_index(const struct jit *j, uint32_t start)
{
    for (uint32_t f = 0; f < j->n_funcs; f++)
        if (j->funcs[f].start == start)
            return f;
    return UINT32_MAX;
}

/* ---- analysis: functions, jump targets, what each function uses ------------ */

static int is_mem_access(const struct bl_insn *in)
{
    uint8_t cls = BL_CLASS(in->code);
    if (cls == BL_LDX)
        return BL_MODE(in->code) == BL_MEM || BL_MODE(in->code) == BL_MEMSX;
    if (cls == BL_ST || cls == BL_STX)
        return BL_MODE(in->code) == BL_MEM || BL_MODE(in->code) == BL_ATOMIC;
    return 0;
}

int jit_access_trusted(const struct jit *j, uint32_t pc)
{
    if (j->raw)
        return 0;
    /* proven, or never reached (the verifier saw no path to it) */
    return j->aux[pc].mem_safe || j->aux[pc].ctx_field || !j->aux[pc].seen;
}

static int analyse(struct jit *j)
{
    uint32_t n = j->n;
    j->is_target = calloc(n + 1, 1);
    j->is_func_start = calloc(n + 1, 1);
    j->func_of = calloc(n + 1, sizeof *j->func_of);
    j->pc_locs = malloc((n + 1) * sizeof *j->pc_locs);
    if (!j->is_target || !j->is_func_start || !j->func_of || !j->pc_locs)
        return -ENOMEM;
    j->is_func_start[0] = 1;
    for (uint32_t i = 0; i < n; i++) {
        const struct bl_insn *in = &j->insns[i];
        uint8_t cls = BL_CLASS(in->code);
        if (!reg_ok(in->dst) || !reg_ok(in->src))
            return jit_fail(j, i, "bad register");
        struct bl_insn plain = *in;
        if (in->code == (BL_JMP | BL_CALL) && in->src == BL_CALL_HELPER)
            plain.off = 0; /* the linker's zero_args mask (engine/run.c) */
        if (bl_op_decode(&plain) < 0)
            return jit_fail(j, i, "invalid instruction");
        if (bl_is_lddw(in)) {
            if (i + 1 >= n)
                return jit_fail(j, i, "lddw without its second slot");
            if (in->src == BL_PSEUDO_FUNC) {
                int64_t t = (int64_t)i + 1 + in->imm;
                if (t < 0 || t >= n)
                    return jit_fail(j, i, "callback out of range");
                j->is_func_start[t] = 1;
                j->n_callbacks++;
            }
            i++;
            continue;
        }
        if (cls == BL_JMP && BL_OP(in->code) == BL_CALL && in->src == BL_PSEUDO_CALL &&
            BL_SRC(in->code) == BL_K) {
            int64_t t = (int64_t)i + 1 + in->imm;
            if (t < 0 || t >= n)
                return jit_fail(j, i, "call target out of range");
            j->is_func_start[t] = 1;
        } else if ((cls == BL_JMP || cls == BL_JMP32) && BL_OP(in->code) != BL_CALL &&
                   BL_OP(in->code) != BL_EXIT) {
            int64_t t = (int64_t)i + 1 +
                        ((cls == BL_JMP32 && BL_OP(in->code) == BL_JA) ? in->imm : in->off);
            if (t < 0 || t >= n)
                return jit_fail(j, i, "jump out of range");
            j->is_target[t] = 1;
        }
        if (is_mem_access(in) && !jit_access_trusted(j, i))
            j->checked = 1;
    }
    if (j->raw)
        j->checked = 1;
    /* The fast entry (emit_fast_entry) needs no run state: verified,
     * unchecked code that never reaches the fault stub and calls nothing
     * that uses env->engine or env->call (callx, for_each_map_elem, a
     * runner's own helpers, which may call back through env->call). */
    j->fast = !j->checked && j->helper_find == bl_helper_find;
    for (uint32_t i = 0; i < n && j->fast; i++) {
        const struct bl_insn *in = &j->insns[i];
        if (bl_is_lddw(in)) {
            i++;
            continue;
        }
        if (BL_CLASS(in->code) == BL_JMP && BL_OP(in->code) == BL_CALL &&
            (BL_SRC(in->code) == BL_X ||
             (in->src == BL_CALL_HELPER && in->imm == BL_HELPER_FOR_EACH_MAP_ELEM)))
            j->fast = 0;
        /* legacy packet loads end the run through the fault stub */
        if (BL_CLASS(in->code) == BL_LD && (BL_MODE(in->code) == BL_ABS ||
                                            BL_MODE(in->code) == BL_IND))
            j->fast = 0;
    }
    /* a jump into the second slot of an lddw is not an instruction */
    for (uint32_t i = 0; i + 1 < n; i++)
        if (bl_is_lddw(&j->insns[i])) {
            if (j->is_target[i + 1] || j->is_func_start[i + 1])
                return jit_fail(j, i + 1, "jump into the middle of lddw");
            i++;
        }

    for (uint32_t i = 0; i < n; i++)
        j->n_funcs += j->is_func_start[i];
    j->funcs = calloc(j->n_funcs, sizeof *j->funcs);
    if (!j->funcs)
        return -ENOMEM;
    uint32_t f = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (j->is_func_start[i]) {
            if (f)
                j->funcs[f - 1].end = i;
            j->funcs[f].start = i;
            f++;
        }
        j->func_of[i] = f - 1;
    }
    j->funcs[f - 1].end = n;
    /* a tail call taken in a subprogram or a callback unwinds every frame
     * through the fault stub, which the fast entry lacks */
    for (uint32_t i = 0; i < n && j->fast; i++) {
        const struct bl_insn *in = &j->insns[i];
        if (j->func_of[i] && BL_CLASS(in->code) == BL_JMP && BL_OP(in->code) == BL_CALL &&
            in->src == BL_CALL_HELPER && in->imm == BL_HELPER_TAIL_CALL)
            j->fast = 0;
    }

    for (f = 0; f < j->n_funcs; f++) {
        struct jfunc *fn = &j->funcs[f];
        int touches[BL_NREGS] = {0};
        fn->uses_frame = j->checked; /* checked code checks against its own frame */
        for (uint32_t i = fn->start; i < fn->end; i++) {
            const struct bl_insn *in = &j->insns[i];
            uint8_t cls = BL_CLASS(in->code);
            touches[in->dst] = 1;
            if (cls != BL_LD || !bl_is_lddw(in))
                touches[in->src] = 1;
            if (cls == BL_JMP && BL_OP(in->code) == BL_CALL)
                fn->makes_calls = 1;
            if (cls == BL_LD && (BL_MODE(in->code) == BL_ABS || BL_MODE(in->code) == BL_IND))
                fn->makes_calls = 1;
            if (bl_is_lddw(in))
                i++;
            if ((cls == BL_JMP || cls == BL_JMP32) && BL_OP(in->code) != BL_CALL &&
                BL_OP(in->code) != BL_EXIT) {
                int64_t t = (int64_t)i + 1 +
                            ((cls == BL_JMP32 && BL_OP(in->code) == BL_JA) ? in->imm : in->off);
                if (j->func_of[t] != f)
                    return jit_fail(j, i, "jump out of its function");
            }
        }
        if (touches[BL_R10])
            fn->uses_frame = 1;
        for (int r = BL_R6; r <= BL_R9; r++)
            if (touches[r])
                fn->saves[fn->n_saves++] = jit_register_map[r];
        int pushes = fn->uses_frame + fn->n_saves;
        /* checked code keeps its frames in the run's frame area */
        fn->rsp_adjust = fn->uses_frame && !j->checked ? BL_STACK_SIZE : 0;
        /* at entry rsp = 8 mod 16; calls need it 0 mod 16 */
        if (fn->makes_calls && pushes % 2 == 0)
            fn->rsp_adjust += 8;
        fn->entry = x86_label_new(&j->e);
    }
    j->dead_store = jit_dead_stores(j);
    return 0;
}

/* ---- the trampoline and the fault stub ---------------------------------------- */

static const int tramp_saved[] = {RBP, RBX, R12, R13, R14, R15};

static void emit_trampoline(struct jit *j)
{
    struct x86_emit *e = &j->e;
    /* rdi = args[5], rsi = env, rdx = native function */
    for (size_t k = 0; k < 6; k++)
        x86_push(e, tramp_saved[k]);
    x86_mov_rr(e, 1, ENV_REG, RSI);
    x86_load(e, 8, 0, R10, ENV_REG, ENV_ENGINE);
    x86_push_m(e, R10, ST_ENTRY_RSP);          /* 7 pushes: rsp = 0 mod 16 */
    x86_store_r(e, 8, R10, ST_ENTRY_RSP, RSP);
    if (j->checked)                            /* frames go below the caller's */
        x86_load(e, 8, 0, RBP, R10, ST_CUR_FP);
    x86_mov_rr(e, 1, R11, RDX);
    x86_mov_rr(e, 1, RAX, RDI);
    x86_load(e, 8, 0, RDI, RAX, 0);
    x86_load(e, 8, 0, RSI, RAX, 8);
    x86_load(e, 8, 0, RDX, RAX, 16);
    x86_load(e, 8, 0, RCX, RAX, 24);
    x86_load(e, 8, 0, R8, RAX, 32);
    /* R0 and R6-R9 start at 0: no host value reaches a program that
     * reads them before writing them (only unverified code can) */
    static const int zeroed[] = {RAX, RBX, R13, R14, R15};
    for (size_t k = 0; k < 5; k++)
        x86_alu_rr(e, 0, ALU_XOR, zeroed[k], zeroed[k]);
    x86_call_reg(e, R11);
    x86_label_bind(e, j->tramp_ret_label);
    x86_load(e, 8, 0, R10, ENV_REG, ENV_ENGINE);
    x86_pop_m(e, R10, ST_ENTRY_RSP);
    for (size_t k = 6; k-- > 0;)
        x86_pop(e, tramp_saved[k]);
    x86_ret(e);

    /* fault: unwind to the innermost trampoline, which returns 0 */
    x86_label_bind(e, j->fault_label);
    x86_load(e, 8, 0, R10, ENV_REG, ENV_ENGINE);
    x86_load(e, 8, 0, RSP, R10, ST_ENTRY_RSP);
    x86_store_i(e, 4, ENV_REG, ENV_FAULT, 1);
    x86_alu_rr(e, 0, ALU_XOR, RAX, RAX);
    x86_jmp_fix(e, FIX_LABEL, j->tramp_ret_label);
}

/* The fast entry, for verified unchecked code that needs no run state
 * (j->fast) but reads env (helper calls): rdi = ctx, rsi = env; without
 * env, main is the fast entry. Only r12 (env) needs saving: main saves
 * what it touches of rbx, rbp, r13-r15 itself. No zeroing of R0/R6-R9 (the
 * verifier proved nothing reads them before writing them), no frame area,
 * no budget, no env->engine: such code cannot reach the fault stub. */
static void emit_fast_entry(struct jit *j)
{
    struct x86_emit *e = &j->e;
    x86_label_bind(e, j->fast_label);
    x86_push(e, ENV_REG);                      /* rsp = 0 mod 16 */
    x86_mov_rr(e, 1, ENV_REG, RSI);
    x86_call_fix(e, FIX_LABEL, j->funcs[0].entry);
    x86_pop(e, ENV_REG);
    x86_ret(e);
}

/* checked code: one unit of the run's budget, or a fault */
void jit_emit_budget_tick(struct jit *j)
{
    struct x86_emit *e = &j->e;
    x86_load(e, 8, 0, R10, ENV_REG, ENV_ENGINE);
    x86_alu_mi(e, 1, ALU_SUB, R10, ST_BUDGET, 1);
    x86_jcc_fix(e, CC_B, FIX_LABEL, j->fault_label);
}

static void emit_prologue(struct jit *j, const struct jfunc *fn)
{
    struct x86_emit *e = &j->e;
    x86_label_bind(e, fn->entry);
    if (fn->uses_frame)
        x86_push(e, RBP);
    for (int k = 0; k < fn->n_saves; k++)
        x86_push(e, fn->saves[k]);
    if (j->checked) {
        /* R10: the next frame down in the frame area, if there is one */
        x86_alu_ri(e, 1, ALU_SUB, RBP, BL_STACK_SIZE);
        x86_load(e, 8, 0, R10, ENV_REG, ENV_ENGINE);
        x86_alu_rm(e, 1, ALU_CMP, RBP, R10, ST_FRAMES_LO);
        x86_jcc_fix(e, CC_B, FIX_LABEL, j->fault_label);
        jit_emit_budget_tick(j);
    } else if (fn->uses_frame) {
        x86_mov_rr(e, 1, RBP, RSP);   /* R10: the frame is [rbp - 512, rbp) */
    }
    if (fn->rsp_adjust)
        x86_alu_ri(e, 1, ALU_SUB, RSP, fn->rsp_adjust);
}

void jit_emit_epilogue(struct jit *j, const struct jfunc *fn)
{
    struct x86_emit *e = &j->e;
    if (fn->rsp_adjust)
        x86_alu_ri(e, 1, ALU_ADD, RSP, fn->rsp_adjust);
    for (int k = fn->n_saves; k-- > 0;)
        x86_pop(e, fn->saves[k]);
    if (fn->uses_frame)
        x86_pop(e, RBP);
    x86_ret(e);
}

/* ---- C functions the code calls ----------------------------------------------- */

static uint64_t jit_call_native(struct bpflua_run_env *env, uint64_t fn, uint64_t a1,
                                uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5);

/* Unverified code with the kernel's helper ids may only call helpers whose
 * arguments are all scalars: the others trust their pointers, which only
 * the verifier can vouch for (as the interpreter's raw mode). */
int jit_raw_callable(const struct bpflua_helper *h, int raw,
                     const struct bpflua_helper *(*find)(uint32_t id))
{
    if (!raw || find != bl_helper_find)
        return 1;
    for (int k = 0; k < 5; k++) {
        enum bpflua_arg_type t = h->args[k];
        if (t != BPFLUA_ARG_NONE && t != BPFLUA_ARG_ANYTHING && t != BPFLUA_ARG_CONST_SIZE &&
            t != BPFLUA_ARG_CONST_SIZE_OR_ZERO)
            return 0;
    }
    return 1;
}

/* callx: the helper whose id the register holds */
uint64_t jit_callx(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                   struct bpflua_run_env *env)
{
    struct jit_state *st = env->engine;
    const struct bpflua_helper *h = st->code->helper_find((uint32_t)st->callx_id);
    if (!h || !h->fn || !jit_raw_callable(h, st->code->raw, st->code->helper_find)) {
        env->fault = 1;
        return 0;
    }
    return h->fn(r1, r2, r3, r4, r5, env);
}

/* ld_abs / ld_ind: a big-endian load from the run's region */
uint64_t jit_ld_abs(uint64_t off, uint64_t size, struct bpflua_run_env *env)
{
    struct jit_state *st = env->engine;
    if (off > st->mem_len || size > st->mem_len - off) {
        env->fault = 1;
        return 0;
    }
    const uint8_t *p = (const uint8_t *)(uintptr_t)st->mem_lo + off;
    uint64_t v = 0;
    for (uint64_t k = 0; k < size; k++)
        v = v << 8 | p[k];
    return v;
}

/* the same in a verified run: from the packet of the skb context in R6
 * (core/skb.h's bl_skb_ld_abs, as the interpreter); where the kernel's
 * load fails the run ends with R0 = 0 (the kernel's implicit exit),
 * through the fault path */
uint64_t jit_ld_abs_skb(uint64_t off, uint64_t size, struct bpflua_run_env *env, uint64_t ctx)
{
    uint64_t v;
    if (bl_skb_ld_abs((const struct bl_skb_ctx *)(uintptr_t)ctx, (uint32_t)off, (unsigned)size,
                      &v)) {
        env->fault = 1;
        return 0;
    }
    return v;
}

struct for_each_ctx {
    struct bpflua_run_env *env;
    uint64_t callback, ctx;
};

static int for_each_step(struct bl_map *m, void *key, void *value, void *arg)
{
    struct for_each_ctx *c = arg;
    uint64_t ret = jit_call_native(c->env, c->callback, (uintptr_t)m, (uintptr_t)key,
                                   (uintptr_t)value, c->ctx, 0);
    return ret != 0 || c->env->fault;
}

/* for_each_map_elem: the map walks, the native callback is called directly
 * through the trampoline (no env->call dispatch) */
uint64_t jit_for_each(uint64_t map, uint64_t callback, uint64_t ctx, uint64_t flags,
                      uint64_t r5, struct bpflua_run_env *env)
{
    if (flags || !map || !callback)
        return (uint64_t)(int64_t)-EINVAL;
    struct for_each_ctx c = {env, callback, ctx};
    return (uint64_t)bl_map_for_each((struct bl_map *)(uintptr_t)map, for_each_step, &c);
}

/* ---- the driver ---------------------------------------------------------------- */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void jit_release(struct jit *j)
{
    x86_free(&j->e);
    free(j->pc_locs);
    free(j->func_of);
    free(j->is_target);
    free(j->is_func_start);
    free(j->own_insns);
    free(j->funcs);
    free(j->dead_store);
    for (uint32_t f = 0; j->ranges && f < j->n_funcs; f++)
        jit_ranges_free(j->ranges[f]);
    for (uint32_t f = 0; j->ranges_short && f < j->n_funcs; f++)
        jit_ranges_free(j->ranges_short[f]);
    free(j->ranges);
    free(j->ranges_short);
    free(j->ranges_done);
}

static int compile(struct bl_prog *p, int raw,
                   const struct bpflua_helper *(*helper_find)(uint32_t id), uint32_t budget,
                   char **err)
{
    uint64_t t0 = now_ns();
    struct jit j;
    memset(&j, 0, sizeof j);
    j.fused_ja = UINT32_MAX;
    j.cold_jump = UINT32_MAX;
    j.errp = err;
    j.helper_find = helper_find ? helper_find : bl_helper_find;
    memcpy(j.rmap, jit_register_map, sizeof j.rmap);
    memset(j.alias, -1, sizeof j.alias);
    /* inlined copies may at most double or so the code (nested loops
     * inline at every call site; this keeps compile time linear) */
    j.inline_budget = budget ? budget : (uint64_t)p->n_insns + 4096;
    j.insns = p->exec_insns ? p->exec_insns : p->insns;
    j.orig = p->insns;
    j.n = p->n_insns;
    j.raw = raw || p->verdict != 1 || !p->aux;
    j.aux = j.raw ? NULL : p->aux;
    if (!j.insns || !j.n) {
        bl_set_err(err, "jit: empty program");
        return -EINVAL;
    }
    x86_init(&j.e);
    j.fault_label = x86_label_new(&j.e);
    j.tramp_ret_label = x86_label_new(&j.e);
    int rc = analyse(&j);
    if (rc) {
        if (rc == -ENOMEM)
            bl_set_err(err, "jit: out of memory");
        jit_release(&j);
        return rc;
    }

    /* (loop starts are what it shortens: not for programs without loops) */
    if (!j.raw && j.n_callbacks) {
        j.own_insns = jit_const_operands(j.insns, j.n, j.is_target, j.is_func_start);
        if (j.own_insns)
            j.insns = j.own_insns;
    }
    emit_trampoline(&j);
    if (j.fast) {
        j.fast_label = x86_label_new(&j.e);
        emit_fast_entry(&j);
    }
    for (uint32_t i = 0; i < j.n && !j.failed; i++) {
        const struct jfunc *fn = &j.funcs[j.func_of[i]];
        if (i == fn->start)
            emit_prologue(&j, fn);
        if (i == fn->start || j.is_target[i])
            jit_fwd_clear(&j);
        j.pc_locs[i] = (uint32_t)j.e.len;
        jit_emit_insn(&j, i);
        jit_fwd_after(&j, i);
        if (bl_is_lddw(&j.insns[i])) {
            i++;
            j.pc_locs[i] = UINT32_MAX;
        }
        if (i + 1 == fn->end)                    /* falling off a function */
            x86_jmp_fix(&j.e, FIX_LABEL, j.fault_label);
    }
    /* nothing reads env (r12): bl_jit_run calls main itself, with env in
     * R2, which main never reads before writing it (the stub stays, unused:
     * emitted first, it keeps the code's layout) */
    if (j.fast && !j.env_used)
        j.fast_label = j.funcs[0].entry;
    if (j.failed) {
        jit_release(&j);
        return -EINVAL;
    }
    if (x86_resolve(&j.e, j.pc_locs, j.n) || j.e.err) {
        bl_set_err(err, "jit: %s", j.e.err == X86_ENOMEM ? "out of memory"
                                   : j.e.err == X86_ERANGE ? "short jump out of range"
                                   : "unresolved jump");
        rc = j.e.err == X86_ENOMEM ? -ENOMEM : -EINVAL;
        jit_release(&j);
        return rc;
    }

    struct bl_jit_code *code = calloc(1, sizeof *code);
    long page = sysconf(_SC_PAGESIZE);
    size_t map_size = (j.e.len + (size_t)page - 1) / (size_t)page * (size_t)page;
    void *mem = code ? mmap(NULL, map_size, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) : MAP_FAILED;
    if (mem == MAP_FAILED) {
        free(code);
        jit_release(&j);
        bl_set_err(err, "jit: cannot map code memory");
        return -ENOMEM;
    }
    memcpy(mem, j.e.buf, j.e.len);
    if (mprotect(mem, map_size, PROT_READ | PROT_EXEC)) {
        munmap(mem, map_size);
        free(code);
        jit_release(&j);
        bl_set_err(err, "jit: cannot make code executable");
        return -EPERM;
    }
    code->mem = mem;
    code->map_size = map_size;
    code->code_len = j.e.len;
    code->main_off = j.e.labels[j.funcs[0].entry];
    code->fast_off = j.fast ? j.e.labels[j.fast_label] : 0;
    code->checked = j.checked;
    code->raw = j.raw;
    code->n_entries = j.n_funcs - 1;
    code->entries = calloc(j.n_funcs, sizeof *code->entries);
    if (!code->entries) {
        munmap(mem, map_size);
        free(code);
        jit_release(&j);
        bl_set_err(err, "jit: out of memory");
        return -ENOMEM;
    }
    for (uint32_t f = 1; f < j.n_funcs; f++)
        code->entries[f - 1] = (uint64_t)(uintptr_t)mem + j.e.labels[j.funcs[f].entry];
    code->helper_find = j.helper_find;
    jit_release(&j);
    code->compile_ns = now_ns() - t0;
    code->versioned_loops = j.versioned_loops;
    code->unrolled_loops = j.unrolled_loops;
    code->hoisted_values = j.hoisted_values;
    code->shared_loops = j.shared_loops;
    code->proved_tests = j.proved_tests;
    code->pkt_versioned = j.pkt_versioned;

    if (p->jit)
        bl_jit_free(p->jit);
    p->jit = code;
    p->jit_free = bl_jit_free;
    return 0;
}

/* ---- public interface ------------------------------------------------------------ */

int bl_jit_available(void)
{
#if defined(__x86_64__)
    return 1;
#else
    return 0;
#endif
}

int bl_jit_compile(struct bl_prog *p, char **err)
{
    if (!bl_jit_available()) {
        bl_set_err(err, "jit: not available on this machine");
        return -ENOSYS;
    }
    return compile(p, 0, NULL, 0, err);
}

int bl_jit_compile_opts(struct bl_prog *p, const struct bl_jit_opts *opts, char **err)
{
    if (!bl_jit_available()) {
        bl_set_err(err, "jit: not available on this machine");
        return -ENOSYS;
    }
    return compile(p, opts && opts->raw, opts ? opts->helper_find : NULL,
                   opts ? opts->inline_budget : 0, err);
}

static uint64_t enter(const struct bl_jit_code *code, struct bpflua_run_env *env,
                      const uint64_t *args, void *fn)
{
    return ((tramp_fn)(void *)code->mem)(args, env, fn);
}

static uint64_t jit_call_native(struct bpflua_run_env *env, uint64_t fn, uint64_t a1,
                                uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
    struct jit_state *st = env->engine;
    const uint64_t args[5] = {a1, a2, a3, a4, a5};
    size_t k = 0;
    while (k < st->code->n_entries && st->code->entries[k] != fn)
        k++;
    if (k == st->code->n_entries) {   /* not a callback of this program */
        env->fault = 1;
        return 0;
    }
    return enter(st->code, env, args, (void *)(uintptr_t)fn);
}

static uint64_t run(const struct bl_jit_code *code, uint64_t r1, uint64_t r2,
                    uint64_t mem_lo, uint64_t mem_len, struct bpflua_run_env *env)
{
    struct jit_state st = {0};
    uint8_t *frames = NULL;
    st.code = code;
    st.mem_lo = mem_lo;
    st.mem_len = mem_len;
    if (code->checked) {
        frames = calloc(CHECKED_FRAMES, BL_STACK_SIZE);
        if (!frames) {
            env->fault = 1;
            return 0;
        }
        st.frames_lo = (uint64_t)(uintptr_t)frames;
        st.frames_hi = st.frames_lo + CHECKED_FRAMES * BL_STACK_SIZE;
        st.cur_fp = st.frames_hi + BL_STACK_SIZE;
        st.budget = CHECKED_BUDGET;
    }
    void *saved_engine = env->engine;
    uint64_t (*saved_call)(struct bpflua_run_env *, uint64_t, uint64_t, uint64_t, uint64_t,
                           uint64_t, uint64_t) = env->call;
    env->engine = &st;
    env->call = jit_call_native;
    const uint64_t args[5] = {r1, r2, 0, 0, 0};
    uint64_t ret = enter(code, env, args, code->mem + code->main_off);
    env->engine = saved_engine;
    env->call = saved_call;
    free(frames);
    return ret;
}

/* the run with its state (trampoline, checked frames): apart from
 * bl_jit_run, so that the fast entry's path saves no registers */
static __attribute__((noinline)) uint64_t run_slow(const struct bl_jit_code *code, void *ctx,
                                                   struct bpflua_run_env *env)
{
    uint64_t lo = 0, len = 0;
    if (code->checked && !code->raw && ctx) { /* checked accesses may touch the packet */
        const struct bl_xdp_ctx *x = ctx;
        if (x->data_end >= x->data) {
            lo = x->data;
            len = x->data_end - x->data;
        }
    }
    return run(code, (uint64_t)(uintptr_t)ctx, 0, lo, len, env);
}

bl_jit_fast_fn bl_jit_fast_entry(const struct bl_jit_code *code)
{
    return code && code->fast_off ? (bl_jit_fast_fn)(void *)(code->mem + code->fast_off) : NULL;
}

uint64_t bl_jit_run(const struct bl_jit_code *code, void *ctx, struct bpflua_run_env *env)
{
    if (code->fast_off)
        return ((fast_fn)(void *)(code->mem + code->fast_off))(ctx, env);
    return run_slow(code, ctx, env);
}

uint64_t bl_jit_run_mem(const struct bl_jit_code *code, uint64_t r1, uint64_t r2,
                        void *mem, size_t len, struct bpflua_run_env *env)
{
    return run(code, r1, r2, (uint64_t)(uintptr_t)mem, mem ? len : 0, env);
}

void bl_jit_free(struct bl_jit_code *code)
{
    if (!code)
        return;
    munmap(code->mem, code->map_size);
    free(code->entries);
    free(code);
}

size_t bl_jit_code_size(const struct bl_jit_code *code)
{
    return code ? code->code_len : 0;
}

uint64_t bl_jit_compile_ns(const struct bl_jit_code *code)
{
    return code ? code->compile_ns : 0;
}

unsigned bl_jit_versioned_loops(const struct bl_jit_code *code)
{
    return code ? code->versioned_loops : 0;
}

unsigned bl_jit_unrolled_loops(const struct bl_jit_code *code)
{
    return code ? code->unrolled_loops : 0;
}

unsigned bl_jit_hoisted_values(const struct bl_jit_code *code)
{
    return code ? code->hoisted_values : 0;
}

unsigned bl_jit_shared_loops(const struct bl_jit_code *code)
{
    return code ? code->shared_loops : 0;
}

unsigned bl_jit_proved_tests(const struct bl_jit_code *code)
{
    return code ? code->proved_tests : 0;
}

unsigned bl_jit_pkt_versioned(const struct bl_jit_code *code)
{
    return code ? code->pkt_versioned : 0;
}

const void *bl_jit_code_bytes(const struct bl_jit_code *code)
{
    return code ? code->mem : NULL;
}
