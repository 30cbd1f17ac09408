/* x86_emit.c - the layered x86-64 emitter (see x86_emit.h). */
#include <stdlib.h>
#include <string.h>

#include "x86_emit.h"

void x86_init(struct x86_emit *e)
{
    memset(e, 0, sizeof *e);
}

void x86_free(struct x86_emit *e)
{
    free(e->buf);
    free(e->fix);
    free(e->labels);
    memset(e, 0, sizeof *e);
}

/* ---- layer 1: bytes ------------------------------------------------------ */

static int reserve(struct x86_emit *e, size_t n)
{
    if (e->err)
        return 0;
    if (e->len + n <= e->cap)
        return 1;
    size_t cap = e->cap ? e->cap * 2 : 4096;
    while (cap < e->len + n)
        cap *= 2;
    uint8_t *b = realloc(e->buf, cap);
    if (!b) {
        e->err = X86_ENOMEM;
        return 0;
    }
    e->buf = b;
    e->cap = cap;
    return 1;
}

void x86_emit1_slow(struct x86_emit *e, uint8_t b)
{
    if (reserve(e, 1))
        e->buf[e->len++] = b;
}

void x86_emit2(struct x86_emit *e, uint16_t v)
{
    x86_emit1(e, (uint8_t)v);
    x86_emit1(e, (uint8_t)(v >> 8));
}

void x86_emit4_slow(struct x86_emit *e, uint32_t v)
{
    if (!reserve(e, 4))
        return;
    for (int i = 0; i < 4; i++)
        e->buf[e->len++] = (uint8_t)(v >> (8 * i));
}

void x86_emit8(struct x86_emit *e, uint64_t v)
{
    x86_emit4(e, (uint32_t)v);
    x86_emit4(e, (uint32_t)(v >> 32));
}

/* ---- layer 2: REX, ModRM, SIB, displacement ------------------------------- */

void x86_rex(struct x86_emit *e, int w, int reg, int index, int rm, int force)
{
    uint8_t rex = (uint8_t)(0x40 | (w ? 8 : 0) | ((reg & 8) ? 4 : 0) |
                            ((index & 8) ? 2 : 0) | ((rm & 8) ? 1 : 0));
    if (rex != 0x40 || force)
        x86_emit1(e, rex);
}

void x86_modrm(struct x86_emit *e, int mod, int reg, int rm)
{
    x86_emit1(e, (uint8_t)((mod << 6) | ((reg & 7) << 3) | (rm & 7)));
}

/* ModRM (+ SIB + displacement) for [base + index*scale + disp]; base or
 * index may be -1. A SIB byte comes with an index, and for rsp/r12 as a
 * base (whose ModRM encoding means "SIB follows"). */
void x86_modrm_m(struct x86_emit *e, int reg, const struct x86_mem *m)
{
    int ss = m->scale == 8 ? 3 : m->scale == 4 ? 2 : m->scale == 2 ? 1 : 0;
    int index = m->index < 0 ? 4 : m->index;     /* 100 without REX.X: none */
    if (m->base < 0) {                           /* [index*scale + disp32] */
        x86_modrm(e, 0, reg, 4);
        x86_emit1(e, (uint8_t)((ss << 6) | ((index & 7) << 3) | 5));
        x86_emit4(e, (uint32_t)m->disp);
        return;
    }
    int mod;
    if (m->disp == 0 && (m->base & 7) != RBP)
        mod = 0;                                 /* rbp/r13 with mod 0 would mean rip/disp32 */
    else if (m->disp >= -128 && m->disp <= 127)
        mod = 1;
    else
        mod = 2;
    int sib = m->index >= 0 || (m->base & 7) == RSP;
    x86_modrm(e, mod, reg, sib ? 4 : m->base);
    if (sib)
        x86_emit1(e, (uint8_t)((ss << 6) | ((index & 7) << 3) | (m->base & 7)));
    if (mod == 1)
        x86_emit1(e, (uint8_t)(int8_t)m->disp);
    else if (mod == 2)
        x86_emit4(e, (uint32_t)m->disp);
}

