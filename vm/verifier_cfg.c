/* verifier_cfg.c - the static passes around the path walk.
 *
 * Before: vf_check_cfg() splits the program into subprograms (insn 0, funcs[],
 * every call and callback target), checks that jumps stay inside their
 * function, rejects every back-edge (loops only exist as bpf_loop) and
 * every unreachable insn, and records a post-order of each function's
 * flow graph. vf_compute_liveness() then finds, per insn, the registers that
 * may still be read: the walk forgets the others at prune points.
 * After: vf_compute_max_insns() turns the proven loop bounds into a bound on
 * instructions per run, and vf_check_stack_depth() applies the kernel's limit
 * on the combined stack of a call chain. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "asm.h"
#include "progtype.h"
#include "verifier_state.h"

static int is_jump(const struct bl_insn *in)
{
    uint8_t c = BL_CLASS(in->code), op = BL_OP(in->code);
    return (c == BL_JMP || c == BL_JMP32) && op != BL_CALL && op != BL_EXIT;
}

static int64_t jump_target(const struct bl_insn *in, uint32_t i)
{
    if (BL_CLASS(in->code) == BL_JMP32 && BL_OP(in->code) == BL_JA)
        return (int64_t)i + in->imm + 1; /* ja32 */
    return (int64_t)i + in->off + 1;
}

static int is_exit(const struct bl_insn *in)
{
    return BL_CLASS(in->code) == BL_JMP && BL_OP(in->code) == BL_EXIT;
}

static int is_uncond(const struct bl_insn *in)
{
    return is_jump(in) && BL_OP(in->code) == BL_JA;
}

/* callee of a pseudo call or callback lddw at i, or -1 */
static int64_t callee_of(const struct bl_insn *in, uint32_t i)
{
    if (BL_CLASS(in->code) == BL_JMP && BL_OP(in->code) == BL_CALL && in->src == BL_PSEUDO_CALL)
        return (int64_t)i + in->imm + 1;
    if (bl_is_lddw(in) && in->src == BL_PSEUDO_FUNC)
        return (int64_t)i + in->imm + 1;
    return -1;
}

