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

struct call_frame {
    const void *ret;           /* the instruction after the call */
    uint64_t saved[4];         /* r6..r9 */
    /* a bpf_loop frame (the callback frame, reused for every iteration):
     * the enclosing loop's state, which the loop keeps in locals of the
     * dispatch loop while it runs, restored when this loop ends */
    const void *o_cb, *o_entry;
    uint64_t o_ctx;
    uint32_t o_i, o_n;
    unsigned o_top;
    uint8_t o_pi, o_pc, o_npro;
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
    const void *ldxdw_opk[16];     /* by BL_OP >> 4: ldxdw rA, [..]; op rA, K */
    const void *ldxdw_opx[16];     /* by BL_OP >> 4: ldxdw rA, [..]; op rA, rC */
    const void *opx_mov[16];       /* by BL_OP >> 4: op rA, rB; mov rC, rA */
    const void *mov_opx[16];       /* by BL_OP >> 4: mov rA, rB; op rA, rC */
    const void *movk_movk, *stxdw_ldxdw, *mulk_ldxdw_add;
    /* the same groups (and a lone stxdw) followed by `mov r0, 0; exit` */
    const void *ldxdw_add_stxdw_next, *add_stxdw_next, *stxdw_next, *stdw_next;
    /* by the first op's BL_OP >> 4: op rA, rB; ldxdw rC, [..]; add/xor rA, rC */
    const void *opx_ldxdw_addx[16], *opx_ldxdw_xorx[16];
};

/* in[k], in[k + 1]: `mov r0, 0; exit` */
static int is_movk0_exit(const struct bl_insn *in, uint32_t n, uint32_t k)
{
    return k + 1 < n && is_op(&in[k], BL_ALU64 | BL_K | BL_MOV) && in[k].dst == BL_R0 &&
           in[k].imm == 0 && in[k + 1].code == (BL_JMP | BL_EXIT);
}

/* A loop callback's leading `mov rX, r1` and `mov rY, r2` (at most one of
 * each, X and Y distinct and none of R1, R2, R10: each mov's source still
 * holds i or ctx), which the next iteration's entry does as two stores:
 * X | Y << 4 | their count << 8, X or Y BL_NREGS (a scratch slot) when
 * absent. */
static unsigned callback_prologue(const struct bl_insn *q, uint32_t room)
{
    unsigned pi = BL_NREGS, pc = BL_NREGS, n = 0;
    while (n < 2 && n < room) {
        const struct bl_insn *m = &q[n];
        if (m->code != (BL_ALU64 | BL_X | BL_MOV) || m->off != 0 || m->dst == BL_R1 ||
            m->dst == BL_R2 || m->dst >= BL_R10 || m->dst == pi || m->dst == pc)
            break;
        if (m->src == BL_R1 && pi == BL_NREGS)
            pi = m->dst;
        else if (m->src == BL_R2 && pc == BL_NREGS)
            pc = m->dst;
        else
            break;
        n++;
    }
    return pi | pc << 4 | n << 8;
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
    }
    /* the side table of callback prologues, found at a loop's first entry */
    memset(d + st->n_insns, 0xff, st->n_insns * sizeof(uint16_t));
    for (uint32_t k = 0; k + 1 < st->n_insns; k++) {
        const struct bl_insn *a = &in[k], *b = &in[k + 1];
        if (bl_is_lddw(a)) {
            k++;
            continue;
        }
        const uint8_t mov_x = BL_ALU64 | BL_X | BL_MOV, mov_k = BL_ALU64 | BL_K | BL_MOV;
        const uint8_t ldxdw = BL_LDX | BL_MEM | BL_DW, stxdw = BL_STX | BL_MEM | BL_DW;
        const struct bl_insn *c = k + 2 < st->n_insns ? &in[k + 2] : NULL;
        if (c && is_op(a, BL_ALU64 | BL_K | BL_MUL) && b->code == ldxdw && b->dst != a->dst &&
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
        } else if (is_op(a, mov_x) && is_op(b, mov_x)) {
            d[k].handler = h->mov_mov;     /* mov rA, rB; mov rC, rD */
            d[k].imm = b->dst | b->src << 8;
        } else if (a->code == ldxdw && is_op(b, BL_ALU64 | BL_X | BL_MUL) && b->dst == a->dst &&
                   b->src != a->dst) {
            d[k].handler = h->ldxdw_mulself; /* ldxdw rA, [..]; mul rA, rC */
            d[k].imm = b->src;
        } else if (a->code == ldxdw && b->code == ldxdw) {
            d[k].handler = h->ldxdw_ldxdw; /* ldxdw rA, [rB+o]; ldxdw rC, [rD+p] */
            d[k].imm = (int32_t)((uint32_t)b->dst | (uint32_t)b->src << 8 |
                                 (uint32_t)(uint16_t)b->off << 16);
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
        }
    }
    /* groups ending in a store that a loop body's `mov r0, 0; exit` follows */
    for (uint32_t k = 0; k < st->n_insns; k++) {
        if (d[k].handler == h->ldxdw_add_stxdw && is_movk0_exit(in, st->n_insns, k + 3))
            d[k].handler = h->ldxdw_add_stxdw_next;
        else if (d[k].handler == h->add_stxdw && is_movk0_exit(in, st->n_insns, k + 2))
            d[k].handler = h->add_stxdw_next;
        else if (in[k].code == (BL_STX | BL_MEM | BL_DW) && d[k].handler != h->stxdw_ldxdw &&
                 is_movk0_exit(in, st->n_insns, k + 1))
            d[k].handler = h->stxdw_next;
        else if (in[k].code == (BL_ST | BL_MEM | BL_DW) && is_movk0_exit(in, st->n_insns, k + 1))
            d[k].handler = h->stdw_next;
    }
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
            /* n slots, then a side table of n callback prologues (decode_program) */
            st->dcode = malloc((size_t)n * (sizeof *st->dcode + sizeof(uint16_t)));
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
