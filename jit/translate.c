/* translate.c - one eBPF instruction to x86-64 (jit_emit_insn): ALU
 * operations, jumps, loads and stores with their bounds checks, atomics,
 * calls of helpers and of eBPF functions (bpf_loop: inline_loop.c), array
 * maps without a helper call, and store-to-load forwarding. The driver
 * (x86_64.c) calls jit_emit_insn once per instruction; an inlined bpf_loop
 * body calls it again for each instruction of each copy of the body
 * (j->inl, and j->rmap / j->form for the copies of inline_copies.c).
 */

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "jit_internal.h"
#include "x86_emit.h"
#include "../vm/asm.h"
#include "../core/object.h"
#include "../stdlib/helpers.h"
#include "../stdlib/maps.h"

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
        return jit_fail(j, pc, "R10 is read-only");
    switch (op) {
    case BL_ADD: case BL_SUB: case BL_OR: case BL_AND: case BL_XOR: {
        enum x86_alu a = op == BL_ADD ? ALU_ADD : op == BL_SUB ? ALU_SUB : op == BL_OR ? ALU_OR
                         : op == BL_AND ? ALU_AND : ALU_XOR;
        if (k && w && imm == 0 && op != BL_AND)
            break;                      /* (a constant operand 0: const_operands.c) */
        if (k)
            x86_alu_ri(e, w, a, dst, imm);
        else
            x86_alu_rr(e, w, a, dst, src);
        break;
    }
    case BL_MUL:
        if (k && imm == -1)
            x86_neg(e, w, dst);         /* a negative step's index: 1 cycle, not imul's 3 */
        else if (k && imm > 1 && (imm & (imm - 1)) == 0)
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
        if (k && !is_signed && imm > 0 && (imm & (imm - 1)) == 0) {
            /* unsigned by 2^s: a shift or a mask (a loop's trip count
             * with step 2 or 4), not a div of 10-40 cycles */
            if (is_mod)
                x86_alu_ri(e, w, ALU_AND, dst, imm - 1);
            else if (imm > 1)
                x86_shift_ri(e, w, SHIFT_SHR, dst, (uint8_t)__builtin_ctz((uint32_t)imm));
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
            return jit_fail(j, pc, "bad movsx width");
        break;
    case BL_END: {
        int to_le = !w && k;
        if (imm != 16 && imm != 32 && imm != 64)
            return jit_fail(j, pc, "bad byte-swap width");
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
        return jit_fail(j, pc, "unknown ALU operation");
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
    if (jit_access_trusted(j, pc))
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

int jit_size_of(uint8_t code)
{
    switch (BL_SIZE(code)) {
    case BL_B: return 1;
    case BL_H: return 2;
    case BL_W: return 4;
    default: return 8;
    }
}

/* `mov reg, 0`, 32 or 64 bits */
int jit_is_mov_zero(const struct bl_insn *in)
{
    return (in->code == (BL_ALU64 | BL_MOV | BL_K) || in->code == (BL_ALU | BL_MOV | BL_K)) &&
           in->imm == 0 && in->off == 0;
}

/* Is Rreg known to be 0 at pc: set by `mov reg, 0` (32 or 64 bits) just
 * before, in the function starting at start, with no jump landing in
 * between? */
int jit_zeroed_just_before(const struct jit *j, uint32_t pc, uint32_t start, int reg)
{
    if (pc <= start || j->is_target[pc])
        return 0;
    const struct bl_insn *prev = &j->insns[pc - 1];
    return jit_is_mov_zero(prev) && prev->dst == reg &&
           (pc < start + 2 || !bl_is_lddw(&j->insns[pc - 2]));
}

/* Is the source of the atomic at pc known to be 0? */
static int src_known_zero(const struct jit *j, uint32_t pc, uint32_t func_start)
{
    return jit_zeroed_just_before(j, pc, func_start, j->insns[pc].src);
}

/* An atomic add/or/xor of 0 to the stack changes nothing that anyone can
 * observe (the stack is the run's own): the compiler's "launder" idiom,
 * `mov r0, 0; lock add [r9+off], r0`, which makes the kernel's verifier
 * forget a loop variable, costs nothing here. */
int jit_atomic_is_noop(const struct jit *j, uint32_t pc, int ctx_base, uint32_t func_start)
{
    const struct bl_insn *in = &j->insns[pc];
    if (in->imm != BL_ADD && in->imm != BL_OR && in->imm != BL_XOR)
        return 0;
    if (in->dst != BL_R10 && in->dst != ctx_base)
        return 0;
    return jit_access_trusted(j, pc) && src_known_zero(j, pc, func_start);
}

static int emit_atomic(struct jit *j, uint32_t pc, const struct bl_insn *in)
{
    struct x86_emit *e = &j->e;
    int size = jit_size_of(in->code);
    int w = size == 8;
    int src = jit_register_map[in->src];
    struct x86_mem m;
    if (size != 4 && size != 8)
        return jit_fail(j, pc, "atomic access must be 32 or 64 bits");
    if (in->src == BL_R10 && (in->imm & BL_FETCH))
        return jit_fail(j, pc, "R10 is read-only");
    if (jit_atomic_is_noop(j, pc, j->inl ? j->inl->stack_base : -1,
                           j->inl ? j->inl->start : j->funcs[j->func_of[pc]].start))
        return 0;
    mem_operand(j, pc, in->dst, in->off, size, &m);
    if (m.index >= 0 || m.base < 0) {             /* (the lock forms take [base + disp]) */
        x86_lea_m(e, R11, &m);
        m = (struct x86_mem){R11, -1, 1, 0};
    }
    int base = m.base;
    int32_t disp = m.disp;
    /* the x86 ALU op of add/or/and/xor, with or without BL_FETCH */
    static const enum x86_alu alu_of[16] = {[BL_ADD >> 4] = ALU_ADD, [BL_OR >> 4] = ALU_OR,
                                            [BL_AND >> 4] = ALU_AND, [BL_XOR >> 4] = ALU_XOR};
    enum x86_alu a = alu_of[(in->imm >> 4) & 15];
    switch (in->imm) {
    case BL_ADD: case BL_OR: case BL_AND: case BL_XOR:
        x86_lock_alu_mr(e, size, a, base, disp, src);
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
        return jit_fail(j, pc, "unknown atomic operation");
    }
    return 0;
}

static const enum x86_cc jmp_cc[16] = {
    [BL_JEQ >> 4] = CC_E, [BL_JGT >> 4] = CC_A, [BL_JGE >> 4] = CC_AE,
    [BL_JSET >> 4] = CC_NE, [BL_JNE >> 4] = CC_NE, [BL_JSGT >> 4] = CC_G,
    [BL_JSGE >> 4] = CC_GE, [BL_JLT >> 4] = CC_B, [BL_JLE >> 4] = CC_BE,
    [BL_JSLT >> 4] = CC_L, [BL_JSLE >> 4] = CC_LE,
};

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
        jit_use_def(j, i, start, -1, &u, &d);
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
    /* not percpu_array: its slot depends on the CPU of the run */
    if (def->type != BPFLUA_MAP_ARRAY ||
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
        x86_store_r(e, 8, R10, ST_CALLX_ID, jit_register_map[in->dst]);
        emit_c_call(j, (const void *)jit_callx);
        emit_fault_test(j);
        return 0;
    }
    if (in->src == BL_PSEUDO_CALL) {
        uint32_t f = jit_func_index(j, (uint32_t)((int64_t)pc + 1 + in->imm));
        if (f == UINT32_MAX)
            return jit_fail(j, pc, "call target is not a function");
        x86_call_fix(e, FIX_LABEL, j->funcs[f].entry);
        return 0;
    }
    if (in->src != BL_CALL_HELPER)
        return jit_fail(j, pc, "bad call");
    if (in->imm == BL_HELPER_LOOP && j->helper_find == bl_helper_find) {
        jit_emit_bpf_loop(j, pc);
        return 0;
    }
    if (emit_array_helper(j, pc, in->imm))
        return 0;
    if (!j->raw && j->helper_find == bl_helper_find &&
        (in->imm == BL_HELPER_MAP_LOOKUP_ELEM || in->imm == BL_HELPER_MAP_UPDATE_ELEM ||
         in->imm == BL_HELPER_MAP_DELETE_ELEM)) {
        /* the map function itself, not the helper that wraps it (as the
         * kernel calls map->ops->map_lookup_elem): the arguments are
         * already in place; int results sign-extended. A lookup in a map
         * known here calls the type's lookup for it (a hash map's with
         * its key size a constant: bl_map_prog_lookup). The map functions
         * take no env: unchecked code passes none, so a program whose
         * only calls are these keeps the fast entry without its stub. */
        const void *fn = in->imm == BL_HELPER_MAP_LOOKUP_ELEM ? (const void *)bl_map_lookup
                         : in->imm == BL_HELPER_MAP_UPDATE_ELEM ? (const void *)bl_map_update
                         : (const void *)bl_map_delete;
        struct bl_map *m = in->imm == BL_HELPER_MAP_LOOKUP_ELEM ? map_at_call(j, pc) : NULL;
        bl_map_prog_lookup_fn direct = m ? bl_map_prog_lookup(m) : NULL;
        if (direct)
            fn = (const void *)direct;
        if (j->checked) {
            emit_c_call(j, fn);
        } else {
            x86_mov_ri(e, RAX, (uint64_t)(uintptr_t)fn);
            x86_call_reg(e, RAX);
        }
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
        if (!h || !h->fn || !jit_raw_callable(h, j->raw, j->helper_find)) {
            if (!j->raw)
                return jit_fail(j, pc, "unknown helper");
            x86_jmp_fix(e, FIX_LABEL, j->fault_label);
            return 0;
        }
        fn = (const void *)h->fn;
    }
    for (int r = 3; r <= 5; r++) /* the linker's zero_args (engine/run.c) */
        if (in->off & (1 << r))
            x86_mov_ri(e, jit_register_map[r], 0);
    emit_c_call(j, fn);
    if (j->checked) {
        emit_fault_test(j);
    } else if (in->imm == BL_HELPER_TAIL_CALL && j->helper_find == bl_helper_find &&
               (j->func_of[pc] || j->inl)) {
        /* taken in a subprogram or a callback: every frame unwinds (the
         * fault stub, which returns 0; the runner starts the next program) */
        emit_fault_test(j);
    } else if (in->imm == BL_HELPER_TAIL_CALL && j->helper_find == bl_helper_find) {
        /* a taken tail call ends the program; the runner starts the next one */
        uint32_t l_failed = x86_label_new(e);
        x86_alu_mi(e, 0, ALU_CMP, ENV_REG, ENV_FAULT, 0);
        x86_jcc_fix(e, CC_E, FIX_LABEL, l_failed);
        jit_emit_epilogue(j, &j->funcs[j->func_of[pc]]);
        x86_label_bind(e, l_failed);
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
        target = jit_thread_jump(j, j->inl, target, jit_r0_zero_at(j, j->inl, pc));
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
            jit_emit_loop_tail(j, j->inl, 1);
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

/* `if c goto L1; goto L2; L1:` (the compiler's `if c then break end`,
 * and every if whose other way jumps on) is one jump, `if not c goto L2`:
 * an iteration that goes on takes no branch instead of one taken. Returns
 * L2 when the jump at pc is such a pair (the `ja` at pc + 1 then emits
 * nothing), else UINT32_MAX. Not in checked code, whose back-edges tick a
 * budget, and only for a forward `ja` no other jump reaches. */
uint32_t jit_fused_ja_target(const struct jit *j, uint32_t pc)
{
    const struct bl_insn *in = &j->insns[pc];
    uint8_t cls = BL_CLASS(in->code), op = BL_OP(in->code);
    if (j->checked || (cls != BL_JMP && cls != BL_JMP32) || op == BL_JA || op == BL_CALL ||
        op == BL_EXIT || in->off != 1 || pc + 2 >= j->n)
        return UINT32_MAX;
    const struct bl_insn *nx = &j->insns[pc + 1];
    if (nx->code != (BL_JMP | BL_JA) || nx->off < 0 || j->is_target[pc + 1])
        return UINT32_MAX;
    uint32_t t = pc + 2 + (uint32_t)nx->off;
    if (j->inl ? (pc + 1 >= j->inl->end || t >= j->inl->end)
               : (j->func_of[pc + 1] != j->func_of[pc] || t >= j->n ||
                  j->func_of[t] != j->func_of[pc]))
        return UINT32_MAX;
    return t;
}

void jit_emit_jump(struct jit *j, uint32_t pc, uint32_t target)
{
    jump_to(j, pc, -1, target);
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
            jit_emit_epilogue(j, &j->funcs[j->func_of[pc]]);
        } else if (jit_exit_returns_zero(j, pc, j->inl->start)) {
            if (j->inl->exits_jump) {
                if (!jit_falls_to_end(j->inl, pc))
                    x86_jmp_fix(e, FIX_LABEL, j->inl->cont0_label);
            } else if (pc + 1 != j->inl->end) { /* the last exit falls through */
                jit_emit_loop_tail(j, j->inl, 1);   /* (a copy of cont0: no jump to it) */
            }
        } else if (pc + 1 != j->inl->end) {
            x86_jmp_fix(e, FIX_LABEL, j->inl->cont_label);
        }
        return 0;
    }
    if (j->checked) {                 /* a back-edge: unverified code may loop */
        int32_t rel = (cls == BL_JMP32 && op == BL_JA) ? in->imm : in->off;
        if (rel < 0)
            jit_emit_budget_tick(j);
    }
    if (op == BL_JA) {
        int32_t rel = cls == BL_JMP32 ? in->imm : in->off;
        if (rel == 0)
            return 0;                 /* (the next instruction's code follows) */
        jump_to(j, pc, -1, (uint32_t)((int64_t)pc + 1 + rel));
        return 0;
    }
    if ((op >> 4) >= 16 || (op != BL_JEQ && !jmp_cc[op >> 4]))
        return jit_fail(j, pc, "unknown jump");
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
    if (pc == j->cold_jump) {         /* the fall-through is out of line */
        x86_jcc_fix(e, (enum x86_cc)(jmp_cc[op >> 4] ^ 1), FIX_LABEL, j->cold_label);
        return 0;
    }
    uint32_t fused = jit_fused_ja_target(j, pc);
    if (fused != UINT32_MAX) {
        j->fused_ja = pc + 1;
        jump_to(j, pc, (int)jmp_cc[op >> 4] ^ 1, fused);
        return 0;
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

void jit_fwd_clear(struct jit *j)
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
    int size = jit_size_of(in->code), k = 0;
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
    if (BL_MODE(in->code) != BL_MEM || jit_size_of(in->code) != 8)
        return 0;
    for (int q = j->n_fwd; q-- > 0;) {
        if (j->fwd[q].base != in->src || j->fwd[q].off != in->off)
            continue;
        if (j->fwd[q].src < 0)
            x86_mov_ri(&j->e, jit_register_map[in->dst], (uint64_t)(int64_t)j->fwd[q].imm);
        else if (j->fwd[q].src != in->dst)
            x86_mov_rr(&j->e, 1, jit_register_map[in->dst], jit_register_map[j->fwd[q].src]);
        return 1;
    }
    return 0;
}

/* after instruction pc (outside inlined bodies): what it changed */
void jit_fwd_after(struct jit *j, uint32_t pc)
{
    const struct bl_insn *in = &j->insns[pc];
    uint8_t cls = BL_CLASS(in->code), op = BL_OP(in->code);
    if (((cls == BL_JMP || cls == BL_JMP32) && (op == BL_CALL || op == BL_EXIT || op == BL_JA)) ||
        (cls == BL_STX && BL_MODE(in->code) == BL_ATOMIC) || (cls == BL_LD && !bl_is_lddw(in))) {
        jit_fwd_clear(j);
        return;
    }
    if (!j->n_fwd)
        return;                          /* (nothing recorded to forget) */
    /* what the instruction defines (atomics, calls, legacy loads and
     * exits cleared everything above): an ALU op's, a load's or an
     * lddw's dst */
    if (cls == BL_ALU || cls == BL_ALU64 || cls == BL_LDX || cls == BL_LD)
        fwd_kill_reg(j, in->dst);
}

int jit_emit_insn(struct jit *j, uint32_t pc)
{
    struct x86_emit *e = &j->e;
    const struct bl_insn *in = &j->insns[pc];
    uint8_t cls = BL_CLASS(in->code);
    int slot;
    struct x86_mem m;

    if (pc == j->fused_ja) {            /* the `ja` the jump before it took over */
        j->fused_ja = UINT32_MAX;
        return 0;
    }
    j->fused_ja = UINT32_MAX;
    if (j->dead_store && j->dead_store[pc])
        return 0;                           /* a store nothing reads */
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
                return jit_fail(j, pc, "R10 is read-only");
            if (in->src == BL_PSEUDO_FUNC) {
                uint32_t f = jit_func_index(j, (uint32_t)((int64_t)pc + 1 + in->imm));
                x86_lea_rip(e, jit_register_map[in->dst], j->funcs[f].entry);
            } else {
                uint64_t v = (uint32_t)in->imm | (uint64_t)(uint32_t)in[1].imm << 32;
                x86_mov_ri(e, jit_register_map[in->dst], v);
            }
            return 0;
        }
        if (BL_MODE(in->code) == BL_ABS || BL_MODE(in->code) == BL_IND) {
            int size = jit_size_of(in->code);
            if (size == 8)
                return jit_fail(j, pc, "bad legacy packet load");
            x86_mov_ri(e, R11, (uint64_t)(int64_t)in->imm);
            if (BL_MODE(in->code) == BL_IND) {
                x86_mov_rr(e, 0, R10, jit_register_map[in->src]);
                x86_alu_rr(e, 1, ALU_ADD, R11, R10);
            }
            static const int keep[] = {RDI, RSI, RDX, RCX, R8, R8};
            for (int k = 0; k < 6; k++)
                x86_push(e, keep[k]);
            x86_mov_rr(e, 1, RDI, R11);
            x86_mov_ri(e, RSI, (uint64_t)size);
            j->env_used = 1;
            x86_mov_rr(e, 1, RDX, ENV_REG);
            if (!j->raw) /* verified: the packet of the skb context in R6 */
                x86_mov_rr(e, 1, RCX, jit_register_map[BL_R6]);
            x86_mov_ri(e, RAX, (uint64_t)(uintptr_t)(j->raw ? (const void *)jit_ld_abs
                                                            : (const void *)jit_ld_abs_skb));
            x86_call_reg(e, RAX);
            for (int k = 6; k-- > 0;)
                x86_pop(e, keep[k]);
            emit_fault_test(j);
            return 0;
        }
        return jit_fail(j, pc, "unknown load");
    case BL_LDX: {
        int sign = BL_MODE(in->code) == BL_MEMSX;
        int size = jit_size_of(in->code);
        if ((BL_MODE(in->code) != BL_MEM && !sign) || (sign && size == 8))
            return jit_fail(j, pc, "unknown load");
        if (in->dst == BL_R10)
            return jit_fail(j, pc, "R10 is read-only");
        slot = jit_promoted_reg(j, in->src, sign ? 0 : size, in->off);
        if (slot >= 0) {
            x86_mov_rr(e, 1, j->rmap[in->dst], slot);
            return 0;
        }
        if (sign && size == 4 && (slot = jit_promoted_reg(j, in->src, 4, in->off)) >= 0) {
            x86_movsx_rr(e, 1, 32, j->rmap[in->dst], slot);   /* (an i32 field) */
            return 0;
        }
        if (!j->inl && fwd_load(j, in))
            return 0;
        mem_operand(j, pc, in->src, in->off, size, &m);
        x86_load_m(e, size, sign, j->rmap[in->dst], &m);
        return 0;
    }
    case BL_ST:
    case BL_STX: {
        int size = jit_size_of(in->code), imm = cls == BL_ST;
        if (!imm && BL_MODE(in->code) == BL_ATOMIC)
            return emit_atomic(j, pc, in);
        if (BL_MODE(in->code) != BL_MEM)
            return jit_fail(j, pc, "unknown store");
        if (!j->inl)
            fwd_store(j, in);
        slot = jit_promoted_reg(j, in->dst, size, in->off);
        if (slot >= 0) {
            /* (a 4-byte slot's register holds its bytes zero-extended) */
            if (imm)
                x86_mov_ri(e, slot, size == 8 ? (uint64_t)(int64_t)in->imm : (uint32_t)in->imm);
            else if (slot != j->rmap[in->src] || size != 8)
                x86_mov_rr(e, size == 8, slot, j->rmap[in->src]);
            if (!j->inl->write_through)
                return 0;
        }
        mem_operand(j, pc, in->dst, in->off, size, &m);
        if (imm)
            x86_store_i_m(e, size, &m, in->imm);
        else
            x86_store_r_m(e, size, &m, j->rmap[in->src]);
        return 0;
    }
    }
    return jit_fail(j, pc, "unknown instruction class");
}