int vf_find_subprog(const struct bl_venv *env, uint32_t insn)
{
    uint32_t lo = 0, hi = env->n_subprogs;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (env->subprogs[mid].start == insn)
            return (int)mid;
        if (env->subprogs[mid].start < insn)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* calls: the insns (pseudo calls, callback lddws) vf_check_cfg's first pass
 * found, in order. */
static int build_subprogs(struct bl_venv *env, uint8_t *second)
{
    uint32_t n = env->n_insns, count = 0;
    uint32_t *starts = vf_arena_alloc(&env->arena, (env->prog->n_funcs + env->n_calls + 1) * sizeof *starts);
    if (!starts)
        return -ENOMEM;
    starts[count++] = 0;
    for (uint32_t i = 0; i < env->prog->n_funcs; i++)
        if (env->prog->funcs[i].insn < n)
            starts[count++] = env->prog->funcs[i].insn;
    for (uint32_t c = 0; c < env->n_calls; c++) {
        uint32_t i = env->calls[c];
        int64_t t = callee_of(&env->insns[i], i);
        env->cur_insn = i;
        if (t < 0 || t >= n || second[t])
            return vf_reject(env, "call to invalid destination");
        starts[count++] = (uint32_t)t;
    }
    if (count > 16) {
        qsort(starts, count, sizeof *starts, cmp_u32);
    } else { /* the usual handful: no qsort call */
        for (uint32_t i = 1; i < count; i++)
            for (uint32_t j = i; j > 0 && starts[j - 1] > starts[j]; j--) {
                uint32_t t = starts[j];
                starts[j] = starts[j - 1];
                starts[j - 1] = t;
            }
    }
    env->subprogs = vf_arena_calloc(&env->arena, count, sizeof *env->subprogs);
    if (!env->subprogs)
        return -ENOMEM;
    for (uint32_t i = 0; i < count; i++) {
        if (env->n_subprogs && env->subprogs[env->n_subprogs - 1].start == starts[i])
            continue;
        env->subprogs[env->n_subprogs++].start = starts[i];
    }
    for (uint32_t k = 0; k < env->n_subprogs; k++)
        env->subprogs[k].end = k + 1 < env->n_subprogs ? env->subprogs[k + 1].start : n;
    return 0;
}

/* Successors of i inside its function (calls continue at i + 1), from the
 * table vf_check_cfg fills (every pass after it walks the
 * flow graph, some several times: decoding each insn once is cheaper). */
static inline int successors(const struct bl_venv *env, uint32_t i, uint32_t out[2])
{
    out[0] = env->succ[i][0];
    out[1] = env->succ[i][1];
    return env->n_succ[i];
}

static int check_regs(struct bl_venv *env, const struct bl_insn *in)
{
    uint8_t c = BL_CLASS(in->code);
    if (in->dst >= BL_NREGS)
        return vf_reject(env, "R%d is invalid", in->dst);
    /* LD_IND reads its offset from src: the static passes index by it */
    int src_is_reg = (c == BL_LDX || c == BL_STX) ||
                     (c == BL_LD && BL_MODE(in->code) == BL_IND) ||
                     ((c == BL_ALU || c == BL_ALU64 || is_jump(in)) && BL_SRC(in->code) == BL_X);
    if (src_is_reg && in->src >= BL_NREGS)
        return vf_reject(env, "R%d is invalid", in->src);
    return 0;
}

/* On first reaching insn t in the walk: a function it calls (or passes as
 * a callback) is a root to walk too, and the insn after a call is a prune
 * point. */
static void visit_reached(struct bl_venv *env, uint32_t t, uint32_t *roots, uint32_t *n_roots)
{
    int64_t c = callee_of(&env->insns[t], t);
    if (c >= 0) {
        roots[(*n_roots)++] = (uint32_t)c;
        env->prune_point[t + (bl_is_lddw(&env->insns[t]) ? 2 : 1)] = 1;
    }
    if (BL_CLASS(env->insns[t].code) == BL_JMP && BL_OP(env->insns[t].code) == BL_CALL)
        env->prune_point[t + 1] = 1;
}

/* The kernel gives a program one storage of each cgroup storage type (the
 * value bpf_get_local_storage returns): a second map of a type it already
 * uses is refused at load. used[] holds 1 + the map of each type. */
static int check_cgroup_storage(struct bl_venv *env, const struct bl_insn *in, uint32_t used[2])
{
    if ((in->src != BL_PSEUDO_MAP_FD && in->src != BL_PSEUDO_MAP_VALUE) || in->imm < 0 ||
        (uint32_t)in->imm >= env->obj->n_maps)
        return 0;
    uint32_t type = env->obj->maps[in->imm].type;
    int k = type == BPFLUA_MAP_CGROUP_STORAGE ? 0 : type == BPFLUA_MAP_PERCPU_CGROUP_STORAGE ? 1 : -1;
    if (k < 0)
        return 0;
    if (used[k] && used[k] != (uint32_t)in->imm + 1)
        return vf_reject(env, "only one cgroup storage of each type is allowed");
    used[k] = (uint32_t)in->imm + 1;
    return 0;
}

int vf_check_cfg(struct bl_venv *env)
{
    uint32_t n = env->n_insns, storage[2] = { 0, 0 };
    int err = 0;
    /* scratch tables too come from the arena (warm memory, freed with it) */
    struct bl_arena *a = &env->arena;
    uint8_t *second, *state, *next_edge;
    uint32_t *stack, *roots, *jumps, n_jumps = 0, n_second = 0;
    const struct bl_enc_rules *enc = bl_enc_rules();
    size_t m = (size_t)n + 1;
    /* the zeroed tables in one block (the pass's and the verification's
     * per-insn tables: one allocation and one clear for a small program
     * instead of several), the others in another */
    void **zeroed[] = { (void **)&second, (void **)&state, (void **)&next_edge,
                        (void **)&env->succ, (void **)&env->n_succ,
                        (void **)&env->live, (void **)&env->vlive, (void **)&env->flive,
                        (void **)&env->slive, (void **)&env->prune_point, (void **)&env->base_kind,
                        (void **)&env->seen, (void **)&env->n_seen, (void **)&env->cb_target };
    const size_t zbytes[] = { m, m, m, m * sizeof *env->succ, m,
                              m * sizeof *env->live, m * sizeof *env->vlive, m * sizeof *env->flive,
                              m * sizeof *env->slive, m + 1, m, m * sizeof *env->seen,
                              m * sizeof *env->n_seen, m * sizeof *env->cb_target };
    void **plain[] = { (void **)&stack, (void **)&roots, (void **)&jumps, (void **)&env->calls,
                       (void **)&env->postorder };
    const size_t pbytes[] = { m * sizeof *stack, m * sizeof *roots, m * sizeof *jumps,
                              m * sizeof *env->calls, m * sizeof *env->postorder };
    env->n_calls = 0;
    if (vf_arena_tables(a, 1, 14, zeroed, zbytes) || vf_arena_tables(a, 0, 5, plain, pbytes)) {
        err = -ENOMEM;
        goto out;
    }
    for (uint32_t i = 0; i < n; i++) {
        if (second[i])
            continue;
        const struct bl_insn *in = &env->insns[i];
        uint8_t c = BL_CLASS(in->code);
        if (bl_is_lddw(in)) {
            const struct bl_insn *hi = i + 1 < n ? &env->insns[i + 1] : NULL;
            env->cur_insn = i;
            if (!hi || hi->code || hi->dst || hi->src || hi->off) {
                err = vf_reject(env, "invalid bpf_ld_imm64 insn");
                goto out;
            }
            second[i + 1] = 1;
            n_second++;
            if ((err = check_cgroup_storage(env, in, storage)))
                goto out;
        }
        /* one opcode table (ops.def) decides what is an instruction */
        if (!bl_op_known(enc, in)) {
            env->cur_insn = i;
            err = vf_reject(env, "unknown opcode %02x", in->code);
            goto out;
        }
        if (in->dst >= BL_NREGS || (in->src >= BL_NREGS && c != BL_ST)) {
            env->cur_insn = i; /* the rare case: the full check says which */
            if ((err = check_regs(env, in)))
                goto out;
        }
        /* successors, and the lists the later passes visit instead of
         * every insn again */
        uint32_t *succ = env->succ[i];
        if (c == BL_JMP || c == BL_JMP32) {
            uint8_t o = BL_OP(in->code);
            if (o == BL_EXIT && c == BL_JMP) {
                env->n_succ[i] = 0;
            } else if (o == BL_CALL || o == BL_EXIT) {
                succ[0] = i + 1;
                env->n_succ[i] = 1;
                if (c == BL_JMP && o == BL_CALL && in->src == BL_PSEUDO_CALL)
                    env->calls[env->n_calls++] = i;
                if (c == BL_JMP && o == BL_CALL && in->src != BL_CALL_HELPER)
                    env->local_calls = 1; /* for vf_compute_forget */
            } else {
                succ[0] = (uint32_t)jump_target(in, i);
                if (o == BL_JA) {
                    env->n_succ[i] = 1;
                } else {
                    succ[1] = i + 1;
                    env->n_succ[i] = 2;
                }
                jumps[n_jumps++] = i;
            }
        } else if (bl_is_lddw(in)) {
            succ[0] = i + 2;
            env->n_succ[i] = 1;
            if (in->src == BL_PSEUDO_FUNC)
                env->calls[env->n_calls++] = i;
        } else {
            succ[0] = i + 1;
            env->n_succ[i] = 1;
        }
    }
    if ((err = build_subprogs(env, second)))
        goto out;
    uint8_t *has_back; /* per subprogram: a jump to itself or before */
    void **sub[] = { (void **)&env->root_begin, (void **)&env->root_end, (void **)&has_back };
    const size_t sbytes[] = { env->n_subprogs * sizeof *env->root_begin,
                              env->n_subprogs * sizeof *env->root_end, env->n_subprogs };
    if (vf_arena_tables(a, 1, 3, sub, sbytes)) {
        err = -ENOMEM;
        goto out;
    }

    /* jumps stay in their function; functions end in exit or ja */
    uint32_t next_jump = 0;
    for (uint32_t k = 0; k < env->n_subprogs; k++) {
        const struct bl_subprog *sp = &env->subprogs[k];
        for (; next_jump < n_jumps && jumps[next_jump] < sp->end; next_jump++) {
            uint32_t i = jumps[next_jump];
            const struct bl_insn *in = &env->insns[i];
            env->cur_insn = i;
            int64_t t = jump_target(in, i);
            if (t < sp->start || t >= sp->end) {
                err = vf_reject(env, "jump out of range from insn %u to %lld", i, (long long)t);
                goto out;
            }
            if (second[t]) {
                err = vf_reject(env, "jump into the middle of ldimm64 insn %lld", (long long)t);
                goto out;
            }
            if (t <= i)
                has_back[k] = 1;
            /* states are kept where paths meet: jump targets (a branch's
             * fall-through meets nothing new; keeping them too would cost
             * memory for no pruning) */
            env->prune_point[t] = 1;
        }
        uint32_t last = sp->end - 1;
        env->cur_insn = last;
        if (second[last] || (!is_exit(&env->insns[last]) && !is_uncond(&env->insns[last]))) {
            err = vf_reject(env, "last insn is not an exit or jmp");
            goto out;
        }
    }

    /* depth-first walk of each function reached from insn 0 (a sweep for
     * functions without backward jumps) */
    uint32_t n_roots = 0, n_post = 0;
    roots[n_roots++] = 0;
    for (uint32_t r = 0; r < n_roots; r++) {
        uint32_t root = roots[r];
        int sp = vf_find_subprog(env, root);
        if (state[root])
            continue;
        env->root_begin[sp] = n_post;
        if (!has_back[sp]) {
            /* Every jump goes forward: no cycle is possible, and the insns
             * in reverse order are a post-order (successors first). One
             * sweep marks what is reachable; no depth-first search. */
            uint32_t end = env->subprogs[sp].end;
            state[root] = 1;
            for (uint32_t t = root; t < end; t++) {
                if (!state[t])
                    continue;
                uint8_t code = env->insns[t].code;
                if (code == (BL_JMP | BL_CALL) || code == (BL_JMP | BL_CALL | BL_X) ||
                    code == (BL_LD | BL_IMM | BL_DW))
                    visit_reached(env, t, roots, &n_roots);
                uint8_t ns = env->n_succ[t];
                if (ns)
                    state[env->succ[t][0]] = 1;
                if (ns == 2)
                    state[env->succ[t][1]] = 1;
            }
            for (uint32_t t = end; t-- > root;)
                if (state[t]) {
                    state[t] = 2;
                    env->postorder[n_post++] = t;
                }
            env->root_end[sp] = n_post;
            continue;
        }
        uint32_t depth = 0;
        stack[depth++] = root;
        state[root] = 1;
        while (depth) {
            uint32_t t = stack[depth - 1], succ[2];
            int ns = successors(env, t, succ);
            if (next_edge[t] == 0)
                visit_reached(env, t, roots, &n_roots);
            if (next_edge[t] < ns) {
                uint32_t w = succ[next_edge[t]++];
                env->cur_insn = t;
                if (state[w] == 1) {
                    err = vf_reject(env, "back-edge from insn %u to %u: loops must be written as `for` loops (bpf_loop)",
                                    t, w);
                    goto out;
                }
                if (state[w] == 0) {
                    state[w] = 1;
                    stack[depth++] = w;
                }
                continue;
            }
            state[t] = 2;
            env->postorder[n_post++] = t;
            depth--;
        }
        env->root_end[sp] = n_post;
    }
    env->n_postorder = n_post;
    /* every insn but the second halves of lddw is in the post-order once
     * it is reached: only a shortfall needs the search for the first */
    for (uint32_t i = 0; n_post + n_second < n && i < n; i++) {
        if (!state[i] && !second[i]) {
            env->cur_insn = i;
            err = vf_reject(env, "unreachable insn %u", i);
            goto out;
        }
    }
out:
    return err;
}

/* ---- liveness ------------------------------------------------------------- */

static void use_def(const struct bl_insn *in, uint16_t *use, uint16_t *def)
{
    bl_insn_use_def(in, use, def);
    /* a helper reads only its arguments */
    if (BL_CLASS(in->code) == BL_JMP && BL_OP(in->code) == BL_CALL && BL_SRC(in->code) == BL_K &&
        in->src == BL_CALL_HELPER) {
        int nargs = vf_helper_nargs((uint32_t)in->imm);
        *use = (uint16_t)(((1u << nargs) - 1) << 1);
    }
}

/* ---- value liveness ------------------------------------------------------- */

/* Registers whose value (not just their being a scalar) may still decide
 * a check: addresses, helper arguments, branch conditions, values stored to
 * memory or returned to a caller, and whatever flows into those. Like the
 * kernel's precision marks, but computed statically: two states that differ
 * only in scalars outside this set are equally safe. The main function's
 * R0 at exit is not among them when the type accepts any scalar (XDP);
 * it is when the type checks its range (cgroup_skb: ret_check). */
static uint16_t value_transfer(const struct bl_insn *in, uint16_t out, int in_main,
                               int ret_check)
{
    uint8_t c = BL_CLASS(in->code), op = BL_OP(in->code);
    uint16_t d = (uint16_t)(1u << in->dst), s = (uint16_t)(1u << in->src);
    int is_x = BL_SRC(in->code) == BL_X;
    switch (c) {
    case BL_ALU:
    case BL_ALU64:
        if (!(out & d))
            return out & (uint16_t)~d;
        if (op == BL_MOV)
            return (uint16_t)((out & ~d) | (is_x ? s : 0));
        return (uint16_t)(out | d | (is_x && op != BL_NEG && op != BL_END ? s : 0));
    case BL_LDX:
        return (uint16_t)((out & ~d) | s);
    case BL_ST:
        return out | d;
    case BL_STX:
        if (BL_MODE(in->code) == BL_ATOMIC && in->imm == BL_CMPXCHG)
            return (uint16_t)(out | d | s | 1);
        return out | d | s;
    case BL_LD:
        return out & (uint16_t)~d;
    default:
        if (op == BL_EXIT)
            return in_main && !ret_check ? 0 : 1;
        if (op == BL_CALL) {
            int nargs = in->src == BL_CALL_HELPER ? vf_helper_nargs((uint32_t)in->imm) : 5;
            return (uint16_t)((out & ~0x3fu) | (((1u << nargs) - 1) << 1));
        }
        if (op == BL_JA)
            return out;
        return (uint16_t)(out | d | (is_x ? s : 0));
    }
}

/* live[] and vlive[] before in from out and vout after it: use_def() and
 * value_transfer() in one switch (the same answers; this pass runs once
 * per insn of every program, and the two decoded each insn apart). */
static void live_transfer(const struct bl_insn *in, uint16_t out, uint16_t vout, int in_main,
                          int ret_check, uint16_t *live, uint16_t *vlive)
{
    uint8_t c = BL_CLASS(in->code), op = BL_OP(in->code);
    uint16_t d = (uint16_t)(1u << in->dst), s = (uint16_t)(1u << in->src);
    int x = BL_SRC(in->code) == BL_X;
    switch (c) {
    case BL_ALU:
    case BL_ALU64: {
        uint16_t xs = x && op != BL_NEG && op != BL_END ? s : 0;
        *live = (uint16_t)((op == BL_MOV ? 0 : d) | xs | (out & ~d));
        if (!(vout & d))
            *vlive = vout & (uint16_t)~d;
        else if (op == BL_MOV)
            *vlive = (uint16_t)((vout & ~d) | (x ? s : 0));
        else
            *vlive = (uint16_t)(vout | d | xs);
        return;
    }
    case BL_LDX:
        *live = (uint16_t)(s | (out & ~d));
        *vlive = (uint16_t)((vout & ~d) | s);
        return;
    case BL_ST:
        *live = out | d;
        *vlive = vout | d;
        return;
    case BL_STX:
    case BL_LD: {
        uint16_t use, def;
        use_def(in, &use, &def);
        *live = (uint16_t)(use | (out & ~def));
        *vlive = value_transfer(in, vout, in_main, ret_check);
        return;
    }
    default:
        if (op == BL_CALL) {
            uint16_t use = (uint16_t)(0x3e | (x ? d : 0));
            int nargs = 5;
            if (in->src == BL_CALL_HELPER) {
                nargs = vf_helper_nargs((uint32_t)in->imm);
                if (c == BL_JMP && !x)
                    use = (uint16_t)(((1u << nargs) - 1) << 1);
            }
            *live = (uint16_t)(use | (out & ~0x3fu));
            *vlive = (uint16_t)((vout & ~0x3fu) | (((1u << nargs) - 1) << 1));
        } else if (op == BL_EXIT) {
            *live = (uint16_t)((1u << BL_R0) | out);
            *vlive = in_main && !ret_check ? 0 : 1;
        } else if (op == BL_JA) {
            *live = out;
            *vlive = vout;
        } else {
            uint16_t use = (uint16_t)(d | (x ? s : 0));
            *live = use | out;
            *vlive = vout | use;
        }
        return;
    }
}

/* Both backward passes at once, live[] (registers read before written)
 * and vlive[] (registers whose value matters), over each function's slice
 * of the post-order: successors come first, and the slices together are
 * every reachable insn (flow never leaves a function). */
int vf_compute_liveness(struct bl_venv *env)
{
    int ret_check = env->prog->type->ret_check;
    for (uint32_t sp = 0; sp < env->n_subprogs; sp++)
        for (uint32_t k = env->root_begin[sp]; k < env->root_end[sp]; k++) {
            uint32_t i = env->postorder[k];
            uint16_t out = 0, vout = 0;
            int ns = env->n_succ[i];
            if (ns) {
                uint32_t s0 = env->succ[i][0];
                out = env->live[s0];
                vout = env->vlive[s0];
                if (ns == 2) {
                    uint32_t s1 = env->succ[i][1];
                    out |= env->live[s1];
                    vout |= env->vlive[s1];
                }
            }
            live_transfer(&env->insns[i], out, vout, sp == 0, ret_check, &env->live[i],
                          &env->vlive[i]);
        }
    return 0;
}

/* ---- bounds after the walk ----------------------------------------------- */

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a + b < a ? UINT64_MAX : a + b;
}

