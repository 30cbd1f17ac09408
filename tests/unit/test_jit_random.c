/* test_jit_random.c - random programs: JIT == interpreter.
 *
 * A seeded generator (xorshift64*, BPFLUA_JIT_SEED overrides the seed,
 * BPFLUA_JIT_PROGRAMS the count, 10,000 by default) writes programs that
 * are safe by construction, the way the verifier would accept them: every
 * register and stack slot is initialised before it is read, only forward
 * branches, stack accesses inside a 64-byte initialised area, bounded
 * loops through bpf_loop (nested one level), a BPF-to-BPF call, R1-R5
 * rewritten after every call. Each program runs in the interpreter's raw
 * mode (which checks every access, so a generator bug cannot go unseen)
 * and in the JIT as verified code (unchecked accesses); every eighth one
 * also through the JIT's raw mode. R0 folds in every register and the
 * whole stack area, so any difference shows. Callbacks may start with the
 * bounds checks the JIT's loop versioning drops from a copy of the body
 * (affine in i, against a constant or two slots of the area the calling
 * loop sets so the test before the loop passes, fails, or the check fires
 * mid-loop), and a user's exit: `if E then break end` with E any of the
 * eight compares of a*i + b (+ a slot; a negative, zero or odd step a)
 * against an immediate or a slot, the exit written as the jump's target
 * or as its fall-through, the two sides set to meet near the last
 * iteration or anywhere in the loop, slots near 2^63 and 2^64 (so the
 * test before the loop must see the wrap). Making T one too large, or
 * dropping the wrap test, fails this. The test counts the loops that got
 * the copy.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "jit/jit.h"
#include "stdlib/helpers.h"
#include "vm/asm.h"
#include "vm/interp.h"
#include "core/object.h"
#include "vm/verifier.h"

static uint64_t rng;

static uint64_t rnd(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545f4914f6cdd1dull;
}

static uint32_t below(uint32_t n)
{
    return (uint32_t)(rnd() % n);
}

/* interesting constants: edges of signed/unsigned ranges, small values */
static int32_t rnd_imm(void)
{
    static const int32_t edge[] = {0, 1, -1, 2, 7, 31, 32, 63, 64, 0x7fffffff,
                                   (int32_t)0x80000000, 0xffff, 0x8000, 255, -128};
    switch (below(4)) {
    case 0: return edge[below(sizeof edge / sizeof edge[0])];
    case 1: return (int32_t)below(64);
    default: return (int32_t)(uint32_t)rnd();
    }
}

#define MAX_INSNS 1024
enum { F_MAIN, F_CB1, F_CB2, F_SUB, N_FUNCS };

struct gen {
    struct bl_insn insns[MAX_INSNS];
    uint32_t n;
    /* pc-relative references to patch once functions are placed */
    struct { uint32_t at; int func; } refs[64];
    uint32_t n_refs;
    /* forward branches inside the current function: target unit */
    struct { uint32_t at; uint32_t unit; } br[64];
    uint32_t n_br;
    uint32_t units[256];
    uint32_t n_units;
    uint32_t func_start[N_FUNCS];
    int used[N_FUNCS];
    /* accesses to the "packet" (pkt_buf, not the stack): the verifier
     * would record BL_MEMK_PACKET for them, BL_MEMK_STACK for the rest */
    uint8_t pkt_access[MAX_INSNS];
    /* the bounds checks a callback starts with (what the JIT's loop
     * versioning drops from a copy of the body), chosen before main is
     * written: the loops that call the callback set the slots they read */
    struct check_plan {
        int imm, ptr;          /* a*i + b > K; [area+lo] + a*i + b > [area+hi] */
        int16_t lo, hi, off2;  /* three distinct slots of the area */
        int protect;           /* the body writes neither lo nor hi */
        struct { int mul; int32_t sc, a, b; int jop; } f[2];  /* [0] imm, [1] ptr */
        int32_t k;
        /* a user's exit (`if i*a + b [+ [ulo]] REL s then break end`, s
         * an immediate uk or [uhi]): any of the eight compares, either
         * way of the jump leaving, negative steps, near the bound */
        int user, uslot, uimm, ualways, uswap, uret;
        /* a guard on i that skips the exit's test (`if i >= g and E then
         * break end`): an exit condition that holds up to some iteration
         * then runs in the checked copy below T0, the fast copy above */
        int uguard;
        uint8_t ugop;
        int32_t ugk;
        uint8_t uop;           /* BL_JGT .. BL_JSLE: the exit condition */
        int16_t ulo, uhi;
        int32_t ua, ub, uk, um;
    } chk[N_FUNCS];
};

/* memory that is not the stack, as a packet: read and written by the
 * programs through a pointer main spills at [r10 - 80] */
#define PKT_LEN 64
static uint8_t pkt_buf[PKT_LEN];

static void pkt_reset(void)
{
    for (int b = 0; b < PKT_LEN; b++)
        pkt_buf[b] = (uint8_t)(b * 37 + 11);
}

static void put(struct gen *g, uint8_t code, int dst, int src, int16_t off, int32_t imm)
{
    if (g->n < MAX_INSNS)
        g->insns[g->n++] = (struct bl_insn){code, (uint8_t)dst, (uint8_t)src, off, imm};
}

static void put_lddw(struct gen *g, int dst, uint64_t v)
{
    put(g, BL_LD | BL_IMM | BL_DW, dst, 0, 0, (int32_t)(uint32_t)v);
    put(g, 0, 0, 0, 0, (int32_t)(uint32_t)(v >> 32));
}

static void put_ref(struct gen *g, uint8_t code, int dst, int src, int func)
{
    if (g->n_refs < 64) {
        g->refs[g->n_refs].at = g->n;
        g->refs[g->n_refs++].func = func;
    }
    if (code == (BL_LD | BL_IMM | BL_DW)) {
        put(g, code, dst, src, 0, 0);
        put(g, 0, 0, 0, 0, 0);
    } else {
        put(g, code, dst, src, 0, 0);
    }
    g->used[func] = 1;
}

static void init_reg(struct gen *g, int r)
{
    if (below(3) == 0)
        put_lddw(g, r, rnd());
    else
        put(g, BL_ALU64 | BL_MOV | BL_K, r, 0, 0, rnd_imm());
}

struct fctx {
    const int *dsts;   /* registers units may write (and read) */
    int n_dsts;
    int no_atomics;
    int dw_only;       /* 8-byte accesses only (a struct of u64 fields) */
    int simple_alu;    /* no division, no shift by a register */
    int base;          /* register pointing at the 64-byte area's start */
    int16_t base_off;  /* area = [base + base_off, base + base_off + 64) */
    int depth;         /* 0 main, 1 callback, 2 nested callback / subprogram */
    int early_exits;   /* a callback: may return 0 or 1 from the middle */
    int no_alias;      /* no accesses through copies of the base (the JIT then keeps slots in registers) */
    int pkt;           /* [base + base_off - 16] holds the packet pointer */
    uint8_t protect;   /* 8-byte slots of the area no store may write */
    int nests;         /* a compiler-style callback that runs loops more often */
};

