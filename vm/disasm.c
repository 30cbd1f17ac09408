/* disasm.c - the opcode table, instruction decoding and the disassembler
 * (bpf_conformance text form, which vm/asm.c reads back).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asm.h"

/* ORDER OPDEF */
const struct bl_opinfo bl_ops[BL_OP_COUNT] = {
#define BL_OPDEF(name, code, fmt, disc, mnem, sem) { #name, code, fmt, disc, mnem, sem },
#include "ops.def"
#undef BL_OPDEF
};

/* first op of each opcode byte, and the next op sharing it (-1 ends) */
static int16_t first_op[256];
static int16_t next_op[BL_OP_COUNT];
static pthread_once_t index_once = PTHREAD_ONCE_INIT;

static void build_index(void)
{
    for (int c = 0; c < 256; c++)
        first_op[c] = -1;
    for (int op = BL_OP_COUNT - 1; op >= 0; op--) {
        next_op[op] = first_op[bl_ops[op].code];
        first_op[bl_ops[op].code] = (int16_t)op;
    }
}

/* Do the fields the format leaves unused hold 0, and does DISC match? */
static int fields_match(const struct bl_opinfo *o, const struct bl_insn *i)
{
    switch (o->fmt) {
    case BL_FMT_ALU_K: return i->src == 0 && i->off == o->disc;
    case BL_FMT_ALU_X: return i->imm == 0 && i->off == o->disc;
    case BL_FMT_NEG: return i->src == 0 && i->off == 0 && i->imm == 0;
    case BL_FMT_END: return i->src == 0 && i->off == 0 && i->imm == o->disc;
    case BL_FMT_LDDW: return i->off == 0 && i->src <= 6;
    case BL_FMT_LDABS: return i->src == 0 && i->dst == 0 && i->off == 0;
    case BL_FMT_LDIND: return i->dst == 0 && i->off == 0;
    case BL_FMT_LDX: return i->imm == 0;
    case BL_FMT_ST: return i->src == 0;
    case BL_FMT_STX: return i->imm == 0;
    case BL_FMT_ATOMIC: return i->imm == o->disc;
    case BL_FMT_JA: return i->src == 0 && i->dst == 0 && i->imm == 0;
    case BL_FMT_JA32: return i->src == 0 && i->dst == 0 && i->off == 0;
    case BL_FMT_JMP_K: return i->src == 0;
    case BL_FMT_JMP_X: return i->imm == 0;
    case BL_FMT_CALL:
    case BL_FMT_CALL_LOCAL: return i->src == o->disc && i->dst == 0 && i->off == 0;
    case BL_FMT_CALLX: return i->src == 0 && i->off == 0 && i->imm == 0;
    case BL_FMT_EXIT: return i->src == 0 && i->dst == 0 && i->off == 0 && i->imm == 0;
    }
    return 0;
}

int bl_op_decode(const struct bl_insn *i)
{
    pthread_once(&index_once, build_index);
    for (int op = first_op[i->code]; op >= 0; op = next_op[op])
        if (fields_match(&bl_ops[op], i))
            return op;
    return -1;
}

/* ---- the encodings as a table (bl_op_known) ------------------------------- */

#define ENC_DST (0x0full << 8)
#define ENC_SRC (0xf0ull << 8)
#define ENC_OFF (0xffffull << 16)
#define ENC_IMM (0xffffffffull << 32)

