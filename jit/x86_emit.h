/* x86_emit.h - a small x86-64 machine-code emitter, in layers.
 *
 *   layer 1  x86_emit1/2/4/8         raw bytes into a growable buffer
 *   layer 2  x86_rex, x86_modrm_mem  REX prefix, ModRM/SIB/displacement
 *   layer 3  x86_alu_rr, x86_load... one helper per instruction form
 *
 * Errors are sticky: once `err` is set (out of memory, a short jump out of
 * range, too many labels), every emit does nothing, and the translator
 * checks once at the end. Jumps to places not yet emitted go through
 * fixups: each records where a rel32 sits and which target it wants (an
 * eBPF instruction, resolved through pc_locs[], or a label); one pass at
 * the end (x86_resolve) patches them all.
 */
#ifndef BPFLUA_X86_EMIT_H
#define BPFLUA_X86_EMIT_H

#include <stddef.h>
#include <stdint.h>

enum x86_reg {
    RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI,
    R8, R9, R10, R11, R12, R13, R14, R15,
};

/* condition codes (the low nibble of Jcc 0x0f 0x8X) */
enum x86_cc {
    CC_O = 0x0, CC_NO = 0x1, CC_B = 0x2, CC_AE = 0x3, CC_E = 0x4, CC_NE = 0x5,
    CC_BE = 0x6, CC_A = 0x7, CC_S = 0x8, CC_NS = 0x9, CC_L = 0xc, CC_GE = 0xd,
    CC_LE = 0xe, CC_G = 0xf,
};

/* ALU group-1 extensions (the /digit of 0x81, 0x83) and their r/m,reg opcodes */
enum x86_alu {
    ALU_ADD = 0, ALU_OR = 1, ALU_AND = 4, ALU_SUB = 5, ALU_XOR = 6, ALU_CMP = 7,
};

/* shift group-2 extensions (0xc1, 0xd3) */
enum x86_shift { SHIFT_ROL = 0, SHIFT_ROR = 1, SHIFT_SHL = 4, SHIFT_SHR = 5, SHIFT_SAR = 7 };

enum x86_fix_kind { FIX_INSN, FIX_LABEL };

struct x86_fixup {
    uint32_t at;        /* offset of the rel32 field */
    uint8_t kind;       /* enum x86_fix_kind */
    uint32_t target;    /* instruction index or label id */
};

enum x86_err { X86_OK = 0, X86_ENOMEM, X86_ERANGE, X86_EINVAL };

struct x86_emit {
    uint8_t *buf;
    size_t len, cap;
    int err;                  /* enum x86_err, sticky */
    struct x86_fixup *fix;
    size_t n_fix, cap_fix;
    uint32_t *labels;         /* label id -> offset, UINT32_MAX while unbound */
    size_t n_labels, cap_labels;
};

void x86_init(struct x86_emit *e);
void x86_free(struct x86_emit *e);

/* layer 1 */
void x86_emit1_slow(struct x86_emit *e, uint8_t b);
void x86_emit4_slow(struct x86_emit *e, uint32_t v);
/* (the common case inline: room in the buffer; after an error the bytes
 * written no longer matter) */
static inline void x86_emit1(struct x86_emit *e, uint8_t b)
{
    if (e->len < e->cap)
        e->buf[e->len++] = b;
    else
        x86_emit1_slow(e, b);
}
static inline void x86_emit4(struct x86_emit *e, uint32_t v)
{
    if (e->len + 4 <= e->cap) {
        for (int i = 0; i < 4; i++)
            e->buf[e->len++] = (uint8_t)(v >> (8 * i));
    } else {
        x86_emit4_slow(e, v);
    }
}
void x86_emit2(struct x86_emit *e, uint16_t v);
void x86_emit8(struct x86_emit *e, uint64_t v);

/* layer 2: REX (w = 64-bit operand; force = emit even when 0x40, for
 * byte access to sil/dil), ModRM for register-direct and [base + disp] */
void x86_rex(struct x86_emit *e, int w, int reg, int index, int rm, int force);
void x86_modrm(struct x86_emit *e, int mod, int reg, int rm);
void x86_modrm_mem(struct x86_emit *e, int reg, int base, int32_t disp);
/* a memory operand [base + index*scale + disp]: base or index -1 for none
 * (index never rsp; scale 1, 2, 4 or 8) */
struct x86_mem {
    int8_t base, index;
    uint8_t scale;
    int32_t disp;
};
void x86_modrm_m(struct x86_emit *e, int reg, const struct x86_mem *m);

/* labels and fixups */
uint32_t x86_label_new(struct x86_emit *e);
void x86_label_bind(struct x86_emit *e, uint32_t label);
void x86_fixup_add(struct x86_emit *e, enum x86_fix_kind kind, uint32_t target);
/* Patches every rel32; pc_locs maps instruction index to code offset.
 * Returns 0, or -1 (and sets err) when a target is unbound. */
int x86_resolve(struct x86_emit *e, const uint32_t *pc_locs, size_t n_insns);