static uint64_t sat_mul(uint64_t a, uint64_t b)
{
    uint64_t r;
    return __builtin_mul_overflow(a, b, &r) ? UINT64_MAX : r;
}

static uint64_t fn_cost(struct bl_venv *env, uint64_t *cost, uint8_t *done, uint32_t sp, int depth)
{
    if (done[sp] == 2)
        return cost[env->subprogs[sp].start];
    if (done[sp] == 1 || depth > 64)
        return UINT64_MAX; /* recursion: rejected by the walk anyway */
    done[sp] = 1;
    for (uint32_t k = env->root_begin[sp]; k < env->root_end[sp]; k++) {
        uint32_t i = env->postorder[k], succ[2];
        const struct bl_insn *in = &env->insns[i];
        if (!env->aux[i].seen) {
            cost[i] = 0;
            continue;
        }
        uint64_t best = 0, c = 1;
        int ns = successors(env, i, succ);
        for (int j = 0; j < ns; j++) /* an unseen successor's cost is 0 (set above) */
            if (cost[succ[j]] > best)
                best = cost[succ[j]];
        int64_t callee = BL_CLASS(in->code) == BL_JMP && BL_OP(in->code) == BL_CALL &&
                         in->src == BL_PSEUDO_CALL ? (int64_t)i + in->imm + 1 : -1;
        if (callee >= 0)
            c = sat_add(c, fn_cost(env, cost, done,
                                   (uint32_t)vf_find_subprog(env, (uint32_t)callee), depth + 1));
        if (env->cb_target[i]) {
            int cb = vf_find_subprog(env, env->cb_target[i] - 1);
            c = sat_add(c, sat_mul(env->aux[i].loop_bound,
                                   fn_cost(env, cost, done, (uint32_t)cb, depth + 1)));
        }
        cost[i] = sat_add(c, best);
    }
    done[sp] = 2;
    return cost[env->subprogs[sp].start];
}

