/* helpers.h - helper functions by kernel id, and the run environment.
 *
 * A helper is called with R1-R5 and the run environment, and returns R0:
 *   uint64_t fn(r1, r2, r3, r4, r5, env)
 * which on x86-64 is exactly the SysV argument order, so the JIT calls
 * helpers directly. The prototypes are data (struct bpflua_helper in
 * bpflua.h) read by the verifier and by the compiler's helper list.
 */
#ifndef BPFLUA_HELPERS_H
#define BPFLUA_HELPERS_H

#include <stdint.h>

#include "bpflua.h"

enum {
    BL_HELPER_MAP_LOOKUP_ELEM = 1,
    BL_HELPER_MAP_UPDATE_ELEM = 2,
    BL_HELPER_MAP_DELETE_ELEM = 3,
    BL_HELPER_KTIME_GET_NS = 5,
    BL_HELPER_TRACE_PRINTK = 6,
    BL_HELPER_GET_PRANDOM_U32 = 7,
    BL_HELPER_GET_SMP_PROCESSOR_ID = 8,
    BL_HELPER_RINGBUF_OUTPUT = 130,
    BL_HELPER_FOR_EACH_MAP_ELEM = 164,
    BL_HELPER_LOOP = 181,
};

/* What a running program's helpers can reach. The engine (interpreter or
 * JIT) fills it in before a run. */
struct bpflua_run_env {
    struct bpflua_object *obj;
    /* Calls a callback value (what a BL_PSEUDO_FUNC lddw produced in this
     * engine) with five arguments in a fresh frame; returns its R0. */
    uint64_t (*call)(struct bpflua_run_env *env, uint64_t fn,
                     uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5);
    void *engine;            /* the engine's own state */
    int fault;               /* set nonzero by an engine to end the run with verdict 0 */
};

/* The prototype of helper `id`, or NULL if there is none. */
const struct bpflua_helper *bl_helper_find(uint32_t id);

#endif