void x86_modrm_mem(struct x86_emit *e, int reg, int base, int32_t disp)
{
    struct x86_mem m = {(int8_t)base, -1, 1, disp};
    x86_modrm_m(e, reg, &m);
}

/* REX for an instruction with a memory operand m */
static void rex_m(struct x86_emit *e, int w, int reg, const struct x86_mem *m, int force)
{
    x86_rex(e, w, reg, m->index < 0 ? 0 : m->index, m->base < 0 ? 0 : m->base, force);
}

/* ---- labels and fixups ---------------------------------------------------- */

uint32_t x86_label_new(struct x86_emit *e)
{
    if (e->err)
        return 0;
    if (e->n_labels == e->cap_labels) {
        size_t cap = e->cap_labels ? e->cap_labels * 2 : 64;
        uint32_t *l = realloc(e->labels, cap * sizeof *l);
        if (!l) {
            e->err = X86_ENOMEM;
            return 0;
        }
        e->labels = l;
        e->cap_labels = cap;
    }
    e->labels[e->n_labels] = UINT32_MAX;
    return (uint32_t)e->n_labels++;
}

void x86_label_bind(struct x86_emit *e, uint32_t label)
{
    if (!e->err && label < e->n_labels)
        e->labels[label] = (uint32_t)e->len;
}

void x86_fixup_add(struct x86_emit *e, enum x86_fix_kind kind, uint32_t target)
{
    if (e->err)
        return;
    if (e->n_fix == e->cap_fix) {
        size_t cap = e->cap_fix ? e->cap_fix * 2 : 256;
        struct x86_fixup *f = realloc(e->fix, cap * sizeof *f);
        if (!f) {
            e->err = X86_ENOMEM;
            return;
        }
        e->fix = f;
        e->cap_fix = cap;
    }
    e->fix[e->n_fix++] = (struct x86_fixup){(uint32_t)e->len, (uint8_t)kind, target};
    x86_emit4(e, 0);
}

int x86_resolve(struct x86_emit *e, const uint32_t *pc_locs, size_t n_insns)
{
    if (e->err)
        return -1;
    for (size_t i = 0; i < e->n_fix; i++) {
        const struct x86_fixup *f = &e->fix[i];
        uint32_t to;
        if (f->kind == FIX_INSN)
            to = f->target < n_insns ? pc_locs[f->target] : UINT32_MAX;
        else
            to = f->target < e->n_labels ? e->labels[f->target] : UINT32_MAX;
        if (to == UINT32_MAX) {
            e->err = X86_EINVAL;
            return -1;
        }
        int32_t rel = (int32_t)((int64_t)to - (int64_t)(f->at + 4));
        memcpy(e->buf + f->at, &rel, 4);
    }
    return 0;
}

/* ---- layer 3: instructions ------------------------------------------------- */

static int fits8(int32_t v)
{
    return v >= -128 && v <= 127;
}

void x86_alu_rr(struct x86_emit *e, int w, enum x86_alu op, int dst, int src)
{
    x86_rex(e, w, src, 0, dst, 0);
    x86_emit1(e, (uint8_t)((op << 3) | 1));
    x86_modrm(e, 3, src, dst);
}

void x86_alu_ri(struct x86_emit *e, int w, enum x86_alu op, int dst, int32_t imm)
{
    x86_rex(e, w, 0, 0, dst, 0);
    if (fits8(imm)) {
        x86_emit1(e, 0x83);
        x86_modrm(e, 3, op, dst);
        x86_emit1(e, (uint8_t)(int8_t)imm);
    } else {
        x86_emit1(e, 0x81);
        x86_modrm(e, 3, op, dst);
        x86_emit4(e, (uint32_t)imm);
    }
}

void x86_alu_rm(struct x86_emit *e, int w, enum x86_alu op, int dst, int base, int32_t disp)
{
    x86_rex(e, w, dst, 0, base, 0);
    x86_emit1(e, (uint8_t)((op << 3) | 3));
    x86_modrm_mem(e, dst, base, disp);
}

