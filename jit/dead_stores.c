/* dead_stores.c - stores to the compiler's variable area that nothing reads.
 *
 * The compiler keeps a function's variables in an area of its frame that
 * R9 points at (`mov r9, r10; add r9, -N` where the function starts), and
 * hands the area to each loop's callback as bpf_loop's ctx (`mov r3, r9`
 * before the call, `mov r9, r2` where the callback starts). It writes
 * slots nobody reads in the JIT's view of the program: a loop's start and
 * step where the callback folds them in as constants, the zeroes it
 * leaves in a callback's scratch slots so the kernel's verifier sees the
 * same state at every iteration. Those stores emit nothing here.
 *
 * A store `[r9 + off] = x` is dead when no instruction of the program may
 * read those bytes: every load and atomic through R9 reads [off, off +
 * size) of the area (every area at once: offsets of all functions' areas
 * share one map, which only adds reads), through R10 in a function with an
 * area the same bytes at off - N, through R10 in a callback its own frame
 * (no area); any other access the verifier saw reach a stack, any helper
 * but bpf_loop (a helper may read memory a pointer argument reaches), a
 * call of a callback as a function, a bpf_loop whose callback or ctx is
 * not as above, or another write of R9: nothing is dead in the program.
 *
 * A store in a callback to bytes that only that callback reads is dead
 * too when the callback cannot read them before writing them again, from
 * the store to its exit and, at the next iteration, from its start: the
 * zeroes the compiler leaves in a body's scratch slots (`kind`, `len` of
 * a TLV walk) at every exit, which a JIT copy keeping those slots in
 * registers paid as two moves per iteration. Likewise bytes that only the
 * callback and the callbacks of the loops it runs read (a nest's inner
 * start slot, zeroed after the inner loop), a loop whose callbacks read
 * them counting as a read where it is called.
 */
#include <stdlib.h>
#include <string.h>

#include "jit_internal.h"
#include "../core/insn.h"
#include "../stdlib/helpers.h"
#include "../vm/verifier.h"

#define AREA_LO (-1024)
#define AREA_HI 1024

enum { F_NONE, F_AREA, F_CALLBACK };

static int is_mov_x(const struct bl_insn *in, int dst, int src)
{
    return in->code == (BL_ALU64 | BL_MOV | BL_X) && in->dst == dst && in->src == src &&
           in->off == 0;
}

/* the function's kind from its first instructions; *head = how many of
 * them set R9 */
static int func_kind(const struct jit *j, const struct jfunc *fn, int32_t *area, uint32_t *head)
{
    const struct bl_insn *in = &j->insns[fn->start];
    if (fn->end - fn->start >= 2 && is_mov_x(in, BL_R9, BL_R10) &&
        in[1].code == (BL_ALU64 | BL_ADD | BL_K) && in[1].dst == BL_R9 &&
        !j->is_target[fn->start + 1]) {
        *area = in[1].imm;
        *head = 2;
        return F_AREA;
    }
    if (fn->end - fn->start >= 1 && is_mov_x(in, BL_R9, BL_R2)) {
        *head = 1;
        return F_CALLBACK;
    }
    *head = 0;
    return F_NONE;
}

#define MULTI 0xffff

/* bytes [lo, lo + size) of the area are read by function f */
static int mark(uint16_t *read, int64_t lo, int size, uint32_t f)
{
    if (lo < AREA_LO || lo + size > AREA_HI)
        return 0;
    for (int b = 0; b < size; b++) {
        uint16_t *r = &read[lo + b - AREA_LO];
        *r = *r == 0 || *r == f + 1 ? (uint16_t)(f + 1) : MULTI;
    }
    return 1;
}

/* Can callback fn read bytes [lo, lo + size) of the area, from
 * instruction `from` on, before a store writes all of them? An exit goes
 * on at fn's start (the next iteration: the same callback) when
 * exit_live. 1 yes (or unsure), 0 no. Callbacks jump forward only (a jump
 * back: unsure); nothing but fn reads those bytes (the caller checked),
 * so the bytes fn leaves at its last iteration are never read. */
static int subtree_reads(const struct jit *j, uint32_t t, const int *kind, const int32_t *area,
                         const uint32_t *parent, int64_t lo, int size);