int vf_compute_max_insns(struct bl_venv *env, uint64_t *out)
{
    uint64_t *cost;
    uint8_t *done;
    void **tabs[] = { (void **)&cost, (void **)&done };
    const size_t bytes[] = { env->n_insns * sizeof *cost, env->n_subprogs };
    if (vf_arena_tables(&env->arena, 1, 2, tabs, bytes))
        return -ENOMEM;
    if (env->n_calls) {
        *out = fn_cost(env, cost, done, 0, 0);
        return 0;
    }
    /* no BPF-to-BPF call and no callback (both are in calls[]): fn_cost of
     * the main function alone, each insn 1 + its costlier successor */
    for (uint32_t k = env->root_begin[0]; k < env->root_end[0]; k++) {
        uint32_t i = env->postorder[k];
        if (!env->aux[i].seen)
            continue; /* cost 0 (zeroed) */
        uint64_t best = 0;
        int ns = env->n_succ[i];
        if (ns)
            best = cost[env->succ[i][0]];
        if (ns == 2 && cost[env->succ[i][1]] > best)
            best = cost[env->succ[i][1]];
        cost[i] = best + 1;
    }
    *out = cost[env->subprogs[0].start];
    return 0;
}

/* 1 if subprogram sp calls bpf_tail_call on some verified path */
static int has_tail_call(const struct bl_venv *env, uint32_t sp)
{
    for (uint32_t i = env->subprogs[sp].start; i < env->subprogs[sp].end; i++) {
        const struct bl_insn *in = &env->insns[i];
        if (env->aux[i].seen && BL_CLASS(in->code) == BL_JMP && BL_OP(in->code) == BL_CALL &&
            in->src == BL_CALL_HELPER && in->imm == 12)
            return 1;
    }
    return 0;
}