void x86_push_m(struct x86_emit *e, int base, int32_t disp)
{
    x86_rex(e, 0, 0, 0, base, 0);
    x86_emit1(e, 0xff);
    x86_modrm_mem(e, 6, base, disp);
}

void x86_pop_m(struct x86_emit *e, int base, int32_t disp)
{
    x86_rex(e, 0, 0, 0, base, 0);
    x86_emit1(e, 0x8f);
    x86_modrm_mem(e, 0, base, disp);
}

void x86_alu_mi(struct x86_emit *e, int w, enum x86_alu op, int base, int32_t disp, int32_t imm)
{
    x86_rex(e, w, 0, 0, base, 0);
    if (fits8(imm)) {
        x86_emit1(e, 0x83);
        x86_modrm_mem(e, op, base, disp);
        x86_emit1(e, (uint8_t)(int8_t)imm);
    } else {
        x86_emit1(e, 0x81);
        x86_modrm_mem(e, op, base, disp);
        x86_emit4(e, (uint32_t)imm);
    }
}

void x86_mov_rr(struct x86_emit *e, int w, int dst, int src)
{
    x86_rex(e, w, src, 0, dst, 0);
    x86_emit1(e, 0x89);
    x86_modrm(e, 3, src, dst);
}

void x86_mov_ri(struct x86_emit *e, int dst, uint64_t imm)
{
    if (imm <= 0xffffffffu) {            /* mov r32, imm32 zero-extends */
        x86_rex(e, 0, 0, 0, dst, 0);
        x86_emit1(e, (uint8_t)(0xb8 | (dst & 7)));
        x86_emit4(e, (uint32_t)imm);
    } else if ((int64_t)imm >= INT32_MIN && (int64_t)imm <= INT32_MAX) {
        x86_rex(e, 1, 0, 0, dst, 0);     /* mov r/m64, simm32 */
        x86_emit1(e, 0xc7);
        x86_modrm(e, 3, 0, dst);
        x86_emit4(e, (uint32_t)imm);
    } else {
        x86_rex(e, 1, 0, 0, dst, 0);     /* movabs */
        x86_emit1(e, (uint8_t)(0xb8 | (dst & 7)));
        x86_emit8(e, imm);
    }
}

void x86_test_rr(struct x86_emit *e, int w, int a, int b)
{
    x86_rex(e, w, b, 0, a, 0);
    x86_emit1(e, 0x85);
    x86_modrm(e, 3, b, a);
}

void x86_test_ri(struct x86_emit *e, int w, int a, int32_t imm)
{
    x86_rex(e, w, 0, 0, a, 0);
    x86_emit1(e, 0xf7);
    x86_modrm(e, 3, 0, a);
    x86_emit4(e, (uint32_t)imm);
}

void x86_imul_rr(struct x86_emit *e, int w, int dst, int src)
{
    x86_rex(e, w, dst, 0, src, 0);
    x86_emit1(e, 0x0f);
    x86_emit1(e, 0xaf);
    x86_modrm(e, 3, dst, src);
}

void x86_imul_ri(struct x86_emit *e, int w, int dst, int src, int32_t imm)
{
    x86_rex(e, w, dst, 0, src, 0);
    if (fits8(imm)) {
        x86_emit1(e, 0x6b);
        x86_modrm(e, 3, dst, src);
        x86_emit1(e, (uint8_t)(int8_t)imm);
    } else {
        x86_emit1(e, 0x69);
        x86_modrm(e, 3, dst, src);
        x86_emit4(e, (uint32_t)imm);
    }
}

static void group3(struct x86_emit *e, int w, int ext, int r)
{
    x86_rex(e, w, 0, 0, r, 0);
    x86_emit1(e, 0xf7);
    x86_modrm(e, 3, ext, r);
}

void x86_neg(struct x86_emit *e, int w, int dst)
{
    group3(e, w, 3, dst);
}

void x86_div(struct x86_emit *e, int w, int is_signed, int src)
{
    group3(e, w, is_signed ? 7 : 6, src);
}

