/* verifier.c - proves a program safe to run without run-time checks.
 *
 * The algorithm, in the kernel verifier's tradition:
 *
 * 1. Static pass (verifier_cfg.c). The program is cut into functions at
 *    insn 0, at funcs[] and at every call or callback target. Jumps must
 *    stay inside their function. A depth-first walk of each function's
 *    flow graph rejects every back-edge: bpflua has no loops but
 *    bpf_loop/for_each_map_elem callbacks, so every function is a DAG and
 *    every path is finite. Instructions no walk reaches are rejected
 *    ("unreachable insn"), and a backward liveness pass records which
 *    registers each instruction may still read.
 *
 * 2. Path walk (this file). Abstract interpretation from insn 0 with R1 =
 *    ctx and R10 = frame pointer, one instruction at a time, over an
 *    abstract state (verifier_state.h): register types, scalar ranges,
 *    stack slots, call frames. Each instruction is checked by one check_*
 *    function (verifier_alu.c, verifier_mem.c, verifier_call.c). A
 *    conditional jump whose outcome is not known splits the state: one
 *    side continues, the other is pushed on a worklist. A null check
 *    splits a map_value_or_null into null and map_value; a comparison of
 *    a packet pointer with data_end proves a readable range.
 *
 * 3. Pruning. At prune points (jump targets, after calls) the state, with
 *    dead registers forgotten, is compared with the states already
 *    explored there; if one of them subsumes it, the path is done: that
 *    state was (or will be) proven safe for everything that follows.
 *    Scalars whose value can no longer decide any check (a static "value
 *    liveness", our stand-in for the kernel's precision marks) compare
 *    equal whatever their ranges, which is what makes branchy code prune.
 *    States are recorded as the kernel does, not after every short stretch.
 *    Should a prune point still collect many states, new ones are widened
 *    (bounds that moved go to their extremes) so that verification stays
 *    linear in the program's size instead of exponential in its branches.
 *
 * 4. Results. The walk annotates each instruction (struct bl_insn_aux:
 *    reachable, ctx field for the loader's rewrite, access proven safe,
 *    loop trip bound). Then the static pass again: the combined stack of
 *    any call chain must fit 512 bytes, and the loop bounds give the
 *    longest path in instructions through the DAGs, callbacks counted
 *    bound times: max_insns, a bound no kernel verifier reports.
 *
 * Differences from the kernel are deliberate and listed in DESIGN.md:
 * back-edges, uninitialised stack reads, pointer leaks and non-zero loop
 * flags are rejected; a callback is verified once, not once per iteration.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "progtype.h"
#include "verifier_state.h"

#define PRUNE_WIDEN_AFTER 32 /* states kept at one prune point before widening */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* 1 if st is subsumed by an explored state (prune), else 0; records st
 * when `store` (the kernel's economy: not after every short stretch). */
static int is_state_visited(struct bl_venv *env, struct bl_vstate *st, uint32_t idx, int store)
{
    if (!env->forget_ready) { /* at the first prune point: a walk that fails before costs nothing */
        int err = vf_compute_forget(env);
        if (err)
            return err;
        env->forget_ready = 1;
    }
    vf_clean_dead_regs(env, st, idx);
    for (struct bl_seen_state *s = env->seen[idx]; s; s = s->next)
        if (vf_states_equal(env, s, st)) {
            vf_verbose(env, "%u: safe (pruned)\n", idx);
            return 1;
        }
    if (!store)
        return 0;
    if (env->n_seen[idx] >= PRUNE_WIDEN_AFTER) /* the hull of all: later states fall inside */
        for (struct bl_seen_state *s = env->seen[idx]; s; s = s->next)
            vf_widen_state(s, st);
    struct bl_seen_state *n = vf_seen_state_new(env, st);
    if (!n)
        return -ENOMEM;
    n->next = env->seen[idx];
    env->seen[idx] = n;
    env->n_seen[idx]++;
    return 0;
}

/* Walks one path from st until it ends (returns 0) or fails. */
static int do_check(struct bl_venv *env, struct bl_vstate *st)
{
    int err = 0;
    for (;;) {
        uint32_t idx = st->insn;
        const struct bl_insn *insn = &env->insns[idx];
        uint8_t cls = BL_CLASS(insn->code);
        env->cur_insn = idx;
        if (idx >= env->n_insns) {
            err = vf_reject(env, "invalid insn idx %u insn_cnt %u", idx, env->n_insns);
            break;
        }
        if (++env->insn_processed > BL_COMPLEXITY_LIMIT) {
            err = vf_reject(env, "BPF program is too large. Processed %llu insn",
                            (unsigned long long)env->insn_processed);
            break;
        }
        env->aux[idx].seen = 1;
        env->insns_since_store++;
        if (env->prune_point[idx]) {
            env->jmps_since_store++;
            int store = env->insns_since_store >= 8 || env->jmps_since_store >= 2;
            err = is_state_visited(env, st, idx, store);
            if (err)
                break; /* 1: pruned */
            if (store)
                env->insns_since_store = env->jmps_since_store = 0;
        }
        if (env->log_level) { /* as the kernel's level 1: every insn walked, with its state */
            vf_log_insn(env, idx, insn);
            vf_log_state(env, st);
        }

        switch (cls) {
        case BL_ALU:
        case BL_ALU64:
            err = vf_check_alu(env, st, insn);
            st->insn = idx + 1;
            break;
        case BL_LDX:
            err = vf_check_load(env, st, insn);
            st->insn = idx + 1;
            break;
        case BL_ST:
        case BL_STX:
            err = vf_check_store(env, st, insn);
            st->insn = idx + 1;
            break;
        case BL_LD:
            if (bl_is_lddw(insn)) {
                err = vf_check_lddw(env, st, insn);
                env->aux[idx + 1].seen = 1;
                st->insn = idx + 2;
            } else {
                err = vf_check_load(env, st, insn);
                st->insn = idx + 1;
            }
            break;
        default: { /* BL_JMP, BL_JMP32 */
            uint8_t op = BL_OP(insn->code);
            if (op == BL_EXIT && cls == BL_JMP) {
                if (env->log_level)
                    vf_log_state(env, st);
                err = vf_check_exit(env, st);
                if (err == 1) {
                    err = 0;
                    goto done;
                }
            } else if (op == BL_CALL && cls == BL_JMP) {
                st->insn = idx + 1;
                err = vf_check_call(env, &st, insn);
            } else if (op == BL_JA) {
                st->insn = (uint32_t)(cls == BL_JMP32 ? (int64_t)idx + insn->imm + 1
                                                      : (int64_t)idx + insn->off + 1);
            } else {
                struct bl_vstate *other = NULL;
                err = vf_check_cond_jmp(env, &st, &other, insn);
                if (!err && other) {
                    other->insn = (uint32_t)((int64_t)idx + insn->off + 1);
                    err = vf_push_state(env, other);
                }
                if (!err && !st)
                    return 0; /* the fall-through is dead */
                if (st)
                    st->insn = idx + 1;
            }
        }
        }
        if (err)
            break;
    }
done:
    if (err == 1)
        err = 0;
    if (err < 0 && env->log_level)
        vf_log_state(env, st);
    vf_vstate_free(env, st);
    return err;
}

static struct bl_vstate *initial_state(struct bl_venv *env)
{
    struct bl_vstate *st = vf_vstate_new(env);
    struct bl_frame *f = vf_frame_new(env);
    if (!st || !f)
        return NULL; /* the arena frees them */
    st->frames[0] = f;
    mark_reg_ptr(&f->regs[BL_R1], REG_PTR_TO_CTX);
    mark_reg_ptr(&f->regs[BL_R10], REG_PTR_TO_STACK);
    return st;
}

static int walk(struct bl_venv *env)
{
    struct bl_vstate *st = initial_state(env);
    if (!st)
        return -ENOMEM;
    int err = vf_push_state(env, st);
    while (!err && env->n_stack) {
        struct bl_pending *e = &env->stack[--env->n_stack];
        /* the continuation after a callback whose snapshot was widened:
         * the wider snapshot's continuation (queued later, so walked
         * already) covers it */
        if (e->cont_of >= 0 && env->cb_info[e->cont_of].next >= 0) {
            if (e->full)
                vf_vstate_free(env, e->full);
            else
                vf_vstate_free(env, vf_pending_take(env, e->compact));
            continue;
        }
        st = e->full ? e->full : vf_pending_take(env, e->compact);
        err = st ? do_check(env, st) : -ENOMEM;
    }
    return err;
}

static void env_free(struct bl_venv *env)
{
    /* every state, explored or queued, and every frame is in the arena */
    vf_arena_release(&env->arena);
    free(env->cb_entries);
    free(env->cb_info);
    free(env->cb_hints);
    free(env->error);
}

static char *format_error(bpflua_object *obj, struct bl_prog *p, const char *msg, uint32_t insn)
{
    uint32_t line = bl_prog_insn_line(p, insn);
    if (line)
        return bl_asprintf("error: %s at insn %u (%s:%u)", msg, insn,
                           obj->source_name ? obj->source_name : p->name, line);
    return bl_asprintf("error: %s at insn %u", msg, insn);
}

static int verify_as_typed(bpflua_object *obj, struct bl_prog *p, int log_level, char **log)
{
    uint64_t t0 = now_ns();
    struct bl_strbuf logbuf = { 0 };
    /* cleared up to the arena's free_pending: the tables after it are
     * valid below their high-water marks only (verifier_state.h) */
    struct bl_venv env;
    memset(&env, 0, offsetof(struct bl_venv, arena.free_pending));
    env.obj = obj;
    env.prog = p;
    env.insns = p->insns;
    env.n_insns = p->n_insns;
    env.log_level = log ? log_level : 0;
    env.log = &logbuf;
    uint32_t n = p->n_insns;
    bl_prog_reset(p);
    p->aux = calloc(n + 1, sizeof *p->aux);
    env.aux = p->aux;
    /* the per-insn tables (live, seen, ...) come from the arena with the
     * static pass's own, in vf_check_cfg */
    int err = p->aux ? vf_check_cfg(&env) : -ENOMEM;
    if (!err)
        err = vf_compute_liveness(&env);
    if (!err)
        err = walk(&env);
    if (!err)
        err = vf_check_stack_depth(&env);
    if (!err)
        err = vf_compute_max_insns(&env, &p->max_insns);

    p->verified_insns = (uint32_t)env.insn_processed;
    if (err == 0) {
        p->verdict = 1;
        vf_verbose(&env, "processed %llu insns, max_insns=%llu\n",
                   (unsigned long long)env.insn_processed, (unsigned long long)p->max_insns);
    } else {
        p->verdict = -1;
        p->verify_error = format_error(obj, p, env.error ? env.error
                                       : err == -ENOMEM ? "out of memory" : "internal error",
                                       env.error ? env.error_insn : env.cur_insn);
        err = err == -ENOMEM ? -ENOMEM : -EACCES;
        if (err == -ENOMEM)
            p->verdict = 0; /* not a verdict: may be retried */
    }
    env_free(&env);
    p->verify_ns = now_ns() - t0;
    if (log)
        *log = logbuf.buf ? logbuf.buf : calloc(1, 1);
    else
        bl_strbuf_free(&logbuf);
    return err;
}

static int reject_unsupported(bpflua_object *obj, struct bl_prog *p, char **log)
{
    bl_prog_reset(p);
    p->verdict = -1;
    p->verify_error = bl_asprintf("error: section '%s' is a program of type %s, which bpflua does "
                                  "not support (see docs/progtypes.md)", p->section, p->unsupported);
    (void)obj;
    if (log)
        *log = bl_asprintf("%s\n", p->verify_error);
    return -EACCES;
}

/* A section that names no type (Cilium's "2/1", OVS's "tail-3", a
 * PREVAIL test's ".text"): the loader that made it knew the type, the file
 * does not. Each type of bl_prog_type_guesses is tried; the first that
 * accepts the program is kept (a program safe as that type runs as that
 * type). If none does, the error of the type under which verification went
 * furthest (most instructions verified: the likeliest intended type) is
 * reported, saying so. */
/* 1 if the program's first straight line (run on every path) accesses its
 * context where type t has no field, or uses LD_ABS that t lacks, or ends
 * in a compare of a packet pointer t's context gave it with a number (not
 * == / != 0: "pointer comparison prohibited"): the verifier would reject
 * it as t at that insn, so trying t can be skipped (a Cilium tc program
 * reads __sk_buff fields XDP lacks first thing; a tc program testing
 * skb->len or skb->mark reads xdp_md's data or data_meta as XDP). */
static int ctx_kind_is_pkt(const struct bl_ctx_field *f)
{
    return f->kind == BL_CTX_PKT || f->kind == BL_CTX_PKT_END || f->kind == BL_CTX_PKT_META;
}

static int entry_excludes(const struct bl_prog *p, const struct bl_prog_type *t)
{
    static const int sizes[4] = { 4, 2, 1, 8 };
    uint16_t ctx = 1u << BL_R1, pkt = 0;
    for (uint32_t i = 0; i < p->n_insns; i++) {
        const struct bl_insn *in = &p->insns[i];
        uint8_t c = BL_CLASS(in->code), mode = BL_MODE(in->code);
        int size = sizes[BL_SIZE(in->code) >> 3];
        uint16_t dst = (uint16_t)(1u << in->dst);
        if (c == BL_ALU || c == BL_ALU64 || c == BL_LD || c == BL_LDX)
            pkt &= (uint16_t)~dst; /* written: a load from the ctx sets it again below */
        switch (c) {
        case BL_LDX:
            if ((ctx & (1u << in->src)) && mode == BL_MEM) {
                const struct bl_ctx_field *f = bl_ctx_field_at(t, in->off, size, 0);
                if (!f)
                    return 1;
                pkt = (uint16_t)(ctx_kind_is_pkt(f) ? pkt | dst : pkt & ~dst);
            }
            ctx &= (uint16_t)~dst;
            break;
        case BL_ST:
        case BL_STX:
            if (mode != BL_MEM)
                return 0;
            if ((ctx & (1u << in->dst)) && !bl_ctx_field_at(t, in->off, size, 1))
                return 1;
            break;
        case BL_ALU64:
        case BL_ALU:
            if (c == BL_ALU64 && BL_OP(in->code) == BL_MOV && BL_SRC(in->code) == BL_X &&
                (ctx & (1u << in->src)))
                ctx |= (uint16_t)(1u << in->dst);
            else
                ctx &= (uint16_t)~(1u << in->dst);
            break;
        case BL_LD:
            if (!bl_is_lddw(in))
                return !t->ld_abs;
            ctx &= (uint16_t)~(1u << in->dst);
            i++;
            break;
        default: { /* a jump, call or exit ends the straight line */
            uint8_t op = BL_OP(in->code);
            return op != BL_JA && op != BL_CALL && op != BL_EXIT && op <= BL_JSLE &&
                   BL_SRC(in->code) == BL_K && (pkt & dst) &&
                   !(in->imm == 0 && (op == BL_JEQ || op == BL_JNE));
        }
        }
    }
    return 0;
}

/* 1 if the program calls, anywhere, a kernel helper type t does not allow:
 * the walk would reject it there as t, unless no path reaches the call
 * (a branch the verifier decides), so such a type is tried after the
 * others rather than skipped (lwt_encap's bpf_lwt_push_encap, which only
 * the lwt types have, rules out xdp, sched_cls and kprobe). */
struct called {
    uint64_t ids[BL_KERNEL_HELPER_IDS / 64]; /* kernel helper ids the program calls */
};

static void find_called(const struct bl_prog *p, struct called *c)
{
    memset(c, 0, sizeof *c);
    for (uint32_t i = 0; i < p->n_insns; i++) {
        const struct bl_insn *in = &p->insns[i];
        if (in->code == (BL_JMP | BL_CALL) && in->src == BL_CALL_HELPER && in->imm >= 0 &&
            in->imm < BL_KERNEL_HELPER_IDS)
            c->ids[in->imm / 64] |= 1ull << (in->imm % 64);
    }
}

static int calls_disallowed(const struct called *c, const struct bl_prog_type *t)
{
    for (uint32_t w = 0; w < BL_KERNEL_HELPER_IDS / 64; w++)
        for (uint64_t m = c->ids[w]; m; m &= m - 1)
            if (!bl_prog_type_allows(t, w * 64 + (uint32_t)__builtin_ctzll(m)))
                return 1;
    return 0;
}

static int verify_guessing(bpflua_object *obj, struct bl_prog *p, int log_level, char **log)
{
    char *first_error = NULL, *first_log = NULL;
    const struct bl_prog_type *best = bl_prog_type_guesses[0];
    uint32_t best_insns = 0, last_insns = 0;
    size_t best_i = 0, last_i = 0;
    uint64_t ns = 0;
    int rc = -EACCES;
    /* types the first insns already rule out are skipped, unless all are
     * (then each is verified, for its error); types whose helpers the
     * program calls go last (see calls_disallowed): the same types accept,
     * and the first of them is found without a try that fails */
    /* excluded[i]: -1 not looked at yet (the first type tried usually
     * accepts: the others' exclusion is asked only when one is excluded,
     * to know whether all are) */
    int excluded[8], late[8] = { 0 }, n_guesses = 0, all_excluded = -1;
    struct called called;
    find_called(p, &called);
    for (size_t i = 0; bl_prog_type_guesses[i] && i < 8; i++, n_guesses++) {
        excluded[i] = -1;
        late[i] = calls_disallowed(&called, bl_prog_type_guesses[i]);
    }
    size_t order[16], n_order = 0;
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; bl_prog_type_guesses[i]; i++)
            if ((i >= 8 ? pass == 0 : late[i] == pass) && n_order < 16)
                order[n_order++] = i;
    for (size_t o = 0; o < n_order; o++) {
        size_t i = order[o];
        if (i < 8) {
            if (excluded[i] < 0)
                excluded[i] = entry_excludes(p, bl_prog_type_guesses[i]);
            if (excluded[i] && all_excluded < 0) {
                all_excluded = 1;
                for (int k = 0; k < n_guesses; k++) {
                    if (excluded[k] < 0)
                        excluded[k] = entry_excludes(p, bl_prog_type_guesses[k]);
                    all_excluded &= excluded[k];
                }
            }
            if (excluded[i] && !all_excluded)
                continue;
        }
        p->type = bl_prog_type_guesses[i];
        char *one_log = NULL;
        rc = verify_as_typed(obj, p, log_level, log ? &one_log : NULL);
        ns += p->verify_ns;
        if (rc == 0 || rc == -ENOMEM) {
            free(first_error);
            free(first_log);
            if (log)
                *log = one_log;
            p->verify_ns = ns;
            return rc;
        }
        /* as if tried in list order: the furthest, the earliest of equals;
         * the count left is the list's last type's */
        if (!o || i > last_i) {
            last_i = i;
            last_insns = p->verified_insns;
        }
        if (!first_error || p->verified_insns > best_insns ||
            (p->verified_insns == best_insns && i < best_i)) {
            free(first_error);
            free(first_log);
            first_error = p->verify_error;
            p->verify_error = NULL;
            first_log = one_log;
            best = p->type;
            best_i = i;
            best_insns = p->verified_insns;
        } else {
            free(one_log);
        }
    }
    p->type = best;
    p->verified_insns = last_insns;
    free(p->verify_error);
    p->verify_error = bl_asprintf("%s (section '%s' names no program type; rejected as each of "
                                  "%s; this is the error as %s, the type verified furthest: "
                                  "--type sets the type)",
                                  first_error ? first_error : "error", p->section,
                                  bl_prog_type_guess_names, best->name);
    free(first_error);
    if (log)
        *log = first_log;
    else
        free(first_log);
    p->verify_ns = ns;
    return rc;
}

