/* verifier.h - internal interface of the verifier. */
#ifndef BPFLUA_VERIFIER_H
#define BPFLUA_VERIFIER_H

#include <stdint.h>

#include "object.h"

/* What the verifier proved about one instruction, for the loader, the
 * interpreter and the JIT. */
struct bl_insn_aux {
    uint8_t seen;          /* reachable */
    uint8_t ctx_field;     /* ctx load: 1 + index of the xdp_md field (0 = none) */
    uint8_t mem_safe;      /* memory access proven in bounds */
    uint8_t pad;
    uint32_t loop_bound;   /* bpf_loop call: proven trip-count upper bound */
};

/* Verifies program p of obj; fills p->verdict, p->aux, p->max_insns, ... */
int bl_verify_prog(bpflua_object *obj, struct bl_prog *p, int log_level, char **log);

#endif
