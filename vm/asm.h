/* asm.h - the opcode table (ops.def) and the assembler/disassembler
 * internals shared by the engine: the verifier and the JIT may decode
 * instructions with bl_op_decode(), the conformance runner assembles with
 * a line offset, tests format single instructions.
 */
#ifndef BPFLUA_ASM_H
#define BPFLUA_ASM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "object.h"

/* Operand shapes (see ops.def for what DISC means for each). */
enum bl_fmt {
    BL_FMT_ALU_K,      /* add %rD, imm */
    BL_FMT_ALU_X,      /* add %rD, %rS */
    BL_FMT_NEG,        /* neg %rD */
    BL_FMT_END,        /* be16 %rD */
    BL_FMT_LDDW,       /* lddw %rD, imm64 | map:NAME | map_value:NAME+OFF | func:LABEL */
    BL_FMT_LDABS,      /* ldabsw imm */
    BL_FMT_LDIND,      /* ldindw %rS, imm */
    BL_FMT_LDX,        /* ldxw %rD, [%rS+off] */
    BL_FMT_ST,         /* stw [%rD+off], imm */
    BL_FMT_STX,        /* stxw [%rD+off], %rS */
    BL_FMT_ATOMIC,     /* lock add [%rD+off], %rS */
    BL_FMT_JA,         /* ja LABEL|+off */
    BL_FMT_JA32,       /* ja32 LABEL|+imm */
    BL_FMT_JMP_K,      /* jeq %rD, imm, LABEL|+off */
    BL_FMT_JMP_X,      /* jeq %rD, %rS, LABEL|+off */
    BL_FMT_CALL,       /* call imm (helper id) */
    BL_FMT_CALL_LOCAL, /* call local LABEL|+imm */
    BL_FMT_CALLX,      /* callx %rD */
    BL_FMT_EXIT,       /* exit */
};

/* BL_OP_ADD64_IMM, ... in ops.def order (grep ORDER OPDEF) */
enum bl_op {
#define BL_OPDEF(name, code, fmt, disc, mnem, sem) BL_OP_##name,
#include "ops.def"
#undef BL_OPDEF
    BL_OP_COUNT
};

struct bl_opinfo {
    const char *name;      /* "ADD64_IMM" */
    uint8_t code;
    uint8_t fmt;           /* enum bl_fmt */
    int32_t disc;
    const char *mnemonic;  /* "add" */
    const char *semantics; /* "dst += imm" */
};

extern const struct bl_opinfo bl_ops[BL_OP_COUNT];

/* The op that instruction i encodes, or -1 when its opcode or its unused
 * fields are not a valid RFC 9669 encoding. Does not look at lddw's
 * second slot. */
int bl_op_decode(const struct bl_insn *i);

/* The same question as a table, for passes that ask it of every insn and
 * only want to know whether bl_op_decode would find an op (callx left
 * out): per opcode byte, the bits of the insn's 8 bytes its ops fix
 * (`mask`: unused fields, the field that tells ops apart) and the values
 * those bits may have (vals[first .. first + n)). slow: the byte's ops fix
 * different fields, ask bl_op_decode (no opcode of ops.def does). */
struct bl_enc_rule {
    uint64_t mask;
    uint16_t first;
    uint8_t n, slow;
};
struct bl_enc_rules {
    struct bl_enc_rule code[256];
    uint64_t vals[BL_OP_COUNT + 8];
};
const struct bl_enc_rules *bl_enc_rules(void);

/* bl_op_decode(i) >= 0 and i is no callx, from the table */
static inline int bl_op_known(const struct bl_enc_rules *t, const struct bl_insn *i)
{
    uint64_t raw;
    memcpy(&raw, i, sizeof raw);
    const struct bl_enc_rule *r = &t->code[raw & 0xff];
    if (r->slow) {
        int op = bl_op_decode(i);
        return op >= 0 && bl_ops[op].fmt != BL_FMT_CALLX;
    }
    uint64_t v = raw & r->mask;
    for (unsigned k = r->first; k < (unsigned)r->first + r->n; k++)
        if (t->vals[k] == v)
            return 1;
    return 0;
}

/* Formats the instruction at insns[pc] (without index or newline) into
 * buf. obj and p (either may be NULL) name maps and functions. Returns the
 * number of slots it spans (1, or 2 for lddw). */
int bl_disasm_insn(const bpflua_object *obj, const struct bl_prog *p,
                   const struct bl_insn *insns, size_t n, size_t pc,
                   char *buf, size_t cap);

/* bpflua_object_from_asm with error lines counted from first_line (the
 * conformance runner passes the line where its "-- asm" section starts). */
bpflua_object *bl_asm_assemble(const char *text, const char *name, unsigned first_line,
                               char **err);

#endif