static void unit_alu(struct gen *g, const struct fctx *f)
{
    static const uint8_t ops[] = {BL_ADD, BL_SUB, BL_MUL, BL_DIV, BL_OR, BL_AND, BL_LSH, BL_RSH,
                                  BL_NEG, BL_MOD, BL_XOR, BL_MOV, BL_ARSH, BL_END};
    int dst = f->dsts[below((uint32_t)f->n_dsts)];
    int src = f->dsts[below((uint32_t)f->n_dsts)];
    if (below(4) == 0)
        src = f->base == BL_R10 ? (int)below(10) : src;
    uint8_t op = ops[below(sizeof ops / sizeof ops[0])];
    uint8_t cls = below(2) ? BL_ALU64 : BL_ALU;
    uint8_t srcbit = below(2) ? BL_X : BL_K;
    int16_t off = 0;
    int32_t imm = rnd_imm();
    if (f->simple_alu && (op == BL_DIV || op == BL_MOD))
        op = BL_ADD;
    if (f->simple_alu && (op == BL_LSH || op == BL_RSH || op == BL_ARSH))
        srcbit = BL_K;
    if (op == BL_NEG) {
        srcbit = BL_K;
        imm = 0;
    } else if (op == BL_END) {
        static const int32_t widths[] = {16, 32, 64};
        imm = widths[below(3)];
        if (cls == BL_ALU64)
            srcbit = BL_K;             /* bswap */
        src = 0;
    } else if (op == BL_DIV || op == BL_MOD) {
        off = (int16_t)below(2);       /* sdiv/smod */
    } else if (op == BL_MOV && srcbit == BL_X && below(3) == 0) {
        static const int16_t w64[] = {8, 16, 32}, w32[] = {8, 16};
        off = cls == BL_ALU64 ? w64[below(3)] : w32[below(2)];
    }
    if (srcbit == BL_K)
        src = 0;
    put(g, cls | srcbit | op, dst, src, off, srcbit == BL_K || op == BL_END ? imm : 0);
}

static int16_t area_off(const struct fctx *f, int size)
{
    return (int16_t)(f->base_off + (int)below(64 / (unsigned)size) * size);
}

/* an offset for a store: never into a protected slot */
static int16_t store_off(const struct fctx *f, int size)
{
    for (;;) {
        int16_t off = area_off(f, size);
        if (!(f->protect >> ((off - f->base_off) / 8) & 1))
            return off;
    }
}

static uint8_t size_code(int size)
{
    return size == 1 ? BL_B : size == 2 ? BL_H : size == 4 ? BL_W : BL_DW;
}

static void unit_mem(struct gen *g, const struct fctx *f)
{
    static const int sizes[] = {1, 2, 4, 8};
    int size = f->dw_only ? 8 : sizes[below(4)];
    int r = f->dsts[below((uint32_t)f->n_dsts)];
    int16_t off = area_off(f, size);
    switch (below(4)) {
    case 0: /* load, maybe sign-extending */
        put(g, BL_LDX | ((size < 8 && below(2)) ? BL_MEMSX : BL_MEM) | size_code(size), r, f->base,
            off, 0);
        break;
    case 1:
        put(g, BL_STX | BL_MEM | size_code(size), f->base, r, store_off(f, size), 0);
        break;
    case 2:
        put(g, BL_ST | BL_MEM | size_code(size), f->base, 0, store_off(f, size), rnd_imm());
        break;
    default: /* atomic */
        if (below(3) == 0) {
            /* the compiler's launder: an atomic add of a zeroed register */
            static const int32_t noop_ops[] = {BL_ADD, BL_OR, BL_XOR};
            size = below(2) ? 4 : 8;
            put(g, (below(2) ? BL_ALU64 : BL_ALU) | BL_MOV | BL_K, r, 0, 0, 0);
            put(g, BL_STX | BL_ATOMIC | size_code(size), f->base, r, store_off(f, size),
                noop_ops[below(3)]);
            break;
        }
        if (f->no_atomics) {
            put(g, BL_LDX | BL_MEM | BL_DW, r, f->base, area_off(f, 8), 0);
            break;
        }
        {
        static const int32_t ops[] = {BL_ADD, BL_OR, BL_AND, BL_XOR, BL_ADD | BL_FETCH,
                                      BL_OR | BL_FETCH, BL_AND | BL_FETCH, BL_XOR | BL_FETCH,
                                      BL_XCHG, BL_CMPXCHG};
        size = below(2) ? 4 : 8;
        put(g, BL_STX | BL_ATOMIC | size_code(size), f->base, r, store_off(f, size),
            ops[below(sizeof ops / sizeof ops[0])]);
        break;
    }
    }
}

/* An access to the area through a copy of the base (mov r, base; add r, d),
 * which the JIT must not miss while it keeps slots of the area in
 * registers; r is overwritten right after (its value is an address, which
 * differs between engines). */
static void unit_alias(struct gen *g, const struct fctx *f)
{
    int r = f->dsts[below((uint32_t)f->n_dsts)], v = f->dsts[below((uint32_t)f->n_dsts)];
    if (v == r)
        v = BL_R0 == r ? f->dsts[f->n_dsts - 1] : BL_R0;
    int16_t delta = (int16_t)(8 * below(8)), off = area_off(f, 8);
    put(g, BL_ALU64 | BL_MOV | BL_X, r, f->base, 0, 0);
    put(g, BL_ALU64 | BL_ADD | BL_K, r, 0, 0, delta);
    if (below(2) || f->protect)
        put(g, BL_LDX | BL_MEM | BL_DW, v, r, (int16_t)(off - delta), 0);
    else
        put(g, BL_STX | BL_MEM | BL_DW, r, v, (int16_t)(off - delta), 0);
    put(g, BL_ALU64 | BL_MOV | BL_K, r, 0, 0, rnd_imm());
}

/* The same through a pointer to the area that main spilled at [area - 8]:
 * the JIT cannot tell it from any other pointer, so slots it keeps in
 * registers must be in memory when such a load runs. */
static void unit_spilled_alias(struct gen *g, const struct fctx *f)
{
    int r = f->dsts[below((uint32_t)f->n_dsts)], v = f->dsts[below((uint32_t)f->n_dsts)];
    if (v == r)
        v = BL_R0 == r ? f->dsts[f->n_dsts - 1] : BL_R0;
    put(g, BL_LDX | BL_MEM | BL_DW, r, f->base, (int16_t)(f->base_off - 8), 0);
    if (below(3) || f->no_alias || f->protect)
        put(g, BL_LDX | BL_MEM | BL_DW, v, r, area_off(f, 8), 0);
    else
        put(g, BL_STX | BL_MEM | BL_DW, r, v, area_off(f, 8), 0);
    put(g, BL_ALU64 | BL_MOV | BL_K, r, 0, 0, rnd_imm());
}

/* A load or store through the packet pointer main spilled at [area - 16]:
 * memory the JIT may treat as apart from the stack slots it keeps in
 * registers, since the verifier says it is not the stack. */