int bl_verify_prog(bpflua_object *obj, struct bl_prog *p, int log_level, char **log)
{
    if (!obj || !p || !p->insns || !p->n_insns)
        return -EINVAL;
    if (p->unsupported)
        return reject_unsupported(obj, p, log);
    if (p->type_guessed)
        return verify_guessing(obj, p, log_level, log);
    return verify_as_typed(obj, p, log_level, log);
}

int bpflua_verify(bpflua_object *obj, size_t prog, int log_level,
                  struct bpflua_verify_info *info, char **err, char **log)
{
    struct bl_prog *p = bl_object_prog(obj, prog);
    if (!p) {
        bl_set_err(err, "no program %zu", prog);
        return -EINVAL;
    }
    int rc;
    if (log)
        *log = NULL;
    if (p->verdict == 0 || (log && log_level > 0))
        rc = bl_verify_prog(obj, p, log_level, log);
    else
        rc = p->verdict > 0 ? 0 : -EACCES;
    if (log && !*log)
        *log = calloc(1, 1);
    if (info) {
        info->accepted = p->verdict > 0;
        info->max_insns = p->max_insns;
        info->verified_insns = p->verified_insns;
        info->verify_ns = p->verify_ns;
    }
    if (rc && p->verify_error)
        bl_set_err(err, "%s", p->verify_error);
    else if (rc)
        bl_set_err(err, "verification failed (%d)", rc);
    return rc;
}