static int read_after(const struct jit *j, const struct jfunc *fn, uint32_t from, int64_t lo,
                      int size, int exit_live, const int *kind, const int32_t *area,
                      const uint32_t *parent)
{
    uint32_t n = fn->end - fn->start;
    uint8_t *reach = calloc(n + 1, 1);
    int found = 0;
    if (!reach)
        return 1;
    reach[from - fn->start] = 1;
    for (uint32_t k = from - fn->start; k < n && !found; k++) {
        if (!reach[k])
            continue;
        const struct bl_insn *in = &j->insns[fn->start + k];
        uint8_t cls = BL_CLASS(in->code), op = BL_OP(in->code), mode = BL_MODE(in->code);
        int len = bl_is_lddw(in) ? 2 : 1, go_on = 1;
        int64_t a = in->off, b = a + jit_size_of(in->code);
        if ((cls == BL_LDX && in->src == BL_R9) ||
            (cls == BL_STX && mode == BL_ATOMIC && in->dst == BL_R9)) {
            if (a < lo + size && lo < b)
                found = 1;                       /* read */
        } else if ((cls == BL_ST || cls == BL_STX) && mode == BL_MEM && in->dst == BL_R9) {
            if (a <= lo && lo + size <= b)
                go_on = 0;                       /* all written: this way is done */
        } else if (cls == BL_JMP || cls == BL_JMP32) {
            if (op == BL_EXIT) {
                found = exit_live;
                go_on = 0;
            } else if (op == BL_CALL) {
                /* a nested loop whose callbacks read the bytes (only
                 * with parent: else no callback reads them) */
                uint32_t cb = parent && in->src == 0 && in->imm == BL_HELPER_LOOP
                                  ? jit_static_callback(j, fn->start + k) : UINT32_MAX;
                uint32_t t = cb == UINT32_MAX ? UINT32_MAX : jit_func_index(j, cb);
                if (parent && (t == UINT32_MAX ||
                               subtree_reads(j, t, kind, area, parent, lo, size)))
                    found = 1;
            } else {
                int64_t t = (int64_t)k + 1 + ((cls == BL_JMP32 && op == BL_JA) ? in->imm : in->off);
                if (t <= (int64_t)k || t > (int64_t)n)
                    found = 1;                   /* (unsure) */
                else
                    reach[t] = 1;
                if (op == BL_JA)
                    go_on = 0;
            }
        }
        if (go_on && k + len <= n)
            reach[k + len] = 1;
        if (go_on && k + len == n)
            found = 1;                           /* (falls off: unsure) */
    }
    free(reach);
    return found;
}

/* Does function f read any of the bytes [lo, lo + size) of the area
 * (through R9, or R10 where its area is)? */
static int func_reads(const struct jit *j, uint32_t f, const int *kind, const int32_t *area,
                      int64_t lo, int size)
{
    const struct jfunc *fn = &j->funcs[f];
    for (uint32_t pc = fn->start; pc < fn->end; pc++) {
        const struct bl_insn *in = &j->insns[pc];
        uint8_t cls = BL_CLASS(in->code), mode = BL_MODE(in->code);
        if (bl_is_lddw(in)) {
            pc++;
            continue;
        }
        if (cls != BL_LDX && !(cls == BL_STX && mode == BL_ATOMIC))
            continue;
        int base = cls == BL_LDX ? in->src : in->dst;
        int64_t a = in->off;
        if (base == BL_R10 && kind[f] == F_AREA)
            a -= area[f];
        else if (base != BL_R9)
            continue;
        if (a < lo + size && lo < a + jit_size_of(in->code))
            return 1;
    }
    return 0;
}

/* Does callback t, or a callback of a loop it runs (at any depth), read
 * any of those bytes? */
static int subtree_reads(const struct jit *j, uint32_t t, const int *kind, const int32_t *area,
                         const uint32_t *parent, int64_t lo, int size)
{
    for (uint32_t g = 0; g < j->n_funcs; g++) {
        uint32_t a = g;
        for (int d = 0; d < 8 && a != t && a < j->n_funcs; d++)
            a = parent[a];
        if (a == t && func_reads(j, g, kind, area, lo, size))
            return 1;
    }
    return 0;
}

/* Is every function that reads those bytes f itself or a callback of a
 * loop f runs, at any depth (parent: the one function each callback's
 * loops are in)? */
static int read_below(const struct jit *j, uint32_t f, const int *kind, const int32_t *area,
                      const uint32_t *parent, int64_t lo, int size)
{
    for (uint32_t g = 0; g < j->n_funcs; g++) {
        if (g == f || !func_reads(j, g, kind, area, lo, size))
            continue;
        uint32_t a = g;
        for (int d = 0; d < 8 && a != f && a < j->n_funcs; d++)
            a = parent[a];
        if (a != f)
            return 0;
    }
    return 1;
}