/* the bits fields_match() fixes for op o, and the values it demands there */
static uint64_t enc_mask(const struct bl_opinfo *o)
{
    switch (o->fmt) {
    case BL_FMT_ALU_K: return ENC_SRC | ENC_OFF;
    case BL_FMT_ALU_X: return ENC_IMM | ENC_OFF;
    case BL_FMT_NEG:
    case BL_FMT_END: return ENC_SRC | ENC_OFF | ENC_IMM;
    case BL_FMT_LDDW: return ENC_OFF | ENC_SRC;
    case BL_FMT_LDABS: return ENC_SRC | ENC_DST | ENC_OFF;
    case BL_FMT_LDIND: return ENC_DST | ENC_OFF;
    case BL_FMT_LDX:
    case BL_FMT_STX:
    case BL_FMT_ATOMIC:
    case BL_FMT_JMP_X: return ENC_IMM;
    case BL_FMT_ST:
    case BL_FMT_JMP_K: return ENC_SRC;
    case BL_FMT_JA: return ENC_SRC | ENC_DST | ENC_IMM;
    case BL_FMT_JA32:
    case BL_FMT_CALL:
    case BL_FMT_CALL_LOCAL:
    case BL_FMT_CALLX: return ENC_SRC | ENC_DST | ENC_OFF;
    case BL_FMT_EXIT: return ENC_SRC | ENC_DST | ENC_OFF | ENC_IMM;
    }
    return ~0ull;
}

static uint64_t enc_value(const struct bl_opinfo *o)
{
    switch (o->fmt) {
    case BL_FMT_ALU_K:
    case BL_FMT_ALU_X: return (uint64_t)(uint16_t)o->disc << 16;
    case BL_FMT_END:
    case BL_FMT_ATOMIC: return (uint64_t)(uint32_t)o->disc << 32;
    case BL_FMT_CALL:
    case BL_FMT_CALL_LOCAL: return (uint64_t)(o->disc & 15) << 12;
    default: return 0;
    }
}

static struct bl_enc_rules enc_rules;
static pthread_once_t enc_once = PTHREAD_ONCE_INIT;

static void build_enc_rules(void)
{
    pthread_once(&index_once, build_index);
    uint16_t nv = 0;
    for (int c = 0; c < 256; c++) {
        struct bl_enc_rule *r = &enc_rules.code[c];
        r->first = nv;
        r->mask = 0;
        int any = 0;
        for (int op = first_op[c]; op >= 0; op = next_op[op]) {
            const struct bl_opinfo *o = &bl_ops[op];
            if (o->fmt == BL_FMT_CALLX)
                continue;
            uint64_t m = enc_mask(o);
            if (any && m != r->mask)
                r->slow = 1;
            r->mask = m;
            any = 1;
            if (o->fmt == BL_FMT_LDDW) { /* off 0, src 0..6 */
                for (uint64_t src = 0; src <= 6 && nv < BL_OP_COUNT + 8; src++)
                    enc_rules.vals[nv++] = src << 12;
            } else if (nv < BL_OP_COUNT + 8) {
                enc_rules.vals[nv++] = enc_value(o);
            } else {
                r->slow = 1;
            }
        }
        r->n = (uint8_t)(nv - r->first);
    }
}

const struct bl_enc_rules *bl_enc_rules(void)
{
    pthread_once(&enc_once, build_enc_rules);
    return &enc_rules;
}

/* ---- formatting ---------------------------------------------------------- */

static const char *func_name_at(const struct bl_prog *p, int64_t insn)
{
    if (!p)
        return NULL;
    for (uint32_t f = 0; f < p->n_funcs; f++)
        if (p->funcs[f].insn == insn && p->funcs[f].name[0])
            return p->funcs[f].name;
    return NULL;
}

static const char *map_name(const bpflua_object *obj, int32_t idx)
{
    if (obj && idx >= 0 && (uint32_t)idx < obj->n_maps && obj->maps[idx].name[0])
        return obj->maps[idx].name;
    return NULL;
}

/* "%r1" */
static const char *reg(char *b, unsigned r)
{
    snprintf(b, 8, "%%r%u", r);
    return b;
}

/* [%r1+4] / [%r1-4] / [%r1] */
static const char *mem(char *b, unsigned r, int off)
{
    if (off == 0)
        snprintf(b, 24, "[%%r%u]", r);
    else
        snprintf(b, 24, "[%%r%u%+d]", r, off);
    return b;
}

/* Immediates: decimal; large ones of 32-bit ops in hex, as written in the
 * conformance files (both read back to the same imm). */
static const char *imm32(char *b, int32_t imm, int is32)
{
    if (is32 && (imm >= 65536 || imm <= -65536))
        snprintf(b, 24, "0x%x", (uint32_t)imm);
    else
        snprintf(b, 24, "%d", imm);
    return b;
}

