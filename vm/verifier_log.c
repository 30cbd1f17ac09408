/* verifier_log.c - the verifier's one output sink, and state formatting.
 *
 * vf_verbose() appends to the trace only when a log was asked for; vf_reject()
 * records the first rejection message (the driver adds "at insn N"). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "asm.h"
#include "verifier_state.h"

void vf_verbose(struct bl_venv *env, const char *fmt, ...)
{
    if (!env->log_level || !env->log)
        return;
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > 0)
        bl_strbuf_append(env->log, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

int vf_reject(struct bl_venv *env, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (!env->error) {
        env->error = bl_asprintf("%s", buf);
        env->error_insn = env->cur_insn;
    }
    vf_verbose(env, "%s\n", buf);
    return -EACCES;
}

const char *vf_reg_type_str(enum bl_reg_type t)
{
    switch (t) {
    case REG_NOT_INIT: return "?";
    case REG_SCALAR: return "scalar";
    case REG_PTR_TO_CTX: return "ctx";
    case REG_PTR_TO_STACK: return "fp";
    case REG_PTR_TO_PACKET: return "pkt";
    case REG_PTR_TO_PACKET_META: return "pkt_meta";
    case REG_PTR_TO_PACKET_END: return "pkt_end";
    case REG_CONST_PTR_TO_MAP: return "map_ptr";
    case REG_PTR_TO_MAP_VALUE: return "map_value";
    case REG_PTR_TO_MAP_VALUE_OR_NULL: return "map_value_or_null";
    case REG_MAP_PTR_OR_NULL: return "map_ptr_or_null";
    case REG_PTR_TO_MAP_KEY: return "map_key";
    case REG_PTR_TO_FUNC: return "func";
    case REG_PTR_TO_MEM: return "mem";
    case REG_PTR_TO_MEM_OR_NULL: return "mem_or_null";
    case REG_PTR_TO_SOCKET: return "sock";
    case REG_PTR_TO_SOCKET_OR_NULL: return "sock_or_null";
    case REG_PTR_TO_SOCK_COMMON: return "sock_common";
    case REG_PTR_TO_SOCK_COMMON_OR_NULL: return "sock_common_or_null";
    case REG_PTR_TO_TCP_SOCK: return "tcp_sock";
    case REG_PTR_TO_TCP_SOCK_OR_NULL: return "tcp_sock_or_null";
    }
    return "?";
}

static void log_reg(struct bl_venv *env, int regno, const struct bl_reg *r)
{
    char t[64];
    if (r->type == REG_NOT_INIT)
        return;
    if (regno >= 0)
        vf_verbose(env, " R%d=%s", regno, vf_reg_type_str(r->type));
    else
        vf_verbose(env, "%s", vf_reg_type_str(r->type));
    if (r->type == REG_SCALAR) {
        if (tnum_is_const(r->var)) {
            vf_verbose(env, "(%lld)", (long long)r->var.value);
            return;
        }
        tnum_str(t, sizeof t, r->var);
        vf_verbose(env, "(smin=%lld,smax=%lld,umin=%llu,umax=%llu,s32=[%d,%d],u32=[%u,%u],var=%s)",
                   (long long)r->smin, (long long)r->smax, (unsigned long long)r->umin,
                   (unsigned long long)r->umax, r->s32min, r->s32max, r->u32min, r->u32max, t);
        return;
    }
    vf_verbose(env, "(off=%d", r->off);
    if (!tnum_equals_const(r->var, 0)) {
        tnum_str(t, sizeof t, r->var);
        vf_verbose(env, ",var=%s,umax=%llu", t, (unsigned long long)r->umax);
    }
    if (r->type == REG_PTR_TO_PACKET)
        vf_verbose(env, ",r=%d", r->range);
    if (r->id)
        vf_verbose(env, ",id=%u", r->id);
    if (r->ref)
        vf_verbose(env, ",ref_obj_id=%u", r->ref);
    if (r->type == REG_PTR_TO_STACK)
        vf_verbose(env, ",frame=%u", r->frameno);
    vf_verbose(env, ")");
}

void vf_log_state(struct bl_venv *env, const struct bl_vstate *st)
{
    if (!env->log_level)
        return;
    for (int f = 0; f <= st->curframe; f++) {
        const struct bl_frame *fr = st->frames[f];
        if (st->curframe)
            vf_verbose(env, " frame%d:", f);
        for (int i = 0; i < BL_NREGS; i++)
            log_reg(env, i, &fr->regs[i]);
        for (int s = 0; s < fr->n_slots; s++) {
            const struct bl_slot *sl = &fr->stack[s];
            if (sl->bytes[0] == SLOT_SPILL) {
                vf_verbose(env, " fp-%d=spill", 8 * (s + 1));
                log_reg(env, -1, &sl->spilled);
            } else {
                int any = 0;
                for (int b = 0; b < 8; b++)
                    any |= sl->bytes[b];
                if (any) {
                    vf_verbose(env, " fp-%d=", 8 * (s + 1));
                    for (int b = 7; b >= 0; b--)
                        vf_verbose(env, "%c", "?m0r"[sl->bytes[b] & 3]);
                }
            }
        }
    }
    vf_verbose(env, "\n");
}

void vf_log_insn(struct bl_venv *env, uint32_t idx, const struct bl_insn *insn)
{
    char text[160];
    bl_disasm_insn(env->obj, env->prog, env->insns, env->n_insns, idx, text, sizeof text);
    vf_verbose(env, "%u: (%02x) %s\n", idx, insn->code, text);
}