/* above: the stack of the frames calling sp. *tail_bad: the stack above
 * a subprogram that tail-calls, when the kernel's limit refuses it */
static uint32_t chain_depth(struct bl_venv *env, uint32_t sp, int level, uint32_t *frames,
                            uint32_t above, uint32_t *tail_bad)
{
    uint32_t own = (env->subprogs[sp].stack_depth + 15) & ~15u, best = 0, best_frames = 0;
    /* a tail call leaves its caller frames' stacks in place: the kernel
     * bounds them by 256 bytes (33 calls x 256 = 8 KiB at worst) */
    if (sp && above >= 256 && !*tail_bad && has_tail_call(env, sp))
        *tail_bad = above;
    if (level >= BL_MAX_CALL_DEPTH + 1) {
        *frames = (uint32_t)level;
        return own;
    }
    for (uint32_t k = 0; k < env->n_calls; k++) {
        uint32_t i = env->calls[k];
        if (i < env->subprogs[sp].start || i >= env->subprogs[sp].end || !env->aux[i].seen)
            continue;
        int64_t c = callee_of(&env->insns[i], i);
        if (c < 0)
            continue;
        uint32_t f = 0, d = chain_depth(env, (uint32_t)vf_find_subprog(env, (uint32_t)c),
                                        level + 1, &f, above + own, tail_bad);
        if (d > best)
            best = d;
        if (f > best_frames) /* the deepest chain, whatever its stack */
            best_frames = f;
    }
    *frames = best_frames ? best_frames : (uint32_t)level + 1;
    return own + best;
}

int vf_check_stack_depth(struct bl_venv *env)
{
    uint32_t frames = 0, tail_bad = 0, total = chain_depth(env, 0, 0, &frames, 0, &tail_bad);
    /* As the kernel (check_max_stack_depth): the call graph itself, not the
     * walk, decides. A recursion the walk followed to a bounded depth has
     * no static bound (its depth comes from a value), so it is refused as
     * the kernel refuses it rather than given an infinite max_insns. */
    if (frames > BL_MAX_CALL_DEPTH) {
        env->cur_insn = 0;
        return vf_reject(env, "the call stack of %u frames is too deep", frames);
    }
    if (total > BL_STACK_SIZE) {
        env->cur_insn = 0;
        return vf_reject(env, "combined stack size of %u calls is %u. Too large", frames, total);
    }
    if (tail_bad) {
        env->cur_insn = 0;
        return vf_reject(env, "tail_calls are not allowed when call stack of previous frames is %u bytes. Too large",
                         tail_bad);
    }
    return 0;
}

/* ---- forgetting: values no check can read --------------------------------- */

/* Where a register may point, for the current frame's stack: nowhere,
 * somewhere unknown in it, or fp + a known offset (-512..0). */
#define FP_NONE 0x7fff
#define FP_ANY 0x7ffe
#define FP_UNSET 0x7ffd
#define ALL_SLOTS (~0ull)

static int fp_ish(int16_t v)
{
    return v != FP_NONE && v != FP_UNSET;
}

/* One insn's in-state: R0-R10's values, four 16-bit lanes a word (R0-R3
 * in a, R4-R7 in b, R8-R10 in c; lane 11 unused, always 0). Rows are read
 * and written a word at a time, and a row being transferred stays in
 * registers: with an int16_t per register, a row copied with wide loads
 * right after one register of it was set (a 2-byte store) stalled on
 * store forwarding at every insn, half of this pass's time. */
struct fp_row {
    uint64_t a, b, c;
};

static inline int16_t fp_get(const struct fp_row *r, unsigned q)
{
    uint64_t w = q < 4 ? r->a : q < 8 ? r->b : r->c;
    return (int16_t)(uint16_t)(w >> ((q & 3) * 16));
}