static const char *target(char *b, const struct bl_prog *p, int64_t pc, int64_t rel, int named)
{
    const char *fn = named ? func_name_at(p, pc + 1 + rel) : NULL;
    if (fn)
        snprintf(b, 80, "%s", fn);
    else
        snprintf(b, 80, "%+lld", (long long)rel);
    return b;
}

int bl_disasm_insn(const bpflua_object *obj, const struct bl_prog *p,
                   const struct bl_insn *insns, size_t n, size_t pc,
                   char *buf, size_t cap)
{
    const struct bl_insn *i = &insns[pc];
    char a[80], b[80], c[80];
    int op = bl_op_decode(i);
    if (op < 0) {
        snprintf(buf, cap, "invalid 0x%02x (dst %u src %u off %d imm %d)",
                 i->code, i->dst, i->src, i->off, i->imm);
        return 1;
    }
    const struct bl_opinfo *o = &bl_ops[op];
    const char *m = o->mnemonic;
    int is32 = BL_CLASS(i->code) == BL_ALU || BL_CLASS(i->code) == BL_JMP32;
    switch (o->fmt) {
    case BL_FMT_ALU_K:
        snprintf(buf, cap, "%s %s, %s", m, reg(a, i->dst), imm32(b, i->imm, is32));
        break;
    case BL_FMT_ALU_X:
        snprintf(buf, cap, "%s %s, %s", m, reg(a, i->dst), reg(b, i->src));
        break;
    case BL_FMT_NEG:
    case BL_FMT_END:
    case BL_FMT_CALLX:
        snprintf(buf, cap, "%s %s", m, reg(a, i->dst));
        break;
    case BL_FMT_LDDW: {
        if (pc + 1 >= n) {
            snprintf(buf, cap, "lddw %s, <truncated>", reg(a, i->dst));
            return 1;
        }
        const struct bl_insn *hi = &insns[pc + 1];
        const char *mn = map_name(obj, i->imm);
        if (i->src == BL_PSEUDO_MAP_FD && mn)
            snprintf(buf, cap, "lddw %s, map:%s", reg(a, i->dst), mn);
        else if (i->src == BL_PSEUDO_MAP_FD)
            snprintf(buf, cap, "lddw %s, map:%d", reg(a, i->dst), i->imm);
        else if (i->src == BL_PSEUDO_MAP_VALUE && mn)
            snprintf(buf, cap, "lddw %s, map_value:%s+%d", reg(a, i->dst), mn, hi->imm);
        else if (i->src == BL_PSEUDO_MAP_VALUE)
            snprintf(buf, cap, "lddw %s, map_value:%d+%d", reg(a, i->dst), i->imm, hi->imm);
        else if (i->src == BL_PSEUDO_FUNC)
            snprintf(buf, cap, "lddw %s, func:%s", reg(a, i->dst),
                     target(b, p, (int64_t)pc, i->imm, 1));
        else if (i->src != 0)
            snprintf(buf, cap, "lddw %s, pseudo%u:%d:%d", reg(a, i->dst), i->src, i->imm, hi->imm);
        else
            snprintf(buf, cap, "lddw %s, 0x%llx", reg(a, i->dst),
                     (unsigned long long)(((uint64_t)(uint32_t)hi->imm << 32) | (uint32_t)i->imm));
        return 2;
    }
    case BL_FMT_LDABS:
        snprintf(buf, cap, "%s %d", m, i->imm);
        break;
    case BL_FMT_LDIND:
        snprintf(buf, cap, "%s %s, %d", m, reg(a, i->src), i->imm);
        break;
    case BL_FMT_LDX:
        snprintf(buf, cap, "%s %s, %s", m, reg(a, i->dst), mem(b, i->src, i->off));
        break;
    case BL_FMT_ST:
        snprintf(buf, cap, "%s %s, %s", m, mem(a, i->dst, i->off), imm32(b, i->imm, 1));
        break;
    case BL_FMT_STX:
    case BL_FMT_ATOMIC:
        snprintf(buf, cap, "%s %s, %s", m, mem(a, i->dst, i->off), reg(b, i->src));
        break;
    case BL_FMT_JA:
        snprintf(buf, cap, "%s %s", m, target(a, p, (int64_t)pc, i->off, 0));
        break;
    case BL_FMT_JA32:
        snprintf(buf, cap, "%s %s", m, target(a, p, (int64_t)pc, i->imm, 0));
        break;
    case BL_FMT_JMP_K:
        snprintf(buf, cap, "%s %s, %s, %s", m, reg(a, i->dst), imm32(b, i->imm, is32),
                 target(c, p, (int64_t)pc, i->off, 0));
        break;
    case BL_FMT_JMP_X:
        snprintf(buf, cap, "%s %s, %s, %s", m, reg(a, i->dst), reg(b, i->src),
                 target(c, p, (int64_t)pc, i->off, 0));
        break;
    case BL_FMT_CALL:
        snprintf(buf, cap, "%s %d", m, i->imm);
        break;
    case BL_FMT_CALL_LOCAL:
        snprintf(buf, cap, "%s %s", m, target(a, p, (int64_t)pc, i->imm, 1));
        break;
    case BL_FMT_EXIT:
        snprintf(buf, cap, "%s", m);
        break;
    }
    return 1;
}

