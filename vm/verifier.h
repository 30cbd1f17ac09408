/* verifier.h - internal interface of the verifier. */
#ifndef BPFLUA_VERIFIER_H
#define BPFLUA_VERIFIER_H

#include <stdint.h>

#include "object.h"

/* What the verifier proved about one instruction, for the loader, the
 * interpreter and the JIT. */
struct bl_insn_aux {
    uint8_t seen;          /* reachable */
    uint8_t ctx_field;     /* ctx access: 1 + index into prog->type->fields (0 = none) */
    uint8_t mem_safe;      /* memory access proven in bounds */
    uint8_t mem_kinds;     /* load/store/atomic: BL_MEMK_* of the memory every
                            * verified path's access here touched (OR over
                            * all visits; 0 = never checked, e.g. dead) */
    uint32_t loop_bound;   /* bpf_loop call: proven trip-count upper bound */
    uint8_t zero_args;     /* helper call: bit r set if Rr (3..5) is unwritten on some
                            * path and must be passed as 0 (bpf_trace_printk) */
    uint8_t ld_val;        /* load: BL_LDV_* of the value every verified path
                            * loaded here (OR over all visits; 0 = never) */
};

/* What a load loaded (aux.ld_val), for the JIT's range facts
 * (jit/range_facts.c): the packet's start exactly (offset 0), its end, or
 * anything else. Only a load that loads one of the first two on every
 * path is known to hold it. */
#define BL_LDV_DATA 0x01
#define BL_LDV_DATA_END 0x02
#define BL_LDV_OTHER 0x04

/* Kinds of memory (aux.mem_kinds). Distinct kinds never overlap: a packet,
 * ctx, map value or map key pointer cannot point into an eBPF stack frame. */
#define BL_MEMK_STACK 0x01
#define BL_MEMK_CTX 0x02
#define BL_MEMK_PACKET 0x04      /* packet and packet meta */
#define BL_MEMK_MAP_VALUE 0x08
#define BL_MEMK_MAP_KEY 0x10
#define BL_MEMK_OTHER 0x20        /* ring buffer records, sockets */

/* Verifies program p of obj; fills p->verdict, p->aux, p->max_insns, ... */
int bl_verify_prog(bpflua_object *obj, struct bl_prog *p, int log_level, char **log);

#endif
