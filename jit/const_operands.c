/* Constant register operands as immediates (verified code only).
 *
 * The compiler sets a loop's start, stop and step with `mov rX, imm` and
 * then reads them as registers: `if start > stop goto skip` (`jslt r6,
 * r7`), the trip count `r1 = r6; r1 -= r7; r1 += 1`. Where the value of
 * the source register is known on the straight path to the instruction
 * (its last write is `mov rX, imm` or an lddw of a plain constant, no
 * jump target in between), the JIT translates the immediate form of the
 * instruction instead: `sub r1, 0` emits nothing, a compare takes an
 * immediate, and the `mov` itself often becomes dead (inlined bodies skip
 * dead definitions): two instructions less at every start of a loop whose
 * bound is a constant. The rewritten copy computes exactly what the
 * program computes; the verifier's per-instruction facts stay valid.
 *
 * Rewritten: ALU add, sub, mul, or, and, xor, mov (no offset: not movsx,
 * sdiv or smod) and every conditional jump, 64-bit forms only when the
 * value is a sign-extended 32-bit immediate, 32-bit forms always (they
 * read the low 32 bits, the immediate's). Division, modulo and shifts
 * keep their register (their immediate forms forbid values the register
 * forms allow), stores too. */
#include <stdlib.h>
#include <string.h>

#include "jit_internal.h"
#include "../core/insn.h"

static int rewritable(const struct bl_insn *in)
{
    uint8_t cls = BL_CLASS(in->code), op = BL_OP(in->code);
    if (BL_SRC(in->code) != BL_X)
        return 0;
    if (cls == BL_ALU || cls == BL_ALU64)
        return in->off == 0 && (op == BL_ADD || op == BL_SUB || op == BL_MUL || op == BL_OR ||
                                op == BL_AND || op == BL_XOR || op == BL_MOV);
    if (cls == BL_JMP || cls == BL_JMP32)
        return op != BL_JA && op != BL_CALL && op != BL_EXIT;
    return 0;
}

struct bl_insn *jit_const_operands(const struct bl_insn *insns, uint32_t n,
                                   const uint8_t *is_target, const uint8_t *is_func_start)
{
    struct bl_insn *out = NULL;
    int64_t val[16];
    uint16_t known = 0;
    for (uint32_t i = 0; i < n; i++) {
        const struct bl_insn *in = &insns[i];
        if (is_target[i] || is_func_start[i])
            known = 0;
        uint8_t cls = BL_CLASS(in->code), op = BL_OP(in->code);
        if (known && ((known >> (in->src & 15)) & 1) && rewritable(in)) {
            int64_t v = val[in->src & 15];
            int w64 = cls == BL_ALU64 || cls == BL_JMP;
            if (!w64 || (v >= INT32_MIN && v <= INT32_MAX)) {
                if (!out) {
                    out = malloc((size_t)n * sizeof *out);
                    if (!out)
                        return NULL;
                    memcpy(out, insns, (size_t)n * sizeof *out);
                }
                out[i].code = (uint8_t)((in->code & ~BL_X) | BL_K);
                out[i].src = 0;
                out[i].imm = (int32_t)(uint32_t)(uint64_t)v;
            }
        }
        uint16_t use, def;
        bl_insn_use_def(in, &use, &def);
        known &= (uint16_t)~def;
        if (bl_is_lddw(in)) {
            if (in->src == 0 && i + 1 < n) {
                val[in->dst & 15] = (int64_t)((uint64_t)(uint32_t)in->imm |
                                              (uint64_t)(uint32_t)insns[i + 1].imm << 32);
                known |= (uint16_t)(1u << (in->dst & 15));
            }
            i++;
        } else if ((cls == BL_ALU64 || cls == BL_ALU) && op == BL_MOV && BL_SRC(in->code) == BL_K &&
                   in->off == 0) {
            val[in->dst & 15] = cls == BL_ALU64 ? (int64_t)in->imm : (int64_t)(uint32_t)in->imm;
            known |= (uint16_t)(1u << (in->dst & 15));
        } else if ((cls == BL_JMP && (op == BL_JA || op == BL_EXIT)) ||
                   (cls == BL_JMP32 && op == BL_JA)) {
            known = 0;
        }
    }
    return out;
}