uint8_t *jit_dead_stores(const struct jit *j)
{
    if (j->raw || !j->aux || j->checked)
        return NULL;
    uint16_t *read = calloc(AREA_HI - AREA_LO, sizeof *read);
    int *kind = calloc(j->n_funcs, sizeof *kind);
    int32_t *area = calloc(j->n_funcs, sizeof *area);
    /* each callback's caller (the function whose bpf_loop runs it), or
     * UINT32_MAX: none, or more than one */
    uint32_t *parent = malloc(j->n_funcs * sizeof *parent);
    uint8_t *dead = NULL;
    if (!read || !kind || !area || !parent)
        goto out;
    for (uint32_t f = 0; f < j->n_funcs; f++)
        parent[f] = UINT32_MAX - 1;              /* (no caller seen yet) */
    for (uint32_t f = 0; f < j->n_funcs; f++) {
        uint32_t head;
        kind[f] = func_kind(j, &j->funcs[f], &area[f], &head);
        if (kind[f] == F_CALLBACK && (f == 0 || j->is_target[j->funcs[f].start]))
            goto out;                            /* (main's R2 is no area) */
    }
    for (uint32_t f = 0; f < j->n_funcs; f++) {
        const struct jfunc *fn = &j->funcs[f];
        uint32_t head;
        func_kind(j, fn, &area[f], &head);
        for (uint32_t pc = fn->start; pc < fn->end; pc++) {
            const struct bl_insn *in = &j->insns[pc];
            uint8_t cls = BL_CLASS(in->code), mode = BL_MODE(in->code);
            if (bl_is_lddw(in)) {
                if (in->dst == BL_R9)
                    goto out;
                pc++;
                continue;
            }
            uint16_t use, def;
            bl_insn_use_def(in, &use, &def);
            if (((def >> BL_R9) & 1) && pc >= fn->start + head)
                goto out;                        /* R9 written elsewhere */
            if (cls == BL_JMP && BL_OP(in->code) == BL_CALL) {
                if (in->src == BL_PSEUDO_CALL) {
                    uint32_t t = jit_func_index(j, (uint32_t)((int64_t)pc + 1 + in->imm));
                    if (t == UINT32_MAX || kind[t] == F_CALLBACK)
                        goto out;
                    continue;
                }
                if (in->src != 0 || in->imm != BL_HELPER_LOOP)
                    goto out;
                /* bpf_loop: a callback of this program, the area as ctx */
                uint32_t cb = jit_static_callback(j, pc);
                uint32_t t = cb == UINT32_MAX ? UINT32_MAX : jit_func_index(j, cb);
                if (t == UINT32_MAX || kind[t] != F_CALLBACK || kind[f] == F_NONE ||
                    !jit_block_r3_is(j, pc, fn->start, BL_R9))
                    goto out;
                parent[t] = parent[t] == UINT32_MAX - 1 || parent[t] == f ? f : UINT32_MAX;
                continue;
            }
            if (cls == BL_JMP || cls == BL_JMP32 || cls == BL_ALU || cls == BL_ALU64 ||
                (cls == BL_LD && (mode == BL_ABS || mode == BL_IND)))
                continue;
            int size = jit_size_of(in->code);
            int is_read = cls == BL_LDX || (cls == BL_STX && mode == BL_ATOMIC);
            if (cls == BL_LD || (cls == BL_LDX && mode != BL_MEM && mode != BL_MEMSX) ||
                ((cls == BL_ST || cls == BL_STX) && mode != BL_MEM && mode != BL_ATOMIC))
                goto out;
            if (!is_read)
                continue;                        /* a store reads nothing */
            int base = cls == BL_LDX ? in->src : in->dst;
            if (base == BL_R9) {
                if (kind[f] == F_NONE || !mark(read, in->off, size, f))
                    goto out;
            } else if (base == BL_R10) {
                /* (a frame without an area is no area) */
                if (kind[f] == F_AREA && !mark(read, (int64_t)in->off - area[f], size, f))
                    goto out;
            } else {
                unsigned k = j->aux[pc].seen && j->aux[pc].mem_kinds ? j->aux[pc].mem_kinds : 0xff;
                if (k & BL_MEMK_STACK)
                    goto out;
            }
        }
    }
    for (uint32_t pc = 0; pc < j->n; pc++) {
        const struct bl_insn *in = &j->insns[pc];
        uint8_t cls = BL_CLASS(in->code);
        if (bl_is_lddw(in)) {
            pc++;
            continue;
        }
        if ((cls != BL_ST && cls != BL_STX) || BL_MODE(in->code) != BL_MEM || in->dst != BL_R9 ||
            kind[j->func_of[pc]] == F_NONE)
            continue;
        int64_t lo = in->off;
        uint32_t f = j->func_of[pc];
        int size = jit_size_of(in->code), in_area = lo >= AREA_LO && lo + size <= AREA_HI;
        int unread = in_area, own = in_area && kind[f] == F_CALLBACK;
        for (int b = 0; in_area && b < size; b++) {
            unread &= !read[lo + b - AREA_LO];
            own &= !read[lo + b - AREA_LO] || read[lo + b - AREA_LO] == f + 1;
        }
        /* bytes only this callback reads: dead when it cannot read them
         * before writing them again, in this iteration or the next (it
         * writes them before reading them at its start) */
        /* bytes only this callback and the loops it runs read (a nest's
         * zeroing of an inner loop's start after that loop): the same,
         * each of those loops reading them where it runs */
        const uint32_t *below = !unread && !own && in_area && kind[f] == F_CALLBACK &&
                                read_below(j, f, kind, area, parent, lo, size) ? parent : NULL;
        if (!unread && !((own || below) &&
                         !read_after(j, &j->funcs[f], j->funcs[f].start, lo, size, 0, kind, area,
                                     below) &&
                         !read_after(j, &j->funcs[f], pc + 1, lo, size, 0, kind, area, below)))
            continue;
        if (!dead && !(dead = calloc(j->n, 1)))
            goto out;
        dead[pc] = 1;
    }
out:
    free(read);
    free(kind);
    free(area);
    free(parent);
    return dead;
}
