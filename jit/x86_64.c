/* x86_64.c - the JIT: eBPF (a program's exec_insns) to x86-64 machine code.
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
 * bpf_loop (helper 181) is never a helper call. In verified code, with the
 * callback known at the call site, the callback's body is translated again
 * inside a native counted loop (no call per iteration; loop variables and
 * 8-byte ctx slots in registers the body leaves free). Otherwise the loop
 * calls the callback's native entry directly. A callback value in this JIT
 * is the native address of the callback's entry (lea rip-relative), so
 * env->call can call it through the trampoline. docs/jit.md has the
 * details.
 *
 * What the inlined copy of a loop body may skip or move is decided from
 * facts about the eBPF code, never from what a compiler usually emits:
 * register liveness in the body (dead definitions, R1/R2 not read, R0 of
 * an exit returning a known 0), copies that stay in the register holding
 * them until the value must be in its own (see "copies in inlined bodies"),
 * and which ctx slots only the base register reaches. Outside inlined
 * bodies, an 8-byte load of a slot stored in the same basic block is
 * forwarded from the stored register. Verified code that needs no run
 * state is entered through a fast entry with no trampoline.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "jit.h"
#include "loop_checks.h"
#include "x86_emit.h"
#include "../vm/asm.h"
#include "../vm/object.h"
#include "../vm/verifier.h"
#include "../vm/xdp.h"
#include "../stdlib/helpers.h"
#include "../stdlib/maps.h"

/* ---- register map ----------------------------------------------------------
 *
 * R0      rax  the return register of both ABIs: helper results land in it;
 *              cmpxchg compares against it, as eBPF's cmpxchg uses R0.
 * R1-R5   rdi, rsi, rdx, rcx, r8: the SysV argument registers in order, so
 *              helper calls and BPF-to-BPF calls need no argument moves.
 * R6-R9   rbx, r13, r14, r15: callee-saved in SysV as in eBPF, so they
 *              survive helper calls for free.
 * R10     rbp  the frame pointer, callee-saved.
 * env     r12  callee-saved, so it survives helper calls; copied to r9 (the
 *              sixth SysV argument) before each helper call.
 * scratch r9, r10, r11: caller-saved and not eBPF registers (r9 only until
 *              the next helper call, which loads env into it).
 */
static const uint8_t register_map[BL_NREGS] = {
    RAX, RDI, RSI, RDX, RCX, R8, RBX, R13, R14, R15, RBP,
};
#define ENV_REG R12

/* The run state (env->engine while JIT code runs). Offsets are used by
 * generated code: keep in sync with the ST_* constants. */
struct jit_state {
    uint64_t entry_rsp;   /* rsp in the innermost trampoline */
    uint64_t rsp_limit;   /* unused */
    uint64_t mem_lo;      /* the region checked accesses may touch */
    uint64_t mem_len;
    uint64_t callx_id;    /* helper id for callx */
    uint64_t frames_lo;   /* checked code: the eBPF frames live in */
    uint64_t frames_hi;   /*   [frames_lo, frames_hi), not on the native stack */
    uint64_t cur_fp;      /* checked code: R10 + 512 at the last helper call */
    uint64_t budget;      /* checked code: back-edges and calls left before a fault */
    const struct bl_jit_code *code;
};
#define ST_ENTRY_RSP 0
#define ST_RSP_LIMIT 8
#define ST_MEM_LO 16
#define ST_MEM_LEN 24
#define ST_CALLX_ID 32
#define ST_FRAMES_LO 40
#define ST_FRAMES_HI 48
#define ST_CUR_FP 56
#define ST_BUDGET 64
_Static_assert(offsetof(struct jit_state, budget) == ST_BUDGET, "jit_state layout");

#define ENV_ENGINE ((int32_t)offsetof(struct bpflua_run_env, engine))
#define ENV_FAULT ((int32_t)offsetof(struct bpflua_run_env, fault))

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
    uint64_t *entries;    /* native entries of the functions after main: the */
    size_t n_entries;     /*   callback values env->call accepts */
    uint32_t fast_off;    /* the fast entry, or 0: see emit_fast_entry */
};

typedef uint64_t (*fast_fn)(void *ctx, struct bpflua_run_env *env);

typedef uint64_t (*tramp_fn)(const uint64_t *args, struct bpflua_run_env *env, void *fn);

/* ---- per-compile state ------------------------------------------------------ */

struct jfunc {
    uint32_t start, end;  /* [start, end) instructions */
    uint32_t entry;       /* label of the prologue */
    int uses_frame;       /* reserves 512 bytes below rbp */
    int saves[4];         /* which of R6-R9 it pushes */
    int n_saves;
    int makes_calls;
    int32_t rsp_adjust;   /* frame + alignment padding */
};

/* A callback being inlined into a bpf_loop: its jumps go to labels of
 * this copy, its exits to the loop's continue label. */
#define MAX_PROMOTED 6

struct loop_var;

struct inline_ctx {
    uint32_t start, end;      /* the callback's instructions */
    uint32_t first_label;     /* label of instruction start + k: first_label + k */
    uint32_t cont_label;
    int depth;
    const struct inline_ctx *outer;
    /* ctx slots kept in registers: 8-byte [base + off] reads come from
     * slot_reg, writes go to slot_reg and through to memory */
    int base;
    int stack_base;           /* the register holding ctx (the caller's stack) all along */
    int write_through;        /* stores to promoted slots also go to memory */
    int n_promoted;
    int16_t slot_off[MAX_PROMOTED];
    uint8_t slot_reg[MAX_PROMOTED];
    uint8_t slot_dirty[MAX_PROMOTED]; /* the body stores to it */
    /* liveness: registers (bit r = Rr) live after instruction start + k */
    const uint16_t *live_out;
    uint32_t cont0_label;     /* continue when the body returned a known 0 */
    uint32_t skip;            /* an instruction not to emit (the hoisted leading mov), or UINT32_MAX */
    const struct loop_var *vars;  /* i, n, ctx */
    uint32_t top_label, out_label;
    /* per instruction of the body: 1 for a bounds check this copy drops
     * (the test before the loop proved it never taken), or NULL */
    const uint8_t *unchecked;
    const uint8_t *reach;     /* what this copy can reach, or NULL: all */
    int exits_jump;           /* an exit returning 0 jumps to cont0 (unrolled copies) */
};

#define INLINE_MAX_INSNS 256  /* callbacks longer than this are called */
#define UNROLL_MAX_INSNS 48   /* bodies up to this run twice per trip (three copies) */
#define INLINE_MAX_DEPTH 4

struct jit {
    struct x86_emit e;
    const struct bl_insn *insns;
    const struct bl_insn *orig;      /* p->insns: which lddws load a map */
    uint32_t n;
    const struct bl_insn_aux *aux;   /* NULL in raw mode */
    int raw;                         /* nothing is trusted */
    int checked;                     /* some access is checked */
    uint32_t *pc_locs;
    uint32_t *func_of;               /* insn -> function index */
    uint8_t *is_target;              /* insn is a jump target */
    uint8_t *is_func_start;
    struct jfunc *funcs;
    uint32_t n_funcs;
    uint32_t fault_label, tramp_ret_label;
    uint32_t fast_label;             /* the fast entry, when fast */
    int fast;                        /* bl_jit_run may skip the run state */
    int env_used;                    /* some code reads env (r12) */
    const struct bpflua_helper *(*helper_find)(uint32_t id);
    const struct inline_ctx *inl;    /* translating an inlined callback */
    /* where each eBPF register's value is read from while translating
     * (register_map, but an inlined body may keep a copy elsewhere: see
     * "copies" below) */
    uint8_t rmap[BL_NREGS];
    int8_t alias[BL_NREGS];          /* -1, or the x86 register holding Rr's value */
    /* or Rr's value is the address [form[r]] (scale 0: no form), not yet
     * computed: see "copies in inlined bodies" */
    struct x86_mem form[BL_NREGS];
    /* store-to-load forwarding (outside inlined bodies): 8-byte values
     * stored at [base + off] in this basic block, still held by src (or
     * the constant imm when src < 0) */
    struct { int8_t base, src; int16_t off; int32_t imm; } fwd[8];
    int n_fwd;
    uint64_t inline_budget;          /* instructions inlining may still add */
    uint32_t versioned_loops, unrolled_loops;
    char **errp;
    int failed;
};

static int fail(struct jit *j, uint32_t pc, const char *msg)
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

static uint32_t func_index(const struct jit *j, uint32_t start)
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

static int access_trusted(const struct jit *j, uint32_t pc)
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
            return fail(j, i, "bad register");
        if (bl_op_decode(in) < 0)
            return fail(j, i, "invalid instruction");
        if (bl_is_lddw(in)) {
            if (i + 1 >= n)
                return fail(j, i, "lddw without its second slot");
            if (in->src == BL_PSEUDO_FUNC) {
                int64_t t = (int64_t)i + 1 + in->imm;
                if (t < 0 || t >= n)
                    return fail(j, i, "callback out of range");
                j->is_func_start[t] = 1;
            }
            i++;
            continue;
        }
        if (cls == BL_JMP && BL_OP(in->code) == BL_CALL && in->src == BL_PSEUDO_CALL &&
            BL_SRC(in->code) == BL_K) {
            int64_t t = (int64_t)i + 1 + in->imm;
            if (t < 0 || t >= n)
                return fail(j, i, "call target out of range");
            j->is_func_start[t] = 1;
        } else if ((cls == BL_JMP || cls == BL_JMP32) && BL_OP(in->code) != BL_CALL &&
                   BL_OP(in->code) != BL_EXIT) {
            int64_t t = (int64_t)i + 1 +
                        ((cls == BL_JMP32 && BL_OP(in->code) == BL_JA) ? in->imm : in->off);
            if (t < 0 || t >= n)
                return fail(j, i, "jump out of range");
            j->is_target[t] = 1;
        }
        if (is_mem_access(in) && !access_trusted(j, i))
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
    }
    /* a jump into the second slot of an lddw is not an instruction */
    for (uint32_t i = 0; i + 1 < n; i++)
        if (bl_is_lddw(&j->insns[i])) {
            if (j->is_target[i + 1] || j->is_func_start[i + 1])
                return fail(j, i + 1, "jump into the middle of lddw");
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
                    return fail(j, i, "jump out of its function");
            }
        }
        if (touches[BL_R10])
            fn->uses_frame = 1;
        for (int r = BL_R6; r <= BL_R9; r++)
            if (touches[r])
                fn->saves[fn->n_saves++] = register_map[r];
        int pushes = fn->uses_frame + fn->n_saves;
        /* checked code keeps its frames in the run's frame area */
        fn->rsp_adjust = fn->uses_frame && !j->checked ? BL_STACK_SIZE : 0;
        /* at entry rsp = 8 mod 16; calls need it 0 mod 16 */
        if (fn->makes_calls && pushes % 2 == 0)
            fn->rsp_adjust += 8;
        fn->entry = x86_label_new(&j->e);
    }
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
static void emit_budget_tick(struct jit *j)
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
        emit_budget_tick(j);
    } else if (fn->uses_frame) {
        x86_mov_rr(e, 1, RBP, RSP);   /* R10: the frame is [rbp - 512, rbp) */
    }
    if (fn->rsp_adjust)
        x86_alu_ri(e, 1, ALU_SUB, RSP, fn->rsp_adjust);
}