/* layer 3: w selects 64-bit (1) or 32-bit (0) operation */
void x86_alu_rr(struct x86_emit *e, int w, enum x86_alu op, int dst, int src);
void x86_alu_ri(struct x86_emit *e, int w, enum x86_alu op, int dst, int32_t imm);
/* op dst, [base + disp] (the r, r/m forms: add/sub/cmp/... with a memory source) */
void x86_alu_rm(struct x86_emit *e, int w, enum x86_alu op, int dst, int base, int32_t disp);
void x86_push_m(struct x86_emit *e, int base, int32_t disp); /* push qword [base + disp] */
void x86_pop_m(struct x86_emit *e, int base, int32_t disp);  /* pop qword [base + disp] */
void x86_alu_mi(struct x86_emit *e, int w, enum x86_alu op, int base, int32_t disp, int32_t imm);
void x86_mov_rr(struct x86_emit *e, int w, int dst, int src);
void x86_mov_ri(struct x86_emit *e, int dst, uint64_t imm); /* shortest form, full 64 bits */
void x86_test_rr(struct x86_emit *e, int w, int a, int b);
void x86_test_ri(struct x86_emit *e, int w, int a, int32_t imm);
void x86_imul_rr(struct x86_emit *e, int w, int dst, int src);
void x86_imul_ri(struct x86_emit *e, int w, int dst, int src, int32_t imm);
void x86_neg(struct x86_emit *e, int w, int dst);
void x86_inc(struct x86_emit *e, int w, int dst);
void x86_shift_ri(struct x86_emit *e, int w, enum x86_shift op, int dst, uint8_t imm);
void x86_shift_cl(struct x86_emit *e, int w, enum x86_shift op, int dst);
/* div/idiv r/m (F7 /6, /7); cqo/cdq (sign-extend rax into rdx) */
void x86_div(struct x86_emit *e, int w, int is_signed, int src);
void x86_cqo(struct x86_emit *e, int w);
void x86_bswap(struct x86_emit *e, int w, int dst);
void x86_ror16_8(struct x86_emit *e, int dst);   /* rol r16, 8: swaps the low two bytes */
void x86_movzx16(struct x86_emit *e, int dst, int src);
void x86_movsx_rr(struct x86_emit *e, int w, int bits, int dst, int src); /* bits 8/16/32 */
/* loads and stores: size 1, 2, 4, 8 bytes */
void x86_load(struct x86_emit *e, int size, int sign, int dst, int base, int32_t disp);
void x86_store_r(struct x86_emit *e, int size, int base, int32_t disp, int src);
void x86_store_i(struct x86_emit *e, int size, int base, int32_t disp, int32_t imm);
void x86_lea(struct x86_emit *e, int dst, int base, int32_t disp);
/* the same with a full memory operand */
void x86_load_m(struct x86_emit *e, int size, int sign, int dst, const struct x86_mem *m);
void x86_store_r_m(struct x86_emit *e, int size, const struct x86_mem *m, int src);
void x86_store_i_m(struct x86_emit *e, int size, const struct x86_mem *m, int32_t imm);
void x86_lea_m(struct x86_emit *e, int dst, const struct x86_mem *m);
void x86_lea_bi(struct x86_emit *e, int dst, int base, int index); /* lea dst, [base + index] */
void x86_lea_rip(struct x86_emit *e, int dst, uint32_t label); /* lea dst, [rip + label] */
/* atomics on [base + disp]; size 4 or 8 */
void x86_lock_alu_mr(struct x86_emit *e, int size, enum x86_alu op, int base, int32_t disp, int src);
void x86_lock_xadd(struct x86_emit *e, int size, int base, int32_t disp, int src);
void x86_xchg_mr(struct x86_emit *e, int size, int base, int32_t disp, int src);
void x86_lock_cmpxchg(struct x86_emit *e, int size, int base, int32_t disp, int src);
/* control flow */
void x86_push(struct x86_emit *e, int r);
void x86_pop(struct x86_emit *e, int r);
void x86_ret(struct x86_emit *e);
void x86_call_reg(struct x86_emit *e, int r);
void x86_call_fix(struct x86_emit *e, enum x86_fix_kind kind, uint32_t target);
void x86_jmp_fix(struct x86_emit *e, enum x86_fix_kind kind, uint32_t target);
void x86_jcc_fix(struct x86_emit *e, enum x86_cc cc, enum x86_fix_kind kind, uint32_t target);
/* short forward jumps inside one translated instruction: returns where
 * the rel8 sits; x86_patch8 points it at the current position */
size_t x86_jcc8(struct x86_emit *e, enum x86_cc cc);
size_t x86_jmp8(struct x86_emit *e);
void x86_patch8(struct x86_emit *e, size_t at);
/* multi-byte NOPs up to the next multiple of `align` (a power of 2) */
void x86_align(struct x86_emit *e, size_t align);
/* the old bytes of NOPs at `at` become pad bytes of NOPs: the code after
 * them moves, labels and fixups with it (no rel8 may cross `at`; nothing
 * else may have recorded a position after it) */
void x86_repad(struct x86_emit *e, size_t at, size_t old, size_t pad);
/* a short backward jump to `to` (an offset already emitted) */
void x86_jcc8_back(struct x86_emit *e, enum x86_cc cc, size_t to);

#endif