void x86_inc(struct x86_emit *e, int w, int dst)
{
    x86_rex(e, w, 0, 0, dst, 0);
    x86_emit1(e, 0xff);
    x86_modrm(e, 3, 0, dst);
}

void x86_cqo(struct x86_emit *e, int w)
{
    if (w)
        x86_emit1(e, 0x48);
    x86_emit1(e, 0x99);
}

void x86_shift_ri(struct x86_emit *e, int w, enum x86_shift op, int dst, uint8_t imm)
{
    x86_rex(e, w, 0, 0, dst, 0);
    if (imm == 1) {
        x86_emit1(e, 0xd1);
        x86_modrm(e, 3, op, dst);
    } else {
        x86_emit1(e, 0xc1);
        x86_modrm(e, 3, op, dst);
        x86_emit1(e, imm);
    }
}

void x86_shift_cl(struct x86_emit *e, int w, enum x86_shift op, int dst)
{
    x86_rex(e, w, 0, 0, dst, 0);
    x86_emit1(e, 0xd3);
    x86_modrm(e, 3, op, dst);
}

void x86_bswap(struct x86_emit *e, int w, int dst)
{
    x86_rex(e, w, 0, 0, dst, 0);
    x86_emit1(e, 0x0f);
    x86_emit1(e, (uint8_t)(0xc8 | (dst & 7)));
}

void x86_ror16_8(struct x86_emit *e, int dst)
{
    x86_emit1(e, 0x66);
    x86_rex(e, 0, 0, 0, dst, 0);
    x86_emit1(e, 0xc1);
    x86_modrm(e, 3, SHIFT_ROL, dst);
    x86_emit1(e, 8);
}

void x86_movzx16(struct x86_emit *e, int dst, int src)
{
    x86_rex(e, 0, dst, 0, src, 0);
    x86_emit1(e, 0x0f);
    x86_emit1(e, 0xb7);
    x86_modrm(e, 3, dst, src);
}

void x86_movsx_rr(struct x86_emit *e, int w, int bits, int dst, int src)
{
    if (bits == 32) {
        x86_rex(e, 1, dst, 0, src, 0);   /* movsxd r64, r/m32 */
        x86_emit1(e, 0x63);
        x86_modrm(e, 3, dst, src);
        return;
    }
    /* byte registers spl/bpl/sil/dil exist only with a REX prefix */
    x86_rex(e, w, dst, 0, src, bits == 8 && src >= 4);
    x86_emit1(e, 0x0f);
    x86_emit1(e, bits == 8 ? 0xbe : 0xbf);
    x86_modrm(e, 3, dst, src);
}

void x86_load_m(struct x86_emit *e, int size, int sign, int dst, const struct x86_mem *m)
{
    switch (size) {
    case 1:
        rex_m(e, sign, dst, m, 0);
        x86_emit1(e, 0x0f);
        x86_emit1(e, sign ? 0xbe : 0xb6);
        break;
    case 2:
        rex_m(e, sign, dst, m, 0);
        x86_emit1(e, 0x0f);
        x86_emit1(e, sign ? 0xbf : 0xb7);
        break;
    case 4:
        rex_m(e, sign, dst, m, 0);
        x86_emit1(e, sign ? 0x63 : 0x8b);
        break;
    default:
        rex_m(e, 1, dst, m, 0);
        x86_emit1(e, 0x8b);
        break;
    }
    x86_modrm_m(e, dst, m);
}

void x86_load(struct x86_emit *e, int size, int sign, int dst, int base, int32_t disp)
{
    struct x86_mem m = {(int8_t)base, -1, 1, disp};
    x86_load_m(e, size, sign, dst, &m);
}

void x86_store_r_m(struct x86_emit *e, int size, const struct x86_mem *m, int src)
{
    if (size == 2)
        x86_emit1(e, 0x66);
    rex_m(e, size == 8, src, m, size == 1 && src >= 4);
    x86_emit1(e, size == 1 ? 0x88 : 0x89);
    x86_modrm_m(e, src, m);
}