static void unit_pkt(struct gen *g, const struct fctx *f)
{
    static const int sizes[] = {1, 2, 4, 8};
    int r = f->dsts[below((uint32_t)f->n_dsts)], v = f->dsts[below((uint32_t)f->n_dsts)];
    if (v == r)
        v = BL_R0 == r ? f->dsts[f->n_dsts - 1] : BL_R0;
    int size = sizes[below(4)];
    int16_t off = (int16_t)(below(PKT_LEN / (unsigned)size) * (unsigned)size);
    put(g, BL_LDX | BL_MEM | BL_DW, r, f->base, (int16_t)(f->base_off - 16), 0);
    g->pkt_access[g->n] = 1;
    switch (below(4)) {
    case 0:
        put(g, BL_STX | BL_MEM | size_code(size), r, v, off, 0);
        break;
    case 1:
        put(g, BL_ST | BL_MEM | size_code(size), r, 0, off, rnd_imm());
        break;
    default:
        put(g, BL_LDX | ((size < 8 && below(2)) ? BL_MEMSX : BL_MEM) | size_code(size), v, r, off, 0);
        break;
    }
    put(g, BL_ALU64 | BL_MOV | BL_K, r, 0, 0, rnd_imm());
}

/* a callback returning from the middle: 0 (continue) or 1 (break) */
static void unit_early_exit(struct gen *g, const struct fctx *f)
{
    int r = f->dsts[below((uint32_t)f->n_dsts)];
    put(g, BL_JMP | BL_JSET | BL_K, r, 0, 2, (int32_t)(1u << below(4)));
    put(g, BL_ALU64 | BL_MOV | BL_K, BL_R0, 0, 0, below(3) == 0);
    put(g, BL_JMP | BL_EXIT, 0, 0, 0, 0);
}

static void unit_branch(struct gen *g, const struct fctx *f, uint32_t n_units_total)
{
    static const uint8_t ops[] = {BL_JEQ, BL_JGT, BL_JGE, BL_JSET, BL_JNE, BL_JSGT, BL_JSGE,
                                  BL_JLT, BL_JLE, BL_JSLT, BL_JSLE, BL_JA};
    uint8_t op = ops[below(sizeof ops / sizeof ops[0])];
    uint8_t cls = below(2) ? BL_JMP : BL_JMP32;
    uint8_t srcbit = below(2) ? BL_X : BL_K;
    int dst = f->dsts[below((uint32_t)f->n_dsts)];
    int src = srcbit == BL_X ? f->dsts[below((uint32_t)f->n_dsts)] : 0;
    uint32_t target = g->n_units + 1 + below(4);
    if (target > n_units_total)
        target = n_units_total;
    if (g->n_br < 64) {
        g->br[g->n_br].at = g->n;
        g->br[g->n_br++].unit = target;
    }
    if (op == BL_JA)
        put(g, (below(4) ? BL_JMP : BL_JMP32) | BL_JA, 0, 0, 0, 0);
    else
        put(g, cls | srcbit | op, dst, src, 0, srcbit == BL_K ? rnd_imm() : 0);
}

static void reinit_args(struct gen *g)
{
    for (int r = BL_R1; r <= BL_R5; r++)
        put(g, BL_ALU64 | BL_MOV | BL_K, r, 0, 0, rnd_imm());
}

/* a value for [area + lo]: small, random, or near 2^64 (lo + a*i + b
 * carries: the JIT's test before the loop must see it) */
static uint64_t slot_value(void)
{
    switch (below(4)) {
    case 0: return below(1000);
    case 1: return (uint64_t)0 - 1 - below(200);
    case 2: return 0x7fffffffffffffffull - below(100);
    default: return rnd();
    }
}

static void unit_loop(struct gen *g, const struct fctx *f, int cb)
{
    uint32_t n = below(cb == F_CB1 ? 12 : 5);
    const struct check_plan *c = &g->chk[cb];
    if (c->user && (c->uslot || !c->uimm)) {
        /* the exit's two sides meet near i = m (m around n - 1 or
         * anywhere in the loop), off by delta */
        int64_t m = below(2) ? (int64_t)n - 1 : (int64_t)below(n + 2) - 1;
        int64_t delta = (int64_t)below(5) - 2, at_m = (int64_t)c->ua * m + c->ub;
        uint64_t v = slot_value();
        if (c->uslot && c->uimm) {
            v = (uint64_t)c->uk - (uint64_t)at_m - (uint64_t)delta;
        }
        if (c->uslot) {
            put_lddw(g, BL_R1, v);
            put(g, BL_STX | BL_MEM | BL_DW, f->base, BL_R1, (int16_t)(f->base_off + c->ulo), 0);
        } else {
            v = 0;
        }
        if (!c->uimm) {
            put_lddw(g, BL_R1, v + (uint64_t)at_m + (uint64_t)delta);
            put(g, BL_STX | BL_MEM | BL_DW, f->base, BL_R1, (int16_t)(f->base_off + c->uhi), 0);
        }
    }
    if (c->ptr) {
        /* [area+hi] = [area+lo] + a*m + b + delta: the check never fires
         * (m = n - 1, delta >= 0), fires on the last iterations, or from
         * some iteration m on */
        uint64_t v = slot_value();
        int64_t m = below(2) ? (int64_t)n - 1 : (int64_t)below(n + 2) - 1;
        int64_t delta = (int64_t)below(5) - 2;
        put_lddw(g, BL_R1, v);
        put(g, BL_STX | BL_MEM | BL_DW, f->base, BL_R1, (int16_t)(f->base_off + c->lo), 0);
        put_lddw(g, BL_R1, v + (uint64_t)(c->f[1].a * m + c->f[1].b + delta));
        put(g, BL_STX | BL_MEM | BL_DW, f->base, BL_R1, (int16_t)(f->base_off + c->hi), 0);
    }
    put(g, BL_ALU64 | BL_MOV | BL_K, BL_R1, 0, 0, (int32_t)n);
    put_ref(g, BL_LD | BL_IMM | BL_DW, BL_R2, BL_PSEUDO_FUNC, cb);
    put(g, BL_ALU64 | BL_MOV | BL_X, BL_R3, f->base, 0, 0);
    if (f->base_off || below(2))             /* (the compiler's: `mov r3, r9` only) */
        put(g, BL_ALU64 | BL_ADD | BL_K, BL_R3, 0, 0, f->base_off);
    put(g, BL_ALU64 | BL_MOV | BL_K, BL_R4, 0, 0, 0);
    put(g, BL_JMP | BL_CALL, 0, 0, 0, BL_HELPER_LOOP);
    reinit_args(g);
}