static void emit_epilogue(struct jit *j, const struct jfunc *fn)
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
static int raw_callable(const struct bpflua_helper *h, int raw,
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
static uint64_t jit_callx(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                          struct bpflua_run_env *env)
{
    struct jit_state *st = env->engine;
    const struct bpflua_helper *h = st->code->helper_find((uint32_t)st->callx_id);
    if (!h || !h->fn || !raw_callable(h, st->code->raw, st->code->helper_find)) {
        env->fault = 1;
        return 0;
    }
    return h->fn(r1, r2, r3, r4, r5, env);
}

/* ld_abs / ld_ind: a big-endian load from the run's region */
static uint64_t jit_ld_abs(uint64_t off, uint64_t size, struct bpflua_run_env *env)
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
static uint64_t jit_for_each(uint64_t map, uint64_t callback, uint64_t ctx, uint64_t flags,
                             uint64_t r5, struct bpflua_run_env *env)
{
    if (flags || !map || !callback)
        return (uint64_t)(int64_t)-EINVAL;
    struct for_each_ctx c = {env, callback, ctx};
    return (uint64_t)bl_map_for_each((struct bl_map *)(uintptr_t)map, for_each_step, &c);
}

/* ---- instruction translation ------------------------------------------------- */

static int is_w64(uint8_t code)
{
    return BL_CLASS(code) == BL_ALU64;
}

/* emits `mov r9, env; call fn` and, in checked code, the fault test */
static void emit_c_call(struct jit *j, const void *fn)
{
    struct x86_emit *e = &j->e;
    if (j->checked) {                 /* where callbacks' frames go */
        x86_load(e, 8, 0, R10, ENV_REG, ENV_ENGINE);
        x86_store_r(e, 8, R10, ST_CUR_FP, RBP);
    }
    j->env_used = 1;
    x86_mov_rr(e, 1, R9, ENV_REG);
    x86_mov_ri(e, RAX, (uint64_t)(uintptr_t)fn);
    x86_call_reg(e, RAX);
}

static void emit_fault_test(struct jit *j)
{
    struct x86_emit *e = &j->e;
    j->env_used = 1;
    x86_alu_mi(e, 0, ALU_CMP, ENV_REG, ENV_FAULT, 0);
    x86_jcc_fix(e, CC_NE, FIX_LABEL, j->fault_label);
}

/* div/mod with the divisor in r11 (already loaded) */
static void emit_divmod(struct jit *j, int w, int is_signed, int is_mod, int dst, int known_nonzero)
{
    struct x86_emit *e = &j->e;
    size_t to_zero = 0, to_normal = 0, done1 = 0, done2 = 0;
    if (!known_nonzero) {
        x86_test_rr(e, w, R11, R11);
        to_zero = x86_jcc8(e, CC_E);
    }
    if (is_signed) {
        /* x / -1 = -x and x % -1 = 0, without idiv's #DE on INT_MIN / -1 */
        x86_alu_ri(e, w, ALU_CMP, R11, -1);
        to_normal = x86_jcc8(e, CC_NE);
        if (is_mod)
            x86_mov_ri(e, dst, 0);
        else
            x86_neg(e, w, dst);
        done1 = x86_jmp8(e);
        x86_patch8(e, to_normal);
    }
    x86_mov_rr(e, 1, R10, RAX);
    x86_mov_rr(e, 1, R9, RDX);
    int dividend = dst == RAX ? R10 : dst == RDX ? R9 : dst;
    x86_mov_rr(e, 1, RAX, dividend);
    if (is_signed)
        x86_cqo(e, w);
    else
        x86_alu_rr(e, 0, ALU_XOR, RDX, RDX);
    x86_div(e, w, is_signed, R11);
    x86_mov_rr(e, 1, R11, is_mod ? RDX : RAX);
    x86_mov_rr(e, 1, RAX, R10);
    x86_mov_rr(e, 1, RDX, R9);
    x86_mov_rr(e, w, dst, R11);
    if (!known_nonzero) {
        done2 = x86_jmp8(e);
        x86_patch8(e, to_zero);
        if (!is_mod)
            x86_mov_ri(e, dst, 0);      /* x / 0 = 0 */
        else if (!w)
            x86_mov_rr(e, 0, dst, dst); /* x % 0 = x, 32-bit: zero-extended */
        x86_patch8(e, done2);
    }
    if (is_signed)
        x86_patch8(e, done1);
}

static void emit_shift_reg(struct jit *j, int w, enum x86_shift op, int dst, int src)
{
    struct x86_emit *e = &j->e;
    if (src == RCX) {
        x86_shift_cl(e, w, op, dst);
    } else if (dst == RCX) {
        x86_mov_rr(e, 1, R11, RCX);
        x86_mov_rr(e, 1, RCX, src);
        x86_shift_cl(e, w, op, R11);
        x86_mov_rr(e, 1, RCX, R11);
    } else {
        x86_mov_rr(e, 1, R11, RCX);
        x86_mov_rr(e, 1, RCX, src);
        x86_shift_cl(e, w, op, dst);
        x86_mov_rr(e, 1, RCX, R11);
    }
    if (!w)
        x86_mov_rr(e, 0, dst, dst);     /* a count of 0 leaves the upper half */
}

/* Was R`reg` just loaded by a 16-bit zero-extending load (ldxh, the
 * previous instruction, which nothing jumps past)? Then its upper 48 bits
 * are 0 and stay 0 through a 16-bit rotate. */
static int zext16_loaded(const struct jit *j, uint32_t pc, int reg)
{
    if (pc == 0 || j->is_target[pc] || j->is_func_start[pc] || (j->inl && pc == j->inl->start))
        return 0;
    if (pc >= 2 && bl_is_lddw(&j->insns[pc - 2]))
        return 0;
    const struct bl_insn *prev = &j->insns[pc - 1];
    return prev->code == (BL_LDX | BL_MEM | BL_H) && prev->dst == reg;
}

static int emit_alu(struct jit *j, uint32_t pc, const struct bl_insn *in)
{
    struct x86_emit *e = &j->e;
    int w = is_w64(in->code);
    int k = BL_SRC(in->code) == BL_K;
    int dst = j->rmap[in->dst], src = j->rmap[in->src];
    int32_t imm = in->imm;
    uint8_t op = BL_OP(in->code);

    if (in->dst == BL_R10)
        return fail(j, pc, "R10 is read-only");
    switch (op) {
    case BL_ADD: case BL_SUB: case BL_OR: case BL_AND: case BL_XOR: {
        enum x86_alu a = op == BL_ADD ? ALU_ADD : op == BL_SUB ? ALU_SUB : op == BL_OR ? ALU_OR
                         : op == BL_AND ? ALU_AND : ALU_XOR;
        if (k)
            x86_alu_ri(e, w, a, dst, imm);
        else
            x86_alu_rr(e, w, a, dst, src);
        break;
    }
    case BL_MUL:
        if (k && imm > 1 && (imm & (imm - 1)) == 0)
            x86_shift_ri(e, w, SHIFT_SHL, dst, (uint8_t)__builtin_ctz((uint32_t)imm));
        else if (k)
            x86_imul_ri(e, w, dst, dst, imm);
        else
            x86_imul_rr(e, w, dst, src);
        break;
    case BL_DIV: case BL_MOD: {
        int is_signed = in->off == 1, is_mod = op == BL_MOD;
        if (k && imm == 0) {
            if (!is_mod)
                x86_mov_ri(e, dst, 0);
            else if (!w)
                x86_mov_rr(e, 0, dst, dst);
            break;
        }
        if (k)
            x86_mov_ri(e, R11, w ? (uint64_t)(int64_t)imm : (uint32_t)imm);
        else
            x86_mov_rr(e, w, R11, src);
        emit_divmod(j, w, is_signed, is_mod, dst, k);
        break;
    }
    case BL_LSH: case BL_RSH: case BL_ARSH: {
        enum x86_shift s = op == BL_LSH ? SHIFT_SHL : op == BL_RSH ? SHIFT_SHR : SHIFT_SAR;
        if (k) {
            uint8_t n = (uint8_t)(imm & (w ? 63 : 31));
            if (n)
                x86_shift_ri(e, w, s, dst, n);
            else if (!w)
                x86_mov_rr(e, 0, dst, dst);
        } else {
            emit_shift_reg(j, w, s, dst, src);
        }
        break;
    }
    case BL_NEG:
        x86_neg(e, w, dst);
        break;
    case BL_MOV:
        if (k)
            x86_mov_ri(e, dst, w ? (uint64_t)(int64_t)imm : (uint32_t)imm);
        else if (in->off == 0)
            x86_mov_rr(e, w, dst, src);
        else if (in->off == 8 || in->off == 16 || (in->off == 32 && w))
            x86_movsx_rr(e, w, in->off, dst, src);
        else
            return fail(j, pc, "bad movsx width");
        break;
    case BL_END: {
        int to_le = !w && k;
        if (imm != 16 && imm != 32 && imm != 64)
            return fail(j, pc, "bad byte-swap width");
        if (to_le) {
            if (imm == 16)
                x86_movzx16(e, dst, dst);
            else if (imm == 32)
                x86_mov_rr(e, 0, dst, dst);
        } else if (imm == 16) {
            x86_ror16_8(e, dst);
            if (!zext16_loaded(j, pc, in->dst))
                x86_movzx16(e, dst, dst);
        } else {
            x86_bswap(e, imm == 64, dst);
        }
        break;
    }
    default:
        return fail(j, pc, "unknown ALU operation");
    }
    return 0;
}

/* The operand of a memory access: emits the bounds check when the access
 * is not trusted; then the access is [*m]. A base register with a form
 * (inlined bodies) lends its form: one addressing mode, no lea. */
static void mem_operand(struct jit *j, uint32_t pc, int reg, int16_t off, int size,
                        struct x86_mem *m)
{
    struct x86_emit *e = &j->e;
    if (j->form[reg].scale) {
        *m = j->form[reg];
        m->disp += off;                          /* |form disp| <= 2^30 */
    } else {
        *m = (struct x86_mem){(int8_t)j->rmap[reg], -1, 1, off};
    }
    if (access_trusted(j, pc))
        return;
    x86_lea_m(e, R11, m);
    /* in this frame or a caller's: rbp - 512 <= addr <= frames_hi - size
     * (no addr + size: it could wrap around) */
    x86_lea(e, R10, RBP, -BL_STACK_SIZE);
    x86_alu_rr(e, 1, ALU_CMP, R11, R10);
    size_t not_stack = x86_jcc8(e, CC_B);
    x86_load(e, 8, 0, R9, ENV_REG, ENV_ENGINE);
    x86_load(e, 8, 0, R10, R9, ST_FRAMES_HI);
    x86_alu_ri(e, 1, ALU_SUB, R10, size);
    x86_alu_rr(e, 1, ALU_CMP, R11, R10);
    size_t ok = x86_jcc8(e, CC_BE);
    x86_patch8(e, not_stack);
    /* in the region: addr - lo <= len and addr - lo + size <= len */
    x86_load(e, 8, 0, R10, ENV_REG, ENV_ENGINE);
    x86_mov_rr(e, 1, R9, R11);
    x86_alu_rm(e, 1, ALU_SUB, R9, R10, ST_MEM_LO);
    x86_alu_rm(e, 1, ALU_CMP, R9, R10, ST_MEM_LEN);
    x86_jcc_fix(e, CC_A, FIX_LABEL, j->fault_label);
    x86_alu_ri(e, 1, ALU_ADD, R9, size);
    x86_alu_rm(e, 1, ALU_CMP, R9, R10, ST_MEM_LEN);
    x86_jcc_fix(e, CC_A, FIX_LABEL, j->fault_label);
    x86_patch8(e, ok);
    *m = (struct x86_mem){R11, -1, 1, 0};
}

static int size_of(uint8_t code)
{
    switch (BL_SIZE(code)) {
    case BL_B: return 1;
    case BL_H: return 2;
    case BL_W: return 4;
    default: return 8;
    }
}

/* `mov reg, 0`, 32 or 64 bits */
static int is_mov_zero(const struct bl_insn *in)
{
    return (in->code == (BL_ALU64 | BL_MOV | BL_K) || in->code == (BL_ALU | BL_MOV | BL_K)) &&
           in->imm == 0 && in->off == 0;
}

/* Is Rreg known to be 0 at pc: set by `mov reg, 0` (32 or 64 bits) just
 * before, in the function starting at start, with no jump landing in
 * between? */
static int zeroed_just_before(const struct jit *j, uint32_t pc, uint32_t start, int reg)
{
    if (pc <= start || j->is_target[pc])
        return 0;
    const struct bl_insn *prev = &j->insns[pc - 1];
    return is_mov_zero(prev) && prev->dst == reg &&
           (pc < start + 2 || !bl_is_lddw(&j->insns[pc - 2]));
}

/* Is the source of the atomic at pc known to be 0? */
static int src_known_zero(const struct jit *j, uint32_t pc, uint32_t func_start)
{
    return zeroed_just_before(j, pc, func_start, j->insns[pc].src);
}

/* An atomic add/or/xor of 0 to the stack changes nothing that anyone can
 * observe (the stack is the run's own): the compiler's "launder" idiom,
 * `mov r0, 0; lock add [r9+off], r0`, which makes the kernel's verifier
 * forget a loop variable, costs nothing here. */
static int atomic_is_noop(const struct jit *j, uint32_t pc, int ctx_base, uint32_t func_start)
{
    const struct bl_insn *in = &j->insns[pc];
    if (in->imm != BL_ADD && in->imm != BL_OR && in->imm != BL_XOR)
        return 0;
    if (in->dst != BL_R10 && in->dst != ctx_base)
        return 0;
    return access_trusted(j, pc) && src_known_zero(j, pc, func_start);
}

static int emit_atomic(struct jit *j, uint32_t pc, const struct bl_insn *in)
{
    struct x86_emit *e = &j->e;
    int size = size_of(in->code);
    int w = size == 8;
    int src = register_map[in->src];
    struct x86_mem m;
    if (size != 4 && size != 8)
        return fail(j, pc, "atomic access must be 32 or 64 bits");
    if (in->src == BL_R10 && (in->imm & BL_FETCH))
        return fail(j, pc, "R10 is read-only");
    if (atomic_is_noop(j, pc, j->inl ? j->inl->stack_base : -1,
                       j->inl ? j->inl->start : j->funcs[j->func_of[pc]].start))
        return 0;
    mem_operand(j, pc, in->dst, in->off, size, &m);
    if (m.index >= 0 || m.base < 0) {             /* (the lock forms take [base + disp]) */
        x86_lea_m(e, R11, &m);
        m = (struct x86_mem){R11, -1, 1, 0};
    }
    int base = m.base;
    int32_t disp = m.disp;
    switch (in->imm) {
    case BL_ADD:
        x86_lock_alu_mr(e, size, ALU_ADD, base, disp, src);
        break;
    case BL_OR:
        x86_lock_alu_mr(e, size, ALU_OR, base, disp, src);
        break;
    case BL_AND:
        x86_lock_alu_mr(e, size, ALU_AND, base, disp, src);
        break;
    case BL_XOR:
        x86_lock_alu_mr(e, size, ALU_XOR, base, disp, src);
        break;
    case BL_ADD | BL_FETCH:
        x86_lock_xadd(e, size, base, disp, src);
        break;
    case BL_XCHG:
        x86_xchg_mr(e, size, base, disp, src);
        break;
    case BL_CMPXCHG:
        x86_lock_cmpxchg(e, size, base, disp, src);
        if (!w)
            x86_mov_rr(e, 0, RAX, RAX); /* R0 = zero-extended old value */
        break;
    case BL_OR | BL_FETCH: case BL_AND | BL_FETCH: case BL_XOR | BL_FETCH: {
        enum x86_alu a = in->imm == (BL_OR | BL_FETCH) ? ALU_OR
                         : in->imm == (BL_AND | BL_FETCH) ? ALU_AND : ALU_XOR;
        if (base != R11) {
            x86_lea(e, R11, base, disp);
            base = R11;
            disp = 0;
        }
        x86_mov_rr(e, 1, R10, RAX);                 /* save R0 */
        x86_load(e, size, 0, RAX, R11, 0);          /* old */
        size_t retry = e->len;
        x86_mov_rr(e, 1, R9, RAX);
        x86_alu_rr(e, w, a, R9, src == RAX ? R10 : src);
        x86_lock_cmpxchg(e, size, R11, 0, R9);
        x86_jcc8_back(e, CC_NE, retry);
        if (src != RAX) {
            x86_mov_rr(e, w, src, RAX);
            x86_mov_rr(e, 1, RAX, R10);
        } else if (!w) {
            x86_mov_rr(e, 0, RAX, RAX);
        }
        break;
    }
    default:
        return fail(j, pc, "unknown atomic operation");
    }
    return 0;
}

static const enum x86_cc jmp_cc[16] = {
    [BL_JEQ >> 4] = CC_E, [BL_JGT >> 4] = CC_A, [BL_JGE >> 4] = CC_AE,
    [BL_JSET >> 4] = CC_NE, [BL_JNE >> 4] = CC_NE, [BL_JSGT >> 4] = CC_G,
    [BL_JSGE >> 4] = CC_GE, [BL_JLT >> 4] = CC_B, [BL_JLE >> 4] = CC_BE,
    [BL_JSLT >> 4] = CC_L, [BL_JSLE >> 4] = CC_LE,
};

/* The function bpf_loop will call, when the lddw that put it in R2 sits in
 * the same basic block as the call; else UINT32_MAX (call through r15). */
static uint32_t static_callback(const struct jit *j, uint32_t pc)
{
    uint32_t start = j->funcs[j->func_of[pc]].start;
    for (uint32_t i = pc; i-- > start;) {
        const struct bl_insn *in = &j->insns[i];
        if (i > start && bl_is_lddw(&j->insns[i - 1]))
            continue;                    /* second slot */
        if (bl_is_lddw(in)) {
            if (in->dst == BL_R2)
                return in->src == BL_PSEUDO_FUNC ? (uint32_t)((int64_t)i + 1 + in->imm)
                                                 : UINT32_MAX;
        } else {
            uint8_t cls = BL_CLASS(in->code);
            if (cls == BL_JMP || cls == BL_JMP32)
                return UINT32_MAX;
            if (in->dst == BL_R2 || (cls == BL_STX && BL_MODE(in->code) == BL_ATOMIC))
                return UINT32_MAX;
        }
        if (j->is_target[i])
            return UINT32_MAX;
    }
    return UINT32_MAX;
}

static int emit_insn(struct jit *j, uint32_t pc);

/* Where a loop variable of an inlined bpf_loop lives: a register the
 * callback does not touch, or a slot at [rsp + 8 * slot]. */
struct loop_var {
    int reg;      /* -1: in memory */
    int32_t disp;
};

static void var_load(struct jit *j, int dst, const struct loop_var *v)
{
    if (v->reg >= 0)
        x86_mov_rr(&j->e, 1, dst, v->reg);
    else
        x86_load(&j->e, 8, 0, dst, RSP, v->disp);
}

static void var_store(struct jit *j, const struct loop_var *v, int src)
{
    if (v->reg >= 0)
        x86_mov_rr(&j->e, 1, v->reg, src);
    else
        x86_store_r(&j->e, 8, RSP, v->disp, src);
}

/* What an inlined body does, for choosing where loop variables live. */
struct body_info {
    int calls;                 /* calls anything (helpers, functions, loops) */
    int scratch;               /* needs r9-r11 (div, mod, shifts by a register, atomics) */
    int atomics;
    int writes[BL_NREGS];      /* registers it writes (after a leading `mov Rb, R2`) */
    int refs[BL_NREGS];        /* registers it names at all */
    int value_read[BL_NREGS];  /* read other than as a memory base (idem) */
    int store_base[BL_NREGS];  /* bases of its stores */
    int load_base[BL_NREGS];   /* bases of its loads */
    int base;                  /* the register holding ctx all along, or -1 */
    int n_acc;
    struct { int16_t off; uint8_t size, store; } acc[64]; /* accesses through base */
    int acc_overflow;
};

static int is_mov_from_r2(const struct bl_insn *in)
{
    return in->code == (BL_ALU64 | BL_MOV | BL_X) && in->off == 0 && in->src == BL_R2 &&
           in->dst != BL_R2 && in->dst != BL_R10;
}

static void analyse_body(const struct jit *j, const struct jfunc *cb, struct body_info *bi)
{
    memset(bi, 0, sizeof *bi);
    /* the compiler's callbacks start with `mov Rb, R2` and use Rb as ctx */
    uint32_t first = cb->start + (is_mov_from_r2(&j->insns[cb->start]) ? 1 : 0);
    if (first > cb->start) {
        bi->refs[BL_R2] = 1;
        bi->refs[j->insns[cb->start].dst] = 1;
    }
    int cand = first > cb->start ? j->insns[cb->start].dst : BL_R2;
    for (uint32_t i = first; i < cb->end; i++) {
        const struct bl_insn *in = &j->insns[i];
        uint8_t cls = BL_CLASS(in->code), mode = BL_MODE(in->code), op = BL_OP(in->code);
        int x = BL_SRC(in->code) == BL_X;
        if (cls == BL_STX && mode == BL_ATOMIC && atomic_is_noop(j, i, cand, cb->start)) {
            bi->refs[in->dst] = bi->refs[in->src] = 1;
            continue;
        }
        switch (cls) {
        case BL_ALU:
        case BL_ALU64:
            bi->refs[in->dst] = 1;
            bi->writes[in->dst] = 1;
            if (op != BL_MOV)
                bi->value_read[in->dst] = 1;
            if (x && op != BL_END && op != BL_NEG) {
                bi->refs[in->src] = 1;
                bi->value_read[in->src] = 1;
            }
            if (op == BL_DIV || op == BL_MOD || (x && (op == BL_LSH || op == BL_RSH || op == BL_ARSH)))
                bi->scratch = 1;
            break;
        case BL_LD:
            if (bl_is_lddw(in)) {
                bi->refs[in->dst] = 1;
                bi->writes[in->dst] = 1;
                i++;
            } else {
                bi->calls = bi->scratch = 1;
            }
            break;
        case BL_LDX:
        case BL_ST:
        case BL_STX: {
            int base = cls == BL_LDX ? in->src : in->dst;
            bi->refs[base] = 1;
            if (cls == BL_LDX) {
                bi->refs[in->dst] = 1;
                bi->writes[in->dst] = 1;
                bi->load_base[base] = 1;
            } else {
                bi->store_base[base] = 1;
            }
            if (cls == BL_STX) {
                bi->refs[in->src] = 1;
                bi->value_read[in->src] = 1;
            }
            if (mode == BL_ATOMIC) {
                bi->atomics = bi->scratch = 1;
                bi->value_read[base] = 1;
                bi->writes[BL_R0] |= in->imm == BL_CMPXCHG;
                bi->refs[BL_R0] |= in->imm == BL_CMPXCHG;
                bi->writes[in->src] |= (in->imm & BL_FETCH) != 0;
            }
            break;
        }
        default: /* jumps */
            if (op == BL_CALL) {
                bi->calls = 1;
                if (x) {
                    bi->refs[in->dst] = 1;
                    bi->value_read[in->dst] = 1;
                }
            } else if (op != BL_EXIT && op != BL_JA) {
                bi->refs[in->dst] = 1;
                bi->value_read[in->dst] = 1;
                if (x) {
                    bi->refs[in->src] = 1;
                    bi->value_read[in->src] = 1;
                }
            }
            break;
        }
    }
    if (bi->calls)
        for (int r = BL_R0; r <= BL_R5; r++)
            bi->writes[r] = bi->refs[r] = 1;
    /* the ctx base: R2 if never written, else the leading mov's target */
    bi->base = -1;
    if (!bi->writes[BL_R2] && first == cb->start)
        bi->base = BL_R2;
    else if (first > cb->start && !bi->writes[j->insns[cb->start].dst])
        bi->base = j->insns[cb->start].dst;
    if (bi->base < 0)
        return;
    for (uint32_t i = first; i < cb->end; i++) {
        const struct bl_insn *in = &j->insns[i];
        uint8_t cls = BL_CLASS(in->code);
        if (bl_is_lddw(in)) {
            i++;
            continue;
        }
        if (cls == BL_STX && BL_MODE(in->code) == BL_ATOMIC && atomic_is_noop(j, i, bi->base, cb->start))
            continue;
        if ((cls == BL_LDX && in->src == bi->base) ||
            ((cls == BL_ST || cls == BL_STX) && in->dst == bi->base)) {
            if (bi->n_acc == 64) {
                bi->acc_overflow = 1;
                return;
            }
            bi->acc[bi->n_acc].off = in->off;
            bi->acc[bi->n_acc].store = cls != BL_LDX;
            bi->acc[bi->n_acc++].size = (uint8_t)size_of(in->code);
        }
    }
}

/* The kinds of memory (BL_MEMK_*) the access at pc may touch, as the
 * verifier recorded them: every kind when it recorded nothing (a dead
 * instruction, raw mode). */
static unsigned access_kinds(const struct jit *j, uint32_t pc)
{
    if (!j->aux || !j->aux[pc].seen || !j->aux[pc].mem_kinds)
        return 0xff;
    return j->aux[pc].mem_kinds;
}

/* Do loads / stores of the body through a register other than base (the
 * register holding ctx all along) and R10 (the callback's own frame) maybe
 * touch the memory of ctx's slots? Only if the verifier saw them touch a
 * kind of memory that the body's accesses through base also touched: a
 * packet, map or ctx pointer never points into an eBPF stack frame. */
/* The next memory access (load, store or atomic) of the callback at or
 * after *pc, past lddw's second slots and the no-op launder atomics
 * through base; NULL at the end. *pc is left on it: ++ for the next. */
static const struct bl_insn *next_access(const struct jit *j, const struct jfunc *cb, int base,
                                         uint32_t *pc)
{
    for (; *pc < cb->end; ++*pc) {
        const struct bl_insn *in = &j->insns[*pc];
        uint8_t cls = BL_CLASS(in->code);
        if (bl_is_lddw(in))
            ++*pc;
        else if ((cls == BL_LDX || cls == BL_ST || cls == BL_STX) &&
                 !(cls == BL_STX && BL_MODE(in->code) == BL_ATOMIC &&
                   atomic_is_noop(j, *pc, base, cb->start)))
            return in;
    }
    return NULL;
}

static void others_may_alias(const struct jit *j, const struct jfunc *cb, int base, int *loads,
                             int *stores)
{
    unsigned base_kinds = 0;
    for (int pass = 0; pass < 2; pass++)
        for (uint32_t i = cb->start; next_access(j, cb, base, &i); i++) {
            const struct bl_insn *in = &j->insns[i];
            uint8_t cls = BL_CLASS(in->code);
            int r = cls == BL_LDX ? in->src : in->dst;
            if (pass == 0) {
                if (r == base)
                    base_kinds |= access_kinds(j, i);
            } else if (r != base && r != BL_R10 && (access_kinds(j, i) & base_kinds)) {
                if (cls == BL_LDX)
                    *loads = 1;
                else
                    *stores = 1;
            }
        }
}

/* Is [off, off + 8) accessed only as one 8-byte slot? */
static int promotable(const struct body_info *bi, int16_t off)
{
    for (int k = 0; k < bi->n_acc; k++) {
        int lo = bi->acc[k].off, hi = lo + bi->acc[k].size;
        if (hi <= off || lo >= off + 8)
            continue;
        if (lo != off || bi->acc[k].size != 8)
            return 0;
    }
    return 1;
}

/* A promoted slot's register for an 8-byte access [base + off] in the
 * inlined body being emitted, or -1. */
static int promoted_reg(const struct jit *j, int base, int size, int16_t off)
{
    const struct inline_ctx *ic = j->inl;
    if (!ic || base != ic->base || size != 8)
        return -1;
    for (int k = 0; k < ic->n_promoted; k++)
        if (ic->slot_off[k] == off)
            return ic->slot_reg[k];
    return -1;
}

/* Registers an inlined loop may use for its own variables and promoted
 * slots: first caller-saved ones the body leaves alone (no save needed:
 * bpf_loop is a call, R1-R5 are dead after it), then callee-saved ones
 * the callback does not touch (saved around the loop). */
struct reg_pool {
    int regs[12];
    int n, next;
};

static void pool_init(struct reg_pool *pool, const struct body_info *bi, const struct jfunc *cb)
{
    pool->n = pool->next = 0;
    if (!bi->calls) {
        if (!bi->scratch) {
            pool->regs[pool->n++] = R11;
            pool->regs[pool->n++] = R10;
            pool->regs[pool->n++] = R9;
        }
        if (!bi->refs[BL_R4])
            pool->regs[pool->n++] = RCX;
        if (!bi->refs[BL_R5])
            pool->regs[pool->n++] = R8;
        if (!bi->refs[BL_R3])
            pool->regs[pool->n++] = RDX;
    }
    static const int callee[4] = {RBX, R13, R14, R15};
    for (int k = 0; k < 4; k++) {
        int touched = 0;
        for (int q = 0; q < cb->n_saves; q++)
            touched |= cb->saves[q] == callee[k];
        if (!touched)
            pool->regs[pool->n++] = callee[k];
    }
    /* env (only helper calls need it) and the frame pointer (when the body
     * has no frame): saved around the loop like the others */
    if (!bi->calls)
        pool->regs[pool->n++] = R12;
    if (!cb->uses_frame && !bi->refs[BL_R10])
        pool->regs[pool->n++] = RBP;
}

static int pool_take(struct reg_pool *pool)
{
    return pool->next < pool->n ? pool->regs[pool->next++] : -1;
}

/* Does the exit at pc return a constant 0: `mov r0, 0` just before it,
 * nothing jumping to the exit? */
static int exit_returns_zero(const struct jit *j, uint32_t pc, uint32_t start)
{
    return zeroed_just_before(j, pc, start, BL_R0);
}

/* Does every exit of the callback return a constant 0 (exit_returns_zero)?
 * Then the loop never breaks early. */
static int never_breaks(const struct jit *j, const struct jfunc *cb)
{
    for (uint32_t i = cb->start; i < cb->end; i++) {
        const struct bl_insn *in = &j->insns[i];
        if (bl_is_lddw(in)) {
            i++;
            continue;
        }
        if (in->code == (BL_JMP | BL_EXIT) && !exit_returns_zero(j, i, cb->start))
            return 0;
    }
    return 1;
}

static int callee_saved(int r)
{
    return r == RBX || r == RBP || (r >= R12 && r <= R15);
}

/* ---- liveness in an inlined body ---------------------------------------------
 *
 * Registers (bit r = Rr) each instruction reads and writes, and which are
 * live after it, so that the inlined copy can skip work whose result nobody
 * reads: a definition of a dead register (an ALU operation, lddw or load:
 * none of them can fail or touch memory in verified code), setting R1/R2
 * at the top of an iteration when the body does not read them, and R0 at an
 * exit that returns a known 0 (the loop then continues without testing it).
 * Conservative where unsure: a use too many only keeps code, a definition
 * is counted only where the instruction surely writes the register. */

#define ALL_REGS 0x7ff

static void use_def(const struct jit *j, uint32_t pc, uint32_t start, int ctx_base,
                    uint16_t *use, uint16_t *def)
{
    const struct bl_insn *in = &j->insns[pc];
    bl_insn_use_def(in, use, def);
    if (BL_CLASS(in->code) == BL_STX && BL_MODE(in->code) == BL_ATOMIC &&
        atomic_is_noop(j, pc, ctx_base, start))
        *use = *def = 0;               /* emits nothing */
    else if (BL_CLASS(in->code) == BL_JMP && BL_OP(in->code) == BL_EXIT &&
             exit_returns_zero(j, pc, start))
        *use = 0;                      /* the loop continues without reading R0 */
    *use |= 1u << BL_R10;
    *def &= (uint16_t)~(1u << BL_R10);
}

/* live_out[k]: registers live after instruction start + k of the callback
 * [start, end). Returns NULL when out of memory (then nothing is skipped). */
static uint16_t *body_liveness(const struct jit *j, uint32_t start, uint32_t end, int ctx_base,
                               const uint8_t *unchecked)
{
    uint32_t n = end - start;
    uint16_t *out = calloc(n, sizeof *out), *in = calloc(n + 1, sizeof *in);
    uint16_t *use = malloc(n * sizeof *use), *def = malloc(n * sizeof *def);
    if (!out || !in || !use || !def) {
        free(out);
        free(in);
        free(use);
        free(def);
        return NULL;
    }
    for (uint32_t k = 0; k < n; k++) {
        use_def(j, start + k, start, ctx_base, &use[k], &def[k]);
        if (unchecked && unchecked[k])
            use[k] = def[k] = 0;       /* a dropped check: emits nothing */
        if (bl_is_lddw(&j->insns[start + k]) && k + 1 < n) {
            k++;
            use[k] = def[k] = 0;
        }
    }
    in[n] = ALL_REGS;                  /* falling off the end: assume everything */
    for (int changed = 1; changed;) {
        changed = 0;
        for (uint32_t k = n; k-- > 0;) {
            const struct bl_insn *ins = &j->insns[start + k];
            uint8_t cls = BL_CLASS(ins->code), op = BL_OP(ins->code);
            uint16_t o = 0;
            if (k > 0 && bl_is_lddw(&j->insns[start + k - 1]))
                continue;              /* second slot */
            if (bl_is_lddw(ins)) {
                o = in[k + 2 <= n ? k + 2 : n];
            } else if (unchecked && unchecked[k]) {
                o = in[k + 1];
            } else if ((cls == BL_JMP || cls == BL_JMP32) && op != BL_CALL) {
                if (op != BL_EXIT) {
                    int64_t t = (int64_t)k + 1 +
                                ((cls == BL_JMP32 && op == BL_JA) ? ins->imm : ins->off);
                    o = t >= 0 && t <= (int64_t)n ? in[t] : ALL_REGS;
                    if (op != BL_JA)
                        o |= in[k + 1];
                }
            } else {
                o = in[k + 1];
            }
            uint16_t i2 = (uint16_t)(use[k] | (o & ~def[k]));
            if (o != out[k] || i2 != in[k]) {
                out[k] = o;
                in[k] = i2;
                changed = 1;
            }
        }
    }
    free(in);
    free(use);
    free(def);
    return out;
}

/* Can the inlined copy skip instruction pc: it only defines a register
 * nobody reads afterwards, and has no other effect? */
static int dead_insn(const struct jit *j, const struct inline_ctx *ic, uint32_t pc)
{
    if (!ic->live_out)
        return 0;
    const struct bl_insn *in = &j->insns[pc];
    uint8_t cls = BL_CLASS(in->code);
    if (in->dst == BL_R10)
        return 0;                      /* refused by emit_insn */
    if (cls != BL_ALU && cls != BL_ALU64 && cls != BL_LDX && !(cls == BL_LD && bl_is_lddw(in)))
        return 0;
    return !(ic->live_out[pc - ic->start] & (1u << in->dst));
}

/* ---- copies in inlined bodies ------------------------------------------------
 *
 * In an inlined body, a 64-bit `mov dst, src`, the load of a ctx slot kept
 * in a register and R1 = i (R2 = ctx) at the top of an iteration emit no
 * code: j->alias[dst] records the x86 register that holds dst's value, and
 * instructions that read dst read it there (j->rmap). The copy is made
 * (`mov home(dst), alias`) only when needed: before dst is modified in
 * place, before the x86 register holding it is written, before a jump for
 * the registers live at its target, before a label for those live there,
 * before anything else (calls, atomics, division...) for those live then.
 * Invariant: when alias[r] >= 0, no register is a copy living in r's own
 * x86 register, so making a copy never destroys another.
 *
 * An address computed from such values (`r = i << 1`, `r = data + r`,
 * `r += 2`) is kept the same way, as a form [base + index*scale + disp]
 * of x86 registers (j->form[r]): a load or store through r uses it as its
 * addressing mode, and only a read of r as a value computes it (one lea
 * into r's own register). A form never names r's own register, and
 * writing an x86 register first computes the forms that name it. */

static void alias_clear(struct jit *j)
{
    memset(j->alias, -1, sizeof j->alias);
    memset(j->form, 0, sizeof j->form);
}

static int has_form(const struct jit *j, int r)
{
    return j->form[r].scale != 0;
}

/* r's value is about to be redefined: forget where it was */
static void alias_forget(struct jit *j, int r)
{
    j->alias[r] = -1;
    j->form[r].scale = 0;
}

static void alias_materialize(struct jit *j, int r)
{
    if (has_form(j, r)) {
        x86_lea_m(&j->e, register_map[r], &j->form[r]);
        j->form[r].scale = 0;
    } else if (j->alias[r] >= 0) {
        x86_mov_rr(&j->e, 1, register_map[r], j->alias[r]);
        j->alias[r] = -1;
    }
}

static int form_names(const struct x86_mem *f, int x)
{
    return f->scale && (f->base == x || f->index == x);
}

/* x86 register x is about to be written: copies living in it move home,
 * forms naming it are computed */
static void alias_release(struct jit *j, int x, int except)
{
    for (int r = 0; r < BL_NREGS; r++)
        if (r != except && (j->alias[r] == x || form_names(&j->form[r], x)))
            alias_materialize(j, r);
}

/* registers in `live` back in their own registers */
static void alias_sync(struct jit *j, uint16_t live)
{
    for (int r = 0; r < BL_NREGS; r++)
        if ((live >> r) & 1)
            alias_materialize(j, r);
}

static uint16_t live_in_at(const struct jit *j, const struct inline_ctx *ic, uint32_t pc)
{
    uint16_t u, d;
    if (ic->unchecked && ic->unchecked[pc - ic->start])
        return ic->live_out[pc - ic->start];
    use_def(j, pc, ic->start, ic->stack_base, &u, &d);
    return (uint16_t)(u | (ic->live_out[pc - ic->start] & ~d));
}

static int alias_loc(const struct jit *j, int r)
{
    return j->alias[r] >= 0 ? j->alias[r] : register_map[r];
}

/* where r's value can be read as a value (a form is computed first) */
static int value_loc(struct jit *j, int r)
{
    if (has_form(j, r))
        alias_materialize(j, r);
    return alias_loc(j, r);
}

/* r's value as a form: its form, or [x] for the register x holding it */
static struct x86_mem form_of(const struct jit *j, int r)
{
    if (has_form(j, r))
        return j->form[r];
    return (struct x86_mem){(int8_t)alias_loc(j, r), -1, 1, 0};
}

/* Keeps `d op= src/imm` (64-bit add/sub of a constant, add of a register,
 * shift left by 1-3) as a form, when d's value is a copy or a form and
 * the result is one addressing mode that does not name d's own register.
 * Returns 1 when it did (nothing emitted). */
static int alu_to_form(struct jit *j, const struct bl_insn *in)
{
    uint8_t op = BL_OP(in->code);
    int d = in->dst, x = BL_SRC(in->code) == BL_X, home = register_map[d];
    if (BL_CLASS(in->code) != BL_ALU64 || (j->alias[d] < 0 && !has_form(j, d)))
        return 0;
    struct x86_mem f = form_of(j, d);
    if (!x && (op == BL_ADD || op == BL_SUB)) {
        int64_t disp = (int64_t)f.disp + (op == BL_ADD ? (int64_t)in->imm : -(int64_t)in->imm);
        if (disp < -(1 << 30) || disp > (1 << 30))
            return 0;
        f.disp = (int32_t)disp;
    } else if (!x && op == BL_LSH && in->imm >= 1 && in->imm <= 3) {
        if (f.index < 0) {                       /* [b + disp] -> [b*2^k + disp*2^k] */
            f.index = f.base;
            f.base = -1;
        }
        if (f.base >= 0 || f.scale << in->imm > 8 || f.disp > (1 << 26) || f.disp < -(1 << 26))
            return 0;
        f.scale = (uint8_t)(f.scale << in->imm);
        f.disp *= 1 << in->imm;
    } else if (x && op == BL_ADD && in->src != d && in->src != BL_R10) {
        /* the terms (register, scale) of both: at most two, one scaled */
        struct x86_mem g = form_of(j, in->src);
        int64_t disp = (int64_t)f.disp + g.disp;
        int reg[4], sc[4], n = 0;
        const struct x86_mem *both[2] = {&f, &g};
        for (int k = 0; k < 2; k++) {
            if (both[k]->base >= 0) {
                reg[n] = both[k]->base;
                sc[n++] = 1;
            }
            if (both[k]->index >= 0) {
                reg[n] = both[k]->index;
                sc[n++] = both[k]->scale;
            }
        }
        if (n != 2 || (sc[0] > 1 && sc[1] > 1) || disp < -(1 << 30) || disp > (1 << 30))
            return 0;
        int b = sc[0] == 1 ? 0 : 1;             /* the unscaled term is the base */
        f = (struct x86_mem){(int8_t)reg[b], (int8_t)reg[1 - b], (uint8_t)sc[1 - b], (int32_t)disp};
    } else {
        return 0;
    }
    if (f.base < 0 && f.scale == 1) {            /* [i + disp] */
        f.base = f.index;
        f.index = -1;
    }
    if (f.base == home || f.index == home || f.index == RSP)
        return 0;
    alias_release(j, home, d);
    j->alias[d] = -1;
    j->form[d] = f;
    return 1;
}

/* Is instruction pc (an ALU op on d, a copy of a promoted slot's register)
 * followed right away by the 8-byte store of d into that same slot? */
static int updates_own_slot(const struct jit *j, const struct inline_ctx *ic, uint32_t pc)
{
    const struct bl_insn *in = &j->insns[pc], *next = &j->insns[pc + 1];
    if (pc + 1 >= ic->end || j->is_target[pc + 1] || next->code != (BL_STX | BL_MEM | BL_DW) ||
        next->src != in->dst || next->dst == in->dst)
        return 0;
    int slot = promoted_reg(j, next->dst, 8, next->off);
    return slot >= 0 && slot == j->alias[in->dst];
}

/* emit_insn for instruction pc of the inlined body ic, with copies */
static void emit_with_copies(struct jit *j, const struct inline_ctx *ic, uint32_t pc)
{
    const struct bl_insn *in = &j->insns[pc];
    uint8_t cls = BL_CLASS(in->code), op = BL_OP(in->code), mode = BL_MODE(in->code);
    int x = BL_SRC(in->code) == BL_X;
    int8_t *al = j->alias;
    int d = in->dst;
    if (!ic->live_out) {
        emit_insn(j, pc);
        return;
    }
    switch (cls) {
    case BL_ALU:
    case BL_ALU64:
        if (d == BL_R10 || op == BL_DIV || op == BL_MOD ||
            (x && (op == BL_LSH || op == BL_RSH || op == BL_ARSH)))
            break;
        if (cls == BL_ALU64 && op == BL_MOV && x && in->off == 0) {
            if (in->src == d)
                return;
            if (has_form(j, in->src) && !form_names(&j->form[in->src], register_map[d])) {
                struct x86_mem f = j->form[in->src];
                alias_release(j, register_map[d], d);
                alias_forget(j, d);
                j->form[d] = f;               /* the same address */
                return;
            }
            int loc = value_loc(j, in->src);
            alias_release(j, register_map[d], d);
            alias_forget(j, d);
            al[d] = (int8_t)(loc == register_map[d] ? -1 : loc);
            return;
        }
        if (op != BL_MOV && al[d] >= 0 && updates_own_slot(j, ic, pc)) {
            /* `d op= x; *slot = d` where d is a copy of that slot's
             * register: compute in the slot's register (nothing reads the
             * slot in between) */
            int slot = al[d];
            if (x && op != BL_END && op != BL_NEG)
                value_loc(j, in->src);
            alias_release(j, slot, d);
            if (x && op != BL_END && op != BL_NEG)
                j->rmap[in->src] = (uint8_t)alias_loc(j, in->src);
            j->rmap[d] = (uint8_t)slot;
            emit_insn(j, pc);
            memcpy(j->rmap, register_map, sizeof j->rmap);
            return;
        }
        if (alu_to_form(j, in))
            return;                           /* an address, computed when read */
        alias_release(j, register_map[d], d);
        if (cls == BL_ALU64 && al[d] >= 0 &&
            ((op == BL_ADD && (x || in->imm != 0)) || (op == BL_SUB && !x && in->imm != INT32_MIN))) {
            /* d = copy + x in one lea, no copy first */
            if (!x) {
                x86_lea(&j->e, register_map[d], al[d], op == BL_ADD ? in->imm : -in->imm);
            } else {
                int src = value_loc(j, in->src);
                x86_lea_bi(&j->e, register_map[d], al[d], src);
            }
            alias_forget(j, d);
            return;
        }
        if (op != BL_MOV || (x && in->src == d))
            alias_materialize(j, d);          /* read in place */
        if (x && op != BL_END && op != BL_NEG)
            j->rmap[in->src] = (uint8_t)value_loc(j, in->src);
        j->rmap[d] = register_map[d];
        emit_insn(j, pc);
        alias_forget(j, d);
        memcpy(j->rmap, register_map, sizeof j->rmap);
        return;
    case BL_LDX: {
        if ((mode != BL_MEM && mode != BL_MEMSX) || d == BL_R10)
            break;
        int slot = promoted_reg(j, in->src, mode == BL_MEMSX ? 0 : size_of(in->code), in->off);
        alias_release(j, register_map[d], d);
        if (slot >= 0) {
            alias_forget(j, d);
            al[d] = (int8_t)slot;
            return;
        }
        j->rmap[in->src] = (uint8_t)alias_loc(j, in->src);   /* (or its form) */
        j->rmap[d] = register_map[d];
        emit_insn(j, pc);
        alias_forget(j, d);
        memcpy(j->rmap, register_map, sizeof j->rmap);
        return;
    }
    case BL_ST:
    case BL_STX: {
        if (mode != BL_MEM)
            break;
        int slot = promoted_reg(j, d, size_of(in->code), in->off);
        if (cls == BL_STX)
            value_loc(j, in->src);
        if (slot >= 0)   /* (a src living in the slot's register stays: the value does not change) */
            alias_release(j, slot, cls == BL_STX && al[in->src] == slot ? in->src : -1);
        j->rmap[d] = (uint8_t)alias_loc(j, d);            /* (or its form) */
        if (cls == BL_STX)
            j->rmap[in->src] = (uint8_t)alias_loc(j, in->src);
        emit_insn(j, pc);
        memcpy(j->rmap, register_map, sizeof j->rmap);
        return;
    }
    case BL_LD:
        if (!bl_is_lddw(in) || d == BL_R10)
            break;
        alias_release(j, register_map[d], d);
        emit_insn(j, pc);
        alias_forget(j, d);
        return;
    default:                                  /* jumps */
        if (op == BL_CALL)
            break;
        if (op == BL_EXIT) {
            if (!exit_returns_zero(j, pc, ic->start))
                alias_materialize(j, BL_R0);
            emit_insn(j, pc);
            alias_clear(j);
            return;
        }
        {
            int64_t t = (int64_t)pc + 1 + ((cls == BL_JMP32 && op == BL_JA) ? in->imm : in->off);
            if (t < ic->start || t >= ic->end)
                break;
            alias_sync(j, live_in_at(j, ic, (uint32_t)t));
            if (op != BL_JA) {
                value_loc(j, d);
                if (x)
                    value_loc(j, in->src);
                j->rmap[d] = (uint8_t)alias_loc(j, d);
                if (x)
                    j->rmap[in->src] = (uint8_t)alias_loc(j, in->src);
            }
            emit_insn(j, pc);
            memcpy(j->rmap, register_map, sizeof j->rmap);
            if (op == BL_JA)
                alias_clear(j);
            return;
        }
    }
    /* anything else: what is live before it, home; the rest forgotten */
    alias_sync(j, live_in_at(j, ic, pc));
    alias_clear(j);
    emit_insn(j, pc);
}

/* i++ of an inlined loop */
static void emit_next_i(struct jit *j, const struct loop_var *i)
{
    struct x86_emit *e = &j->e;
    if (i->reg >= 0) {
        x86_inc(e, 0, i->reg);
    } else {
        x86_load(e, 8, 0, RDI, RSP, i->disp);
        x86_inc(e, 0, RDI);
        x86_store_r(e, 8, RSP, i->disp, RDI);
    }
}

/* Does the body end with an exit that is not known to return 0? Then
 * `cont` (which tests R0) comes right after the body. */
static int last_exit_tests_r0(const struct jit *j, const struct inline_ctx *ic)
{
    uint32_t last = ic->end - 1;
    return j->insns[last].code == (BL_JMP | BL_EXIT) && !exit_returns_zero(j, last, ic->start) &&
           !(last > ic->start && bl_is_lddw(&j->insns[last - 1]));
}

/* cont0: i++; if (i < n) goto top; goto out */
static void emit_loop_tail(struct jit *j, const struct inline_ctx *ic, int with_jmp_out)
{
    struct x86_emit *e = &j->e;
    const struct loop_var *vi = &ic->vars[0], *vn = &ic->vars[1];
    emit_next_i(j, vi);
    int ireg = vi->reg >= 0 ? vi->reg : RDI;
    if (vn->reg >= 0)
        x86_alu_rr(e, 0, ALU_CMP, ireg, vn->reg);
    else
        x86_alu_rm(e, 0, ALU_CMP, ireg, RSP, vn->disp);
    x86_jcc_fix(e, CC_B, FIX_LABEL, ic->top_label);
    if (with_jmp_out)
        x86_jmp_fix(e, FIX_LABEL, ic->out_label);
}

/* Does nothing in the body write the 8 bytes at ctx + off? Stores
 * through the register holding ctx all along (bi->base) elsewhere, through
 * R10 (the callback's own frame) and to memory the verifier saw was never
 * a stack cannot; a call, or any other store, might. */
static int slot_invariant(const struct jit *j, const struct jfunc *cb,
                          const struct body_info *bi, int16_t off)
{
    if (bi->calls || bi->base < 0)
        return 0;
    for (uint32_t i = cb->start; next_access(j, cb, bi->base, &i); i++) {
        const struct bl_insn *in = &j->insns[i];
        if (BL_CLASS(in->code) == BL_LDX || in->dst == BL_R10)
            continue;
        if (in->dst == bi->base) {
            int lo = in->off, hi = lo + size_of(in->code);
            if (hi <= off || lo >= off + 8)
                continue;
            return 0;
        }
        if (access_kinds(j, i) & BL_MEMK_STACK)
            return 0;
    }
    return 1;
}

/* The checks bl_loop_checks finds whose ctx slots the body never writes. */
static int loop_checks_kept(const struct jit *j, const struct jfunc *cb,
                            const struct body_info *bi, struct loop_check *c)
{
    int n = bl_loop_checks(j->insns, cb->start, cb->end, j->is_target, c), kept = 0;
    for (int k = 0; k < n; k++)
        if (c[k].kind == LC_IMM ||
            (slot_invariant(j, cb, bi, c[k].lo) && slot_invariant(j, cb, bi, c[k].hi)))
            c[kept++] = c[k];
    return kept;
}

/* Before the loop (n >= 1, rsi = ctx, rax free): jumps to l_slow unless
 * every check holds for i = n - 1, and so, each side being non-decreasing
 * in i, for every iteration. */
static void emit_checks_test(struct jit *j, const struct loop_check *c, int n,
                             const struct loop_var *vn, uint32_t l_slow)
{
    struct x86_emit *e = &j->e;
    for (int k = 0; k < n; k++) {
        /* rax = a*(n-1) + b = a*n + (b - a): >= 0, < 2^40, no overflow */
        if (c[k].a) {
            var_load(j, RAX, vn);
            x86_imul_ri(e, 1, RAX, RAX, c[k].a);
            if (c[k].b != c[k].a)
                x86_alu_ri(e, 1, ALU_ADD, RAX, c[k].b - c[k].a);
        } else {
            x86_mov_ri(e, RAX, (uint64_t)c[k].b);
        }
        if (c[k].kind == LC_IMM) {
            x86_alu_ri(e, 1, ALU_CMP, RAX, c[k].k);  /* as eBPF: imm sign-extended, unsigned */
        } else {
            x86_alu_rm(e, 1, ALU_ADD, RAX, RSI, c[k].lo);
            x86_jcc_fix(e, CC_B, FIX_LABEL, l_slow); /* wrapped around */
            x86_alu_rm(e, 1, ALU_CMP, RAX, RSI, c[k].hi);
        }
        x86_jcc_fix(e, c[k].strict ? CC_AE : CC_A, FIX_LABEL, l_slow);
    }
}

/* Which instructions of the body a copy can reach from its start, the
 * checks it drops never taken (NULL when out of memory). */
static uint8_t *body_reach(const struct jit *j, const struct jfunc *cb, const uint8_t *unchecked)
{
    uint32_t n = cb->end - cb->start;
    uint8_t *reach = calloc(n, 1);
    if (!reach)
        return NULL;
    reach[0] = 1;
    for (uint32_t k = 0; k < n; k++) {       /* forward jumps only: one pass... */
        if (!reach[k])
            continue;
        const struct bl_insn *in = &j->insns[cb->start + k];
        uint8_t cls = BL_CLASS(in->code), op = BL_OP(in->code);
        int len = bl_is_lddw(in) ? 2 : 1;
        int jump = (cls == BL_JMP || cls == BL_JMP32) && op != BL_CALL &&
                   !(unchecked && unchecked[k]);
        if (jump && op == BL_EXIT)
            continue;
        if (jump) {
            int64_t t = (int64_t)k + 1 + ((cls == BL_JMP32 && op == BL_JA) ? in->imm : in->off);
            if (t <= (int64_t)k || t >= (int64_t)n) {   /* ...else everything */
                memset(reach, 1, n);
                return reach;
            }
            reach[t] = 1;
            if (op == BL_JA)
                continue;
        }
        if (k + len < n)
            reach[k + len] = 1;
    }
    return reach;
}

/* The body once, from R1 = i (+ i_plus, as a form, when i lives in a
 * register other than R1's own) / R2 = ctx to its last instruction; cont
 * and cont0 are left for the caller to bind. */
static void emit_body(struct jit *j, const struct jfunc *cb, struct inline_ctx *ic,
                      int r1_live, int r2_live, int i_plus)
{
    struct x86_emit *e = &j->e;
    const struct loop_var *vars = ic->vars;
    ic->cont_label = x86_label_new(e);
    ic->cont0_label = x86_label_new(e);
    ic->first_label = (uint32_t)e->n_labels;
    for (uint32_t i = cb->start; i < cb->end; i++)
        x86_label_new(e);
    /* R1 = i, R2 = ctx: as copies when they live in registers (which the
     * body never writes) */
    alias_clear(j);
    int copies = ic->live_out && !j->is_target[cb->start];
    if (vars[0].reg != RDI && r1_live) {
        if (copies && vars[0].reg >= 0 && i_plus)
            j->form[BL_R1] = (struct x86_mem){(int8_t)vars[0].reg, -1, 1, i_plus};
        else if (copies && vars[0].reg >= 0)
            j->alias[BL_R1] = (int8_t)vars[0].reg;
        else
            var_load(j, RDI, &vars[0]);
        if (i_plus && !has_form(j, BL_R1))
            x86_alu_ri(&j->e, 1, ALU_ADD, RDI, i_plus);
    }
    if (vars[2].reg != RSI && r2_live) {
        if (copies && vars[2].reg >= 0)
            j->alias[BL_R2] = (int8_t)vars[2].reg;
        else
            var_load(j, RSI, &vars[2]);
    }
    const struct inline_ctx *outer = j->inl;
    j->inl = ic;
    for (uint32_t i = cb->start; i < cb->end && !j->failed; i++) {
        uint32_t k = i - cb->start;
        if (j->is_target[i] && ic->live_out && !(ic->reach && !ic->reach[k])) {
            alias_sync(j, live_in_at(j, ic, i));     /* a join: live registers home */
            alias_clear(j);
        }
        x86_label_bind(e, ic->first_label + k);
        if (i == ic->skip || (ic->unchecked && ic->unchecked[k]) || (ic->reach && !ic->reach[k])) {
            /* hoisted, a check proved never taken, or unreachable here */
        } else if (dead_insn(j, ic, i)) {
            alias_forget(j, j->insns[i].dst);
        } else {
            emit_with_copies(j, ic, i);
        }
        if (bl_is_lddw(&j->insns[i]))
            i++;
    }
    alias_clear(j);
    const struct bl_insn *last = &j->insns[cb->end - 1];
    if (last->code != (BL_JMP | BL_EXIT) && !(ic->reach && !ic->reach[cb->end - 1 - cb->start]))
        x86_jmp_fix(e, FIX_LABEL, j->fault_label);   /* falling off the callback */
    j->inl = outer;
}

/* One copy of an inlined loop, from its top to its tail: with i = 0 set,
 * it runs the iterations and falls through to the code that leaves the
 * loop (or jumps to ic->out_label). */
static void emit_loop_copy(struct jit *j, const struct jfunc *cb, struct inline_ctx *ic,
                           int r1_live, int r2_live)
{
    struct x86_emit *e = &j->e;
    const struct loop_var *vars = ic->vars;
    ic->top_label = x86_label_new(e);
    /* a small loop fits one 64-byte fetch block: aligned to 32, compiled
     * scan's loop (1 byte per iteration, two taken branches) straddled
     * two and ran 771 -> 1,149 ns when the code before it got shorter */
    x86_align(e, 64);
    x86_label_bind(e, ic->top_label);
    emit_body(j, cb, ic, r1_live, r2_live, 0);
    /* an exit that returned a known 0 continues at cont0, any other exit
     * at cont, which tests R0; the last exit falls through to its own */
    if (last_exit_tests_r0(j, ic)) {
        uint32_t l_break = x86_label_new(e);
        x86_label_bind(e, ic->cont_label);
        x86_test_rr(e, 1, RAX, RAX);
        x86_jcc_fix(e, CC_NE, FIX_LABEL, l_break);
        x86_label_bind(e, ic->cont0_label);
        emit_loop_tail(j, ic, 1);
        x86_label_bind(e, l_break);
        emit_next_i(j, &vars[0]);            /* a break at i ran i + 1 iterations */
    } else {
        x86_label_bind(e, ic->cont0_label);
        emit_loop_tail(j, ic, 0);
        if (never_breaks(j, cb)) {
            x86_label_bind(e, ic->cont_label);    /* (unused: every exit returns 0) */
        } else {
            x86_jmp_fix(e, FIX_LABEL, ic->out_label);
            x86_label_bind(e, ic->cont_label);
            x86_test_rr(e, 1, RAX, RAX);
            x86_jcc_fix(e, CC_E, FIX_LABEL, ic->cont0_label);
            emit_next_i(j, &vars[0]);            /* a break at i ran i + 1 iterations */
        }
    }
}

/* Can the copy with these reachable instructions run twice per trip round
 * the loop: no calls, and every exit it reaches returns a known 0 (so no
 * iteration breaks)? */
static int unrollable(const struct jit *j, const struct jfunc *cb, const uint8_t *reach)
{
    if (!reach || cb->end - cb->start > UNROLL_MAX_INSNS)
        return 0;
    for (uint32_t i = cb->start; i < cb->end; i++) {
        const struct bl_insn *in = &j->insns[i];
        if (reach[i - cb->start]) {
            if (BL_CLASS(in->code) == BL_JMP && BL_OP(in->code) == BL_CALL)
                return 0;
            if (in->code == (BL_JMP | BL_EXIT) && !exit_returns_zero(j, i, cb->start))
                return 0;
            if (BL_CLASS(in->code) == BL_LD && !bl_is_lddw(in))
                return 0;                    /* legacy packet loads call out */
        }
        if (bl_is_lddw(in))
            i++;
    }
    return 1;
}

/* n - 1 <-> n in the loop variable n */
static void var_add(struct jit *j, const struct loop_var *v, int32_t d)
{
    if (v->reg >= 0)
        x86_alu_ri(&j->e, 1, ALU_ADD, v->reg, d);
    else
        x86_alu_mi(&j->e, 1, ALU_ADD, RSP, v->disp, d);
}

static void cmp_i_n(struct jit *j, const struct loop_var *vi, const struct loop_var *vn)
{
    int ireg = vi->reg >= 0 ? vi->reg : RDI;
    if (vi->reg < 0)
        x86_load(&j->e, 8, 0, RDI, RSP, vi->disp);
    if (vn->reg >= 0)
        x86_alu_rr(&j->e, 0, ALU_CMP, ireg, vn->reg);
    else
        x86_alu_rm(&j->e, 0, ALU_CMP, ireg, RSP, vn->disp);
}

/* A copy of a loop that never breaks, its body twice per trip (the loop
 * overhead and the loop's taken branch halved):
 *
 *     n--; if (i >= n) goto rest       ; n >= 1 here; i = 0
 * top: body(i); i++; body(i); i++; if (i < n) goto top
 * rest: n++; if (i >= n) goto out; body(i); i++; goto out
 *
 * Exits of each body copy jump to the code right after it (the last one
 * falls through). */
static void emit_unrolled_copy(struct jit *j, const struct jfunc *cb, struct inline_ctx *ic,
                               int r1_live, int r2_live)
{
    struct x86_emit *e = &j->e;
    const struct loop_var *vi = &ic->vars[0], *vn = &ic->vars[1];
    uint32_t l_rest = x86_label_new(e);
    ic->top_label = x86_label_new(e);
    ic->exits_jump = 1;
    var_add(j, vn, -1);
    cmp_i_n(j, vi, vn);
    x86_jcc_fix(e, CC_AE, FIX_LABEL, l_rest);
    x86_align(e, 64);
    x86_label_bind(e, ic->top_label);
    /* the second copy reads i + 1 as a form of i's register (its loads
     * take the 1 as a displacement), then i += 2; where i is R1 itself or
     * in memory, i++ after each copy */
    int plus = vi->reg >= 0 && vi->reg != RDI && ic->live_out && !j->is_target[cb->start];
    for (int copy = 0; copy < 2; copy++) {
        emit_body(j, cb, ic, r1_live, r2_live, plus ? copy : 0);
        x86_label_bind(e, ic->cont0_label);
        x86_label_bind(e, ic->cont_label);       /* (unused: no exit returns nonzero) */
        if (!plus)
            emit_next_i(j, vi);
    }
    if (plus)
        x86_alu_ri(e, 0, ALU_ADD, vi->reg, 2);
    cmp_i_n(j, vi, vn);
    x86_jcc_fix(e, CC_B, FIX_LABEL, ic->top_label);
    x86_label_bind(e, l_rest);
    var_add(j, vn, 1);
    cmp_i_n(j, vi, vn);
    x86_jcc_fix(e, CC_AE, FIX_LABEL, ic->out_label);
    emit_body(j, cb, ic, r1_live, r2_live, 0);
    x86_label_bind(e, ic->cont0_label);
    x86_label_bind(e, ic->cont_label);
    emit_next_i(j, vi);
    ic->exits_jump = 0;
}

/* bpf_loop with the callback's body inlined in the loop: no call, no
 * prologue per iteration. Only in unchecked code, for a callback known at
 * the call site and short enough. On entry the flags and nr checks are
 * done (rdi = nr as u32, rdx = ctx); leaves the iterations run in rax.
 *
 * Where the loop lives: i stays in rdi (R1) and ctx in rsi (R2) when the
 * body neither writes them nor calls anything; else they are copied in
 * each iteration from registers of the pool or stack slots. When the
 * register that holds ctx all along (R2, or Rb after a leading `mov Rb,
 * R2`) only serves as a base, every store goes through it, R10 or a
 * pointer the verifier saw touch only other kinds of memory (aux
 * mem_kinds, others_may_alias) and there are no calls or atomics, 8-byte
 * ctx slots move into pool registers: reads become register moves, writes
 * also go through to memory when a load through another pointer might
 * read them (write-through), else once after the loop (write-back). */
static void emit_inlined_loop(struct jit *j, const struct jfunc *cb, int depth)
{
    struct x86_emit *e = &j->e;
    j->inline_budget -= cb->end - cb->start;
    int saved[8], n_saved = 0;
    struct body_info bi;
    struct reg_pool pool = {{0}, 0, 0};
    analyse_body(j, cb, &bi);
    pool_init(&pool, &bi, cb);
    /* the leading `mov Rb, R2` of a callback whose Rb (one of R6-R9, which
     * nothing in the loop touches) keeps ctx all along is done once, before
     * the loop */
    const struct bl_insn *lead = &j->insns[cb->start];
    int has_lead = is_mov_from_r2(lead);
    int hoist = has_lead && bi.base == lead->dst && lead->dst >= BL_R6 && lead->dst <= BL_R9 &&
                !j->is_target[cb->start];
    uint16_t *live_out = body_liveness(j, cb->start, cb->end, bi.base, NULL);
    struct inline_ctx ic = {.start = cb->start, .end = cb->end, .depth = depth, .outer = j->inl,
                            .base = -1, .stack_base = bi.base, .write_through = 1,
                            .live_out = live_out, .skip = hoist ? cb->start : UINT32_MAX};
    /* registers the body reads before writing them */
    uint16_t top_live = live_out ? live_in_at(j, &ic, cb->start + (hoist ? 1 : 0)) : ALL_REGS;
    int r1_live = (top_live >> BL_R1) & 1, r2_live = (top_live >> BL_R2) & 1;
    /* (a leading `mov r1, r2` writes R1 too) */
    int i_in_rdi = !bi.calls && !bi.writes[BL_R1] && !(has_lead && lead->dst == BL_R1);
    int ctx_in_rsi = !bi.calls && !bi.writes[BL_R2];
    /* ctx is needed to set R2 each iteration, or (without the hoisted Rb)
     * to write promoted slots back */
    int need_ctx = ctx_in_rsi || r2_live || !hoist;

    /* loop variables: i, n, ctx */
    struct loop_var vars[3];
    int n_mem = 0;
    for (int v = 0; v < 3; v++) {
        vars[v].disp = 0;
        if ((v == 0 && i_in_rdi) || (v == 2 && ctx_in_rsi)) {
            vars[v].reg = v == 0 ? RDI : RSI;
            continue;
        }
        if (v == 2 && !need_ctx) {
            vars[v].reg = register_map[lead->dst];   /* only for the write-back */
            continue;
        }
        vars[v].reg = pool_take(&pool);
        if (vars[v].reg < 0)
            vars[v].disp = 8 * n_mem++;
    }
    int store_elsewhere = 0, load_elsewhere = 0;
    if (bi.base >= 0)
        others_may_alias(j, cb, bi.base, &load_elsewhere, &store_elsewhere);
    if (bi.base >= 0 && !bi.value_read[bi.base] && !store_elsewhere && !bi.atomics &&
        !bi.calls && !bi.acc_overflow) {
        ic.base = bi.base;
        /* when nothing in the body loads through another pointer that may
         * point at a slot, the memory of a promoted slot is written back
         * once, after the loop */
        ic.write_through = load_elsewhere;
        /* candidates: slots both read and written first (their
         * store-to-load chain is what a register shortens), then slots
         * only read, by number of reads; a slot only written gains nothing
         * (writes go through to memory anyway) */
        struct { int16_t off; int reads, writes, score; } cand[64];
        int n_cand = 0;
        for (int k = 0; k < bi.n_acc; k++) {
            int q = 0;
            while (q < n_cand && cand[q].off != bi.acc[k].off)
                q++;
            if (q == n_cand) {
                if (bi.acc[k].size != 8 || !promotable(&bi, bi.acc[k].off))
                    continue;
                cand[n_cand].off = bi.acc[k].off;
                cand[n_cand].reads = cand[n_cand].writes = 0;
                n_cand++;
            }
            if (bi.acc[k].store)
                cand[q].writes++;
            else
                cand[q].reads++;
        }
        for (int q = 0; q < n_cand; q++)
            cand[q].score = !cand[q].reads ? -1 : cand[q].reads + (cand[q].writes ? 1000 : 0);
        while (ic.n_promoted < MAX_PROMOTED) {
            int best = -1;
            for (int q = 0; q < n_cand; q++)
                if (cand[q].score >= 0 && (best < 0 || cand[q].score > cand[best].score))
                    best = q;
            if (best < 0)
                break;
            int r = pool_take(&pool);
            if (r < 0)
                break;
            ic.slot_off[ic.n_promoted] = cand[best].off;
            ic.slot_dirty[ic.n_promoted] = cand[best].writes > 0;
            ic.slot_reg[ic.n_promoted++] = (uint8_t)r;
            cand[best].score = -1;
        }
    }
    /* save the caller's values of what the body or the loop writes */
    if (cb->uses_frame)
        saved[n_saved++] = RBP;
    for (int k = 0; k < cb->n_saves; k++)
        saved[n_saved++] = cb->saves[k];
    for (int k = 0; k < pool.next; k++)
        if (callee_saved(pool.regs[k]))
            saved[n_saved++] = pool.regs[k];
    for (int k = 0; k < n_saved; k++)
        x86_push(e, saved[k]);
    int32_t alloc = 8 * n_mem + (cb->uses_frame ? BL_STACK_SIZE : 0);
    if ((n_saved + n_mem) % 2)
        alloc += 8;                          /* the body may call: keep rsp 16-aligned */
    if (alloc)
        x86_alu_ri(e, 1, ALU_SUB, RSP, alloc);
    /* rdi = n, rdx = ctx: place them (the pool may include rdx) */
    x86_mov_rr(e, 1, RSI, RDX);              /* rsi = ctx */
    x86_mov_rr(e, 1, RAX, RDI);              /* rax = n */
    for (int k = 0; k < ic.n_promoted; k++)
        x86_load(e, 8, 0, ic.slot_reg[k], RSI, ic.slot_off[k]);
    if (vars[2].reg != RSI && need_ctx)
        var_store(j, &vars[2], RSI);
    if (hoist)
        x86_mov_rr(e, 1, register_map[lead->dst], RSI);
    var_store(j, &vars[1], RAX);
    if (cb->uses_frame)                      /* the callback's frame: [rbp - 512, rbp) */
        x86_lea(e, RBP, RSP, 8 * n_mem + BL_STACK_SIZE);
    uint32_t l_out = x86_label_new(e);
    ic.vars = vars;
    ic.out_label = l_out;
    x86_alu_rr(e, 0, ALU_XOR, RDI, RDI);
    var_store(j, &vars[0], RDI);             /* i = 0 */
    x86_test_rr(e, 0, RAX, RAX);             /* n == 0: rax = 0 iterations */
    x86_jcc_fix(e, CC_E, FIX_LABEL, l_out);

    /* loop versioning: when the bounds checks of the body's straight-line
     * start are decided by the last iteration, test them once here and run
     * a copy of the body without them */
    struct loop_check checks[LOOP_CHECKS_MAX];
    int n_checks = 0;
    uint8_t *unchecked = NULL;
    uint16_t *fast_live = NULL;
    if (live_out && j->inline_budget >= cb->end - cb->start)
        n_checks = loop_checks_kept(j, cb, &bi, checks);
    if (n_checks) {
        unchecked = calloc(cb->end - cb->start, 1);
        if (unchecked) {
            for (int k = 0; k < n_checks; k++)
                unchecked[checks[k].pc - cb->start] = 1;
            fast_live = body_liveness(j, cb->start, cb->end, bi.base, unchecked);
        }
    }
    if (fast_live) {
        uint32_t l_slow = x86_label_new(e);
        uint8_t *reach = body_reach(j, cb, unchecked);
        j->inline_budget -= cb->end - cb->start;
        j->versioned_loops++;
        emit_checks_test(j, checks, n_checks, &vars[1], l_slow);
        ic.live_out = fast_live;
        ic.unchecked = unchecked;
        ic.reach = reach;
        if (unrollable(j, cb, reach) && j->inline_budget >= 2 * (uint64_t)(cb->end - cb->start)) {
            /* without its checks, a body that never breaks runs twice per
             * trip: compiled checksum 220 -> 140 ns (clang unrolls it too) */
            j->inline_budget -= 2 * (uint64_t)(cb->end - cb->start);
            j->unrolled_loops++;
            emit_unrolled_copy(j, cb, &ic, r1_live, r2_live);
        } else {
            emit_loop_copy(j, cb, &ic, r1_live, r2_live);
        }
        x86_jmp_fix(e, FIX_LABEL, l_out);
        x86_label_bind(e, l_slow);
        ic.live_out = live_out;
        ic.unchecked = NULL;
        ic.reach = NULL;
        free(reach);
    }
    free(fast_live);
    free(unchecked);
    emit_loop_copy(j, cb, &ic, r1_live, r2_live);
    x86_label_bind(e, l_out);
    var_load(j, RAX, &vars[0]);              /* iterations run */
    if (!ic.write_through && ic.n_promoted) {
        /* write the promoted slots back (R2 is dead here: rsi is free) */
        if (vars[2].reg != RSI)
            var_load(j, RSI, &vars[2]);
        for (int k = 0; k < ic.n_promoted; k++)
            if (ic.slot_dirty[k])
                x86_store_r(e, 8, RSI, ic.slot_off[k], ic.slot_reg[k]);
    }
    free(live_out);
    if (alloc)
        x86_alu_ri(e, 1, ALU_ADD, RSP, alloc);
    for (int k = n_saved; k-- > 0;)
        x86_pop(e, saved[k]);
}

static int inline_depth(const struct jit *j)
{
    return j->inl ? j->inl->depth : 0;
}

/* the callback function to inline at this bpf_loop, or NULL */
static const struct jfunc *inline_candidate(const struct jit *j, uint32_t cb)
{
    if (j->checked || cb == UINT32_MAX || inline_depth(j) >= INLINE_MAX_DEPTH)
        return NULL;
    uint32_t f = func_index(j, cb);
    if (f == UINT32_MAX || f == 0)
        return NULL;
    const struct jfunc *fn = &j->funcs[f];
    if (fn->end - fn->start > INLINE_MAX_INSNS || fn->end - fn->start > j->inline_budget)
        return NULL;
    for (const struct inline_ctx *o = j->inl; o; o = o->outer)
        if (o->start == fn->start)
            return NULL;                     /* already inside this callback */
    return fn;
}

/* bpf_loop(nr = R1, callback = R2, ctx = R3, flags = R4) as a native loop */
static void emit_bpf_loop(struct jit *j, uint32_t pc)
{
    struct x86_emit *e = &j->e;
    uint32_t cb = static_callback(j, pc);
    const struct jfunc *inl = inline_candidate(j, cb);
    if (inl) {
        uint32_t l_done = x86_label_new(e), l_bad = x86_label_new(e);
        x86_mov_ri(e, RAX, (uint64_t)(int64_t)-EINVAL);
        x86_test_rr(e, 1, RCX, RCX);
        x86_jcc_fix(e, CC_NE, FIX_LABEL, l_done);
        x86_mov_rr(e, 0, RDI, RDI);
        x86_alu_ri(e, 1, ALU_CMP, RDI, BL_MAX_LOOPS);
        x86_jcc_fix(e, CC_A, FIX_LABEL, l_bad);
        emit_inlined_loop(j, inl, inline_depth(j) + 1);
        x86_jmp_fix(e, FIX_LABEL, l_done);
        x86_label_bind(e, l_bad);
        x86_mov_ri(e, RAX, (uint64_t)(int64_t)-E2BIG);
        x86_label_bind(e, l_done);
        return;
    }
    uint32_t l_done = x86_label_new(e), l_out = x86_label_new(e);
    uint32_t l_top = x86_label_new(e), l_bad = x86_label_new(e);

    x86_mov_ri(e, RAX, (uint64_t)(int64_t)-EINVAL);
    x86_test_rr(e, 1, RCX, RCX);
    x86_jcc_fix(e, CC_NE, FIX_LABEL, l_done);
    x86_mov_rr(e, 0, RDI, RDI);                  /* nr is a u32 */
    x86_alu_ri(e, 1, ALU_CMP, RDI, BL_MAX_LOOPS);
    x86_jcc_fix(e, CC_A, FIX_LABEL, l_bad);
    /* the loop state lives in R6-R9's registers, saved around the loop */
    x86_push(e, RBX);
    x86_push(e, R13);
    x86_push(e, R14);
    x86_push(e, R15);
    x86_mov_rr(e, 1, R13, RDI);                  /* n */
    x86_mov_rr(e, 1, R14, RDX);                  /* ctx */
    x86_mov_rr(e, 1, R15, RSI);                  /* callback */
    x86_alu_rr(e, 0, ALU_XOR, RBX, RBX);         /* i */
    x86_alu_rr(e, 0, ALU_XOR, RAX, RAX);
    x86_test_rr(e, 0, R13, R13);
    x86_jcc_fix(e, CC_E, FIX_LABEL, l_out);
    x86_align(e, 16);
    x86_label_bind(e, l_top);
    x86_mov_rr(e, 0, RDI, RBX);
    x86_mov_rr(e, 1, RSI, R14);
    if (cb != UINT32_MAX && func_index(j, cb) != UINT32_MAX) {
        x86_call_fix(e, FIX_LABEL, j->funcs[func_index(j, cb)].entry);
    } else {
        if (j->checked) {
            /* unverified: the value must be one of this program's functions */
            uint32_t l_ok = x86_label_new(e);
            for (uint32_t f = 1; f < j->n_funcs; f++) {
                x86_lea_rip(e, R10, j->funcs[f].entry);
                x86_alu_rr(e, 1, ALU_CMP, R15, R10);
                x86_jcc_fix(e, CC_E, FIX_LABEL, l_ok);
            }
            x86_jmp_fix(e, FIX_LABEL, j->fault_label);
            x86_label_bind(e, l_ok);
        }
        x86_call_reg(e, R15);
    }
    x86_inc(e, 0, RBX);
    x86_test_rr(e, 1, RAX, RAX);
    x86_jcc_fix(e, CC_NE, FIX_LABEL, l_out);     /* callback returned 1: break */
    x86_alu_rr(e, 0, ALU_CMP, RBX, R13);
    x86_jcc_fix(e, CC_B, FIX_LABEL, l_top);
    x86_label_bind(e, l_out);
    x86_mov_rr(e, 1, RAX, RBX);                  /* iterations run */
    x86_pop(e, R15);
    x86_pop(e, R14);
    x86_pop(e, R13);
    x86_pop(e, RBX);
    x86_jmp_fix(e, FIX_LABEL, l_done);
    x86_label_bind(e, l_bad);
    x86_mov_ri(e, RAX, (uint64_t)(int64_t)-E2BIG);
    x86_label_bind(e, l_done);
}

/* ---- array maps without a helper call -------------------------------------------
 *
 * bpf_map_lookup_elem and bpf_map_update_elem on an array map known at the
 * call site (the lddw that loaded R1 is in the same basic block) become a
 * few instructions, as the kernel's JIT does for arrays: the value of key k
 * is at values + k * stride. The layout is stdlib's: the JIT learns it from
 * bl_map_lookup at compile time and uses it only if every element is where
 * base + k * stride says (arrays are allocated once, values never move).
 * Semantics are stdlib's array_lookup/array_update: NULL for k >= max;
 * update: flags > BPF_EXIST -EINVAL, k >= max -E2BIG, BPF_NOEXIST -EEXIST,
 * else the value is copied (values of 1, 2, 4 or 8 bytes: one load, one store). */

#define INLINE_ARRAY_MAX 4096

struct array_layout {
    uint64_t base, stride;
    uint32_t max, value_size;
};

/* The map R1 holds at the call at pc, when an lddw of a map put it there
 * in the same basic block; else NULL. */
static struct bl_map *map_at_call(const struct jit *j, uint32_t pc)
{
    uint32_t start = j->funcs[j->func_of[pc]].start;
    for (uint32_t i = pc; i-- > start;) {
        if (j->is_target[i + 1])
            return NULL;
        if (i > start && bl_is_lddw(&j->insns[i - 1]))
            continue;                    /* second slot */
        const struct bl_insn *in = &j->insns[i];
        if (bl_is_lddw(in)) {
            if (in->dst != BL_R1)
                continue;
            if (!j->orig || j->orig[i].src != BL_PSEUDO_MAP_FD || in->src != 0)
                return NULL;
            return (struct bl_map *)(uintptr_t)((uint32_t)in->imm |
                                                (uint64_t)(uint32_t)in[1].imm << 32);
        }
        uint8_t cls = BL_CLASS(in->code);
        if ((cls == BL_JMP || cls == BL_JMP32) && BL_OP(in->code) != BL_CALL)
            return NULL;
        uint16_t u, d;
        use_def(j, i, start, -1, &u, &d);
        if (d & (1u << BL_R1))
            return NULL;
    }
    return NULL;
}

static int array_layout(const struct jit *j, uint32_t pc, struct array_layout *l)
{
    if (j->checked || j->helper_find != bl_helper_find)
        return 0;
    struct bl_map *m = map_at_call(j, pc);
    if (!m)
        return 0;
    const struct bl_map_def *def = bl_map_def(m);
    if ((def->type != BPFLUA_MAP_ARRAY && def->type != BPFLUA_MAP_PERCPU_ARRAY) ||
        def->key_size != 4 || !def->max_entries || def->max_entries > INLINE_ARRAY_MAX)
        return 0;
    uint32_t key = 0;
    uint8_t *v0 = bl_map_lookup(m, &key), *v;
    if (!v0)
        return 0;
    l->base = (uint64_t)(uintptr_t)v0;
    l->stride = 0;
    if (def->max_entries > 1) {
        key = 1;
        v = bl_map_lookup(m, &key);
        if (!v || v <= v0 || (uint64_t)(v - v0) > INT32_MAX)
            return 0;
        l->stride = (uint64_t)(v - v0);
    }
    for (key = 2; key < def->max_entries; key++)
        if ((uint8_t *)bl_map_lookup(m, &key) != v0 + (uint64_t)key * l->stride)
            return 0;
    key = def->max_entries;
    if (bl_map_lookup(m, &key))
        return 0;
    l->max = def->max_entries;
    l->value_size = def->value_size;
    return 1;
}

/* rax = base + (u32)[rsi] * stride, or jump to l_out_of_range */
static void emit_array_elem(struct jit *j, const struct array_layout *l, uint32_t l_out_of_range)
{
    struct x86_emit *e = &j->e;
    x86_load(e, 4, 0, RAX, RSI, 0);              /* the key (R2) */
    x86_alu_ri(e, 0, ALU_CMP, RAX, (int32_t)l->max);
    x86_jcc_fix(e, CC_AE, FIX_LABEL, l_out_of_range);
    if (l->stride && (l->stride & (l->stride - 1)) == 0)
        x86_shift_ri(e, 1, SHIFT_SHL, RAX, (uint8_t)__builtin_ctzll(l->stride));
    else if (l->stride)
        x86_imul_ri(e, 1, RAX, RAX, (int32_t)l->stride);
    else
        x86_alu_rr(e, 0, ALU_XOR, RAX, RAX);
    x86_mov_ri(e, R11, l->base);
    x86_alu_rr(e, 1, ALU_ADD, RAX, R11);
}

/* 1 when the call at pc was emitted inline */
static int emit_array_helper(struct jit *j, uint32_t pc, int32_t id)
{
    struct x86_emit *e = &j->e;
    struct array_layout l;
    if ((id != BL_HELPER_MAP_LOOKUP_ELEM && id != BL_HELPER_MAP_UPDATE_ELEM) ||
        !array_layout(j, pc, &l))
        return 0;
    /* one load and one store: right even if the value overlaps the element */
    if (id == BL_HELPER_MAP_UPDATE_ELEM && l.value_size != 1 && l.value_size != 2 &&
        l.value_size != 4 && l.value_size != 8)
        return 0;
    uint32_t l_done = x86_label_new(e), l_range = x86_label_new(e);
    if (id == BL_HELPER_MAP_LOOKUP_ELEM) {
        emit_array_elem(j, &l, l_range);
        x86_jmp_fix(e, FIX_LABEL, l_done);
        x86_label_bind(e, l_range);
        x86_alu_rr(e, 0, ALU_XOR, RAX, RAX);     /* NULL */
        x86_label_bind(e, l_done);
        return 1;
    }
    /* update(map, key = R2, value = R3, flags = R4) */
    uint32_t l_exists = x86_label_new(e);
    x86_mov_ri(e, RAX, (uint64_t)(int64_t)-EINVAL);
    x86_alu_ri(e, 1, ALU_CMP, RCX, BL_EXIST);
    x86_jcc_fix(e, CC_A, FIX_LABEL, l_done);
    emit_array_elem(j, &l, l_range);
    x86_alu_ri(e, 1, ALU_CMP, RCX, BL_NOEXIST);
    x86_jcc_fix(e, CC_E, FIX_LABEL, l_exists);
    x86_load(e, (int)l.value_size, 0, R11, RDX, 0);
    x86_store_r(e, (int)l.value_size, RAX, 0, R11);
    x86_alu_rr(e, 0, ALU_XOR, RAX, RAX);
    x86_jmp_fix(e, FIX_LABEL, l_done);
    x86_label_bind(e, l_range);
    x86_mov_ri(e, RAX, (uint64_t)(int64_t)-E2BIG);
    x86_jmp_fix(e, FIX_LABEL, l_done);
    x86_label_bind(e, l_exists);
    x86_mov_ri(e, RAX, (uint64_t)(int64_t)-EEXIST);
    x86_label_bind(e, l_done);
    return 1;
}

static int emit_call(struct jit *j, uint32_t pc, const struct bl_insn *in)
{
    struct x86_emit *e = &j->e;
    if (BL_SRC(in->code) == BL_X) {              /* callx: helper id in dst */
        x86_load(e, 8, 0, R10, ENV_REG, ENV_ENGINE);
        x86_store_r(e, 8, R10, ST_CALLX_ID, register_map[in->dst]);
        emit_c_call(j, (const void *)jit_callx);
        emit_fault_test(j);
        return 0;
    }
    if (in->src == BL_PSEUDO_CALL) {
        uint32_t f = func_index(j, (uint32_t)((int64_t)pc + 1 + in->imm));
        if (f == UINT32_MAX)
            return fail(j, pc, "call target is not a function");
        x86_call_fix(e, FIX_LABEL, j->funcs[f].entry);
        return 0;
    }
    if (in->src != BL_CALL_HELPER)
        return fail(j, pc, "bad call");
    if (in->imm == BL_HELPER_LOOP && j->helper_find == bl_helper_find) {
        emit_bpf_loop(j, pc);
        return 0;
    }
    if (emit_array_helper(j, pc, in->imm))
        return 0;
    if (!j->raw && j->helper_find == bl_helper_find &&
        (in->imm == BL_HELPER_MAP_LOOKUP_ELEM || in->imm == BL_HELPER_MAP_UPDATE_ELEM ||
         in->imm == BL_HELPER_MAP_DELETE_ELEM)) {
        /* the map function itself, not the helper that wraps it (as the
         * kernel calls map->ops->map_lookup_elem): the arguments are
         * already in place; int results sign-extended */
        emit_c_call(j, in->imm == BL_HELPER_MAP_LOOKUP_ELEM ? (const void *)bl_map_lookup
                       : in->imm == BL_HELPER_MAP_UPDATE_ELEM ? (const void *)bl_map_update
                       : (const void *)bl_map_delete);
        if (in->imm != BL_HELPER_MAP_LOOKUP_ELEM)
            x86_movsx_rr(e, 1, 32, RAX, RAX);
        if (j->checked)
            emit_fault_test(j);
        return 0;
    }
    const void *fn;
    if (in->imm == BL_HELPER_FOR_EACH_MAP_ELEM && j->helper_find == bl_helper_find) {
        if (j->raw) {                    /* takes a map: only verified code */
            x86_jmp_fix(e, FIX_LABEL, j->fault_label);
            return 0;
        }
        fn = (const void *)jit_for_each;
    } else {
        const struct bpflua_helper *h = j->helper_find((uint32_t)in->imm);
        if (!h || !h->fn || !raw_callable(h, j->raw, j->helper_find)) {
            if (!j->raw)
                return fail(j, pc, "unknown helper");
            x86_jmp_fix(e, FIX_LABEL, j->fault_label);
            return 0;
        }
        fn = (const void *)h->fn;
    }
    emit_c_call(j, fn);
    if (j->checked)
        emit_fault_test(j);
    return 0;
}

/* Where a jump to instruction t of an inlined body really goes: past what
 * emits no code there (dead definitions, no-op atomics) and unconditional
 * jumps, straight to cont0 when that reaches an exit returning a known 0.
 * Returns a label. */
static uint32_t thread_jump(const struct jit *j, const struct inline_ctx *ic, uint32_t t,
                            int r0_zero)
{
    for (int steps = 0; steps < 64 && t < ic->end; steps++) {
        const struct bl_insn *in = &j->insns[t];
        uint8_t cls = BL_CLASS(in->code);
        if (t == ic->skip || dead_insn(j, ic, t) ||
            (cls == BL_STX && BL_MODE(in->code) == BL_ATOMIC &&
             atomic_is_noop(j, t, ic->stack_base, ic->start))) {
            uint32_t n = t + (bl_is_lddw(in) ? 2 : 1);
            if (n >= ic->end)
                break;
            t = n;
        } else if (in->code == (BL_JMP | BL_JA) || in->code == (BL_JMP32 | BL_JA)) {
            int64_t n = (int64_t)t + 1 + (cls == BL_JMP32 ? in->imm : in->off);
            if (n < ic->start || n >= ic->end)
                break;
            t = (uint32_t)n;
        } else if (in->code == (BL_JMP | BL_EXIT) && (r0_zero || exit_returns_zero(j, t, ic->start))) {
            return ic->cont0_label;
        } else {
            break;
        }
    }
    return ic->first_label + (t - ic->start);
}

/* Is R0 a constant 0 at the jump at pc: set by `mov r0, 0` earlier in its
 * basic block of the inlined body, nothing else writing R0 since? (Then a
 * jump to an exit continues the loop without testing R0.) */
static int r0_zero_at(const struct jit *j, const struct inline_ctx *ic, uint32_t pc)
{
    for (uint32_t i = pc; i-- > ic->start;) {
        if (j->is_target[i + 1])
            return 0;
        if (i > ic->start && bl_is_lddw(&j->insns[i - 1]))
            continue;                    /* second slot */
        uint16_t u, d;
        use_def(j, i, ic->start, ic->stack_base, &u, &d);
        if (d & (1u << BL_R0))
            return is_mov_zero(&j->insns[i]);
    }
    return 0;
}

/* a jump (cc < 0: unconditional) at pc to instruction `target`, in the
 * function's code or in the inlined copy being emitted */
static void jump_to(struct jit *j, uint32_t pc, int cc, uint32_t target)
{
    struct x86_emit *e = &j->e;
    enum x86_fix_kind kind = FIX_INSN;
    if (j->inl) {
        kind = FIX_LABEL;
        target = thread_jump(j, j->inl, target, r0_zero_at(j, j->inl, pc));
        if (target == j->inl->cont0_label && j->inl->vars && !j->inl->exits_jump) {
            /* the next iteration right here (a copy of cont0); a
             * conditional jump skips the copy on the opposite condition, so
             * an iteration that goes on takes one branch, the loop's own:
             * compiled scan (`if pkt:u8(i) == 0 then return i end`) ran
             * 770 -> 393 ns, as fast as clang's loop, on an AMD EPYC, where
             * two taken branches per iteration cost a cycle each */
            uint32_t l_skip = 0;
            if (cc >= 0) {
                l_skip = x86_label_new(e);
                x86_jcc_fix(e, (enum x86_cc)(cc ^ 1), FIX_LABEL, l_skip);
            }
            emit_loop_tail(j, j->inl, 1);
            if (cc >= 0)
                x86_label_bind(e, l_skip);
            return;
        }
    }
    if (cc < 0)
        x86_jmp_fix(e, kind, target);
    else
        x86_jcc_fix(e, (enum x86_cc)cc, kind, target);
}

/* Is pc the last instruction this copy of the body emits? */
static int falls_to_end(const struct inline_ctx *ic, uint32_t pc)
{
    for (uint32_t i = pc + 1; i < ic->end; i++)
        if (!ic->reach || ic->reach[i - ic->start])
            return 0;
    return 1;
}

static int emit_jump(struct jit *j, uint32_t pc, const struct bl_insn *in)
{
    struct x86_emit *e = &j->e;
    uint8_t cls = BL_CLASS(in->code), op = BL_OP(in->code);
    int w = cls == BL_JMP;
    if (op == BL_CALL)
        return emit_call(j, pc, in);
    if (op == BL_EXIT) {
        if (!j->inl) {
            emit_epilogue(j, &j->funcs[j->func_of[pc]]);
        } else if (exit_returns_zero(j, pc, j->inl->start)) {
            if (j->inl->exits_jump) {
                if (!falls_to_end(j->inl, pc))
                    x86_jmp_fix(e, FIX_LABEL, j->inl->cont0_label);
            } else if (pc + 1 != j->inl->end) { /* the last exit falls through */
                emit_loop_tail(j, j->inl, 1);   /* (a copy of cont0: no jump to it) */
            }
        } else if (pc + 1 != j->inl->end) {
            x86_jmp_fix(e, FIX_LABEL, j->inl->cont_label);
        }
        return 0;
    }
    if (j->checked) {                 /* a back-edge: unverified code may loop */
        int32_t rel = (cls == BL_JMP32 && op == BL_JA) ? in->imm : in->off;
        if (rel < 0)
            emit_budget_tick(j);
    }
    if (op == BL_JA) {
        int32_t rel = cls == BL_JMP32 ? in->imm : in->off;
        jump_to(j, pc, -1, (uint32_t)((int64_t)pc + 1 + rel));
        return 0;
    }
    if ((op >> 4) >= 16 || (op != BL_JEQ && !jmp_cc[op >> 4]))
        return fail(j, pc, "unknown jump");
    int dst = j->rmap[in->dst], src = j->rmap[in->src];
    if (BL_SRC(in->code) == BL_K) {
        if (op == BL_JSET)
            x86_test_ri(e, w, dst, in->imm);
        else if (in->imm == 0 && (op == BL_JEQ || op == BL_JNE))
            x86_test_rr(e, w, dst, dst);
        else
            x86_alu_ri(e, w, ALU_CMP, dst, in->imm);
    } else {
        if (op == BL_JSET)
            x86_test_rr(e, w, dst, src);
        else
            x86_alu_rr(e, w, ALU_CMP, dst, src);
    }
    jump_to(j, pc, (int)jmp_cc[op >> 4], (uint32_t)((int64_t)pc + 1 + in->off));
    return 0;
}

/* ---- store-to-load forwarding ---------------------------------------------------
 *
 * Outside inlined bodies (functions as the compiler writes them keep locals
 * in stack slots), an 8-byte load from [base + off] right after a store of
 * register src (or a constant) there, in the same basic block, with base
 * and src unchanged since and no store that may overlap, calls or atomics
 * in between, becomes a register move: the store stays, the load's
 * store-forwarding latency goes. A store through another base register
 * may alias anything: it forgets everything. */

static void fwd_clear(struct jit *j)
{
    j->n_fwd = 0;
}

static void fwd_kill_reg(struct jit *j, int r)
{
    int k = 0;
    for (int q = 0; q < j->n_fwd; q++)
        if (j->fwd[q].base != r && j->fwd[q].src != r)
            j->fwd[k++] = j->fwd[q];
    j->n_fwd = k;
}

/* a store of size bytes at [base + off] (before its own entry is added) */
static void fwd_store(struct jit *j, const struct bl_insn *in)
{
    int size = size_of(in->code), k = 0;
    for (int q = 0; q < j->n_fwd; q++) {
        int lo = j->fwd[q].off;
        if (j->fwd[q].base == in->dst && (lo + 8 <= in->off || in->off + size <= lo))
            j->fwd[k++] = j->fwd[q];
    }
    j->n_fwd = k;
    if (size != 8 || BL_MODE(in->code) != BL_MEM)
        return;
    if (j->n_fwd == 8)
        memmove(&j->fwd[0], &j->fwd[1], 7 * sizeof j->fwd[0]);
    else
        j->n_fwd++;
    j->fwd[j->n_fwd - 1].base = (int8_t)in->dst;
    j->fwd[j->n_fwd - 1].src = (int8_t)(BL_CLASS(in->code) == BL_STX ? in->src : -1);
    j->fwd[j->n_fwd - 1].off = in->off;
    j->fwd[j->n_fwd - 1].imm = in->imm;
}

/* an 8-byte load forwarded from a store: emits the move, returns 1 */
static int fwd_load(struct jit *j, const struct bl_insn *in)
{
    if (BL_MODE(in->code) != BL_MEM || size_of(in->code) != 8)
        return 0;
    for (int q = j->n_fwd; q-- > 0;) {
        if (j->fwd[q].base != in->src || j->fwd[q].off != in->off)
            continue;
        if (j->fwd[q].src < 0)
            x86_mov_ri(&j->e, register_map[in->dst], (uint64_t)(int64_t)j->fwd[q].imm);
        else if (j->fwd[q].src != in->dst)
            x86_mov_rr(&j->e, 1, register_map[in->dst], register_map[j->fwd[q].src]);
        return 1;
    }
    return 0;
}

/* after instruction pc (outside inlined bodies): what it changed */
static void fwd_after(struct jit *j, uint32_t pc)
{
    const struct bl_insn *in = &j->insns[pc];
    uint8_t cls = BL_CLASS(in->code), op = BL_OP(in->code);
    if (((cls == BL_JMP || cls == BL_JMP32) && (op == BL_CALL || op == BL_EXIT || op == BL_JA)) ||
        (cls == BL_STX && BL_MODE(in->code) == BL_ATOMIC) || (cls == BL_LD && !bl_is_lddw(in))) {
        fwd_clear(j);
        return;
    }
    uint16_t u, d;
    use_def(j, pc, j->funcs[j->func_of[pc]].start, -1, &u, &d);
    for (int r = 0; r < BL_NREGS; r++)
        if ((d >> r) & 1)
            fwd_kill_reg(j, r);
}

static int emit_insn(struct jit *j, uint32_t pc)
{
    struct x86_emit *e = &j->e;
    const struct bl_insn *in = &j->insns[pc];
    uint8_t cls = BL_CLASS(in->code);
    int slot;
    struct x86_mem m;

    switch (cls) {
    case BL_ALU:
    case BL_ALU64:
        return emit_alu(j, pc, in);
    case BL_JMP:
    case BL_JMP32:
        return emit_jump(j, pc, in);
    case BL_LD:
        if (bl_is_lddw(in)) {
            if (in->dst == BL_R10)
                return fail(j, pc, "R10 is read-only");
            if (in->src == BL_PSEUDO_FUNC) {
                uint32_t f = func_index(j, (uint32_t)((int64_t)pc + 1 + in->imm));
                x86_lea_rip(e, register_map[in->dst], j->funcs[f].entry);
            } else {
                uint64_t v = (uint32_t)in->imm | (uint64_t)(uint32_t)in[1].imm << 32;
                x86_mov_ri(e, register_map[in->dst], v);
            }
            return 0;
        }
        if (BL_MODE(in->code) == BL_ABS || BL_MODE(in->code) == BL_IND) {
            int size = size_of(in->code);
            if (size == 8)
                return fail(j, pc, "bad legacy packet load");
            x86_mov_ri(e, R11, (uint64_t)(int64_t)in->imm);
            if (BL_MODE(in->code) == BL_IND) {
                x86_mov_rr(e, 0, R10, register_map[in->src]);
                x86_alu_rr(e, 1, ALU_ADD, R11, R10);
            }
            static const int keep[] = {RDI, RSI, RDX, RCX, R8, R8};
            for (int k = 0; k < 6; k++)
                x86_push(e, keep[k]);
            x86_mov_rr(e, 1, RDI, R11);
            x86_mov_ri(e, RSI, (uint64_t)size);
            j->env_used = 1;
            x86_mov_rr(e, 1, RDX, ENV_REG);
            x86_mov_ri(e, RAX, (uint64_t)(uintptr_t)jit_ld_abs);
            x86_call_reg(e, RAX);
            for (int k = 6; k-- > 0;)
                x86_pop(e, keep[k]);
            emit_fault_test(j);
            return 0;
        }
        return fail(j, pc, "unknown load");
    case BL_LDX: {
        int sign = BL_MODE(in->code) == BL_MEMSX;
        int size = size_of(in->code);
        if ((BL_MODE(in->code) != BL_MEM && !sign) || (sign && size == 8))
            return fail(j, pc, "unknown load");
        if (in->dst == BL_R10)
            return fail(j, pc, "R10 is read-only");
        slot = promoted_reg(j, in->src, sign ? 0 : size, in->off);
        if (slot >= 0) {
            x86_mov_rr(e, 1, j->rmap[in->dst], slot);
            return 0;
        }
        if (!j->inl && fwd_load(j, in))
            return 0;
        mem_operand(j, pc, in->src, in->off, size, &m);
        x86_load_m(e, size, sign, j->rmap[in->dst], &m);
        return 0;
    }
    case BL_ST:
        if (BL_MODE(in->code) != BL_MEM)
            return fail(j, pc, "unknown store");
        if (!j->inl)
            fwd_store(j, in);
        slot = promoted_reg(j, in->dst, size_of(in->code), in->off);
        if (slot >= 0) {
            x86_mov_ri(e, slot, (uint64_t)(int64_t)in->imm);
            if (!j->inl->write_through)
                return 0;
        }
        mem_operand(j, pc, in->dst, in->off, size_of(in->code), &m);
        x86_store_i_m(e, size_of(in->code), &m, in->imm);
        return 0;
    case BL_STX:
        if (BL_MODE(in->code) == BL_ATOMIC)
            return emit_atomic(j, pc, in);
        if (BL_MODE(in->code) != BL_MEM)
            return fail(j, pc, "unknown store");
        if (!j->inl)
            fwd_store(j, in);
        slot = promoted_reg(j, in->dst, size_of(in->code), in->off);
        if (slot >= 0) {
            if (slot != j->rmap[in->src])
                x86_mov_rr(e, 1, slot, j->rmap[in->src]);
            if (!j->inl->write_through)
                return 0;
        }
        mem_operand(j, pc, in->dst, in->off, size_of(in->code), &m);
        x86_store_r_m(e, size_of(in->code), &m, j->rmap[in->src]);
        return 0;
    }
    return fail(j, pc, "unknown instruction class");
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
    free(j->funcs);
}

static int compile(struct bl_prog *p, int raw,
                   const struct bpflua_helper *(*helper_find)(uint32_t id), char **err)
{
    uint64_t t0 = now_ns();
    struct jit j;
    memset(&j, 0, sizeof j);
    j.errp = err;
    j.helper_find = helper_find ? helper_find : bl_helper_find;
    memcpy(j.rmap, register_map, sizeof j.rmap);
    memset(j.alias, -1, sizeof j.alias);
    /* inlined copies may at most double or so the code (nested loops
     * inline at every call site; this keeps compile time linear) */
    j.inline_budget = (uint64_t)p->n_insns + 4096;
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
            fwd_clear(&j);
        j.pc_locs[i] = (uint32_t)j.e.len;
        emit_insn(&j, i);
        fwd_after(&j, i);
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

    if (p->jit)
        bl_jit_free(p->jit);
    p->jit = code;
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
    return compile(p, 0, NULL, err);
}

int bl_jit_compile_opts(struct bl_prog *p, const struct bl_jit_opts *opts, char **err)
{
    if (!bl_jit_available()) {
        bl_set_err(err, "jit: not available on this machine");
        return -ENOSYS;
    }
    return compile(p, opts && opts->raw, opts ? opts->helper_find : NULL, err);
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

uint64_t bl_jit_run(const struct bl_jit_code *code, void *ctx, struct bpflua_run_env *env)
{
    if (code->fast_off)
        return ((fast_fn)(void *)(code->mem + code->fast_off))(ctx, env);
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

const void *bl_jit_code_bytes(const struct bl_jit_code *code)
{
    return code ? code->mem : NULL;
}
