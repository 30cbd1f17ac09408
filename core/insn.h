/* insn.h - the one instruction representation of bpflua (RFC 9669).
 *
 * Every component speaks this: the compiler emits it (packed little-endian,
 * 8 bytes per slot), the ELF reader produces it, the verifier annotates it,
 * the interpreter and the JIT consume it.
 *
 *   bit  0       8     12     16              32                     64
 *        +--------+-----+------+---------------+----------------------+
 *        | opcode | dst | src  |  offset (s16) |      imm (s32)       |
 *        +--------+-----+------+---------------+----------------------+
 *
 * opcode = class (3 bits) | source/size (bits 3-4) | op or mode (bits 4-7).
 * lddw (BPF_LD|BPF_IMM|BPF_DW) occupies two slots; the second has opcode 0
 * and carries the high 32 bits of the constant in imm.
 *
 * We do not include <linux/bpf.h> here: the engine must build without kernel
 * headers, and its `struct bpf_insn` would clash with ours.
 */
#ifndef BPFLUA_INSN_H
#define BPFLUA_INSN_H

#include <stdint.h>

struct bl_insn {
    uint8_t code;
    uint8_t dst : 4;
    uint8_t src : 4;
    int16_t off;
    int32_t imm;
};

_Static_assert(sizeof(struct bl_insn) == 8, "an eBPF instruction is 8 bytes");

/* instruction classes */
#define BL_LD     0x00
#define BL_LDX    0x01
#define BL_ST     0x02
#define BL_STX    0x03
#define BL_ALU    0x04
#define BL_JMP    0x05
#define BL_JMP32  0x06
#define BL_ALU64  0x07
#define BL_CLASS(code) ((code) & 0x07)

/* ALU/JMP source */
#define BL_K      0x00 /* immediate */
#define BL_X      0x08 /* register */
#define BL_SRC(code) ((code) & 0x08)

/* ALU operations (code & 0xf0) */
#define BL_ADD    0x00
#define BL_SUB    0x10
#define BL_MUL    0x20
#define BL_DIV    0x30 /* off == 1: signed (sdiv) */
#define BL_OR     0x40
#define BL_AND    0x50
#define BL_LSH    0x60
#define BL_RSH    0x70
#define BL_NEG    0x80
#define BL_MOD    0x90 /* off == 1: signed (smod) */
#define BL_XOR    0xa0
#define BL_MOV    0xb0 /* off == 8/16/32: sign-extending movsx */
#define BL_ARSH   0xc0
#define BL_END    0xd0 /* BL_ALU: K = to little endian, X = to big endian;
                          BL_ALU64|K = unconditional bswap (v4) */
#define BL_OP(code) ((code) & 0xf0)

/* JMP operations (code & 0xf0) */
#define BL_JA     0x00 /* BL_JMP32|BL_JA: ja32, target in imm (v4) */
#define BL_JEQ    0x10
#define BL_JGT    0x20
#define BL_JGE    0x30
#define BL_JSET   0x40
#define BL_JNE    0x50
#define BL_JSGT   0x60
#define BL_JSGE   0x70
#define BL_CALL   0x80
#define BL_EXIT   0x90
#define BL_JLT    0xa0
#define BL_JLE    0xb0
#define BL_JSLT   0xc0
#define BL_JSLE   0xd0

/* load/store size (code & 0x18) */
#define BL_W      0x00
#define BL_H      0x08
#define BL_B      0x10
#define BL_DW     0x18
#define BL_SIZE(code) ((code) & 0x18)

/* load/store mode (code & 0xe0) */
#define BL_IMM    0x00
#define BL_ABS    0x20
#define BL_IND    0x40
#define BL_MEM    0x60
#define BL_MEMSX  0x80 /* sign-extending load (v4) */
#define BL_ATOMIC 0xc0
#define BL_MODE(code) ((code) & 0xe0)

