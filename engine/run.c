/* run.c - bpflua_run: verify, link the executable form, run in an engine.
 *
 * Linking makes p->exec_insns from p->insns: map lddws carry the runtime
 * map's address (src_reg 0), map-value lddws the value's address, and ctx
 * loads the verifier marked (aux[i].ctx_field) read struct bl_xdp_ctx
 * instead of struct xdp_md. Callback lddws (src_reg 4) stay pc-relative:
 * each engine turns them into its own callback value.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "guard.h"
#include "events.h"
#include "helpers.h"
#include "interp.h"
#include "jit.h"
#include "kernel.h"
#include "maps.h"
#include "verifier.h"
#include "xdp.h"

/* ---- linking ------------------------------------------------------------ */

static void set_imm64(struct bl_insn *i, uint64_t v)
{
    i[0].src = 0;
    i[0].imm = (int32_t)(uint32_t)v;
    i[1].imm = (int32_t)(uint32_t)(v >> 32);
}

static int link_lddw(bpflua_object *obj, struct bl_insn *i, char **err)
{
    if (i->src != BL_PSEUDO_MAP_FD && i->src != BL_PSEUDO_MAP_VALUE)
        return 0;
    if (i->imm < 0 || (uint32_t)i->imm >= obj->n_maps) {
        bl_set_err(err, "lddw refers to map %d, the object has %u", i->imm, obj->n_maps);
        return -EINVAL;
    }
    struct bl_map *m = bl_object_map(obj, (size_t)i->imm, err);
    if (!m)
        return -ENOMEM;
    if (i->src == BL_PSEUDO_MAP_FD) {
        set_imm64(i, (uint64_t)(uintptr_t)m);
        return 0;
    }
    /* map value: element 0 of an array map, plus the offset */
    uint32_t key = 0;
    uint8_t *value = bl_map_lookup(m, &key);
    uint32_t off = (uint32_t)i[1].imm;
    if (!value || off >= bl_map_def(m)->value_size) {
        bl_set_err(err, "lddw map_value of map %d at offset %u is not in the map", i->imm, off);
        return -EINVAL;
    }
    set_imm64(i, (uint64_t)(uintptr_t)(value + off));
    return 0;
}

/* xdp_md field (1-based, as aux.ctx_field) -> offset in struct bl_xdp_ctx */
static const struct { uint8_t md_off, ctx_off, is_pointer; } ctx_fields[] = {
    [1] = { BL_XDP_MD_DATA, 0, 1 },
    [2] = { BL_XDP_MD_DATA_END, 8, 1 },
    [3] = { BL_XDP_MD_DATA_META, 16, 1 },
    [4] = { BL_XDP_MD_INGRESS_IFINDEX, 24, 0 },
    [5] = { BL_XDP_MD_RX_QUEUE_INDEX, 28, 0 },
    [6] = { BL_XDP_MD_EGRESS_IFINDEX, 32, 0 },
};

static int rewrite_ctx_load(struct bl_insn *i, unsigned field, char **err)
{
    if (field == 0 || field >= sizeof ctx_fields / sizeof ctx_fields[0]) {
        bl_set_err(err, "bad ctx field %u", field);
        return -EINVAL;
    }
    if (BL_CLASS(i->code) != BL_LDX) {
        bl_set_err(err, "ctx field %u accessed by a non-load", field);
        return -EINVAL;
    }
    int within = i->off - ctx_fields[field].md_off; /* narrow loads keep their byte offset */
    if (ctx_fields[field].is_pointer) {
        i->code = BL_LDX | BL_MEM | BL_DW;
        i->off = (int16_t)ctx_fields[field].ctx_off;
    } else {
        i->off = (int16_t)(ctx_fields[field].ctx_off + within);
    }
    return 0;
}

/* A linked copy of p's instructions (caller frees). */
static struct bl_insn *link_insns(bpflua_object *obj, const struct bl_prog *p, int rewrite_ctx,
                                  char **err)
{
    struct bl_insn *x = malloc(((size_t)p->n_insns + 1) * sizeof *x);
    if (!x) {
        bl_set_err(err, "out of memory");
        return NULL;
    }
    memcpy(x, p->insns, p->n_insns * sizeof *x);
    memset(&x[p->n_insns], 0, sizeof *x);
    for (uint32_t pc = 0; pc < p->n_insns; pc++) {
        int rc = 0;
        if (bl_is_lddw(&x[pc])) {
            if (pc + 1 >= p->n_insns) {
                bl_set_err(err, "insn %u: lddw without its second half", pc);
                rc = -EINVAL;
            } else {
                rc = link_lddw(obj, &x[pc], err);
                pc++;
            }
        } else if (rewrite_ctx && p->aux && p->aux[pc].ctx_field) {
            rc = rewrite_ctx_load(&x[pc], p->aux[pc].ctx_field, err);
        }
        if (rc < 0) {
            free(x);
            return NULL;
        }
    }
    return x;
}