void x86_store_r(struct x86_emit *e, int size, int base, int32_t disp, int src)
{
    struct x86_mem m = {(int8_t)base, -1, 1, disp};
    x86_store_r_m(e, size, &m, src);
}

void x86_store_i_m(struct x86_emit *e, int size, const struct x86_mem *m, int32_t imm)
{
    if (size == 2)
        x86_emit1(e, 0x66);
    rex_m(e, size == 8, 0, m, 0);
    x86_emit1(e, size == 1 ? 0xc6 : 0xc7);
    x86_modrm_m(e, 0, m);
    if (size == 1)
        x86_emit1(e, (uint8_t)imm);
    else if (size == 2)
        x86_emit2(e, (uint16_t)imm);
    else
        x86_emit4(e, (uint32_t)imm);
}

void x86_store_i(struct x86_emit *e, int size, int base, int32_t disp, int32_t imm)
{
    struct x86_mem m = {(int8_t)base, -1, 1, disp};
    x86_store_i_m(e, size, &m, imm);
}

void x86_lea_m(struct x86_emit *e, int dst, const struct x86_mem *m)
{
    rex_m(e, 1, dst, m, 0);
    x86_emit1(e, 0x8d);
    x86_modrm_m(e, dst, m);
}

void x86_lea(struct x86_emit *e, int dst, int base, int32_t disp)
{
    x86_rex(e, 1, dst, 0, base, 0);
    x86_emit1(e, 0x8d);
    x86_modrm_mem(e, dst, base, disp);
}

void x86_lea_bi(struct x86_emit *e, int dst, int base, int index)
{
    /* index may not be rsp (SIB index 100 without REX.X means none) */
    if ((index & 7) == 4 && !(index & 8)) {
        int t = base;
        base = index;
        index = t;
    }
    x86_rex(e, 1, dst, index, base, 0);
    x86_emit1(e, 0x8d);
    int disp8 = (base & 7) == 5;                 /* rbp/r13 as base need a displacement */
    x86_modrm(e, disp8 ? 1 : 0, dst, 4);
    x86_emit1(e, (uint8_t)(((index & 7) << 3) | (base & 7)));
    if (disp8)
        x86_emit1(e, 0);
}

void x86_lea_rip(struct x86_emit *e, int dst, uint32_t label)
{
    x86_rex(e, 1, dst, 0, 0, 0);
    x86_emit1(e, 0x8d);
    x86_modrm(e, 0, dst, 5);
    x86_fixup_add(e, FIX_LABEL, label);
}

void x86_lock_alu_mr(struct x86_emit *e, int size, enum x86_alu op, int base, int32_t disp, int src)
{
    x86_emit1(e, 0xf0);
    x86_rex(e, size == 8, src, 0, base, 0);
    x86_emit1(e, (uint8_t)((op << 3) | 1));
    x86_modrm_mem(e, src, base, disp);
}

void x86_lock_xadd(struct x86_emit *e, int size, int base, int32_t disp, int src)
{
    x86_emit1(e, 0xf0);
    x86_rex(e, size == 8, src, 0, base, 0);
    x86_emit1(e, 0x0f);
    x86_emit1(e, 0xc1);
    x86_modrm_mem(e, src, base, disp);
}

void x86_xchg_mr(struct x86_emit *e, int size, int base, int32_t disp, int src)
{
    x86_rex(e, size == 8, src, 0, base, 0);
    x86_emit1(e, 0x87);
    x86_modrm_mem(e, src, base, disp);
}

void x86_lock_cmpxchg(struct x86_emit *e, int size, int base, int32_t disp, int src)
{
    x86_emit1(e, 0xf0);
    x86_rex(e, size == 8, src, 0, base, 0);
    x86_emit1(e, 0x0f);
    x86_emit1(e, 0xb1);
    x86_modrm_mem(e, src, base, disp);
}

void x86_push(struct x86_emit *e, int r)
{
    x86_rex(e, 0, 0, 0, r, 0);
    x86_emit1(e, (uint8_t)(0x50 | (r & 7)));
}

