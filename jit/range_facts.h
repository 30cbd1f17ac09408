/* range_facts.h - the tests of a loop body that earlier tests of the same
 * iteration decide.
 *
 * A user's `if opt + 2 > #pkt then break end` before `pkt:u8(opt)` and
 * `pkt:u8(opt + 1)` makes the compiler's packet checks after it (`if data
 * + opt + 1 > data_end goto fault`) never taken, whatever opt is, as long
 * as opt does not change in between; the same holds for any test that
 * bounds a linear function of values the body computes (the loop index, a
 * variable carried from one iteration to the next in a ctx slot, a byte
 * loaded from the packet). Unlike loop_checks.h, nothing is computed
 * before the loop: each decision holds in every iteration, so every copy
 * of the body drops the test (never taken) or makes it a `ja` (always
 * taken).
 *
 * Soundness rests on what the caller guarantees as for loop_checks.h (R1 =
 * i, R2 = ctx on entry) and on the verifier's aux: a load whose ld_val is
 * BL_LDV_DATA loaded the packet's start, BL_LDV_DATA_END its end, and the
 * packet is shorter than 2^32 bytes in memory below 2^57 (a user-space
 * buffer). Without aux (raw code), only the arithmetic facts are used. */
#ifndef BPFLUA_RANGE_FACTS_H
#define BPFLUA_RANGE_FACTS_H

#include <stdint.h>

#include "../core/insn.h"

struct bl_insn_aux;

/* Decides the conditional jumps of the callback [start, end) that the
 * tests before them decide on every path: decided[k] = 1 for a jump at
 * start + k never taken, 2 for one always taken (others left as they
 * are). Returns how many it decided; 0 also when the body has a jump back
 * or a helper that moves the packet, or when out of memory. */
int bl_range_facts(const struct bl_insn *insns, const struct bl_insn_aux *aux, uint32_t start,
                   uint32_t end, uint8_t *decided);

#endif