/* atomic operations (imm of BL_STX|BL_ATOMIC) */
#define BL_FETCH   0x01
#define BL_XCHG    (0xe0 | BL_FETCH)
#define BL_CMPXCHG (0xf0 | BL_FETCH)

/* src_reg of lddw: what the 64-bit immediate means before linking */
#define BL_PSEUDO_MAP_FD    1 /* imm = index into the object's maps */
#define BL_PSEUDO_MAP_VALUE 2 /* imm = map index, next imm = offset in value */
#define BL_PSEUDO_FUNC      4 /* imm = callback start - (this insn + 1) */

/* src_reg of call */
#define BL_CALL_HELPER 0 /* imm = helper id */
#define BL_PSEUDO_CALL 1 /* imm = callee start - (this insn + 1) */

/* registers */
enum {
    BL_R0, BL_R1, BL_R2, BL_R3, BL_R4, BL_R5,
    BL_R6, BL_R7, BL_R8, BL_R9, BL_R10, BL_NREGS
};

#define BL_STACK_SIZE   512     /* bytes per frame, as in the kernel */
#define BL_MAX_CALL_DEPTH 8     /* frames, as in the kernel */
#define BL_MAX_LOOPS    8388608 /* BPF_MAX_LOOPS: bpf_loop's trip-count limit */
/* The largest packet an XDP program can see: data_end - data is at most the
 * kernel's MAX_PACKET_OFF + 1 (0x10000; in practice one page or less). The
 * verifier bounds #pkt by the type's max_packet (core/progtype.h): this for
 * XDP, 65,535 for the socket-buffer types; a run shows a program that much
 * of a longer packet. */
#define BL_XDP_MAX_PACKET 65536

static inline int bl_is_lddw(const struct bl_insn *i)
{
    return i->code == (BL_LD | BL_IMM | BL_DW);
}

/* The registers an instruction reads (*use) and writes (*def), bit i = Ri,
 * for liveness in the verifier and the JIT. A call reads
 * R1-R5 (and the target register of callx) and clobbers R0-R5; callers that
 * know a helper's argument count narrow *use. */
static inline void bl_insn_use_def(const struct bl_insn *in, uint16_t *use, uint16_t *def)
{
    uint8_t cls = BL_CLASS(in->code), op = BL_OP(in->code), mode = BL_MODE(in->code);
    int x = BL_SRC(in->code) == BL_X;
    uint16_t d = (uint16_t)(1u << in->dst), s = (uint16_t)(1u << in->src);
    *use = *def = 0;
    switch (cls) {
    case BL_ALU:
    case BL_ALU64:
        *use = (op == BL_MOV ? 0 : d) | (x && op != BL_NEG && op != BL_END ? s : 0);
        *def = d;
        break;
    case BL_LD:
        if (bl_is_lddw(in)) {
            *def = d;
        } else { /* legacy ld_abs / ld_ind: R6 holds the skb, the result lands in R0 */
            *use = (uint16_t)((1u << BL_R6) | (mode == BL_IND ? s : 0));
            *def = 1u << BL_R0;
        }
        break;
    case BL_LDX:
        *use = s;
        *def = d;
        break;
    case BL_ST:
        *use = d;
        break;
    case BL_STX:
        *use = d | s;
        if (mode == BL_ATOMIC) {
            if (in->imm == BL_CMPXCHG) {
                *use |= 1u << BL_R0;
                *def = 1u << BL_R0;
            } else if (in->imm & BL_FETCH) {
                *def = s;
            }
        }
        break;
    default: /* jumps */
        if (op == BL_CALL) {
            *use = (uint16_t)(0x3e | (x ? d : 0)); /* R1-R5 */
            *def = 0x3f;                           /* R0-R5 */
        } else if (op == BL_EXIT) {
            *use = 1u << BL_R0;
        } else if (op != BL_JA) {
            *use = d | (x ? s : 0);
        }
        break;
    }
}

#endif