void x86_pop(struct x86_emit *e, int r)
{
    x86_rex(e, 0, 0, 0, r, 0);
    x86_emit1(e, (uint8_t)(0x58 | (r & 7)));
}

void x86_ret(struct x86_emit *e)
{
    x86_emit1(e, 0xc3);
}

void x86_call_reg(struct x86_emit *e, int r)
{
    x86_rex(e, 0, 0, 0, r, 0);
    x86_emit1(e, 0xff);
    x86_modrm(e, 3, 2, r);
}

void x86_call_fix(struct x86_emit *e, enum x86_fix_kind kind, uint32_t target)
{
    x86_emit1(e, 0xe8);
    x86_fixup_add(e, kind, target);
}

void x86_jmp_fix(struct x86_emit *e, enum x86_fix_kind kind, uint32_t target)
{
    x86_emit1(e, 0xe9);
    x86_fixup_add(e, kind, target);
}

void x86_jcc_fix(struct x86_emit *e, enum x86_cc cc, enum x86_fix_kind kind, uint32_t target)
{
    x86_emit1(e, 0x0f);
    x86_emit1(e, (uint8_t)(0x80 | cc));
    x86_fixup_add(e, kind, target);
}

size_t x86_jcc8(struct x86_emit *e, enum x86_cc cc)
{
    x86_emit1(e, (uint8_t)(0x70 | cc));
    x86_emit1(e, 0);
    return e->len - 1;
}

size_t x86_jmp8(struct x86_emit *e)
{
    x86_emit1(e, 0xeb);
    x86_emit1(e, 0);
    return e->len - 1;
}

void x86_patch8(struct x86_emit *e, size_t at)
{
    if (e->err)
        return;
    size_t rel = e->len - (at + 1);
    if (rel > 127) {
        e->err = X86_ERANGE;
        return;
    }
    e->buf[at] = (uint8_t)rel;
}

void x86_jcc8_back(struct x86_emit *e, enum x86_cc cc, size_t to)
{
    int64_t rel = (int64_t)to - (int64_t)(e->len + 2);
    if (rel < -128) {
        e->err = X86_ERANGE;
        return;
    }
    x86_emit1(e, (uint8_t)(0x70 | cc));
    x86_emit1(e, (uint8_t)(int8_t)rel);
}

/* the recommended NOP forms, 1 to 9 bytes: pad bytes of them at dst */
static void nops_at(uint8_t *dst, size_t pad)
{
    static const uint8_t nops[9][9] = {
        {0x90},
        {0x66, 0x90},
        {0x0f, 0x1f, 0x00},
        {0x0f, 0x1f, 0x40, 0x00},
        {0x0f, 0x1f, 0x44, 0x00, 0x00},
        {0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00},
        {0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00},
        {0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00},
        {0x66, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00},
    };
    while (pad) {
        size_t n = pad > 9 ? 9 : pad;
        memcpy(dst, nops[n - 1], n);
        dst += n;
        pad -= n;
    }
}

void x86_align(struct x86_emit *e, size_t align)
{
    size_t pad = (align - (e->len & (align - 1))) & (align - 1);
    if (pad && reserve(e, pad)) {
        nops_at(e->buf + e->len, pad);
        e->len += pad;
    }
}

void x86_repad(struct x86_emit *e, size_t at, size_t old, size_t pad)
{
    if (e->err || old == pad || at + old > e->len ||
        (pad > old && !reserve(e, pad - old)))
        return;
    size_t from = at + old;
    memmove(e->buf + at + pad, e->buf + from, e->len - from);
    nops_at(e->buf + at, pad);
    e->len = e->len - old + pad;
    /* (nothing is bound inside the old padding; a label at its start
     * stays before the new one) */
    for (size_t k = 0; k < e->n_labels; k++)
        if (e->labels[k] != UINT32_MAX && e->labels[k] >= from)
            e->labels[k] = (uint32_t)(e->labels[k] - old + pad);
    for (size_t k = 0; k < e->n_fix; k++)
        if (e->fix[k].at >= from)
            e->fix[k].at = (uint32_t)(e->fix[k].at - old + pad);
}