/* ---- running ------------------------------------------------------------ */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int ensure_verified(bpflua_object *obj, size_t prog, struct bl_prog *p, char **err)
{
    if (p->verdict == 0) {
        int rc = bpflua_verify(obj, prog, 0, NULL, err, NULL);
        if (rc < 0)
            return rc;
    }
    if (p->verdict < 0) {
        bl_set_err(err, "%s", p->verify_error ? p->verify_error : "program rejected by the verifier");
        return -EACCES;
    }
    return 0;
}

/* The program a bpf_tail_call chose (env->tail_prog, cleared), verified,
 * linked and, for the JIT, compiled; NULL with *err set if it cannot run
 * (in the kernel a prog_array holds only loaded programs). */
static struct bl_prog *tail_target(bpflua_object *obj, struct bpflua_run_env *env, int jit,
                                   char **err)
{
    size_t idx = env->tail_prog - 1;
    struct bl_prog *t = bl_object_prog(obj, idx);
    env->tail_prog = 0;
    env->fault = 0;
    char *why = NULL;
    if (!t || ensure_verified(obj, idx, t, &why) < 0 ||
        (!t->exec_insns && !(t->exec_insns = link_insns(obj, t, 1, &why))) ||
        (jit && !t->jit && bl_jit_compile(t, &why) < 0)) {
        bl_set_err(err, "bpf_tail_call into program %zu (%s): %s", idx, t ? t->name : "none",
                   why ? why : "cannot run it");
        free(why);
        return NULL;
    }
    return t;
}

static int run_interp(bpflua_object *obj, struct bl_prog *p, struct bl_xdp_ctx *ctx,
                      uint64_t repeat, const struct bpflua_run_opts *opts, int guard,
                      struct bpflua_run_env *env, struct bpflua_run_result *res, char **err)
{
    const uint64_t args[5] = { (uint64_t)(uintptr_t)ctx, 0, 0, 0, 0 };
    struct bl_interp_result ir;
    void *code = NULL;  /* decoded once, reused by every fast run */
    int drain = bl_object_has_ringbuf(obj);
    for (uint64_t r = 0; r < repeat; r++) {
        struct bl_prog *cur = p;
        uint64_t insns = 0;
        env->tail_calls = 0;
        env->redirect_key = 0;
        for (;;) {
            /* the first run counts instructions; the rest run at full speed
             * unless a limit must be enforced. Guarded (test) runs also hold
             * the first run to the verifier's proven bound: going past it
             * would be a verifier bug */
            uint64_t proven = guard && cur->max_insns ? cur->max_insns : 0;
            uint64_t limit = opts->max_insns;
            if (r == 0 && proven && (!limit || proven < limit))
                limit = proven;
            struct bl_interp_opts io = { .count = r == 0, .max_insns = limit,
                                         .code_cache = cur == p ? &code : NULL, .guard = guard };
            int rc = bl_interp_exec(cur->exec_insns, cur->n_insns, args, &io, env, &ir);
            if (rc < 0) {
                free(code);
                if (rc == -ETIME && limit == proven && limit != opts->max_insns)
                    bl_set_err(err, "%s: the run went past the verifier's proven bound of "
                               "%llu instructions (a verifier bug)", ir.msg,
                               (unsigned long long)proven);
                else if (rc == -ETIME)
                    bl_set_err(err, "%s: the run needs more than the --max-insns limit of %llu "
                               "instructions (the verifier's proven bound is %llu)", ir.msg,
                               (unsigned long long)limit, (unsigned long long)cur->max_insns);
                else
                    bl_set_err(err, "%s", ir.msg);
                return rc;
            }
            insns += ir.insns;
            if (!env->tail_prog)
                break;
            if (!(cur = tail_target(obj, env, 0, err))) {
                free(code);
                return -EACCES;
            }
        }
        if (r == 0)
            res->insns = insns;
        res->retval = ir.r0;
        int drc = drain ? bl_events_drain(obj, r == 0) : 0;
        if (drc < 0) {
            free(code);
            bl_set_err(err, "cannot keep the run's events: out of memory");
            return drc;
        }
    }
    free(code);
    return 0;
}