static inline void fp_set(struct fp_row *r, unsigned q, int16_t v)
{
    unsigned sh = (q & 3) * 16;
    uint64_t keep = ~(0xffffull << sh), x = (uint64_t)(uint16_t)v << sh;
    if (q < 4)
        r->a = (r->a & keep) | x;
    else if (q < 8)
        r->b = (r->b & keep) | x;
    else
        r->c = (r->c & keep) | x;
}

/* lane by lane: a where a == b, FP_ANY where they differ */
static inline uint64_t fp_join_word(uint64_t a, uint64_t b)
{
    const uint64_t lo15 = 0x7fff7fff7fff7fffull, any = 0x0001000100010001ull * FP_ANY;
    uint64_t x = a ^ b;
    uint64_t differ = (((x & lo15) + lo15) | x) & ~lo15; /* a lane's top bit: x != 0 there */
    uint64_t m = (differ >> 15) * 0xffff;
    return (a & ~m) | (any & m);
}

static int is_callback_helper(int32_t id)
{
    return id == 164 || id == 170 || id == 180 || id == 181 || id == 209;
}

/* The map an lddw put in R1 for the call at insn i, found by looking back
 * along the straight line before it (no jump lands in between), or -1:
 * clang loads the map right before the call. */
static int map_in_r1(const struct bl_venv *env, uint32_t i)
{
    uint32_t k = i;
    for (int steps = 0; steps < 16 && k > 0; steps++) {
        if (env->prune_point[k])
            return -1; /* another path may arrive here */
        if (k >= 2 && bl_is_lddw(&env->insns[k - 2])) {
            const struct bl_insn *l = &env->insns[k - 2];
            if (l->dst == BL_R1)
                return l->src == BL_PSEUDO_MAP_FD ? l->imm : -1;
            k -= 2;
            continue;
        }
        const struct bl_insn *p = &env->insns[k - 1];
        uint8_t c = BL_CLASS(p->code);
        if (c == BL_JMP || c == BL_JMP32)
            return -1;
        uint16_t use, def;
        bl_insn_use_def(p, &use, &def);
        if (def & (1u << BL_R1))
            return -1;
        k--;
    }
    return -1;
}

/* forward: out-state of insn i from its in-state r[]; returns 1 if it
 * stores a register that may point into the stack. The in-state keeps
 * whatever a dead register last held (copying it to each successor
 * unmasked is what makes the pass cheap); every read goes through
 * FP_READ, which takes a register outside live (live[i]) as pointing
 * nowhere. Registers an insn uses are live there, so only the call's
 * scan of R1-R5 and an odd encoding's source need it, and the values of
 * live registers are the ones a pass masking at every copy would find. */
#define FP_READ(q) ((q) == BL_R10 || ((q) < BL_NREGS && (live & (1u << (q)))) ? fp_get(r, q) : FP_NONE)
static int fp_transfer(const struct bl_insn *in, struct fp_row *r, uint16_t live, int spills)
{
    uint8_t c = BL_CLASS(in->code), op = BL_OP(in->code), mode = BL_MODE(in->code);
    int x = BL_SRC(in->code) == BL_X;
    int16_t loaded = spills ? FP_ANY : FP_NONE;
    int16_t rd, rs; /* read where used: most insns need one or none */
    switch (c) {
    case BL_ALU64:
        if (op == BL_MOV) {
            fp_set(r, in->dst, x ? FP_READ(in->src) : FP_NONE);
        } else if ((op == BL_ADD || op == BL_SUB) && !x) {
            rd = FP_READ(in->dst);
            if (rd != FP_NONE && rd != FP_ANY) {
                /* 64-bit: subtracting INT32_MIN must not overflow */
                int64_t nv = op == BL_ADD ? (int64_t)rd + in->imm : (int64_t)rd - in->imm;
                fp_set(r, in->dst, nv >= -BL_STACK_SIZE && nv <= 0 ? (int16_t)nv : FP_ANY);
            } else {
                fp_set(r, in->dst, rd);
            }
        } else {
            rd = FP_READ(in->dst);
            rs = x ? FP_READ(in->src) : FP_NONE;
            fp_set(r, in->dst, rd != FP_NONE || rs != FP_NONE ? FP_ANY : FP_NONE);
        }
        return 0;
    case BL_ALU:
        rd = FP_READ(in->dst);
        rs = FP_READ(in->src);
        if (rd != FP_NONE && op != BL_MOV)
            fp_set(r, in->dst, FP_ANY);
        else if (x && rs != FP_NONE)
            fp_set(r, in->dst, FP_ANY);
        else
            fp_set(r, in->dst, op == BL_MOV || rd == FP_NONE ? FP_NONE : FP_ANY);
        return 0;
    case BL_LD:
        if (bl_is_lddw(in))
            fp_set(r, in->dst, FP_NONE);
        else
            for (int k = 0; k <= 5; k++)
                fp_set(r, k, FP_NONE);
        return 0;
    case BL_LDX:
        fp_set(r, in->dst, loaded);
        return 0;
    case BL_ST:
        return 0;
    case BL_STX: {
        int st = fp_ish(FP_READ(in->src));
        if (mode == BL_ATOMIC) {
            if (in->imm == BL_CMPXCHG)
                fp_set(r, BL_R0, loaded);
            else if (in->imm & BL_FETCH)
                fp_set(r, in->src, loaded);
        }
        return st;
    }
    default:
        if (op == BL_CALL) {
            int any = 0;
            for (int k = 1; k <= 5; k++)
                any |= fp_ish(FP_READ(k));
            for (int k = 1; k <= 5; k++)
                fp_set(r, k, FP_NONE);
            /* helpers return no stack pointer but dynptr_data's (its
             * memory may be a stack buffer); a subprogram may return one
             * it was given */
            int helper = in->src == BL_CALL_HELPER && BL_SRC(in->code) == BL_K;
            fp_set(r, BL_R0, any && (!helper || in->imm == 203) ? FP_ANY : FP_NONE);
        }
        return 0;
    }
}

/* Helper arguments pointing at memory whose contents never decide a check:
 * data the helper only copies (a map value, an event, bytes to store or
 * checksum) or only writes (probe_read's and load_bytes' destinations).
 * Keys (an array index may make a lookup non-NULL), format strings and
 * everything else keep the stack above them. */
