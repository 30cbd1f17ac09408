/* interp.c - the eBPF interpreter: exact RFC 9669 semantics, computed-goto
 * dispatch (vm/interp_loop.h, instantiated once per mode), BPF-to-BPF calls
 * on a frame stack of 8 x 512 bytes, helpers by id, and callbacks for
 * bpf_loop through env->call.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asm.h"
#include "guard.h"
#include "helpers.h"
#include "interp.h"
#include "skb.h"

/* The verified loop runs a pre-decoded, direct-threaded copy: each slot
 * holds its handler's address and whole-byte register numbers, so dispatch
 * is one indirect jump with no table lookup or bit-field decoding. Slots
 * stay 1:1 with instructions, so jump offsets need no rewriting. */
struct dinsn {
    const void *handler;
    uint8_t dst, src;
    int16_t off;
    int32_t imm;
};

/* What a loop's entry does for its callback instead of the callback's
 * first instructions (callback_prologue): its leading `mov rX, r1` and
 * `mov rY, r2` (pi = X, pc = Y; BL_NREGS, a scratch slot, when absent),
 * then, kind 1 or 2, the index transform the compiler puts after them:
 * rZ = i * mul + add (kind 1: `mul rZ, K` or `lsh rZ, K`, then `add rZ, K`,
 * either optional), or rZ = i * mul + rW where rW = the 8 bytes at ctx + off
 * (kind 2: `ldxdw rW, [ctx+off]; add rZ, rW` after the optional mul); Z is
 * X, or R1 without the first mov. npro instructions in all. */
struct loop_pro {
    uint8_t pi, pc, npro, kind;
    uint8_t x, y;
    int16_t off;
    uint64_t mul, add;
    /* the iterations after the first (whose entry does all of the above)
     * store only what the callback may read and change (callback_trim):
     * i into reg[a] (a register or the scratch slot), then `next`, the
     * dispatch loop's code for the rest: nx_full (all of the prologue),
     * nx_k1 and nx_k2 (the index transform of kind 1 and 2: reg[x] = i *
     * mul + add, or + the 8 bytes at ctx + off), or, with nothing more
     * to do, the handler of the callback's first instruction after it */
    const void *next;
    uint8_t a;
    /* the callback never reads R10: it runs in no stack frame of its own,
     * so a loop's start and end leave R10 and the frame depth alone (a
     * call it makes takes the frame the callback would have had) */
    uint8_t light;
    /* the registers the callback may change (bit r: Rr), its prologue's
     * mov into pc aside (which changes nothing when the caller passes ctx
     * in that register); 0xffff when unknown */
    uint16_t clob;
    /* pros[0] only: where the helper table starts (decode_program), in
     * loop_pro entries from pros */
    uint32_t aux;
};

/* a callback entered as it is (no prologue done for it) */
static const struct loop_pro plain_pro = { .pi = BL_NREGS, .pc = BL_NREGS, .mul = 1, .a = BL_R1,
                                           .clob = 0xffff };

struct call_frame {
    const void *ret;           /* the instruction after the call */
    uint64_t saved[4];         /* r6..r9 */
    uint64_t r10;              /* the caller's R10 (a call's, a framed loop's) */
    /* a bpf_loop frame (the callback frame, reused for every iteration):
     * the enclosing loop's state, which the loop keeps in locals of the
     * dispatch loop while it runs, restored when this loop ends */
    uint8_t keep;              /* a loop's: R6-R9 saved at all (bits 0-3) */
    const void *o_entry;
    const struct loop_pro *o_pro;
    uint64_t o_ctx;
    uint32_t o_i, o_n;
    unsigned o_top;
};

struct interp_state {
    const struct bl_insn *insns;
    uint32_t n_insns;
    struct dinsn *dcode;       /* n_insns slots for the direct-threaded loop */
    int decoded;
    unsigned depth;            /* frames in use */
    unsigned max_depth;        /* the most frames in use at once (guarded runs) */
    uint64_t count, budget;
    int error;                 /* negative errno once a run failed */
    int inline_loop;           /* helper ids are the kernel's: run bpf_loop here */
    const struct bpflua_helper *(*helper_find)(uint32_t id);
    struct bpflua_run_env *env;
    uint64_t (*exec)(struct interp_state *st, uint32_t start, const uint64_t args[5]);
    const struct bl_interp_opts *opts;
    char *msg;                 /* res->msg */
    size_t msg_cap;
    uint64_t top0;             /* R10 of frame 0 */
    int64_t frame_stride;      /* frame d's R10 is top0 + d * frame_stride */
    _Alignas(16) uint8_t stack[BL_MAX_CALL_DEPTH * BL_STACK_SIZE];
};

/* R10 of frame d: frame 0 at the top of the stack area, deeper frames below */
static inline uint64_t frame_top(const struct interp_state *st, unsigned d)
{
    return st->top0 + (uint64_t)((int64_t)d * st->frame_stride);
}

/* Guarded frames: one mapping per thread, reused by every run (a nested
 * run on the same thread maps its own). */
static _Thread_local struct bl_guard frame_cache;
static _Thread_local int frame_cache_busy;

static int guard_frames_get(struct bl_guard **out, struct bl_guard *own)
{
    if (!frame_cache_busy) {
        if (!frame_cache.map &&
            bl_guard_alloc(&frame_cache, BL_STACK_SIZE, BL_MAX_CALL_DEPTH, BL_GUARD_START) < 0)
            return -ENOMEM;
        frame_cache_busy = 1;
        *out = &frame_cache;
        return 0;
    }
    if (bl_guard_alloc(own, BL_STACK_SIZE, BL_MAX_CALL_DEPTH, BL_GUARD_START) < 0)
        return -ENOMEM;
    *out = own;
    return 0;
}

static int guard_frames_put(struct bl_guard *g, struct bl_guard *own, unsigned used)
{
    int rc = bl_guard_check_elems(g, 0, used);
    if (g == &frame_cache)
        frame_cache_busy = 0;
    else
        bl_guard_free(own);
    return rc;
}