static int run_jit(bpflua_object *obj, struct bl_prog *p, struct bl_xdp_ctx *ctx, uint64_t repeat,
                   struct bpflua_run_env *env, struct bpflua_run_result *res, char **err)
{
    if (!p->jit) {
        int rc = bl_jit_compile(p, err);
        if (rc < 0)
            return rc;
    }
    int drain = bl_object_has_ringbuf(obj);
    for (uint64_t r = 0; r < repeat; r++) {
        struct bl_prog *cur = p;
        env->tail_calls = 0;
        env->redirect_key = 0;
        for (;;) {
            env->fault = 0;
            res->retval = bl_jit_run(cur->jit, ctx, env);
            if (!env->tail_prog)
                break;
            if (!(cur = tail_target(obj, env, 1, err)))
                return -EACCES;
        }
        if (env->fault)
            res->retval = 0;
        if (drain && bl_events_drain(obj, r == 0) < 0) {
            bl_set_err(err, "cannot keep the run's events: out of memory");
            return -ENOMEM;
        }
    }
    return 0;
}

int bpflua_run(bpflua_object *obj, size_t prog, void *pkt, size_t len,
               const struct bpflua_run_opts *opts, struct bpflua_run_result *res, char **err)
{
    static const struct bpflua_run_opts default_opts;
    struct bl_prog *p = bl_object_prog(obj, prog);
    if (!p || !res || (!pkt && len)) {
        bl_set_err(err, "bad arguments to bpflua_run");
        return -EINVAL;
    }
    if (!opts)
        opts = &default_opts;
    memset(res, 0, sizeof *res);
    res->redirect_key = -1;
    uint64_t repeat = opts->repeat ? opts->repeat : 1;
    bpflua_events_clear(obj);
    uint64_t t0 = now_ns();
    if (opts->cpu >= bl_num_cpus()) {
        bl_set_err(err, "CPU %u: this machine has CPUs 0 to %u", opts->cpu, bl_num_cpus() - 1);
        return -EINVAL;
    }
    bl_set_run_cpu(opts->cpu);

    int rc = ensure_verified(obj, prog, p, err);
    if (rc < 0)
        return rc;

    enum bpflua_engine engine = opts->engine;
    if (engine == BPFLUA_ENGINE_DEFAULT)
        engine = bl_jit_available() ? BPFLUA_ENGINE_JIT : BPFLUA_ENGINE_INTERP;
    if ((engine == BPFLUA_ENGINE_JIT || engine == BPFLUA_ENGINE_KERNEL) && opts->max_insns &&
        p->max_insns > opts->max_insns) {
        /* native code cannot stop midway: refuse what might not fit */
        bl_set_err(err, "the verifier's proven bound of %llu instructions exceeds the "
                   "--max-insns limit of %llu; %s cannot stop a run at a limit "
                   "(use the interpreter: --engine interp)",
                   (unsigned long long)p->max_insns, (unsigned long long)opts->max_insns,
                   engine == BPFLUA_ENGINE_JIT ? "the JIT" : "the kernel");
        return -E2BIG;
    }
    if (engine == BPFLUA_ENGINE_KERNEL) {
        /* the load is setup; the kernel times the runs itself */
        if ((rc = bl_kernel_load(obj, err)) < 0)
            return rc;
        uint64_t setup = now_ns() - t0;
        rc = bl_kernel_run(obj, prog, pkt, len, repeat, res, err);
        res->setup_ns = setup;
        return rc;
    }
    if (engine != BPFLUA_ENGINE_INTERP && engine != BPFLUA_ENGINE_JIT) {
        bl_set_err(err, "unknown engine %d", (int)engine);
        return -EINVAL;
    }
    if (engine == BPFLUA_ENGINE_JIT && !bl_jit_available()) {
        bl_set_err(err, "the JIT is not available on this machine");
        return -ENOTSUP;
    }
    if (!p->exec_insns) {
        p->exec_insns = link_insns(obj, p, 1, err);
        if (!p->exec_insns)
            return -EINVAL;
    }

    if (engine == BPFLUA_ENGINE_JIT && !p->jit && (rc = bl_jit_compile(p, err)) < 0)
        return rc;
    /* An XDP program sees at most BL_XDP_MAX_PACKET bytes (the verifier's
     * bounds assume no more): of a larger packet, only that much is its
     * data..data_end, as the linear part of a multi-buffer XDP frame; the
     * rest is left as it was. */
    size_t seen = len > BL_XDP_MAX_PACKET ? BL_XDP_MAX_PACKET : len;
    /* guarded mode: the program sees a copy of the packet whose last byte
     * is the last byte before a PROT_NONE page (data_end is that page) */
    int guard = bl_guard_wanted(opts->guard);
    struct bl_guard pg = { 0 };
    uint8_t empty[1];
    uint8_t *data = pkt ? pkt : empty;
    if (guard) {
        if (bl_guard_alloc(&pg, seen, 1, BL_GUARD_END) < 0) {
            bl_set_err(err, "cannot map a guarded packet of %zu bytes", seen);
            return -ENOMEM;
        }
        data = pg.mem;
        if (seen)
            memcpy(data, pkt, seen);
    }
    struct bl_xdp_ctx ctx = {
        .data = (uint64_t)(uintptr_t)data,
        .data_end = (uint64_t)(uintptr_t)(data + seen),
        .data_meta = (uint64_t)(uintptr_t)data,
        .ingress_ifindex = 1,
    };
    /* setup (verification, linking, JIT compile, guard pages) is timed
     * apart: ns_per_run is the runs alone */
    struct bpflua_run_env env = { .obj = obj, .mem = opts->mem, .n_mem = opts->n_mem,
                                  .prog_type = 6 /* BPF_PROG_TYPE_XDP: what runs today */ };
    uint64_t start = now_ns();
    if (engine == BPFLUA_ENGINE_INTERP)
        rc = run_interp(obj, p, &ctx, repeat, opts, guard, &env, res, err);
    else
        rc = run_jit(obj, p, &ctx, repeat, &env, res, err);
    res->tail_calls = env.tail_calls;
    res->redirect_key = res->retval == 4 && env.redirect_key ? (int64_t)env.redirect_key - 1 : -1;
    res->ns_per_run = (now_ns() - start) / repeat;
    res->setup_ns = start - t0;
    if (guard) {
        if (seen)
            memcpy(pkt, data, seen);
        if (bl_guard_check(&pg) < 0 && rc == 0) {
            bl_set_err(err, "guard: the program wrote outside its packet");
            rc = -EFAULT;
        }
        bl_guard_free(&pg);
        /* maps created in guarded mode keep their values behind guard pages
         * and canaries (stdlib/map_values.c); check (and restore) them all */
        for (uint32_t i = 0; obj->map_rt && i < obj->n_maps; i++) {
            if (bl_map_guard_check(obj->map_rt[i]) < 0 && rc == 0) {
                bl_set_err(err, "guard: the program wrote outside a value of map '%s'",
                           obj->maps[i].name);
                rc = -EFAULT;
            }
        }
    }
    return rc;
}

int bl_run_raw(bpflua_object *obj, size_t prog, void *mem, size_t mem_len, uint64_t max_insns,
               uint64_t *r0, char **err)
{
    struct bl_prog *p = bl_object_prog(obj, prog);
    if (!p || !r0 || (!mem && mem_len)) {
        bl_set_err(err, "bad arguments to bl_run_raw");
        return -EINVAL;
    }
    struct bl_insn *x = link_insns(obj, p, 0, err);
    if (!x)
        return -EINVAL;
    const uint64_t args[5] = { (uint64_t)(uintptr_t)mem, mem_len, 0, 0, 0 };
    struct bl_interp_opts io = {
        .raw = 1,
        .max_insns = max_insns,
        .regions = { { (uint64_t)(uintptr_t)mem, mem_len } },
        .n_regions = mem ? 1 : 0,
    };
    struct bpflua_run_env env = { .obj = obj };
    struct bl_interp_result ir;
    int rc = bl_interp_exec(x, p->n_insns, args, &io, &env, &ir);
    free(x);
    if (rc < 0) {
        bl_set_err(err, "%s", ir.msg);
        return rc;
    }
    *r0 = ir.r0;
    return 0;
}