/* the callback's check plan: forms, slots, coefficients */
static void plan_checks(struct gen *g, int cb)
{
    struct check_plan *c = &g->chk[cb];
    memset(c, 0, sizeof *c);
    uint32_t form = below(4);                /* none, imm, ptr, both */
    c->imm = form & 1;
    c->ptr = form >> 1;
    int slot[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    for (int k = 0; k < 5; k++) {            /* five distinct slots */
        int j = k + (int)below(8 - (unsigned)k), t = slot[k];
        slot[k] = slot[j];
        slot[j] = t;
    }
    c->lo = (int16_t)(8 * slot[0]);
    c->hi = (int16_t)(8 * slot[1]);
    c->off2 = (int16_t)(8 * slot[2]);
    c->protect = below(3) != 0;
    for (int k = 0; k < 2; k++) {
        c->f[k].mul = below(3) == 0;
        c->f[k].sc = c->f[k].mul ? (int32_t)below(20) : (int32_t)below(5);
        c->f[k].a = c->f[k].mul ? c->f[k].sc : 1 << c->f[k].sc;
        c->f[k].b = below(4) ? (int32_t)below(17) : (int32_t)below(100000);
        c->f[k].jop = (int)below(k ? 4 : 2);
    }
    /* K: passes or fails the test before the loop depending on n, or
     * fires from iteration m on */
    int64_t m = below(cb == F_CB1 ? 13 : 6), delta = (int64_t)below(5) - 2;
    c->k = (int32_t)(c->f[0].a * m + c->f[0].b + delta);
    /* the user's exit, on two more slots */
    static const int32_t steps[] = {1, 2, 4, -1, -2, -4, 3, 0, 8, -3};
    static const uint8_t ops[] = {BL_JGT, BL_JGE, BL_JLT, BL_JLE, BL_JSGT, BL_JSGE, BL_JSLT, BL_JSLE};
    c->user = below(2);
    c->ulo = (int16_t)(8 * slot[3]);
    c->uhi = (int16_t)(8 * slot[4]);
    c->ua = steps[below(10)];
    c->ub = (int32_t)below(21) - 10;
    c->uop = ops[below(8)];
    c->uslot = below(2);
    c->uimm = below(3) == 0;
    c->ualways = below(2);
    c->uswap = below(2);
    c->uret = below(5) ? 1 : (int)below(3);
    c->um = (int32_t)below(cb == F_CB1 ? 14 : 7) - 1;
    c->uk = (int32_t)(c->ua * c->um + c->ub + (int64_t)below(5) - 2);
    static const uint8_t gops[] = {BL_JLT, BL_JGE, BL_JSLT, BL_JLE};
    c->uguard = below(3) == 0;
    c->ugop = gops[below(4)];
    c->ugk = (int32_t)below(cb == F_CB1 ? 16 : 9) - 1;
}

/* the jump op whose condition is the negation of op's, and the one for
 * the operands swapped */
static uint8_t op_not(uint8_t op)
{
    switch (op) {
    case BL_JGT: return BL_JLE;
    case BL_JGE: return BL_JLT;
    case BL_JLT: return BL_JGE;
    case BL_JLE: return BL_JGT;
    case BL_JSGT: return BL_JSLE;
    case BL_JSGE: return BL_JSLT;
    case BL_JSLT: return BL_JSGE;
    default: return BL_JSGT;
    }
}

static uint8_t op_swap(uint8_t op)
{
    switch (op) {
    case BL_JGT: return BL_JLT;
    case BL_JGE: return BL_JLE;
    case BL_JLT: return BL_JGT;
    case BL_JLE: return BL_JGE;
    case BL_JSGT: return BL_JSLT;
    case BL_JSGE: return BL_JSLE;
    case BL_JSLT: return BL_JSGT;
    default: return BL_JSGE;
    }
}

/* The user's exit at the callback's start (R3-R5 only): r3 = a*i + b
 * (+ [ulo]), against uk or r5 = [uhi]; the loop stops with R0 = uret when
 * it holds, written as `if E then exit` (a jump to the exit) or as `if
 * not E then skip the exit` (the exit in the fall-through) */
static void put_user_exit(struct gen *g, const struct check_plan *c, int base)
{
    put(g, BL_ALU64 | BL_MOV | BL_X, BL_R3, BL_R1, 0, 0);
    if (c->ua == -1 && below(2))
        put(g, BL_ALU64 | BL_NEG, BL_R3, 0, 0, 0);
    else
        put(g, BL_ALU64 | BL_MUL | BL_K, BL_R3, 0, 0, c->ua);
    put(g, BL_ALU64 | BL_ADD | BL_K, BL_R3, 0, 0, c->ub);
    if (c->uslot) {
        put(g, BL_LDX | BL_MEM | BL_DW, BL_R4, base, c->ulo, 0);
        put(g, BL_ALU64 | BL_ADD | BL_X, BL_R3, BL_R4, 0, 0);
    }
    uint8_t op = c->ualways ? op_not(c->uop) : c->uop;
    int dst = BL_R3, src = BL_R5;
    if (!c->uimm) {
        put(g, BL_LDX | BL_MEM | BL_DW, BL_R5, base, c->uhi, 0);
        if (c->uswap) {
            dst = BL_R5;
            src = BL_R3;
            op = op_swap(op);
        }
    }
    uint8_t code = (uint8_t)(BL_JMP | op | (c->uimm ? BL_K : BL_X));
    if (c->uguard)                           /* skip the test: to after the exit */
        put(g, BL_JMP | c->ugop | BL_K, BL_R1, 0, c->ualways ? 3 : 4, c->ugk);
    if (c->ualways) {
        put(g, code, dst, c->uimm ? 0 : src, 2, c->uimm ? c->uk : 0);
    } else {
        put(g, code, dst, c->uimm ? 0 : src, 1, c->uimm ? c->uk : 0);
        put(g, BL_JMP | BL_JA, 0, 0, 2, 0);
    }
    put(g, BL_ALU64 | BL_MOV | BL_K, BL_R0, 0, 0, c->uret);
    put(g, BL_JMP | BL_EXIT, 0, 0, 0, 0);
}

/* r = a*i + b (R1 = i), by lsh or mul, then + b */
static void put_affine(struct gen *g, int r, int first_from_r1, int32_t mul, int32_t sc, int32_t b)
{
    if (first_from_r1)
        put(g, BL_ALU64 | BL_MOV | BL_X, r, BL_R1, 0, 0);
    put(g, BL_ALU64 | (mul ? BL_MUL : BL_LSH) | BL_K, r, 0, 0, sc);
    if (b || below(2))
        put(g, BL_ALU64 | BL_ADD | BL_K, r, 0, 0, b);
}

/* The checks of the plan at the callback's start (R1 = i, base = ctx),
 * on R3-R5 only; a check that fires skips a store of i to [area+off2].
 * Sometimes after a join (the forms must survive it), and sometimes the
 * pointer check in a branch only some iterations take. */
static void put_check_prelude(struct gen *g, const struct check_plan *c, int base)
{
    uint32_t imm_jump = 0, wrap = UINT32_MAX;
    if ((c->imm || c->ptr) && below(3) == 0) {
        put(g, BL_JMP | BL_JSET | BL_K, BL_R1, 0, 1, 1);
        put(g, BL_ALU64 | BL_MOV | BL_K, BL_R3, 0, 0, 9);
    }
    if (c->imm) {
        put_affine(g, BL_R3, 1, c->f[0].mul, c->f[0].sc, c->f[0].b);
        imm_jump = g->n;
        put(g, BL_JMP | (c->f[0].jop ? BL_JGE : BL_JGT) | BL_K, BL_R3, 0, 1, c->k);
    }
    if (c->ptr && below(4) == 0) {
        wrap = g->n;                         /* past the store, for i & 2 */
        put(g, BL_JMP | BL_JSET | BL_K, BL_R1, 0, 0, 2);
    }
    if (c->ptr) {
        /* r3 = [base+lo] + (a*i + b in r4), r5 = [base+hi] */
        put(g, BL_LDX | BL_MEM | BL_DW, BL_R3, base, c->lo, 0);
        put_affine(g, BL_R4, 1, c->f[1].mul, c->f[1].sc, 0);
        put(g, BL_ALU64 | BL_ADD | BL_X, BL_R3, BL_R4, 0, 0);
        if (c->f[1].b || below(2))
            put(g, BL_ALU64 | BL_ADD | BL_K, BL_R3, 0, 0, c->f[1].b);
        put(g, BL_LDX | BL_MEM | BL_DW, BL_R5, base, c->hi, 0);
        switch (c->f[1].jop) {
        case 0: put(g, BL_JMP | BL_JGT | BL_X, BL_R3, BL_R5, 1, 0); break;
        case 1: put(g, BL_JMP | BL_JGE | BL_X, BL_R3, BL_R5, 1, 0); break;
        case 2: put(g, BL_JMP | BL_JLT | BL_X, BL_R5, BL_R3, 1, 0); break;
        default: put(g, BL_JMP | BL_JLE | BL_X, BL_R5, BL_R3, 1, 0); break;
        }
    }
    if (c->imm || c->ptr)
        put(g, BL_STX | BL_MEM | BL_DW, base, BL_R1, c->off2, 0);
    if (c->imm)                              /* past the store */
        g->insns[imm_jump].off = (int16_t)(g->n - imm_jump - 1);
    if (wrap != UINT32_MAX)
        g->insns[wrap].off = (int16_t)(g->n - wrap - 1);
}

/* a function body of n_units units, then exit */
static void gen_body(struct gen *g, const struct fctx *f, uint32_t n_units)
{
    g->n_units = 0;
    g->n_br = 0;
    for (uint32_t u = 0; u < n_units; u++) {
        g->units[g->n_units++] = g->n;
        uint32_t k = below(100);
        if (f->early_exits && below(10) == 0)
            unit_early_exit(g, f);
        else if (f->depth && f->base != BL_R10 && !f->no_alias && below(12) == 0)
            unit_alias(g, f);
        else if (f->depth && f->base != BL_R10 && (!f->no_alias || below(2)) && below(12) == 0)
            unit_spilled_alias(g, f);
        else if (f->pkt && below(f->depth ? 5 : 12) == 0)
            unit_pkt(g, f);
        else if (k < 45)
            unit_alu(g, f);
        else if (k < 75)
            unit_mem(g, f);
        else if (k < 90)
            unit_branch(g, f, n_units);
        else if (k < 95 && f->depth == 0)
            unit_loop(g, f, F_CB1);
        else if (k < (f->nests ? 99 : 95) && f->depth == 1)
            unit_loop(g, f, F_CB2);
        else if (f->depth == 0) {
            put_ref(g, BL_JMP | BL_CALL, 0, BL_PSEUDO_CALL, F_SUB);
            reinit_args(g);
        } else {
            unit_alu(g, f);
        }
    }
    g->units[g->n_units] = g->n; /* the end unit */
    for (uint32_t b = 0; b < g->n_br; b++) {
        struct bl_insn *in = &g->insns[g->br[b].at];
        int32_t rel = (int32_t)g->units[g->br[b].unit] - (int32_t)(g->br[b].at + 1);
        if (BL_CLASS(in->code) == BL_JMP32 && BL_OP(in->code) == BL_JA)
            in->imm = rel;
        else
            in->off = (int16_t)rel;
    }
}

/* fold every register and the area into R0 */
static void gen_epilogue(struct gen *g, const struct fctx *f, int fold_regs_from, int boolean)
{
    for (int k = 0; k < f->n_dsts; k++)
        if (f->dsts[k] >= fold_regs_from && f->dsts[k] != f->base)
            put(g, BL_ALU64 | BL_XOR | BL_X, BL_R0, f->dsts[k], 0, 0);
    if (boolean) {
        /* the callback's registers, folded, become visible in the area */
        put(g, BL_STX | BL_MEM | BL_DW, f->base, BL_R0, store_off(f, 8), 0);
        switch (below(3)) {
        case 0: /* a callback returns 0 or 1: stop on some iterations */
            put(g, BL_ALU64 | BL_AND | BL_K, BL_R0, 0, 0, 0x1f);
            put(g, BL_JMP | BL_JNE | BL_K, BL_R0, 0, 2, 0x17);
            put(g, BL_ALU64 | BL_MOV | BL_K, BL_R0, 0, 0, 1);
            put(g, BL_JMP | BL_JA, 0, 0, 1, 0);
            put(g, BL_ALU64 | BL_MOV | BL_K, BL_R0, 0, 0, 0);
            break;
        case 1: /* a known 0 (the JIT continues without testing R0) */
            put(g, BL_ALU64 | BL_MOV | BL_K, BL_R0, 0, 0, 0);
            break;
        default: /* a computed 0 or 1 */
            put(g, BL_ALU64 | BL_RSH | BL_K, BL_R0, 0, 0, 7);
            put(g, BL_ALU64 | BL_AND | BL_K, BL_R0, 0, 0, below(4) == 0);
            break;
        }
    } else {
        for (int16_t off = 0; off < 64; off += 8) {
            put(g, BL_LDX | BL_MEM | BL_DW, BL_R1, f->base, (int16_t)(f->base_off + off), 0);
            put(g, BL_ALU64 | BL_MUL | BL_K, BL_R0, 0, 0, 0x3b);
            put(g, BL_ALU64 | BL_XOR | BL_X, BL_R0, BL_R1, 0, 0);
        }
    }
    put(g, BL_JMP | BL_EXIT, 0, 0, 0, 0);
}

static void generate(struct gen *g)
{
    static const int main_dsts[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    static const int cb_dsts[] = {0, 3, 4, 5, 6, 7, 8};
    static const int light_dsts[] = {0, 3, 4, 5};
    static const int compiler_dsts[] = {0, 1, 2, 3, 6, 7};
    memset(g, 0, sizeof *g);
    for (int cb = F_CB1; cb <= F_CB2; cb++)
        plan_checks(g, cb);

    /* main: initialise R0-R9 and the area [r10-64, r10) */
    g->func_start[F_MAIN] = 0;
    for (int r = 0; r <= 9; r++)
        init_reg(g, r);
    for (int16_t off = -64; off < 0; off += 8)
        put(g, BL_ST | BL_MEM | BL_DW, BL_R10, 0, off, rnd_imm());
    /* [r10 - 72] = the area's address, for unit_spilled_alias (R1 is
     * overwritten again: no address reaches R0) */
    put(g, BL_ALU64 | BL_MOV | BL_X, BL_R1, BL_R10, 0, 0);
    put(g, BL_ALU64 | BL_ADD | BL_K, BL_R1, 0, 0, -64);
    put(g, BL_STX | BL_MEM | BL_DW, BL_R10, BL_R1, -72, 0);
    /* [r10 - 80] = the packet's address, for unit_pkt */
    put_lddw(g, BL_R1, (uint64_t)(uintptr_t)pkt_buf);
    put(g, BL_STX | BL_MEM | BL_DW, BL_R10, BL_R1, -80, 0);
    init_reg(g, BL_R1);
    struct fctx fmain = {.dsts = main_dsts, .n_dsts = 10, .base = BL_R10, .base_off = -64,
                         .pkt = 1};
    gen_body(g, &fmain, 10 + below(40));
    gen_epilogue(g, &fmain, 1, 0);

    /* callbacks: R1 = i, R2 = the caller's area; either R9 keeps it (and
     * the body may use R6-R8, loop and call), or a light body uses only
     * R0, R3-R5 and R2 as its base (what the JIT keeps in registers) */
    for (int cb = F_CB1; cb <= F_CB2; cb++) {
        /* a function nobody calls would only be dead code glued to the
         * previous one (hiding what that one does from the JIT's analysis) */
        if (!g->used[cb])
            continue;
        int kind = (int)below(3), light = kind == 1;
        /* a body that does not read i (R1 dead at its start) */
        int reads_i = below(4) != 0;
        struct fctx fcb = {.dsts = cb_dsts, .n_dsts = 7, .base = BL_R9,
                           .depth = cb == F_CB1 ? 1 : 2, .early_exits = below(3) == 0,
                           .pkt = 1};
        if (kind == 2) {
            /* as the compiler writes them: `mov r9, r2`, R1/R2 reused */
            fcb.dsts = compiler_dsts;
            fcb.n_dsts = 6;
            fcb.depth = 2;
            if (cb == F_CB1 && below(2)) {
                /* loops inside, which may keep the slots in this loop's
                 * registers (shared slots) */
                fcb.depth = 1;
                fcb.nests = 1;
            }
            fcb.no_atomics = below(4) != 0;
            fcb.dw_only = below(4) != 0;
            fcb.simple_alu = below(4) != 0;
            fcb.no_alias = below(2);
            if (fcb.no_alias)                 /* what lets the JIT keep slots in registers */
                fcb.no_atomics = fcb.dw_only = 1;
        }
        if (light) {
            fcb.dsts = light_dsts;
            fcb.n_dsts = 4;
            fcb.base = BL_R2;
            fcb.depth = 2;                    /* no calls: R2 must survive */
            fcb.no_atomics = below(4) != 0;
        }
        if (g->chk[cb].protect && g->chk[cb].ptr)
            fcb.protect = (uint8_t)(1u << (g->chk[cb].lo / 8) | 1u << (g->chk[cb].hi / 8));
        if (g->chk[cb].protect && g->chk[cb].user)
            fcb.protect |= (uint8_t)(1u << (g->chk[cb].ulo / 8) | 1u << (g->chk[cb].uhi / 8));
        g->func_start[cb] = g->n;
        if (!light)
            put(g, BL_ALU64 | BL_MOV | BL_X, BL_R9, BL_R2, 0, 0);
        int user_first = below(2);
        if (g->chk[cb].user && user_first)
            put_user_exit(g, &g->chk[cb], fcb.base);
        put_check_prelude(g, &g->chk[cb], fcb.base);
        if (g->chk[cb].user && !user_first)
            put_user_exit(g, &g->chk[cb], fcb.base);
        if (reads_i)
            put(g, BL_ALU64 | BL_MOV | BL_X, BL_R0, BL_R1, 0, 0);
        else
            init_reg(g, BL_R0);
        for (int k = 1; k < fcb.n_dsts; k++)
            init_reg(g, fcb.dsts[k]);
        if (reads_i)
            put(g, BL_ALU64 | BL_ADD | BL_X, BL_R3, BL_R1, 0, 0);
        gen_body(g, &fcb, 3 + below(10));
        /* leave a trace of this iteration in the area */
        put(g, BL_STX | BL_MEM | BL_DW, fcb.base, BL_R3, store_off(&fcb, 8), 0);
        gen_epilogue(g, &fcb, 3, 1);
    }

    /* a subprogram with its own frame, R1-R5 as arguments */
    if (g->used[F_SUB]) {
        g->func_start[F_SUB] = g->n;
        for (int r = 6; r <= 9; r++)
            init_reg(g, r);
        put(g, BL_ALU64 | BL_MOV | BL_X, BL_R0, BL_R1, 0, 0);
        for (int16_t off = -64; off < 0; off += 8)
            put(g, BL_STX | BL_MEM | BL_DW, BL_R10, (int)(1 + below(5)), off, 0);
        struct fctx fsub = {.dsts = main_dsts, .n_dsts = 10, .base = BL_R10, .base_off = -64,
                            .depth = 2};
        gen_body(g, &fsub, 3 + below(12));
        gen_epilogue(g, &fsub, 1, 0);
    }

    for (uint32_t k = 0; k < g->n_refs; k++) {
        struct bl_insn *in = &g->insns[g->refs[k].at];
        in->imm = (int32_t)g->func_start[g->refs[k].func] - (int32_t)(g->refs[k].at + 1);
    }
}

/* inlined loops that got a copy free of bounds checks, in all programs,
 * and of those the copies that run their body twice per trip */
static uint64_t versioned_loops, unrolled_loops, hoisted_values, shared_loops, proved_tests;

static int run_one(struct gen *g, uint64_t index, int also_raw)
{
    bpflua_object *obj = bpflua_object_new();
    assert_non_null(obj);
    assert_true(bpflua_object_add_prog(obj, "rnd", "xdp", g->insns, g->n, NULL, 0, NULL, 0) >= 0);
    struct bl_prog *p = bl_object_prog(obj, 0);

    uint64_t args[5] = {0};
    struct bl_interp_opts io = {.raw = 1};
    io.regions[0] = (struct bl_mem_region){(uint64_t)(uintptr_t)pkt_buf, PKT_LEN};
    io.n_regions = 1;
    struct bpflua_run_env env = {.obj = obj};
    struct bl_interp_result ir;
    memset(&ir, 0, sizeof ir);
    pkt_reset();
    int rc = bl_interp_exec(p->insns, p->n_insns, args, &io, &env, &ir);
    uint8_t pkt_after[PKT_LEN];
    memcpy(pkt_after, pkt_buf, PKT_LEN);
    if (rc) {
        print_message("program %llu: interpreter: %s\n", (unsigned long long)index, ir.msg);
        bpflua_object_free(obj);
        return -1;
    }

    p->exec_insns = malloc(p->n_insns * sizeof *p->insns);
    memcpy(p->exec_insns, p->insns, p->n_insns * sizeof *p->insns);
    p->aux = calloc(p->n_insns, sizeof *p->aux);
    /* what the verifier would record: every access is safe, every one
     * touches the stack but those through the packet pointer; now and then
     * some are left as never visited (any kind: the JIT must assume the
     * worst) */
    int some_unseen = below(4) == 0;
    for (uint32_t i = 0; i < p->n_insns; i++) {
        uint8_t cls = BL_CLASS(p->insns[i].code);
        int mem = (cls == BL_LDX || cls == BL_ST || cls == BL_STX) && !bl_is_lddw(&p->insns[i]);
        p->aux[i].mem_safe = 1;
        p->aux[i].seen = !(some_unseen && mem && below(2) == 0);
        if (mem && p->aux[i].seen)
            p->aux[i].mem_kinds = g->pkt_access[i] ? BL_MEMK_PACKET : BL_MEMK_STACK;
    }
    p->verdict = 1;
    char *err = NULL;
    int bad = 0;
    for (int mode = 0; mode < 1 + also_raw && !bad; mode++) {
        struct bl_jit_opts jo = {.raw = mode};
        /* now and then a small inlining budget: some loops inside inlined
         * ones are called (their enclosing loop's slots go to memory
         * around them) */
        if (below(4) == 0)
            jo.inline_budget = 20 + below(200);
        if (bl_jit_compile_opts(p, &jo, &err)) {
            print_message("program %llu: jit: %s\n", (unsigned long long)index, err);
            free(err);
            bad = 1;
            break;
        }
        if (!mode) {
            versioned_loops += bl_jit_versioned_loops(p->jit);
            hoisted_values += bl_jit_hoisted_values(p->jit);
            shared_loops += bl_jit_shared_loops(p->jit);
            unrolled_loops += bl_jit_unrolled_loops(p->jit);
            proved_tests += bl_jit_proved_tests(p->jit);
        }
        struct bpflua_run_env jenv = {.obj = obj};
        pkt_reset();
        uint64_t r0 = bl_jit_run_mem(p->jit, 0, 0, pkt_buf, PKT_LEN, &jenv);
        int pkt_differs = memcmp(pkt_buf, pkt_after, PKT_LEN) != 0;
        if (!mode && !jenv.fault && r0 == ir.r0 && !pkt_differs) {
            /* bl_jit_run: R1 = ctx = 0 as above, through the fast entry */
            pkt_reset();
            r0 = bl_jit_run(p->jit, NULL, &jenv);
            pkt_differs = memcmp(pkt_buf, pkt_after, PKT_LEN) != 0;
        }
        if (jenv.fault || r0 != ir.r0 || pkt_differs) {
            print_message("program %llu (%s): interp 0x%llx jit 0x%llx fault %d%s\n",
                          (unsigned long long)index, mode ? "raw" : "verified",
                          (unsigned long long)ir.r0, (unsigned long long)r0, jenv.fault,
                          pkt_differs ? ", packets differ" : "");
            if (getenv("BPFLUA_JIT_DUMP")) {  /* the failing program's code, for objdump */
                FILE *df = fopen(getenv("BPFLUA_JIT_DUMP"), "wb");
                if (df) {
                    fwrite(bl_jit_code_bytes(p->jit), 1, bl_jit_code_size(p->jit), df);
                    fclose(df);
                }
            }
            char *text = bpflua_disasm(obj, 0, 0);
            if (text)
                print_message("%s\n", text);
            free(text);
            bad = 1;
        }
    }
    bpflua_object_free(obj);
    return bad ? -1 : 0;
}

static void test_random_programs(void **state)
{
    const char *s = getenv("BPFLUA_JIT_SEED");
    const char *c = getenv("BPFLUA_JIT_PROGRAMS");
    uint64_t seed = s ? strtoull(s, NULL, 0) : 0x5eed2026;
    uint64_t count = c ? strtoull(c, NULL, 0) : 10000;
    static struct gen g;
    int failures = 0;
    uint64_t insns = 0;
    versioned_loops = unrolled_loops = hoisted_values = shared_loops = proved_tests = 0;
    print_message("seed 0x%llx, %llu programs\n", (unsigned long long)seed,
                  (unsigned long long)count);
    for (uint64_t k = 0; k < count && failures < 3; k++) {
        rng = (seed + k) * 0x9e3779b97f4a7c15ull | 1; /* program k is reproducible alone */
        generate(&g);
        insns += g.n;
        if (run_one(&g, k, k % 8 == 0))
            failures++;
    }
    print_message("%llu instructions in all, %llu loops versioned (bounds checks dropped from a "
                  "copy), %llu of them unrolled, %llu values hoisted out of loops, %llu nested "
                  "loops sharing slots' registers, %llu tests decided by the enclosing loops' "
                  "ranges\n",
                  (unsigned long long)insns, (unsigned long long)versioned_loops,
                  (unsigned long long)unrolled_loops, (unsigned long long)hoisted_values,
                  (unsigned long long)shared_loops, (unsigned long long)proved_tests);
    assert_int_equal(failures, 0);
    /* the versioned and unrolled paths must stay exercised: 1 program in
     * 20, and in 200, at least */
    if (!failures) {
        assert_true(versioned_loops * 20 >= count);
        assert_true(proved_tests * 20 >= count);     /* (inline_ranges.c: ~1 a program) */
        assert_true(unrolled_loops * 200 >= count);
        assert_true(hoisted_values * 200 >= count);
    }
}

/* ---- hostile programs in raw mode ------------------------------------------- */

/* Random instructions (valid opcodes mostly, any operands, jumps anywhere,
 * loops, bad registers) through the JIT's raw mode: it refuses them or
 * runs them to an end, never crashes (the test build has ASan/UBSan). When
 * neither engine refuses nor faults and nothing calls, R0 must agree with
 * the interpreter's raw mode. */
static void test_hostile_raw(void **state)
{
    const char *c = getenv("BPFLUA_JIT_PROGRAMS");
    uint64_t count = c ? strtoull(c, NULL, 0) : 10000;
    const char *sd = getenv("BPFLUA_JIT_SEED");
    rng = (sd ? strtoull(sd, NULL, 0) : 0) ^ 0xbadc0de5eedull;
    int compiled = 0, faulted = 0, compared = 0, differ = 0;
    for (uint64_t k = 0; k < count; k++) {
        struct bl_insn insns[48];
        uint32_t n = 1 + below(40), calls = 0;
        for (uint32_t i = 0; i < n; i++) {
            const struct bl_opinfo *op = &bl_ops[below(BL_OP_COUNT)];
            struct bl_insn in = {op->code, (uint8_t)below(below(16) ? 11 : 16),
                                 (uint8_t)below(below(16) ? 11 : 16), 0, rnd_imm()};
            if (op->fmt == BL_FMT_ALU_K || op->fmt == BL_FMT_ALU_X || op->fmt == BL_FMT_ATOMIC ||
                op->fmt == BL_FMT_END)
                in.off = (int16_t)op->disc;
            if (op->fmt == BL_FMT_ATOMIC || op->fmt == BL_FMT_END)
                in.imm = op->disc;
            if (op->fmt == BL_FMT_CALL_LOCAL)
                in.src = 1;
            if (op->fmt == BL_FMT_LDX || op->fmt == BL_FMT_ST || op->fmt == BL_FMT_STX ||
                op->fmt == BL_FMT_ATOMIC)
                in.off = (int16_t)(below(2) ? -(int)below(600) : (int)below(80));
            if (op->fmt == BL_FMT_JA || op->fmt == BL_FMT_JMP_K || op->fmt == BL_FMT_JMP_X)
                in.off = (int16_t)((int)below(n + 4) - (int)i - 2);
            if (op->fmt == BL_FMT_JA32 || op->fmt == BL_FMT_CALL_LOCAL)
                in.imm = (int32_t)below(n + 4) - (int32_t)i - 2;
            if (op->fmt == BL_FMT_CALL)
                in.imm = (int32_t)below(200);
            /* mostly valid encodings: clear the fields the format leaves unused */
            if (below(8)) {
                switch (op->fmt) {
                case BL_FMT_ALU_K: case BL_FMT_JMP_K: case BL_FMT_ST: case BL_FMT_END:
                    in.src = 0;
                    break;
                case BL_FMT_ALU_X: case BL_FMT_JMP_X: case BL_FMT_LDX: case BL_FMT_STX:
                    in.imm = 0;
                    break;
                case BL_FMT_NEG:
                    in.src = 0;
                    in.imm = 0;
                    break;
                case BL_FMT_JA: case BL_FMT_JA32:
                    in.dst = in.src = 0;
                    if (op->fmt == BL_FMT_JA)
                        in.imm = 0;
                    else
                        in.off = 0;
                    break;
                case BL_FMT_CALL: case BL_FMT_CALL_LOCAL: case BL_FMT_EXIT:
                    in.dst = 0;
                    in.off = 0;
                    if (op->fmt == BL_FMT_EXIT)
                        in.imm = 0;
                    if (op->fmt != BL_FMT_CALL_LOCAL)
                        in.src = 0;
                    break;
                case BL_FMT_CALLX:
                    in.src = 0;
                    in.off = 0;
                    in.imm = 0;
                    break;
                case BL_FMT_LDDW:
                    in.off = 0;
                    in.src = below(4) ? 0 : in.src;
                    break;
                default:
                    break;
                }
            }
            if (op->fmt == BL_FMT_LDDW && i + 1 < n) {
                insns[i++] = in;
                in = (struct bl_insn){0, 0, 0, 0, rnd_imm()};
            }
            calls += op->fmt == BL_FMT_CALL || op->fmt == BL_FMT_CALL_LOCAL || op->fmt == BL_FMT_CALLX;
            /* R10's value is an address that differs between the engines */
            int as_base = op->fmt == BL_FMT_LDX ? in.src == BL_R10
                          : (op->fmt == BL_FMT_ST || op->fmt == BL_FMT_STX) ? in.dst == BL_R10 : 0;
            if (!as_base && (in.src == BL_R10 || in.dst == BL_R10))
                calls++;
            insns[i] = in;
        }
        if (below(2))
            insns[n - 1] = (struct bl_insn){BL_JMP | BL_EXIT, 0, 0, 0, 0};
        bpflua_object *obj = bpflua_object_new();
        if (bpflua_object_add_prog(obj, "h", "xdp", insns, n, NULL, 0, NULL, 0) < 0) {
            bpflua_object_free(obj);
            continue;
        }
        struct bl_prog *p = bl_object_prog(obj, 0);
        p->exec_insns = malloc(n * sizeof *insns);
        memcpy(p->exec_insns, p->insns, n * sizeof *insns);
        struct bl_jit_opts jo = {.raw = 1};
        char *err = NULL;
        if (bl_jit_compile_opts(p, &jo, &err) == 0) {
            compiled++;
            uint8_t mem[64], copy[64];
            for (int b = 0; b < 64; b++)
                mem[b] = copy[b] = (uint8_t)(b * 5);
            struct bpflua_run_env env = {.obj = obj};
            uint64_t r0 = bl_jit_run_mem(p->jit, (uint64_t)(uintptr_t)mem, 64, mem, 64, &env);
            faulted += env.fault != 0;
            if (!env.fault && !calls) {
                /* the interpreter on the same buffer (pointers may be data) */
                uint8_t after[64];
                memcpy(after, mem, 64);
                memcpy(mem, copy, 64);
                uint64_t args[5] = {(uint64_t)(uintptr_t)mem, 64, 0, 0, 0};
                struct bl_interp_opts io = {.raw = 1, .regions = {{(uint64_t)(uintptr_t)mem, 64}},
                                            .n_regions = 1};
                struct bpflua_run_env ienv = {.obj = obj};
                struct bl_interp_result ir;
                if (bl_interp_exec(p->insns, n, args, &io, &ienv, &ir) == 0 && !ienv.fault) {
                    compared++;
                    memcpy(copy, after, 64);
                    if (ir.r0 != r0 || memcmp(mem, copy, 64)) {
                        differ++;
                        print_message("hostile program %llu: interp 0x%llx jit 0x%llx%s\n",
                                      (unsigned long long)k, (unsigned long long)ir.r0,
                                      (unsigned long long)r0,
                                      memcmp(mem, copy, 64) ? ", memory differs" : "");
                        char *t = bpflua_disasm(obj, 0, 0);
                        if (t)
                            print_message("%s\n", t);
                        free(t);
                    }
                }
            }
        }
        free(err);
        bpflua_object_free(obj);
    }
    print_message("%d of %llu compiled, %d faulted, %d compared with the interpreter\n", compiled,
                  (unsigned long long)count, faulted, compared);
    assert_true(compiled > 0);
    assert_int_equal(differ, 0);
}

static void test_endless_loop(void **state)
{
    /* ja -1 forever: the budget ends it with a fault */
    struct bl_insn insns[2] = {{BL_ALU64 | BL_MOV | BL_K, 0, 0, 0, 7}, {BL_JMP | BL_JA, 0, 0, -1, 0}};
    bpflua_object *obj = bpflua_object_new();
    assert_true(bpflua_object_add_prog(obj, "loop", "xdp", insns, 2, NULL, 0, NULL, 0) >= 0);
    struct bl_prog *p = bl_object_prog(obj, 0);
    p->exec_insns = malloc(sizeof insns);
    memcpy(p->exec_insns, insns, sizeof insns);
    struct bl_jit_opts jo = {.raw = 1};
    assert_int_equal(bl_jit_compile_opts(p, &jo, NULL), 0);
    struct bpflua_run_env env = {.obj = obj};
    assert_true(bl_jit_run_mem(p->jit, 0, 0, NULL, 0, &env) == 0);
    assert_int_equal(env.fault, 1);
    bpflua_object_free(obj);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_programs),
        cmocka_unit_test(test_hostile_raw),
        cmocka_unit_test(test_endless_loop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
