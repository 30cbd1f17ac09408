/* run.c - bpflua_run: verify, link the executable form, run in an engine.
 *
 * Linking makes p->exec_insns from p->insns: map lddws carry the runtime
 * map's address (src_reg 0), map-value lddws the value's address, and ctx
 * accesses the verifier marked (aux[i].ctx_field) use the sandbox's context
 * struct of the program's type (core/progtype.h) instead of the kernel's
 * view (struct xdp_md, struct __sk_buff, ...). Callback lddws (src_reg 4) stay pc-relative:
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
#include "progtype.h"
#include "skb.h"
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

/* A ctx access the verifier marked (aux.ctx_field: 1 + index of the field
 * in the type's table) made to read or write the sandbox's context struct:
 * packet pointers become 64-bit loads, other fields keep their size and
 * their byte offset within the field. */
static int rewrite_ctx_access(const struct bl_prog_type *t, struct bl_insn *i, unsigned field,
                              char **err)
{
    if (field == 0 || field > t->n_fields) {
        bl_set_err(err, "bad ctx field %u", field);
        return -EINVAL;
    }
    const struct bl_ctx_field *f = &t->fields[field - 1];
    if (BL_CLASS(i->code) != BL_LDX && BL_CLASS(i->code) != BL_STX) {
        bl_set_err(err, "ctx field %s accessed by an instruction that is no load or store",
                   f->name);
        return -EINVAL;
    }
    int within = i->off - f->off;
    if (f->kind != BL_CTX_SCALAR) {
        i->code = BL_LDX | BL_MEM | BL_DW;
        i->off = (int16_t)f->sb_off;
    } else {
        i->off = (int16_t)(f->sb_off + within);
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
            rc = rewrite_ctx_access(p->type, &x[pc], p->aux[pc].ctx_field, err);
        } else if (p->aux && p->aux[pc].zero_args) {
            /* helper call: off (0 in the kernel's encoding) carries the
             * registers the engines zero before calling (BL_CALL_ZERO_ARGS) */
            x[pc].off = (int16_t)p->aux[pc].zero_args;
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

static int run_interp(bpflua_object *obj, struct bl_prog *p, void *ctx,
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
                bl_ringbuf_release_outstanding();
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

/* apart from bpflua_run (noinline): the loop of repeated runs keeps its
 * state in registers; the first program's fast entry is called directly */
static __attribute__((noinline)) int run_jit(bpflua_object *obj, struct bl_prog *p, void *ctx,
                                             uint64_t repeat, struct bpflua_run_env *env,
                                             struct bpflua_run_result *res, char **err)
{
    if (!p->jit) {
        int rc = bl_jit_compile(p, err);
        if (rc < 0)
            return rc;
    }
    int drain = bl_object_has_ringbuf(obj);
    bl_jit_fast_fn fast = bl_jit_fast_entry(p->jit);
    uint64_t r = 0;
    int resume = 0;
    if (fast && !drain) {
        /* no events to drain, no run state, and fast code never faults:
         * until a tail call, a run is its call */
        for (; r < repeat; r++) {
            env->tail_calls = 0;
            env->redirect_key = 0;
            env->fault = 0;
            res->retval = fast(ctx, env);
            if (env->tail_prog)
                break;
        }
        resume = 1;              /* run r (if any) goes on at its tail call */
    }
    for (; r < repeat; r++) {
        if (!resume) {
            env->tail_calls = 0;
            env->redirect_key = 0;
            env->fault = 0;
            res->retval = fast ? fast(ctx, env) : bl_jit_run(p->jit, ctx, env);
        }
        resume = 0;
        for (struct bl_prog *cur; env->tail_prog;) {
            if (!(cur = tail_target(obj, env, 1, err)))
                return -EACCES;
            env->fault = 0;
            res->retval = bl_jit_run(cur->jit, ctx, env);
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

/* ---- contexts ------------------------------------------------------------ */

union sandbox_ctx {
    struct bl_xdp_ctx xdp;
    struct bl_skb_ctx skb;
    uint8_t raw[BL_MAX_RAW_CTX];
};

static void put32(uint8_t *md, int off, uint32_t v)
{
    memcpy(md + off, &v, 4);
}

/* __sk_buff fields the kernel's test run takes from ctx_in; any other
 * nonzero byte makes it fail with EINVAL, and so do we */
static int skb_ctx_in(uint8_t *md, const uint8_t *in, size_t len, char **err)
{
    static const struct { uint16_t off, size; } allowed[] = {
        { BL_SKB_MARK, 4 }, { BL_SKB_PRIORITY, 4 }, { BL_SKB_INGRESS_IFINDEX, 4 },
        { BL_SKB_IFINDEX, 4 }, { BL_SKB_CB, 20 }, { BL_SKB_TSTAMP, 8 },
        { BL_SKB_WIRE_LEN, 4 }, { BL_SKB_GSO_SEGS, 4 }, { BL_SKB_GSO_SIZE, 4 },
        { BL_SKB_HWTSTAMP, 8 },
    };
    if (len > BL_SKB_SIZE) {
        bl_set_err(err, "the context is %zu bytes, struct __sk_buff has %d", len, BL_SKB_SIZE);
        return -EINVAL;
    }
    for (size_t b = 0; b < len; b++) {
        int ok = 0;
        for (size_t k = 0; k < sizeof allowed / sizeof allowed[0]; k++)
            ok |= b >= allowed[k].off && b < (size_t)allowed[k].off + allowed[k].size;
        if (!ok && in[b]) {
            bl_set_err(err, "byte %zu of the __sk_buff context is not zero: a test run may set "
                       "only mark, priority, ingress_ifindex, ifindex, cb, tstamp, wire_len, "
                       "gso_segs, gso_size and hwtstamp (as the kernel's)", b);
            return -EINVAL;
        }
        if (ok)
            md[b] = in[b];
    }
    return 0;
}

static uint32_t get_be(const uint8_t *p, int n)
{
    uint32_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/* struct __sk_buff over pkt as the kernel's BPF_PROG_TEST_RUN builds it on
 * the loopback device: tc types see the Ethernet header, the others start
 * at the network header; protocol and pkt_type as eth_type_trans sets
 * them; family and addresses from the IP header (its fake socket). */
static int build_skb(const struct bl_prog_type *t, uint8_t *pkt, size_t len,
                     const struct bpflua_run_opts *opts, struct bl_skb_ctx *c, char **err)
{
    memset(c, 0, sizeof *c);
    int l2 = t->kernel_type == 3 || t->kernel_type == 4; /* sched_cls, sched_act */
    if (len < 14 && !l2) {
        bl_set_err(err, "a %s packet needs an Ethernet header (14 bytes), this one has %zu",
                   t->name, len);
        return -EINVAL;
    }
    uint8_t *md = c->md;
    uint32_t ifindex = opts->ifindex ? opts->ifindex : 1;
    put32(md, BL_SKB_INGRESS_IFINDEX, ifindex);
    put32(md, BL_SKB_IFINDEX, ifindex);
    if (opts->ctx && opts->ctx_len) {
        int rc = skb_ctx_in(md, opts->ctx, opts->ctx_len, err);
        if (rc < 0)
            return rc;
    }
    if (opts->mark)
        put32(md, BL_SKB_MARK, opts->mark);
    if (opts->priority)
        put32(md, BL_SKB_PRIORITY, opts->priority);
    /* eth_type_trans on lo: a group address is multicast (lo's broadcast
     * address is all zero), other host unless it is lo's all-zero address */
    static const uint8_t zero[6];
    uint32_t pkt_type = len < 6 ? 0 : (pkt[0] & 1) ? 2 : memcmp(pkt, zero, 6) == 0 ? 0 : 3;
    put32(md, BL_SKB_PKT_TYPE, pkt_type);
    /* (the kernel refuses frames shorter than 15 bytes; tc programs of the
     * language run on them with protocol 0: LANGUAGE.md 'tc programs') */
    uint16_t proto = len < 14 ? 0 : (uint16_t)get_be(pkt + 12, 2);
    if (len >= 14 && proto < 0x600) /* an 802.3 length: raw IPX (0xffff) or 802.2 LLC */
        proto = len >= 16 && pkt[14] == 0xff && pkt[15] == 0xff ? 1 : 4;
    put32(md, BL_SKB_PROTOCOL, (uint32_t)(uint16_t)((proto >> 8) | (proto << 8))); /* __be16 */
    uint8_t *data = l2 ? pkt : pkt + 14;
    size_t dlen = l2 ? len : len - 14;
    put32(md, BL_SKB_LEN, (uint32_t)dlen);
    uint32_t wire;
    memcpy(&wire, md + BL_SKB_WIRE_LEN, 4);
    if (!wire)
        put32(md, BL_SKB_WIRE_LEN, (uint32_t)dlen);
    const uint8_t *ip = pkt + 14;
    size_t iplen = len < 14 ? 0 : len - 14;
    if (proto == 0x0800 && iplen >= 20) {
        put32(md, BL_SKB_FAMILY, 2);                      /* AF_INET */
        memcpy(md + BL_SKB_LOCAL_IP4, ip + 12, 4);        /* sk_rcv_saddr = saddr */
        memcpy(md + BL_SKB_REMOTE_IP4, ip + 16, 4);       /* sk_daddr = daddr */
    } else if (proto == 0x86dd && iplen >= 40) {
        put32(md, BL_SKB_FAMILY, 10);                     /* AF_INET6 */
        memcpy(md + BL_SKB_LOCAL_IP6, ip + 8, 16);
        memcpy(md + BL_SKB_REMOTE_IP6, ip + 24, 16);
    }
    /* its socket (struct bpf_sock): the same family and addresses */
    memcpy(c->sock + BL_SOCK_FAMILY, md + BL_SKB_FAMILY, 4);
    memcpy(c->sock + BL_SOCK_SRC_IP4, md + BL_SKB_LOCAL_IP4, 4);
    memcpy(c->sock + BL_SOCK_DST_IP4, md + BL_SKB_REMOTE_IP4, 4);
    memcpy(c->sock + BL_SOCK_SRC_IP6, md + BL_SKB_LOCAL_IP6, 16);
    memcpy(c->sock + BL_SOCK_DST_IP6, md + BL_SKB_REMOTE_IP6, 16);
    put32(c->sock, BL_SOCK_STATE, 7);             /* TCP_CLOSE */
    put32(c->sock, BL_SOCK_RX_QUEUE, UINT32_MAX); /* -1: none */
    uint64_t sk = (uint64_t)(uintptr_t)c->sock;
    memcpy(md + BL_SKB_SK, &sk, 8);
    c->data = (uint64_t)(uintptr_t)data;
    c->data_end = (uint64_t)(uintptr_t)(data + dlen);
    c->data_meta = c->data;
    c->l2 = (uint32_t)l2;
    return 0;
}

/* The pointers of a raw context (sock_ops' sk, skb_data, skb_data_end) are
 * the sandbox's, never the --ctx bytes: no socket (NULL, which the verifier
 * made the program test) and an empty packet. */
static void raw_ctx_pointers(const struct bl_prog_type *t, uint8_t *raw)
{
    static uint8_t empty_packet[1];
    for (uint32_t i = 0; i < t->n_fields; i++) {
        const struct bl_ctx_field *f = &t->fields[i];
        if (f->kind == BL_CTX_SCALAR)
            continue;
        uint64_t v = 0;
        if (f->kind == BL_CTX_PKT || f->kind == BL_CTX_PKT_END || f->kind == BL_CTX_PKT_META)
            v = (uint64_t)(uintptr_t)empty_packet;
        memcpy(raw + f->sb_off, &v, 8);
    }
}

static int build_ctx(const struct bl_prog_type *t, uint8_t *data, size_t len,
                     const struct bpflua_run_opts *opts, union sandbox_ctx *ctx, char **err)
{
    memset(ctx, 0, sizeof *ctx);
    switch (t->build) {
    case BL_BUILD_XDP:
        ctx->xdp = (struct bl_xdp_ctx){
            .data = (uint64_t)(uintptr_t)data,
            .data_end = (uint64_t)(uintptr_t)(data + len),
            .data_meta = (uint64_t)(uintptr_t)data,
            .ingress_ifindex = opts->ifindex ? opts->ifindex : 1,
        };
        return 0;
    case BL_BUILD_SKB:
        return build_skb(t, data, len, opts, &ctx->skb, err);
    case BL_BUILD_RAW:
        if (opts->ctx_len > t->sb_ctx_size || opts->ctx_len > sizeof ctx->raw) {
            bl_set_err(err, "the context is %zu bytes, a %s context has %u", opts->ctx_len,
                       t->name, t->sb_ctx_size);
            return -EINVAL;
        }
        if (opts->ctx_len)
            memcpy(ctx->raw, opts->ctx, opts->ctx_len);
        raw_ctx_pointers(t, ctx->raw);
        return 0;
    default:
        bl_set_err(err, "the sandbox cannot run %s programs (verify only)", t->name);
        return -ENOTSUP;
    }
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
        rc = bl_kernel_run_opts(obj, prog, pkt, len, opts, res, err);
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
    /* A program sees at most its type's max_packet bytes (the verifier's
     * bounds on data_end - data assume no more): of a larger packet, only
     * that much is its data..data_end, as the linear part of a multi-buffer
     * frame; the rest is left as it was. */
    size_t seen = p->type->packet && p->type->max_packet && len > p->type->max_packet
                      ? p->type->max_packet : len;
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
    union sandbox_ctx ctx;
    rc = build_ctx(p->type, data, seen, opts, &ctx, err);
    if (rc < 0) {
        if (guard)
            bl_guard_free(&pg);
        return rc;
    }
    /* setup (verification, linking, JIT compile, guard pages) is timed
     * apart: ns_per_run is the runs alone */
    struct bpflua_run_env env = { .obj = obj, .mem = opts->mem, .n_mem = opts->n_mem,
                                  .prog_type = p->type->kernel_type,
                                  .packet_ctx = p->type->build == BL_BUILD_XDP ||
                                                p->type->build == BL_BUILD_SKB };
    uint64_t start = now_ns();
    if (engine == BPFLUA_ENGINE_INTERP)
        rc = run_interp(obj, p, &ctx, repeat, opts, guard, &env, res, err);
    else
        rc = run_jit(obj, p, &ctx, repeat, &env, res, err);
    res->tail_calls = env.tail_calls;
    res->redirect_key = res->retval == 4 && env.redirect_key ? (int64_t)env.redirect_key - 1 : -1;
    res->ns_per_run = (now_ns() - start) / repeat;
    res->setup_ns = start - t0;
    if (p->type->build == BL_BUILD_SKB) {
        memcpy(&res->mark, ctx.skb.md + BL_SKB_MARK, 4);
        memcpy(&res->priority, ctx.skb.md + BL_SKB_PRIORITY, 4);
    }
    /* the run's socket (skb->sk) is gone, and with it its sk_storage, as
     * the kernel's test run frees the socket it made */
    for (uint32_t i = 0; obj->map_rt && i < obj->n_maps; i++)
        if (obj->maps[i].type == BPFLUA_MAP_SK_STORAGE)
            bl_sk_storage_clear(obj->map_rt[i]);
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