__attribute__((format(printf, 4, 5), cold))
static void interp_fail(struct interp_state *st, long pc, int error, const char *fmt, ...)
{
    if (st->error)
        return;
    st->error = error;
    st->env->fault = 1;
    int len = snprintf(st->msg, st->msg_cap, "insn %ld: ", pc);
    if (len < 0 || (size_t)len >= st->msg_cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(st->msg + len, st->msg_cap - (size_t)len, fmt, ap);
    va_end(ap);
}

/* raw mode: is [addr, addr+size) inside the stack or a given region? */
static int mem_ok(const struct interp_state *st, uint64_t addr, uint64_t size)
{
    uint64_t lo = (uint64_t)(uintptr_t)st->stack;
    if (addr >= lo && addr - lo <= sizeof st->stack && sizeof st->stack - (addr - lo) >= size)
        return 1;
    for (unsigned r = 0; r < st->opts->n_regions; r++) {
        const struct bl_mem_region *m = &st->opts->regions[r];
        if (addr >= m->start && addr - m->start <= m->len && m->len - (addr - m->start) >= size)
            return 1;
    }
    return 0;
}

__attribute__((cold))
static void mem_fail(struct interp_state *st, long pc, uint64_t addr,
                     uint64_t size, const char *what)
{
    interp_fail(st, pc, -EFAULT, "out of bounds memory %s of %llu bytes at 0x%llx", what,
                (unsigned long long)size, (unsigned long long)addr);
}

/* raw mode: the kernel's helpers trust their pointer arguments, which only
 * the verifier can vouch for; unverified code may call the others */
static int scalar_args_only(const struct bpflua_helper *h)
{
    for (int k = 0; k < 5; k++) {
        enum bpflua_arg_type t = h->args[k];
        if (t != BPFLUA_ARG_NONE && t != BPFLUA_ARG_ANYTHING && t != BPFLUA_ARG_CONST_SIZE &&
            t != BPFLUA_ARG_CONST_SIZE_OR_ZERO)
            return 0;
    }
    return 1;
}

/* Superinstructions for the pairs the compiler emits most (measured on
 * tests/bench/progs): the first slot of a pair gets a fused handler, the
 * second keeps its own, so a jump into the middle of a pair still works.
 * One triple, the memory add of a loop body's `s = s + i` (the local's
 * value goes from load to add to store without a round trip through the
 * register array: that round trip was the loop-carried latency), and the
 * loop callback prologue mov+mov. */
static int is_op(const struct bl_insn *i, uint8_t code)
{
    return i->code == code && i->off == 0;
}

/* the fused handlers' addresses, from the verified loop */
struct fused_handlers {
    const void *ldxdw_mov, *mov_add, *mov_addk, *movk_exit, *movx_exit, *ldxdw_add,
        *add_stxdw, *ldxdw_mul, *mov_ldxdw, *mov_mov, *ldxdw_add_stxdw, *ldxdw_mulself,
        *ldxdw_xor, *ldxdw_ldxdw, *movk0_exit;
    const void *ldxdw_sub, *ldxdw_and, *ldxdw_or;
    const void *mov_opk[16];        /* by BL_OP >> 4: mov rA, rB; op rA, K */
    const void *op_stxdw[16];       /* by BL_OP >> 4: op rA, rB; stxdw [rC+o], rA */
    const void *ldxdw_jeq0, *ldxdw_jne0, *stdw0_stdw0, *movk_stxdw, *mov_movk;
    const void *mov_reg0, *call_loop;  /* single: mov rA, rB (off 0); call 181 */
    const void *call_local;            /* a BPF-to-BPF call */
    const void *call_helper;           /* a helper found at decode (its table index in imm) */
    const void *ldxdw_opk[16];     /* by BL_OP >> 4: ldxdw rA, [..]; op rA, K */
    const void *ldxdw_opx[16];     /* by BL_OP >> 4: ldxdw rA, [..]; op rA, rC */
    const void *opx_mov[16];       /* by BL_OP >> 4: op rA, rB; mov rC, rA */
    const void *mov_opx[16];       /* by BL_OP >> 4: mov rA, rB; op rA, rC */
    const void *movk_movk, *stxdw_ldxdw, *mulk_ldxdw_add;
    /* the same groups (and a lone stxdw) followed by `mov r0, 0; exit` */
    const void *ldxdw_add_stxdw_next, *add_stxdw_next, *stxdw_next, *stdw_next;
    /* by the first op's BL_OP >> 4: op rA, rB; ldxdw rC, [..]; add/xor rA, rC */
    const void *opx_ldxdw_addx[16], *opx_ldxdw_xorx[16];
    /* lddw r2, func; mov r3, rX; mov r4, 0; call 181 */
    const void *loop_call;
    /* a loop's trip count: jsgt/jslt rA, rB, +o; mov rC, rX; sub rC, rY;
     * [div rC, K;] jge rC, L, +p; add rC, M */
    const void *trip[4];            /* by trip_kind - 1 */
    const void *stxdw_trip[4];      /* stxdw [rB+o], rA (the step's slot), then the trip count */
    /* a loop's next iteration (struct loop_pro) */
    const void *nx_full, *nx_k1, *nx_k2, *nx_none;
    const void *stxdw_movk, *ldxdw_stxdw, *stdw_loop_call;
    /* the compiler's launder (mov r0, 0; lock add [rB+o], r0: adds 0), alone,
     * after a store or the memory add, and followed by `mov r0, 0; exit` */
    const void *launder, *stxdw_launder, *ldxdw_add_stxdw_launder, *launder_next;
    /* by BL_OP >> 4: ldxdw rA, [rB+o]; op rA, rC (or K); stxdw [rB+o], rA */
    const void *mem_opx[16], *mem_opk[16];
    /* the memory ops above whose base register holds the loop's ctx
     * (ctx_bases): based on the dispatch loop's l_ctx instead */
    const void *c_ldxdw, *c_stxdw, *c_stdw, *c_stxdw_next, *c_stdw_next, *c_ldxdw_ldxdw,
        *c_stdw0_stdw0, *c_add_stxdw, *c_add_stxdw_next, *c_movk_stxdw, *c_stxdw_ldxdw,
        *c_ldxdw_add_stxdw, *c_ldxdw_add_stxdw_next, *c_ldxdw_jeq0, *c_ldxdw_jne0;
    const void *c_ldxdw_opk[16], *c_ldxdw_opx[16], *c_opx_ldxdw_addx[16], *c_opx_ldxdw_xorx[16];
};

/* in[k], in[k + 1]: `mov r0, 0; exit` */
static int is_movk0_exit(const struct bl_insn *in, uint32_t n, uint32_t k)
{
    return k + 1 < n && is_op(&in[k], BL_ALU64 | BL_K | BL_MOV) && in[k].dst == BL_R0 &&
           in[k].imm == 0 && in[k + 1].code == (BL_JMP | BL_EXIT);
}

/* in[k], in[k + 1]: `mov r0, 0; lock add [rB+o], r0` (32 or 64 bits, no
 * fetch), how the compiler makes the kernel verifier forget a variable
 * written in a loop body (compiler/codegen.lua, G:launder): the memory
 * keeps its value, so only R0 = 0 is left to do */
static int is_launder(const struct bl_insn *in, uint32_t n, uint32_t k)
{
    return k + 1 < n && is_op(&in[k], BL_ALU64 | BL_K | BL_MOV) && in[k].dst == BL_R0 &&
           in[k].imm == 0 && (in[k + 1].code == (BL_STX | BL_ATOMIC | BL_DW) ||
                              in[k + 1].code == (BL_STX | BL_ATOMIC | BL_W)) &&
           in[k + 1].imm == BL_ADD && in[k + 1].src == BL_R0;
}

/* A loop callback's leading `mov rX, r1` and `mov rY, r2` (at most one of
 * each, X and Y distinct and none of R1, R2, R10: each mov's source still
 * holds i or ctx) and the index transform after them (struct loop_pro),
 * which a loop's entry does for the callback as stores of values it has. */
static struct loop_pro callback_prologue(const struct bl_insn *q, uint32_t room)
{
    struct loop_pro p = { .pi = BL_NREGS, .pc = BL_NREGS, .mul = 1 };
    unsigned n = 0;
    while (n < 2 && n < room) {
        const struct bl_insn *m = &q[n];
        if (m->code != (BL_ALU64 | BL_X | BL_MOV) || m->off != 0 || m->dst == BL_R1 ||
            m->dst == BL_R2 || m->dst >= BL_R10 || m->dst == p.pi || m->dst == p.pc)
            break;
        if (m->src == BL_R1 && p.pi == BL_NREGS)
            p.pi = m->dst;
        else if (m->src == BL_R2 && p.pc == BL_NREGS)
            p.pc = m->dst;
        else
            break;
        n++;
    }
    /* the index (still i): in X, or in R1 without `mov rX, r1` */
    p.x = p.pi != BL_NREGS ? p.pi : BL_R1;
    const struct bl_insn *m = &q[n];
    if (n < room && is_op(m, BL_ALU64 | BL_K | BL_MUL) && m->dst == p.x) {
        p.mul = (uint64_t)(int64_t)m->imm;
        p.kind = 1;
        m++, n++;
    } else if (n < room && is_op(m, BL_ALU64 | BL_K | BL_LSH) && m->dst == p.x && m->imm >= 0 &&
               m->imm < 64) {
        p.mul = (uint64_t)1 << m->imm;
        p.kind = 1;
        m++, n++;
    }
    if (n < room && is_op(m, BL_ALU64 | BL_K | BL_ADD) && m->dst == p.x) {
        p.add = (uint64_t)(int64_t)m->imm;
        p.kind = 1;
        n++;
    } else if (n + 1 < room && m->code == (BL_LDX | BL_MEM | BL_DW) &&
               (m->src == BL_R2 || m->src == p.pc) && m->dst != p.x && m->dst < BL_R10 &&
               is_op(&m[1], BL_ALU64 | BL_X | BL_ADD) && m[1].dst == p.x && m[1].src == m->dst) {
        /* ldxdw rW, [ctx+off]; add rZ, rW */
        p.y = m->dst;
        p.off = m->off;
        p.kind = 2;
        n += 2;
    }
    p.npro = (uint8_t)n;
    return p;
}

/* callback_liveness's buffers, shared by a program's callbacks: seen[k] is
 * valid while stamp[k] is the walk's number */
struct walk_bufs {
    uint16_t kept;             /* R6-R9 any bpf_loop the walk meets keeps (loop_keep) */
    /* args[k], a BPF-to-BPF call at k: the registers of R1-R5 its callee
     * may read before writing them (NULL: all five) */
    const uint8_t *args;
    uint32_t *stamp, walk;
    uint16_t *seen;
    struct walk_item { uint32_t k; uint16_t m; } *todo;
    size_t cap;
};

/* The registers of `want` that the code from insn `entry` on may read before
 * writing them (*live) and the registers any instruction it reaches may
 * write (*written), following jumps to its exits (a BPF-to-BPF or helper
 * call reads R1-R5 and writes R0-R5, as the verifier holds code to assume;
 * the callee's own code is not followed: R6-R9 come back unchanged). -1
 * when it leaves the program or cannot allocate. A BPF-to-BPF call reads
 * only the arguments its callee reads (w->args) when those are known. */
static int callback_liveness(const struct bl_insn *in, uint32_t n, uint32_t entry, uint16_t want,
                             struct walk_bufs *w, uint16_t *live, uint16_t *written)
{
    *live = *written = 0;
    if (!w->stamp || !w->seen || !w->todo || entry >= n)
        return -1;
    /* seen[k]: the union of the not-yet-written sets k was reached with (a
     * subset of it finds no read the union did not); 0x8000: walked */
    uint32_t id = ++w->walk;
    size_t top = 0;
    w->todo[top].k = entry;
    w->todo[top++].m = want;
    while (top > 0) {
        uint32_t k = w->todo[--top].k;
        uint16_t m = w->todo[top].m;
        for (;;) {
            if (k >= n)
                return -1;
            if (w->stamp[k] != id) {
                w->stamp[k] = id;
                w->seen[k] = 0;
            }
            if (w->seen[k] && (m & ~w->seen[k]) == 0)
                break;
            w->seen[k] |= m | 0x8000;
            const struct bl_insn *q = &in[k];
            uint16_t use, def;
            bl_insn_use_def(q, &use, &def);
            if (w->args && q->code == (BL_JMP | BL_CALL) && q->src == BL_PSEUDO_CALL)
                use = w->args[k];
            *live |= use & m;
            *written |= def;
            m &= (uint16_t)~def;
            uint8_t cls = BL_CLASS(q->code), op = BL_OP(q->code);
            if (bl_is_lddw(q)) {
                k += 2;
                continue;
            }
            if (cls != BL_JMP && cls != BL_JMP32) {
                k++;
                continue;
            }
            if (op == BL_EXIT)
                break;
            if (op == BL_CALL) {
                /* a bpf_loop run here keeps only some of R6-R9 (loop_keep):
                 * its callback may change the others */
                if (BL_SRC(q->code) == BL_X || (q->src == 0 && q->imm == BL_HELPER_LOOP))
                    *written |= (uint16_t)(0xf << BL_R6 & ~w->kept);
                k++;
                continue;
            }
            int64_t t = (int64_t)k + 1 + (cls == BL_JMP32 && op == BL_JA ? q->imm : q->off);
            if (t < 0 || t >= n)
                return -1;
            if (op == BL_JA) {
                k = (uint32_t)t;
                continue;
            }
            if (top == w->cap) {
                void *more = realloc(w->todo, w->cap * 2 * sizeof *w->todo);
                if (!more)
                    return -1;
                w->todo = more;
                w->cap *= 2;
            }
            w->todo[top].k = (uint32_t)t;
            w->todo[top++].m = m;
            k++;
        }
    }
    return 0;
}

/* Picks the code for a callback's iterations after the first (struct
 * loop_pro's next and a) from what the callback reads of the registers its
 * prologue sets and whether it changes those that hold ctx. */
static void callback_trim(struct loop_pro *p, const struct bl_insn *in, uint32_t n,
                          uint32_t cb, struct walk_bufs *w, const struct fused_handlers *h)
{
    p->next = h->nx_full;
    p->a = BL_R1;
    uint16_t want = 1u << BL_R1 | 1u << BL_R2, live, written;
    if (p->pi != BL_NREGS)
        want |= (uint16_t)(1u << p->pi);
    if (p->pc != BL_NREGS)
        want |= (uint16_t)(1u << p->pc);
    if (p->kind == 2)
        want |= (uint16_t)(1u << p->y);
    p->clob = 0xffff;
    if (callback_liveness(in, n, cb + p->npro, want, w, &live, &written) < 0)
        return;
    p->clob = (uint16_t)(written | 1u << p->pi | 1u << p->x);
    if (p->kind == 2)
        p->clob |= (uint16_t)(1u << p->y);
#define BIT(r) (1u << (r))
    unsigned y = p->kind == 2 ? p->y : BL_NREGS, x = p->kind ? p->x : BL_NREGS;
    int need_r1 = (live & BIT(BL_R1)) && x != BL_R1 && y != BL_R1;
    int need_r2 = (live & written & BIT(BL_R2)) && y != BL_R2;
    int need_pi = p->pi != BL_NREGS && (live & BIT(p->pi)) && x != p->pi && y != p->pi;
    int need_pc = p->pc != BL_NREGS && (live & written & BIT(p->pc)) && y != p->pc;
    int need_y = y != BL_NREGS && (live & BIT(y));
#undef BIT
    if (need_r2 || need_pc || need_y || (need_r1 && need_pi))
        return;
    p->a = need_r1 ? BL_R1 : need_pi ? p->pi : BL_NREGS;
    p->next = p->kind == 2 ? h->nx_k2 : p->kind == 1 ? h->nx_k1 : h->nx_none;
}

/* Which of R6-R9 (bits 0-3) a loop started at a call returning to insn
 * `ret` must save and restore around its callback p, ctx passed in rX:
 * those the callback may change that the code after the call may read
 * before writing them, and the prologue registers of the callbacks
 * whose code has the call (w->kept), which their later iterations may
 * read as the first one set them (callback_trim). The rest of R6-R9 are dead at any exit: a callback
 * writes them before reading (the verifier holds it to), and a
 * function's caller gets its own back from the call's frame. */
static uint8_t loop_keep(const struct loop_pro *p, const struct bl_insn *in, uint32_t n,
                         uint32_t ret, unsigned x, struct walk_bufs *w)
{
    if (p->clob == 0xffff)
        return 0xf;
    const uint16_t r6_r9 = 0xf << BL_R6;
    uint16_t live, written, clob = p->clob;
    if (p->pc != x && p->pc < BL_NREGS)
        clob |= (uint16_t)(1u << p->pc);
    if (callback_liveness(in, n, ret, r6_r9, w, &live, &written) < 0)
        return 0xf;
    return (uint8_t)((clob & (live | w->kept) & r6_r9) >> BL_R6);
}

/* The decoded form (st->dcode): n slots, then n uint16_t indexes into the
 * table of callback prologues (0: none known, the plain entry), then the
 * table, from the offset this gives. */
static size_t pro_table_offset(uint32_t n)
{
    size_t off = (size_t)n * (sizeof(struct dinsn) + sizeof(uint16_t));
    size_t al = _Alignof(struct loop_pro);
    return (off + al - 1) / al * al;
}

/* in[k..]: a loop's trip count, `jsgt/jslt rA, rB, +o; mov rC, rX; sub rC,
 * rY (Y != C); [div rC, K;] jge rC, L, +p; add rC, M` (the division for
 * steps other than 1): 1 + (jslt) + 2 * (div), 0 if it is not one */
static int trip_kind(const struct bl_insn *in, uint32_t n, uint32_t k)
{
    if (k + 5 >= n || (in[k].code != (BL_JMP | BL_X | BL_JSGT) &&
                       in[k].code != (BL_JMP | BL_X | BL_JSLT)))
        return 0;
    const struct bl_insn *b = &in[k + 1], *c = &in[k + 2];
    if (!is_op(b, BL_ALU64 | BL_X | BL_MOV) || !is_op(c, BL_ALU64 | BL_X | BL_SUB) ||
        c->dst != b->dst || c->src == b->dst)
        return 0;
    const struct bl_insn *j = &in[k + 3];
    int div = is_op(j, BL_ALU64 | BL_K | BL_DIV) && j->dst == b->dst && j->imm != 0;
    j += div;
    if (k + 4 + (uint32_t)div >= n || j->code != (BL_JMP | BL_K | BL_JGE) || j->dst != b->dst ||
        !is_op(&j[1], BL_ALU64 | BL_K | BL_ADD) || j[1].dst != b->dst)
        return 0;
    return 1 + (in[k].code == (BL_JMP | BL_X | BL_JSLT)) + 2 * div;
}

/* in[k..k+4]: `lddw r2, func; mov r3, rX; mov r4, 0; call 181`, the
 * compiler's bpf_loop call with a callback inside the program */
static int is_loop_call(const struct bl_insn *in, uint32_t n, uint32_t k)
{
    if (k + 4 >= n || !bl_is_lddw(&in[k]) || in[k].src != BL_PSEUDO_FUNC || in[k].dst != BL_R2)
        return 0;
    int64_t t = (int64_t)k + 1 + in[k].imm;
    return t >= 0 && t < n && t <= INT32_MAX && is_op(&in[k + 2], BL_ALU64 | BL_X | BL_MOV) &&
           in[k + 2].dst == BL_R3 && is_op(&in[k + 3], BL_ALU64 | BL_K | BL_MOV) &&
           in[k + 3].dst == BL_R4 && in[k + 3].imm == 0 &&
           in[k + 4].code == (BL_JMP | BL_CALL) && in[k + 4].src == 0 &&
           in[k + 4].imm == BL_HELPER_LOOP;
}

/* ctx_bases: a walk's instructions (those stamped by it) get `v` (a
 * register + 1) where they have none or the same, 0xff (no) otherwise */
static void mark_walk(uint8_t *cb, uint32_t n, const struct walk_bufs *w, uint8_t v)
{
    for (uint32_t k = 0; k < n; k++)
        if (w->stamp[k] == w->walk)
            cb[k] = cb[k] == 0 || cb[k] == v ? v : 0xff;
}

/* Which instructions can address ctx through the innermost loop's l_ctx:
 * cb[k] = r + 1 when insn k is reached only from the entries of loop
 * callbacks whose prologue puts ctx in r (pc) and that never write r
 * afterwards (nothing they reach does, no loop they run leaves it
 * changed), so r holds the loop's ctx whenever k runs; 0 otherwise. A
 * callback counts only when every lddw naming it is the compiler's
 * bpf_loop call (is_loop_call) and loops run inline (st->inline_loop:
 * nothing else can run it); the program's entry, the functions' and any
 * other callback's mark what they reach as not. NULL when it cannot tell
 * (no memory, a walk leaving the program, or more than 2^22 steps of
 * marking: entries x instructions, a few ms of decoding). */
static uint8_t *ctx_bases(const struct bl_insn *in, uint32_t n, const uint16_t *memo,
                          const struct loop_pro *pros, struct walk_bufs *w)
{
    uint8_t *cb = calloc(n, 1), *other = calloc(n, 1);
    uint32_t entries = 1;
    for (uint32_t k = 0; cb && other && k < n; k++) {
        int64_t t = (int64_t)k + 1 + in[k].imm;
        if (t < 0 || t >= n)
            continue;
        if (in[k].code == (BL_JMP | BL_CALL) && in[k].src == BL_PSEUDO_CALL)
            other[t] = 1, entries++;
        if (bl_is_lddw(&in[k])) {
            if (in[k].src == BL_PSEUDO_FUNC) {
                if (!is_loop_call(in, n, k) || !memo[t])
                    other[t] = 1;
                entries++;
            }
            k++;
        }
    }
    if (!cb || !other || !w->stamp || (uint64_t)entries * n > (1u << 22))
        goto none;
    uint16_t live, written;
    other[0] = 1;
    for (uint32_t t = 0; t < n; t++) {
        if (other[t]) {
            if (callback_liveness(in, n, t, 0, w, &live, &written) < 0)
                goto none;
            mark_walk(cb, n, w, 0xff);
        } else if (memo[t]) {
            const struct loop_pro *p = &pros[memo[t]];
            int clean = p->pc < BL_NREGS && p->clob != 0xffff && !(p->clob & 1u << p->pc);
            if (callback_liveness(in, n, t, 0, w, &live, &written) < 0)
                goto none;
            mark_walk(cb, n, w, clean ? (uint8_t)(p->pc + 1) : 0xff);
        }
    }
    for (uint32_t k = 0; k < n; k++)
        if (cb[k] == 0xff)
            cb[k] = 0;
    free(other);
    return cb;
none:
    free(cb);
    free(other);
    return NULL;
}

/* in[k]: a call of a helper other than bpf_loop */
static int is_helper_call(const struct bl_insn *in)
{
    return in->code == (BL_JMP | BL_CALL) && in->src == 0 && in->imm != BL_HELPER_LOOP;
}

/* the decoded form's size: n slots and indexes, the prologues of the
 * callbacks the program names (count_callbacks), one for the plain entry,
 * and a helper pointer per helper call */
static uint32_t count_callbacks(const struct bl_insn *in, uint32_t n);
static size_t decoded_size(const struct bl_insn *in, uint32_t n)
{
    size_t calls = 0;
    for (uint32_t k = 0; k < n; k++)
        calls += is_helper_call(&in[k]);
    return pro_table_offset(n) + (count_callbacks(in, n) + 1) * sizeof(struct loop_pro) +
           calls * sizeof(const struct bpflua_helper *);
}

/* how many callbacks the program names (lddw rX, func:..), at most the
 * table's index range */
static uint32_t count_callbacks(const struct bl_insn *in, uint32_t n)
{
    uint32_t c = 0;
    for (uint32_t k = 0; k + 1 < n && c < UINT16_MAX - 1; k++)
        if (bl_is_lddw(&in[k])) {
            c += in[k].src == BL_PSEUDO_FUNC;
            k++;
        }
    return c;
}

/* Decodes the program into st->dcode for the verified loop: each slot gets
 * its opcode's handler from table, then the fused pairs their own. Out of
 * line, so the loop's register allocation does not have to serve it. */
__attribute__((noinline, cold))
static void decode_program(struct interp_state *st, const void *const *table,
                           const struct fused_handlers *h)
{
    const struct bl_insn *in = st->insns;
    struct dinsn *d = st->dcode;
    for (uint32_t k = 0; k < st->n_insns; k++) {
        const struct bl_insn *s = &in[k];
        d[k] = (struct dinsn){ table[s->code], s->dst, s->src, s->off, s->imm };
        if (s->code == (BL_ALU64 | BL_X | BL_MOV) && s->off == 0)
            d[k].handler = h->mov_reg0;
        else if (s->code == (BL_JMP | BL_CALL) && s->src == 0 && s->imm == BL_HELPER_LOOP)
            d[k].handler = h->call_loop;
        else if (s->code == (BL_JMP | BL_CALL) && s->src == BL_PSEUDO_CALL)
            d[k].handler = h->call_local;
    }
    /* the callbacks' prologues: every callback the program names (its
     * index in memo), entry 0 the plain entry for any other */
    const uint32_t n = st->n_insns;
    uint16_t *memo = (uint16_t *)(d + n);
    struct loop_pro *pros = (struct loop_pro *)((char *)d + pro_table_offset(n));
    memset(memo, 0, n * sizeof *memo);
    pros[0] = plain_pro;
    pros[0].next = h->nx_full;
    uint32_t npros = 1, named = 0;
    struct walk_bufs w = { .stamp = calloc(n, sizeof *w.stamp), .seen = malloc(n * sizeof *w.seen),
                           .todo = malloc(2 * (size_t)n * sizeof *w.todo), .cap = 2 * (size_t)n };
    for (uint32_t k = 0; k + 1 < n && named < UINT16_MAX - 1; k++) {
        if (!bl_is_lddw(&in[k]))
            continue;
        if (in[k].src == BL_PSEUDO_FUNC) {
            named++;
            int64_t t = (int64_t)k + 1 + in[k].imm;
            if (t >= 0 && t < n && memo[t] == 0) {
                struct loop_pro *p = &pros[npros];
                *p = callback_prologue(in + t, n - (uint32_t)t);
                memo[t] = (uint16_t)npros++;
            }
        }
        k++;
    }
    /* the arguments each BPF-to-BPF call's callee reads (walk_bufs.args;
     * the calls inside a callee count as reading all five) */
    uint8_t *args = npros > 1 ? malloc(n) : NULL;   /* only callbacks' walks ask */
    for (uint32_t k = 0; args && k < n; k++) {
        args[k] = 0x3e;
        int64_t t = (int64_t)k + 1 + in[k].imm;
        uint16_t live, written;
        if (in[k].code == (BL_JMP | BL_CALL) && in[k].src == BL_PSEUDO_CALL && t >= 0 && t < n &&
            callback_liveness(in, n, (uint32_t)t, 0x3e, &w, &live, &written) == 0)
            args[k] = (uint8_t)(live & 0x3e);
    }
    w.args = args;
    /* the callbacks' walks; kept[k]: the prologue registers among R6-R9
     * of the callbacks whose code has the bpf_loop call at k (a loop
     * started there keeps them, loop_keep) */
    uint16_t *kept = calloc(n, sizeof *kept);
    uint32_t *sites = malloc(n * sizeof *sites), nsites = 0;
    for (uint32_t k = 0; sites && k + 4 < n; k++)
        if (is_loop_call(in, n, k))
            sites[nsites++] = k + 4;
    for (uint32_t t = 0; t < n; t++) {
        if (!memo[t])
            continue;
        struct loop_pro *p = &pros[memo[t]];
        w.kept = (uint16_t)((1u << p->pi | 1u << p->pc | (p->kind == 2 ? 1u << p->y : 0)) &
                            0xf << BL_R6); /* its prologue's registers among R6-R9 */
        callback_trim(p, in, n, t, &w, h);
        for (uint32_t s = 0; kept && s < nsites; s++)
            if (p->clob == 0xffff || (w.stamp && w.stamp[sites[s]] == w.walk))
                kept[sites[s]] |= w.kept;
        uint16_t live, written;
        p->light = callback_liveness(in, n, t, 1u << BL_R10, &w, &live, &written) == 0 &&
                   !(live & 1u << BL_R10);
    }
    free(sites);
    const uint8_t mov_x = BL_ALU64 | BL_X | BL_MOV, mov_k = BL_ALU64 | BL_K | BL_MOV;
    const uint8_t ldxdw = BL_LDX | BL_MEM | BL_DW, stxdw = BL_STX | BL_MEM | BL_DW;
    for (uint32_t k = 0; k + 1 < n; k++) {
        const struct bl_insn *a = &in[k], *b = &in[k + 1];
        if (bl_is_lddw(a)) {
            /* lddw r2, func; mov r3, rX; mov r4, 0; call 181: the callback's
             * index in imm, its prologue's in off, X in src */
            int64_t t = (int64_t)k + 1 + a->imm;
            if (is_loop_call(in, n, k)) {
                d[k].handler = h->loop_call;
                d[k].imm = (int32_t)t;
                d[k].off = (int16_t)memo[t];
                d[k].src = in[k + 2].src;
                /* R6-R9 to keep, in the lddw's second slot (never run) */
                w.kept = kept ? kept[k + 4] : 0xf << BL_R6;
                d[k + 1].dst = loop_keep(&pros[memo[t]], in, n, k + 5, in[k + 2].src, &w);
            }
            k++;
            continue;
        }
        const struct bl_insn *c = k + 2 < n ? &in[k + 2] : NULL;
        int trip = trip_kind(in, n, k);
        if (trip) {
            d[k].handler = h->trip[trip - 1];   /* a loop's trip count */
            continue;
        }
        if (a->code == stxdw && (trip = trip_kind(in, n, k + 1)) != 0) {
            d[k].handler = h->stxdw_trip[trip - 1];  /* a store, then the trip count */
        } else if (is_launder(in, n, k)) {
            d[k].handler = h->launder;        /* mov r0, 0; lock add [rB+o], r0 */
        } else if (a->code == stxdw && is_launder(in, n, k + 1)) {
            d[k].handler = h->stxdw_launder;  /* stxdw [rB+o], rA; the launder */
        } else if (c && is_op(a, BL_ALU64 | BL_K | BL_MUL) && b->code == ldxdw && b->dst != a->dst &&
            is_op(c, BL_ALU64 | BL_X | BL_ADD) && c->dst == a->dst && c->src == b->dst) {
            d[k].handler = h->mulk_ldxdw_add; /* mul rA, K; ldxdw rB, [rC+o]; add rA, rB */
        } else if (c && (a->code & 0x0f) == (BL_ALU64 | BL_X) && a->off == 0 &&
                   b->code == ldxdw && b->dst != a->dst &&
                   (is_op(c, BL_ALU64 | BL_X | BL_ADD) || is_op(c, BL_ALU64 | BL_X | BL_XOR)) &&
                   c->dst == a->dst && c->src == b->dst &&
                   (BL_OP(c->code) == BL_ADD ? h->opx_ldxdw_addx
                                             : h->opx_ldxdw_xorx)[BL_OP(a->code) >> 4]) {
            /* op rA, rB; ldxdw rC, [rD+o]; add/xor rA, rC */
            d[k].handler = (BL_OP(c->code) == BL_ADD ? h->opx_ldxdw_addx
                                                     : h->opx_ldxdw_xorx)[BL_OP(a->code) >> 4];
        } else if (is_op(a, mov_x) && (b->code & 0x0f) == (BL_ALU64 | BL_X) && b->off == 0 &&
                   b->dst == a->dst && b->src != a->dst && h->mov_opx[BL_OP(b->code) >> 4]) {
            d[k].handler = h->mov_opx[BL_OP(b->code) >> 4]; /* mov rA, rB; op rA, rC */
        } else if (is_op(a, mov_k) && is_op(b, mov_k)) {
            d[k].handler = h->movk_movk;   /* mov rA, K; mov rC, L */
        } else if (a->code == stxdw && b->code == ldxdw && b->src == a->dst && b->off == a->off) {
            d[k].handler = h->stxdw_ldxdw; /* stxdw [rB+o], rA; ldxdw rC, [rB+o] */
        } else if (c && a->code == ldxdw && a->dst != a->src && is_op(b, BL_ALU64 | BL_X | BL_ADD) &&
            b->dst == a->dst && b->src != a->dst && c->code == stxdw && c->src == a->dst &&
            c->dst == a->src && c->off == a->off) {
            d[k].handler = h->ldxdw_add_stxdw; /* ldxdw rA, [rB+o]; add rA, rC; stxdw [rB+o], rA */
            d[k].imm = b->src;
        } else if (c && a->code == ldxdw && a->dst != a->src && b->dst == a->dst && b->off == 0 &&
                   c->code == stxdw && c->src == a->dst && c->dst == a->src && c->off == a->off &&
                   (((b->code & 0x0f) == (BL_ALU64 | BL_X) && b->src != a->dst &&
                     h->mem_opx[BL_OP(b->code) >> 4]) ||
                    ((b->code & 0x0f) == (BL_ALU64 | BL_K) && h->mem_opk[BL_OP(b->code) >> 4] &&
                     !((BL_OP(b->code) == BL_LSH || BL_OP(b->code) == BL_RSH) &&
                       (b->imm < 0 || b->imm > 63))))) {
            /* the memory op: ldxdw rA, [rB+o]; op rA, rC or K; stxdw [rB+o], rA
             * (a Lua local updated in place, `t = t ~ s`, `n = n + 1`): C or K
             * in imm */
            int x = (b->code & 0x0f) == (BL_ALU64 | BL_X);
            d[k].handler = (x ? h->mem_opx : h->mem_opk)[BL_OP(b->code) >> 4];
            d[k].imm = x ? b->src : b->imm;
        } else if (is_op(a, mov_x) && is_op(b, mov_x)) {
            d[k].handler = h->mov_mov;     /* mov rA, rB; mov rC, rD */
            d[k].imm = b->dst | b->src << 8;
        } else if (a->code == ldxdw && is_op(b, BL_ALU64 | BL_X | BL_MUL) && b->dst == a->dst &&
                   b->src != a->dst) {
            d[k].handler = h->ldxdw_mulself; /* ldxdw rA, [..]; mul rA, rC */
            d[k].imm = b->src;
        } else if (a->code == ldxdw && b->code == ldxdw) {
            d[k].handler = h->ldxdw_ldxdw; /* ldxdw rA, [rB+o]; ldxdw rC, [rD+p] */
        } else if (a->code == ldxdw && is_op(b, BL_ALU64 | BL_X | BL_XOR) && b->src == a->dst) {
            d[k].handler = h->ldxdw_xor;   /* ldxdw rA, [..]; xor rC, rA */
            d[k].imm = b->dst;
        } else if (a->code == (BL_LDX | BL_MEM | BL_DW) && is_op(b, mov_x) && b->src == a->dst) {
            d[k].handler = h->ldxdw_mov;   /* ldxdw rA, [..]; mov rC, rA */
            d[k].imm = b->dst;
        } else if (is_op(a, mov_x) && is_op(b, BL_ALU64 | BL_X | BL_ADD) && b->src == a->dst) {
            d[k].handler = h->mov_add;     /* mov rA, rB; add rC, rA */
            d[k].imm = b->dst;
        } else if (is_op(a, mov_x) && is_op(b, BL_ALU64 | BL_K | BL_ADD) && b->dst == a->dst) {
            d[k].handler = h->mov_addk;    /* mov rA, rB; add rA, K */
            d[k].imm = b->imm;
        } else if (a->code == (BL_LDX | BL_MEM | BL_DW) &&
                   is_op(b, BL_ALU64 | BL_X | BL_ADD) && b->src == a->dst) {
            d[k].handler = h->ldxdw_add;   /* ldxdw rA, [..]; add rC, rA */
            d[k].imm = b->dst;
        } else if (a->code == (BL_LDX | BL_MEM | BL_DW) &&
                   is_op(b, BL_ALU64 | BL_X | BL_MUL) && b->src == a->dst) {
            d[k].handler = h->ldxdw_mul;   /* ldxdw rA, [..]; mul rC, rA */
            d[k].imm = b->dst;
        } else if (is_op(a, mov_x) && b->code == (BL_LDX | BL_MEM | BL_DW) &&
                   b->src == a->dst) {
            d[k].handler = h->mov_ldxdw;   /* mov rA, rB; ldxdw rC, [rA+off] */
            d[k].off = b->off;
            d[k].imm = b->dst;
        } else if (is_op(a, BL_ALU64 | BL_X | BL_ADD) &&
                   b->code == (BL_STX | BL_MEM | BL_DW) && b->src == a->dst) {
            d[k].handler = h->add_stxdw;   /* add rA, rB; stxdw [rC+off], rA */
            d[k].off = b->off;
            d[k].imm = b->dst;
        } else if (is_op(a, mov_x) && (b->code & 0x0f) == (BL_ALU64 | BL_K) && b->dst == a->dst &&
                   b->off == 0 && h->mov_opk[BL_OP(b->code) >> 4] &&
                   !((BL_OP(b->code) == BL_LSH || BL_OP(b->code) == BL_RSH) &&
                     (b->imm < 0 || b->imm > 63))) {
            d[k].handler = h->mov_opk[BL_OP(b->code) >> 4];   /* mov rA, rB; op rA, K */
            d[k].imm = b->imm;
        } else if ((a->code & 0x0f) == (BL_ALU64 | BL_X) && a->off == 0 &&
                   h->op_stxdw[BL_OP(a->code) >> 4] && b->code == stxdw && b->src == a->dst) {
            d[k].handler = h->op_stxdw[BL_OP(a->code) >> 4]; /* op rA, rB; stxdw [rC+o], rA */
            d[k].off = b->off;
            d[k].imm = b->dst;
        } else if (a->code == ldxdw && b->src == a->dst && b->dst != a->dst &&
                   (is_op(b, BL_ALU64 | BL_X | BL_SUB) || is_op(b, BL_ALU64 | BL_X | BL_AND) ||
                    is_op(b, BL_ALU64 | BL_X | BL_OR))) {
            d[k].handler = BL_OP(b->code) == BL_SUB ? h->ldxdw_sub   /* ldxdw rA, [..]; op rC, rA */
                         : BL_OP(b->code) == BL_AND ? h->ldxdw_and : h->ldxdw_or;
            d[k].imm = b->dst;
        } else if (a->code == ldxdw && a->dst != a->src && b->dst == a->dst && b->imm == 0 &&
                   (b->code == (BL_JMP | BL_JEQ | BL_K) || b->code == (BL_JMP | BL_JNE | BL_K))) {
            /* ldxdw rA, [rB+o]; jeq/jne rA, 0, +off (the jump slot keeps its off) */
            d[k].handler = b->code == (BL_JMP | BL_JEQ | BL_K) ? h->ldxdw_jeq0 : h->ldxdw_jne0;
            d[k].imm = b->off;
        } else if (a->code == (BL_ST | BL_MEM | BL_DW) && b->code == a->code && a->imm == 0 &&
                   b->imm == 0 && b->dst == a->dst) {
            /* stdw [rA+o], 0; stdw [rA+p], 0 (a loop body clearing its
             * scratch slots): p in imm */
            d[k].handler = h->stdw0_stdw0;
            d[k].imm = b->off;
        } else if (is_op(a, mov_k) && b->code == stxdw && b->src == a->dst) {
            /* mov rA, K; stxdw [rB+o], rA (a loop's start and step
             * slots): rB in src, the store's o in off */
            d[k].handler = h->movk_stxdw;
            d[k].src = b->dst;
            d[k].off = b->off;
        } else if (is_op(a, mov_x) && is_op(b, mov_k) && b->dst != a->dst) {
            /* mov rA, rB; mov rC, K (bpf_loop's ctx and flags): C in off */
            d[k].handler = h->mov_movk;
            d[k].off = b->dst;
            d[k].imm = b->imm;
        } else if (a->code == ldxdw && (b->code & 0x0f) == (BL_ALU64 | BL_K) && b->off == 0 &&
                   b->dst == a->dst && h->ldxdw_opk[BL_OP(b->code) >> 4] &&
                   !((BL_OP(b->code) == BL_LSH || BL_OP(b->code) == BL_RSH) &&
                     (b->imm < 0 || b->imm > 63))) {
            d[k].handler = h->ldxdw_opk[BL_OP(b->code) >> 4]; /* ldxdw rA, [..]; op rA, K */
            d[k].imm = b->imm;
        } else if (a->code == ldxdw && (b->code & 0x0f) == (BL_ALU64 | BL_X) && b->off == 0 &&
                   b->dst == a->dst && b->src != a->dst && h->ldxdw_opx[BL_OP(b->code) >> 4]) {
            d[k].handler = h->ldxdw_opx[BL_OP(b->code) >> 4]; /* ldxdw rA, [..]; op rA, rC */
            d[k].imm = b->src;
        } else if ((a->code & 0x0f) == (BL_ALU64 | BL_X) && a->off == 0 &&
                   h->opx_mov[BL_OP(a->code) >> 4] && is_op(b, mov_x) && b->src == a->dst) {
            d[k].handler = h->opx_mov[BL_OP(a->code) >> 4]; /* op rA, rB; mov rC, rA */
            d[k].imm = b->dst;
        } else if (is_op(a, mov_k) && a->dst == BL_R0 && a->imm == 0 &&
                   b->code == (BL_JMP | BL_EXIT)) {
            d[k].handler = h->movk0_exit;  /* mov r0, 0; exit: a loop's next iteration */
        } else if (is_op(a, mov_k) && b->code == (BL_JMP | BL_EXIT)) {
            d[k].handler = h->movk_exit;   /* mov rA, K; exit */
        } else if (is_op(a, mov_x) && b->code == (BL_JMP | BL_EXIT)) {
            d[k].handler = h->movx_exit;   /* mov rA, rB; exit */
        } else if (a->code == stxdw && is_op(b, mov_k)) {
            d[k].handler = h->stxdw_movk;  /* stxdw [rB+o], rA; mov rC, K (a loop's header) */
        } else if (a->code == ldxdw && b->code == stxdw) {
            d[k].handler = h->ldxdw_stxdw; /* ldxdw rA, [rB+o]; stxdw [rC+p], rD */
        }
    }
    /* groups ending in a store that a loop body's `mov r0, 0; exit` follows */
    for (uint32_t k = 0; k < st->n_insns; k++) {
        if (d[k].handler == h->ldxdw_add_stxdw && is_movk0_exit(in, st->n_insns, k + 3))
            d[k].handler = h->ldxdw_add_stxdw_next;
        else if (d[k].handler == h->ldxdw_add_stxdw && is_launder(in, st->n_insns, k + 3))
            d[k].handler = h->ldxdw_add_stxdw_launder;
        else if (d[k].handler == h->launder && is_movk0_exit(in, st->n_insns, k + 2))
            d[k].handler = h->launder_next;
        else if (d[k].handler == h->add_stxdw && is_movk0_exit(in, st->n_insns, k + 2))
            d[k].handler = h->add_stxdw_next;
        else if (in[k].code == (BL_STX | BL_MEM | BL_DW) && d[k].handler != h->stxdw_ldxdw &&
                 is_movk0_exit(in, st->n_insns, k + 1))
            d[k].handler = h->stxdw_next;
        else if (in[k].code == (BL_ST | BL_MEM | BL_DW) && is_movk0_exit(in, st->n_insns, k + 1))
            d[k].handler = h->stdw_next;
        else if (in[k].code == (BL_ST | BL_MEM | BL_DW) && k + 1 < n &&
                 d[k + 1].handler == h->loop_call)
            d[k].handler = h->stdw_loop_call;  /* a slot cleared, then bpf_loop's call */
    }
    /* helper calls with the prototype looked up once, in a table after the
     * prologues (a helper unknown now keeps the call's own error path) */
    const struct bpflua_helper **helpers = (const struct bpflua_helper **)(pros + npros);
    pros[0].aux = npros;
    for (uint32_t k = 0, nh = 0; k < n; k++) {
        if (bl_is_lddw(&in[k])) {
            k++;
            continue;
        }
        const struct bpflua_helper *hp = is_helper_call(&in[k]) ? st->helper_find((uint32_t)in[k].imm) : NULL;
        if (hp && hp->fn) {
            helpers[nh] = hp;
            d[k].handler = h->call_helper;
            d[k].imm = (int32_t)nh++;
        }
    }
    /* memory ops based on a register that holds the loop's ctx (ctx_bases) */
    uint8_t *cbase = st->inline_loop && npros > 1 ? ctx_bases(in, n, memo, pros, &w) : NULL;
    for (uint32_t k = 0; cbase && k + 1 < n; k++) {
        if (!cbase[k])
            continue;
        const unsigned r = cbase[k] - 1u;
        const struct bl_insn *a = &in[k], *b = &in[k + 1];
        const void *hd = d[k].handler, *to = NULL;
        if (hd == table[ldxdw] && a->src == r)
            to = h->c_ldxdw;
        else if (hd == table[stxdw] && a->dst == r)
            to = h->c_stxdw;
        else if (hd == table[BL_ST | BL_MEM | BL_DW] && a->dst == r)
            to = h->c_stdw;
        else if (hd == h->stxdw_next && a->dst == r)
            to = h->c_stxdw_next;
        else if (hd == h->stdw_next && a->dst == r)
            to = h->c_stdw_next;
        else if (hd == h->ldxdw_ldxdw && a->src == r && b->src == r)
            to = h->c_ldxdw_ldxdw;
        else if (hd == h->stdw0_stdw0 && a->dst == r)
            to = h->c_stdw0_stdw0;
        else if (hd == h->add_stxdw && b->dst == r)
            to = h->c_add_stxdw;
        else if (hd == h->add_stxdw_next && b->dst == r)
            to = h->c_add_stxdw_next;
        else if (hd == h->movk_stxdw && b->dst == r)
            to = h->c_movk_stxdw;
        else if (hd == h->stxdw_ldxdw && a->dst == r)
            to = h->c_stxdw_ldxdw;
        else if (hd == h->ldxdw_add_stxdw && a->src == r)
            to = h->c_ldxdw_add_stxdw;
        else if (hd == h->ldxdw_add_stxdw_next && a->src == r)
            to = h->c_ldxdw_add_stxdw_next;
        else if (hd == h->ldxdw_jeq0 && a->src == r)
            to = h->c_ldxdw_jeq0;
        else if (hd == h->ldxdw_jne0 && a->src == r)
            to = h->c_ldxdw_jne0;
        for (int j = 0; !to && j < 16; j++) {
            if (h->ldxdw_opk[j] && hd == h->ldxdw_opk[j] && a->src == r)
                to = h->c_ldxdw_opk[j];
            else if (h->ldxdw_opx[j] && hd == h->ldxdw_opx[j] && a->src == r)
                to = h->c_ldxdw_opx[j];
            else if (h->opx_ldxdw_addx[j] && hd == h->opx_ldxdw_addx[j] && b->src == r)
                to = h->c_opx_ldxdw_addx[j];
            else if (h->opx_ldxdw_xorx[j] && hd == h->opx_ldxdw_xorx[j] && b->src == r)
                to = h->c_opx_ldxdw_xorx[j];
        }
        if (to)
            d[k].handler = to;
    }
    free(cbase);
    /* a callback that needs nothing stored but i (nx_none): its next iteration goes straight to the handler of its
     * first instruction after the prologue, one indirect jump instead of two */
    for (uint32_t t = 0; t < n; t++) {
        struct loop_pro *p = &pros[memo[t]];
        if (memo[t] && p->next == h->nx_none && t + p->npro < n)
            p->next = d[t + p->npro].handler;
    }
    free(w.stamp);
    free(w.seen);
    free(w.todo);
    free(kept);
    free(args);
}

/* verified: nothing checked, nothing counted, direct threaded */
#define INTERP_FN exec_verified
#define INTERP_RAW 0
#define INTERP_COUNT 0
#define INTERP_BUDGET 0
#define INTERP_DIRECT 1
#include "interp_loop.h"
#undef INTERP_FN
#undef INTERP_COUNT

/* verified, counting with no limit (run statistics: the first run of
 * bpflua_run), direct threaded like exec_verified */
#define INTERP_FN exec_counted_direct
#define INTERP_COUNT 1
#include "interp_loop.h"
#undef INTERP_FN
#undef INTERP_RAW
#undef INTERP_COUNT
#undef INTERP_BUDGET
#undef INTERP_DIRECT
#define INTERP_DIRECT 0
#define INTERP_BUDGET 1

/* verified, counting against a limit (--max-insns, guarded runs' proven
 * bound): one instruction per dispatch, so a run stops exactly at it */
#define INTERP_FN exec_counted
#define INTERP_RAW 0
#define INTERP_COUNT 1
#include "interp_loop.h"
#undef INTERP_FN
#undef INTERP_RAW
#undef INTERP_COUNT

/* raw: everything checked */
#define INTERP_FN exec_raw
#define INTERP_RAW 1
#define INTERP_COUNT 1
#include "interp_loop.h"
#undef INTERP_FN
#undef INTERP_RAW
#undef INTERP_COUNT

/* env->call: a callback value is an instruction index */
static uint64_t interp_call(struct bpflua_run_env *env, uint64_t fn, uint64_t a1, uint64_t a2,
                            uint64_t a3, uint64_t a4, uint64_t a5)
{
    struct interp_state *st = env->engine;
    const uint64_t args[5] = { a1, a2, a3, a4, a5 };
    if (st->error || env->fault)
        return 0;
    if (fn >= st->n_insns) {
        interp_fail(st, 0, -EFAULT, "callback at insn %llu is outside the program",
                    (unsigned long long)fn);
        return 0;
    }
    return st->exec(st, (uint32_t)fn, args);
}

/* raw mode: opcodes valid, targets inside the program and not inside lddw */
static int validate(const struct bl_insn *insns, uint32_t n, char *msg, size_t cap)
{
    uint8_t *second = calloc(n + 1, 1);
    if (!second)
        return -ENOMEM;
    int rc = 0;
    for (uint32_t pc = 0; pc < n; pc++)
        if (bl_is_lddw(&insns[pc]) && pc + 1 < n)
            second[++pc] = 1;
    for (uint32_t pc = 0; pc < n && rc == 0; pc++) {
        if (second[pc])
            continue;
        const struct bl_insn *i = &insns[pc];
        int op = bl_op_decode(i);
        int64_t dest = -1;
        if (op < 0) {
            snprintf(msg, cap, "insn %u: invalid instruction 0x%02x", pc, i->code);
            rc = -EFAULT;
            break;
        }
        switch (bl_ops[op].fmt) {
        case BL_FMT_LDABS:
        case BL_FMT_LDIND:
            snprintf(msg, cap, "insn %u: legacy packet load '%s' is not supported", pc,
                     bl_ops[op].mnemonic);
            rc = -EFAULT;
            continue;
        case BL_FMT_LDDW:
            if (pc + 1 >= n) {
                snprintf(msg, cap, "insn %u: lddw without its second half", pc);
                rc = -EFAULT;
            } else if (i->src != 0 && i->src != BL_PSEUDO_FUNC) {
                snprintf(msg, cap, "insn %u: lddw with unlinked pseudo source %u", pc, i->src);
                rc = -EFAULT;
            } else if (i->src == BL_PSEUDO_FUNC) {
                dest = (int64_t)pc + 1 + i->imm;
            }
            break;
        case BL_FMT_JA: case BL_FMT_JMP_K: case BL_FMT_JMP_X:
            dest = (int64_t)pc + 1 + i->off;
            break;
        case BL_FMT_JA32: case BL_FMT_CALL_LOCAL:
            dest = (int64_t)pc + 1 + i->imm;
            break;
        default:
            continue;
        }
        if (rc == 0 && bl_ops[op].fmt == BL_FMT_LDDW && i->src != BL_PSEUDO_FUNC) {
            pc++;
            continue;
        }
        if (rc == 0 && (dest < 0 || dest >= n || second[dest])) {
            snprintf(msg, cap, "insn %u: jump target %lld out of range", pc, (long long)dest);
            rc = -EFAULT;
        }
    }
    free(second);
    return rc;
}

int bl_interp_exec(const struct bl_insn *insns, uint32_t n, const uint64_t args[5],
                   const struct bl_interp_opts *opts, struct bpflua_run_env *env,
                   struct bl_interp_result *res)
{
    static const struct bl_interp_opts no_opts;
    struct bpflua_run_env local_env = { 0 };
    if (!opts)
        opts = &no_opts;
    if (!env)
        env = &local_env;
    res->r0 = 0;
    res->insns = 0;
    res->msg[0] = '\0';
    if (!insns || n == 0) {
        snprintf(res->msg, sizeof res->msg, "empty program");
        return -EINVAL;
    }

    /* on the C stack: no allocation per run (4 KiB of BPF stack) */
    struct interp_state state;
    struct interp_state *st = &state;
    struct bl_insn *copy = NULL;
    memset(st, 0, offsetof(struct interp_state, stack));
    st->insns = insns;
    st->n_insns = n;
    st->opts = opts;
    st->env = env;
    st->msg = res->msg;
    st->msg_cap = sizeof res->msg;
    st->helper_find = opts->helper_find ? opts->helper_find : bl_helper_find;
    st->inline_loop = st->helper_find == bl_helper_find;
    st->budget = opts->max_insns ? opts->max_insns : UINT64_MAX;
    st->top0 = (uint64_t)(uintptr_t)(st->stack + sizeof st->stack);
    st->frame_stride = -(int64_t)BL_STACK_SIZE;
    struct bl_guard own_frames, *frames = NULL;
    if (opts->guard && !opts->raw) {
        if (guard_frames_get(&frames, &own_frames) < 0) {
            snprintf(res->msg, sizeof res->msg, "cannot map guarded stack frames");
            return -ENOMEM;
        }
        st->top0 = (uint64_t)(uintptr_t)bl_guard_elem(frames, 0) + BL_STACK_SIZE;
        st->frame_stride = (int64_t)frames->stride;
    }
    if (opts->raw) {
        /* a sentinel after the end turns falling off into an invalid insn */
        int rc = validate(insns, n, res->msg, sizeof res->msg);
        copy = rc ? NULL : calloc((size_t)n + 1, sizeof *copy);
        if (rc || !copy)
            return rc ? rc : -ENOMEM;
        memcpy(copy, insns, n * sizeof *copy);
        copy[n].code = 0xff;
        st->insns = copy;
        memset(st->stack, 0, sizeof st->stack);
        if (!opts->max_insns)
            st->budget = BL_INTERP_RAW_BUDGET;
        st->exec = exec_raw;
    } else {
        st->exec = opts->max_insns ? exec_counted
                 : opts->count ? exec_counted_direct : exec_verified;
        if (st->exec == exec_verified && opts->code_cache && *opts->code_cache) {
            st->dcode = *opts->code_cache;
            st->decoded = 1;
        } else if (st->exec != exec_counted) {
            /* n slots, n indexes, the callbacks' prologues (decode_program) */
            st->dcode = malloc(decoded_size(insns, n));
            if (!st->dcode) {
                if (frames)
                    guard_frames_put(frames, &own_frames, 0);
                return -ENOMEM;
            }
        }
    }

    void *saved_engine = env->engine;
    uint64_t (*saved_call)(struct bpflua_run_env *, uint64_t, uint64_t, uint64_t, uint64_t,
                           uint64_t, uint64_t) = env->call;
    env->engine = st;
    env->call = interp_call;
    env->fault = 0;
    res->r0 = st->exec(st, 0, args);
    res->insns = st->count;
    int rc = st->error;
    if (frames && guard_frames_put(frames, &own_frames, st->max_depth) < 0 && rc == 0) {
        snprintf(res->msg, sizeof res->msg,
                 "guard: the program wrote outside its stack frames");
        rc = -EFAULT;
    }
    env->engine = saved_engine;
    env->call = saved_call;
    free(copy);
    /* the cache holds exec_verified's decoding (its handler addresses) */
    if (opts->code_cache && st->dcode && !rc && st->exec == exec_verified)
        *opts->code_cache = st->dcode;
    else if (!opts->code_cache || *opts->code_cache != st->dcode)
        free(st->dcode);
    return rc;
}