static int content_free_arg(int32_t id, int arg)
{
    static const struct { uint8_t id, arg; } free_args[] = {
        { 2, 2 },   { 2, 3 },   { 3, 2 },   { 4, 1 },   { 9, 3 },   { 16, 1 },  { 20, 2 },  { 21, 2 },  { 25, 4 },
        { 26, 3 },  { 28, 1 },  { 28, 3 },  { 29, 2 },  { 30, 2 },  { 36, 2 },  { 45, 1 },
        { 55, 3 },  { 56, 2 },  { 67, 2 },  { 68, 3 },  { 112, 1 }, { 113, 1 }, { 114, 1 },
        { 115, 1 }, { 130, 2 }, { 189, 3 }, { 190, 3 },
    };
    for (size_t i = 0; i < sizeof free_args / sizeof free_args[0]; i++)
        if (free_args[i].id == id && free_args[i].arg == arg)
            return 1;
    return 0;
}

/* the slots holding bytes [at, at + size) of the frame, all if outside it */
static uint64_t slots_of(int32_t at, int32_t size)
{
    if (size <= 0 || at < -BL_STACK_SIZE || at + size > 0)
        return ALL_SLOTS;
    int hi = (-at - 1) / 8, lo = (-(at + size - 1) - 1) / 8;
    uint64_t m = 0;
    for (int s = lo; s <= hi; s++)
        m |= 1ull << s;
    return m;
}

/* the slots at or above fp + at (what a helper reading from there may reach) */
static uint64_t slots_above(int32_t at)
{
    if (at >= 0)
        return 0;
    int hi = (-at - 1) / 8;
    return hi >= 63 ? ALL_SLOTS : (1ull << (hi + 1)) - 1;
}

static int access_size(const struct bl_insn *in)
{
    static const int sz[4] = { 4, 2, 1, 8 };
    return sz[BL_SIZE(in->code) >> 3];
}

/* backward: flive/slive before insn i from vo/so after it; fp = its in-state */
static void forget_transfer(const struct bl_venv *env, uint32_t i, const struct fp_row *fp,
                            int in_main, int callee_masks, uint16_t vo,
                            uint64_t so, uint16_t *vi, uint64_t *si)
{
    const struct bl_insn *in = &env->insns[i];
    uint8_t c = BL_CLASS(in->code), op = BL_OP(in->code), mode = BL_MODE(in->code);
    /* the register masks as each case needs them: this runs for every insn */
#define DST_BIT ((uint16_t)(1u << in->dst))
#define SRC_BIT ((uint16_t)(1u << in->src))
#define SRC_X (BL_SRC(in->code) == BL_X)
    *si = so;
    switch (c) {
    case BL_ALU:
    case BL_ALU64:
        if (!(vo & DST_BIT))
            *vi = vo & (uint16_t)~DST_BIT;
        else if (op == BL_MOV)
            *vi = (uint16_t)((vo & ~DST_BIT) | (SRC_X ? SRC_BIT : 0));
        else
            *vi = (uint16_t)(vo | DST_BIT | (SRC_X && op != BL_NEG && op != BL_END ? SRC_BIT : 0));
        return;
    case BL_LD:
        if (bl_is_lddw(in))
            *vi = vo & (uint16_t)~DST_BIT;
        else
            *vi = (uint16_t)((vo & ~0x3fu) | (1u << BL_R6) | (mode == BL_IND ? SRC_BIT : 0));
        return;
    case BL_LDX: {
        int16_t b = fp_get(fp, in->src);
        *vi = (uint16_t)((vo & ~DST_BIT) | SRC_BIT);
        if (vo & DST_BIT)
            *si = so | (b == FP_ANY ? ALL_SLOTS
                        : b == FP_NONE || b == FP_UNSET ? 0 : slots_of(b + in->off, access_size(in)));
        return;
    }
    case BL_ST:
    case BL_STX: {
        int16_t b = fp_get(fp, in->dst);
        int size = access_size(in);
        if (c == BL_STX && mode == BL_ATOMIC) {
            *vi = (uint16_t)(vo | DST_BIT | SRC_BIT | 1u);
            *si = so | (b == FP_ANY ? ALL_SLOTS
                        : b == FP_NONE || b == FP_UNSET ? 0 : slots_of(b + in->off, size));
            return;
        }
        int rel;
        if (b == FP_ANY) {
            rel = 1;
        } else if (b == FP_NONE || b == FP_UNSET) {
            /* memory that is not this frame's stack: ctx, a map value, the
             * packet (whose contents the verifier does not track), or, in a
             * subprogram, maybe its caller's stack */
            rel = !in_main;
        } else {
            uint64_t cov = slots_of(b + in->off, size);
            rel = (so & cov) != 0;
            if (size == 8 && (b + in->off) % 8 == 0 && cov != ALL_SLOTS)
                *si = so & ~cov;
        }
        *vi = (uint16_t)(vo | DST_BIT | (c == BL_STX && rel ? SRC_BIT : 0));
        return;
    }
    default:
        if (op == BL_CALL) {
            if (in->src == BL_CALL_HELPER && BL_SRC(in->code) == BL_K) {
                int nargs = vf_helper_nargs((uint32_t)in->imm);
                *vi = (uint16_t)((vo & ~0x3fu) | (((1u << nargs) - 1) << 1));
                /* a lookup's key decides only in an array (a constant
                 * index gives a value, not NULL: const_key_in_array) */
                int map = in->imm == 1 ? map_in_r1(env, i) : -1;
                int key_free = map >= 0 && (uint32_t)map < env->obj->n_maps &&
                               env->obj->maps[map].type != BPFLUA_MAP_ARRAY &&
                               env->obj->maps[map].type != BPFLUA_MAP_PERCPU_ARRAY;
                for (int k = 1; k <= nargs; k++) {
                    int16_t a = fp_get(fp, (unsigned)k);
                    if (a == FP_ANY || (fp_ish(a) && is_callback_helper(in->imm)))
                        *si = ALL_SLOTS;
                    else if (fp_ish(a) && !content_free_arg(in->imm, k) && !(key_free && k == 2))
                        *si |= slots_above(a);
                }
            } else {
                /* a subprogram: the arguments its entry keeps (an earlier
                 * round's answer, itself an over-approximation), all of
                 * them for anything else */
                uint16_t args = 0x3eu;
                if (in->src == BL_PSEUDO_CALL && BL_SRC(in->code) == BL_K) {
                    int64_t t = (int64_t)i + in->imm + 1;
                    if (callee_masks && t >= 0 && t < env->n_insns)
                        args = env->flive[t] & 0x3eu;
                }
                *vi = (uint16_t)((vo & ~0x3fu) | args);
                for (int k = 1; k <= 5; k++)
                    if (fp_ish(fp_get(fp, (unsigned)k)))
                        *si = ALL_SLOTS;
            }
            return;
        }
        if (op == BL_EXIT) {
            *vi = in_main && !env->prog->type->ret_check ? 0 : 1;
            *si = 0;
            return;
        }
        if (op == BL_JA) {
            *vi = vo;
            return;
        }
        *vi = (uint16_t)(vo | DST_BIT | (SRC_X ? SRC_BIT : 0));
        return;
    }
#undef DST_BIT
#undef SRC_BIT
#undef SRC_X
}