/* The object's maps as `.map` directives, so a disassembly assembles back
 * (map:NAME operands need their declarations). */
static int disasm_maps(const bpflua_object *obj, struct bl_strbuf *sb)
{
    int rc = 0;
    for (uint32_t i = 0; i < obj->n_maps; i++) {
        const struct bl_map_def *m = &obj->maps[i];
        const char *type = bl_map_type_name(m->type);
        if (!type) {
            rc |= bl_strbuf_printf(sb, "; map %s has type %u, which the assembler cannot declare\n",
                                   m->name, m->type);
            continue;
        }
        rc |= bl_strbuf_printf(sb, ".map %s %s key=%u value=%u entries=%u", m->name, type,
                               m->key_size, m->value_size, m->max_entries);
        if (m->flags)
            rc |= bl_strbuf_printf(sb, " flags=%u", m->flags);
        if (m->inner_map && m->inner_map <= obj->n_maps)
            rc |= bl_strbuf_printf(sb, " inner=%s", obj->maps[m->inner_map - 1].name);
        rc |= bl_strbuf_printf(sb, "\n");
    }
    return rc;
}

char *bpflua_disasm(const bpflua_object *obj, size_t prog, int with_source)
{
    if (!obj || prog >= obj->n_progs)
        return NULL;
    const struct bl_prog *p = &obj->progs[prog];
    struct bl_strbuf sb = { 0 };
    const char *src_name = obj->source_name ? obj->source_name : "?";
    uint32_t last_line = 0;
    char text[256];
    int rc = disasm_maps(obj, &sb);
    for (size_t pc = 0; pc < p->n_insns && rc == 0;) {
        for (uint32_t f = 0; f < p->n_funcs; f++)
            if (p->funcs[f].insn == pc && p->funcs[f].name[0])
                rc |= bl_strbuf_printf(&sb, "%s:\n", p->funcs[f].name);
        uint32_t line = with_source ? bl_prog_insn_line(p, (uint32_t)pc) : 0;
        if (line && line != last_line) {
            size_t len = 0;
            const char *s = bpflua_object_source_line(obj, line, &len);
            if (s)
                rc |= bl_strbuf_printf(&sb, "; %s:%u: %.*s\n", src_name, line, (int)len, s);
            last_line = line;
        }
        int slots = bl_disasm_insn(obj, p, p->insns, p->n_insns, pc, text, sizeof text);
        rc |= bl_strbuf_printf(&sb, "%4zu: %s\n", pc, text);
        pc += (size_t)slots;
    }
    if (rc || !sb.buf) {
        bl_strbuf_free(&sb);
        return NULL;
    }
    return sb.buf;
}