/* 1 if every BPF-to-BPF call goes to a function after its caller's (so
 * walked before it when the functions are walked last to first) */
static int callees_follow_callers(const struct bl_venv *env)
{
    uint32_t sp = 0;
    for (uint32_t k = 0; k < env->n_calls; k++) { /* calls and subprograms in insn order */
        uint32_t i = env->calls[k];
        const struct bl_insn *in = &env->insns[i];
        if (BL_CLASS(in->code) != BL_JMP || BL_OP(in->code) != BL_CALL ||
            in->src != BL_PSEUDO_CALL || BL_SRC(in->code) != BL_K)
            continue;
        while (sp + 1 < env->n_subprogs && env->subprogs[sp + 1].start <= i)
            sp++;
        int64_t t = (int64_t)i + in->imm + 1;
        int callee = t >= 0 && t < env->n_insns ? vf_find_subprog(env, (uint32_t)t) : -1;
        if (callee <= (int)sp)
            return 0;
    }
    return 1;
}

int vf_compute_forget(struct bl_venv *env)
{
    uint32_t n = env->n_insns;
    /* per insn in-states, from the arena (released with it); an insn
     * whose in-state is not set yet has set[i] == 0 */
    struct fp_row *fp = vf_arena_alloc(&env->arena, (size_t)(n + 1) * sizeof *fp);
    uint8_t *set = vf_arena_alloc(&env->arena, n + 1);
    if (!fp || !set)
        return -ENOMEM;
    /* forward, twice at most: once more if some store may put a stack
     * pointer on the stack (then every load may give one back) */
    int spills = 0, local_calls = env->local_calls;
    for (int pass = 0; pass < 2; pass++) {
        int stored_fp = 0;
        memset(set, 0, n + 1);
        for (uint32_t sp = 0; sp < env->n_subprogs; sp++) {
            uint32_t b = env->root_begin[sp], e = env->root_end[sp];
            if (e <= b)
                continue;
            uint32_t entry = env->postorder[e - 1]; /* the root is last in post-order */
            const uint64_t none4 = 0x0001000100010001ull * FP_NONE;
            fp[entry] = (struct fp_row){ none4, none4, none4 & 0xffffffffull };
            fp_set(&fp[entry], BL_R10, 0);
            set[entry] = 1;
            for (uint32_t k = e; k-- > b;) {
                uint32_t i = env->postorder[k];
                const struct bl_insn *in = &env->insns[i];
                struct fp_row r = { fp[i].a, fp[i].b, fp[i].c };
                stored_fp |= fp_transfer(in, &r, env->live[i], spills);
                for (int j = 0; j < env->n_succ[i]; j++) {
                    uint32_t s = env->succ[i][j];
                    if (!set[s]) {
                        set[s] = 1;
                        fp[s].a = r.a;
                        fp[s].b = r.b;
                        fp[s].c = r.c;
                        continue;
                    }
                    /* two paths agree or the register may point anywhere
                     * (FP_UNSET never reaches a row: set[] guards them) */
                    fp[s].a = fp_join_word(fp[s].a, r.a);
                    fp[s].b = fp_join_word(fp[s].b, r.b);
                    fp[s].c = fp_join_word(fp[s].c, r.c);
                }
            }
        }
        if (!stored_fp || spills)
            break;
        spills = 1;
    }
    /* backward; with subprogram calls twice: the second round takes a
     * subprogram's arguments from its entry's mask (the first round's,
     * which assumed all, or this round's for a callee walked before its
     * caller). The second round walks the functions last to first: a
     * callee usually follows its callers (clang's order), so a chain of
     * calls (main -> send_drop_notify -> update_metrics) gets each
     * callee's answer of this round. Every round is sound on its own.
     * When every call goes to a later function, the second round reads
     * only its own answers: it alone gives the same tables. */
    int first_round = local_calls && callees_follow_callers(env) ? 1 : 0;
    for (int round = first_round; round < 1 + local_calls; round++)
        for (uint32_t q = 0; q < env->n_subprogs; q++) {
            uint32_t sp = round ? env->n_subprogs - 1 - q : q;
            for (uint32_t k = env->root_begin[sp]; k < env->root_end[sp]; k++) {
                uint32_t i = env->postorder[k];
                uint16_t vo = 0;
                uint64_t so = 0;
                int ns = env->n_succ[i];
                if (ns) {
                    uint32_t s0 = env->succ[i][0];
                    vo = env->flive[s0];
                    so = env->slive[s0];
                    if (ns == 2) {
                        uint32_t s1 = env->succ[i][1];
                        vo |= env->flive[s1];
                        so |= env->slive[s1];
                    }
                }
                forget_transfer(env, i, &fp[i], sp == 0, round, vo, so, &env->flive[i],
                                &env->slive[i]);
            }
        }
    return 0;
}
