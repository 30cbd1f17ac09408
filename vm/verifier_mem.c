/* verifier_mem.c - loads, stores and helper memory arguments.
 *
 * Every access goes through check_mem_access(), which dispatches on the
 * base register's type: the stack (per-byte initialisation, spilled
 * registers keep their type), the XDP context (struct xdp_md fields, read
 * only), packet data (within the range proven against data_end) and map
 * values (within value_size). Anything else is "invalid mem access". */
#include <errno.h>
#include <string.h>

#include "verifier_state.h"
#include "progtype.h"

#define MAX_VAR_OFF (1 << 29)

static int insn_size(uint8_t code)
{
    switch (BL_SIZE(code)) {
    case BL_B: return 1;
    case BL_H: return 2;
    case BL_W: return 4;
    default: return 8;
    }
}

int vf_reg_read_error(struct bl_venv *env, struct bl_vstate *st, int regno)
{
    if (regno >= BL_NREGS)
        return vf_reject(env, "R%d is invalid", regno);
    if (cur_frame(st)->regs[regno].type == REG_NOT_INIT)
        return vf_reject(env, "R%d !read_ok", regno);
    return 0;
}

static void sized_unknown(struct bl_reg *r, int size, int sext)
{
    vf_reg_set_bounds_from_size(r, size);
    if (sext && size < 8) {
        mark_reg_unknown(r);
        r->smin = -(1LL << (8 * size - 1));
        r->smax = (1LL << (8 * size - 1)) - 1;
        vf_reg_bounds_sync(r);
    }
}

/* ---- the stack ---------------------------------------------------------- */

/* The slot holding stack byte `off` (negative, from fp); for writes the
 * frame must first hold it (reserve_to). */
static struct bl_slot *slot_at(struct bl_frame *f, int off, int *byte)
{
    int i = (-off - 1) / 8;
    *byte = off + 8 * (i + 1);
    f->may_widen |= 1ull << i; /* the caller writes it */
    return &f->stack[i];
}

static const struct bl_slot *slot_read(const struct bl_frame *f, int off, int *byte)
{
    int i = (-off - 1) / 8;
    *byte = off + 8 * (i + 1);
    return frame_slot(f, i);
}

/* Grows frame fi so that byte `lo` has a slot; returns the frame. */
static struct bl_frame *reserve_to(struct bl_venv *env, struct bl_vstate *st, int fi, int lo)
{
    int n = (-lo - 1) / 8 + 1;
    if (n <= st->frames[fi]->n_slots) /* the usual case, without the call */
        return st->frames[fi];
    if (vf_frame_reserve(env, st, fi, n))
        return NULL;
    return st->frames[fi];
}

static void note_depth(struct bl_venv *env, struct bl_frame *f, int off)
{
    struct bl_subprog *sp = &env->subprogs[f->subprog];
    if ((uint32_t)-off > sp->stack_depth)
        sp->stack_depth = (uint32_t)-off;
}

/* Bounds of an access through a stack pointer: [*lo, *hi) from fp. */
static int stack_bounds(struct bl_venv *env, const struct bl_reg *reg, int regno, int off,
                        int size, const char *what, int *lo, int *hi)
{
    char tn[48];
    if (tnum_is_const(reg->var)) {
        *lo = reg->off + off + (int)(int64_t)reg->var.value;
        *hi = *lo + size;
    } else {
        if (reg->smax >= MAX_VAR_OFF || reg->smin <= -MAX_VAR_OFF)
            return vf_reject(env, "invalid unbounded variable-offset%s stack R%d", what, regno);
        *lo = (int)(reg->smin + reg->off + off);
        *hi = (int)(reg->smax + reg->off + off + size);
    }
    if (*lo < -BL_STACK_SIZE || *hi > 0 || *lo >= 0) {
        if (tnum_is_const(reg->var))
            return vf_reject(env, "invalid%s stack R%d off=%d size=%d", what, regno, reg->off + off,
                             size);
        tnum_str(tn, sizeof tn, reg->var);
        return vf_reject(env, "invalid variable-offset%s stack R%d var_off=%s size=%d", what, regno,
                         tn, size);
    }
    return 0;
}

/* Stack accesses are always aligned to their size (the kernel's strict rule). */
static int stack_aligned(struct bl_venv *env, const struct bl_reg *reg, int off, int size)
{
    if (!tnum_is_const(reg->var))
        return 0;
    int64_t a = (int64_t)reg->off + off + (int64_t)reg->var.value;
    if (a % size)
        return vf_reject(env, "misaligned stack access off %d+%d size %d", reg->off, off, size);
    return 0;
}

static int stack_frame(struct bl_venv *env, struct bl_vstate *st, const struct bl_reg *reg,
                       struct bl_frame **f)
{
    if (reg->frameno > st->curframe)
        return vf_reject(env, "invalid stack frame %d", reg->frameno);
    *f = st->frames[reg->frameno];
    return 0;
}

/* Reads [lo, hi) of a frame's stack, all initialised, for helpers and
 * variable-offset loads. */
/* The 8 type bytes of a slot as one word (bytes[0] lowest) */
static uint64_t slot_word(const struct bl_slot *s)
{
    uint64_t w;
    memcpy(&w, s->bytes, 8);
    return w;
}

#define BYTES_OF(t) (0x0101010101010101ull * (t))

/* 1 if some byte of w is 0 (SLOT_INVALID) */
static int has_invalid_byte(uint64_t w)
{
    return ((w - BYTES_OF(1)) & ~w & BYTES_OF(0x80)) != 0;
}

/* 1 if byte b of slot s is known to be zero: a known zero, or a byte of
 * a spilled constant (whole, or the leading bytes of a narrow spill)
 * that is zero there; the kernel reads zeros from a spilled 0 at any
 * offset of its slot */
static int byte_is_zero(const struct bl_slot *s, int b)
{
    uint8_t t = s->bytes[b];
    if (t == SLOT_ZERO)
        return 1;
    if ((t != SLOT_SPILL && t != SLOT_NARROW) || s->spilled.type != REG_SCALAR ||
        !tnum_is_const(s->spilled.var) || s->bytes[0] != t)
        return 0;
    for (int k = 1; k < b; k++)
        if (s->bytes[k] != t)
            return 0;
    return ((s->spilled.var.value >> (8 * b)) & 0xff) == 0;
}

static int stack_read_range(struct bl_venv *env, struct bl_frame *f, int lo, int hi, int regno,
                            const char *what, int *all_zero)
{
    *all_zero = 1;
    /* whole slots a word at a time; the byte loop below finds the first
     * unwritten byte (for its message) and does the partial slots */
    int a = lo;
    while (a < hi && a % 8 == 0 && hi - a >= 8) {
        int b;
        uint64_t w = slot_word(slot_read(f, a, &b));
        if (has_invalid_byte(w))
            break;
        if (w != BYTES_OF(SLOT_ZERO) && *all_zero) {
            const struct bl_slot *s = slot_read(f, a, &b);
            for (int k = 0; k < 8 && *all_zero; k++)
                *all_zero = byte_is_zero(s, k);
        }
        a += 8;
    }
    for (; a < hi; a++) {
        int b;
        const struct bl_slot *s = slot_read(f, a, &b);
        if (s->bytes[b] == SLOT_INVALID) {
            if (regno >= 0)
                return vf_reject(env, "invalid indirect read from stack R%d off %d+%d size %d",
                                 regno, lo, a - lo, hi - lo);
            return vf_reject(env, "invalid read from stack off %d+%d size %d", lo, a - lo, hi - lo);
        }
        if (*all_zero && !byte_is_zero(s, b))
            *all_zero = 0;
    }
    (void)what;
    note_depth(env, f, lo);
    return 0;
}

/* Part of a spilled pointer read as bytes would leak an address. */
static int no_pointer_bytes(struct bl_venv *env, const struct bl_frame *f, int lo, int hi,
                            const char *msg)
{
    int a = lo;
    while (a < hi && a % 8 == 0 && hi - a >= 8) { /* whole slots: no spill, or a number's */
        int b;
        const struct bl_slot *s = slot_read(f, a, &b);
        uint64_t w = slot_word(s);
        if ((w & (w >> 1) & BYTES_OF(1)) && s->spilled.type != REG_SCALAR)
            break; /* some SLOT_SPILL (3) byte of a pointer: the byte loop says so */
        a += 8;
    }
    for (; a < hi; a++) {
        int b;
        const struct bl_slot *s = slot_read(f, a, &b);
        if (s->bytes[b] == SLOT_SPILL && s->spilled.type != REG_SCALAR)
            return vf_reject(env, "%s", msg);
    }
    return 0;
}

static int stack_read(struct bl_venv *env, struct bl_vstate *st, const struct bl_reg *reg,
                      int regno, int off, int size, struct bl_reg *out, int sext)
{
    struct bl_frame *f = NULL;
    int lo, hi, err, zero;
    if ((err = stack_frame(env, st, reg, &f)) || (err = stack_aligned(env, reg, off, size)) ||
        (err = stack_bounds(env, reg, regno, off, size, " read from", &lo, &hi)))
        return err;
    if (tnum_is_const(reg->var) && size == 8) {
        int b;
        const struct bl_slot *s = slot_read(f, lo, &b);
        if (s->bytes[0] == SLOT_SPILL) {
            note_depth(env, f, lo);
            *out = s->spilled; /* a fill: the register comes back with its type */
            return 0;
        }
    }
    if (tnum_is_const(reg->var) && size < 8 && lo % 8 == 0 && lo < 0) {
        /* the first bytes of a spilled number (whole or narrow), as the
         * kernel's narrow fill: its low bytes come back */
        int b, n = 0;
        const struct bl_slot *s = slot_read(f, lo, &b);
        uint8_t t = s->bytes[0];
        if ((t == SLOT_SPILL || t == SLOT_NARROW) && s->spilled.type == REG_SCALAR)
            while (n < size && s->bytes[n] == t)
                n++;
        if (n == size) {
            note_depth(env, f, lo);
            *out = s->spilled;
            vf_reg_coerce(out, size, sext);
            return 0;
        }
    }
    if ((err = stack_read_range(env, f, lo, hi, -1, " read from", &zero)))
        return err;
    if ((err = no_pointer_bytes(env, f, lo, hi, "invalid size of register fill")))
        return err;
    if (zero)
        mark_reg_known(out, 0);
    else
        sized_unknown(out, size, sext);
    return 0;
}

/* A store at a bounded variable offset (buf[i & 15] = 9), as the kernel
 * (check_stack_write_var_off) takes it: no pointers; every byte it may
 * touch that held data stays readable but unknown (zero only if it was
 * zero and zero is stored), spills there are gone. Bytes never written
 * stay unreadable: we do not know which one this store wrote. */
static int stack_write_var(struct bl_venv *env, struct bl_vstate *st, const struct bl_reg *reg,
                           int regno, int off, int size, const struct bl_reg *val)
{
    struct bl_frame *f = NULL;
    int lo, hi, err;
    char tn[48];
    if (reg_is_pointer(val))
        return vf_reject(env, "spilled ptr in range of var-offset stack write");
    if ((reg->var.mask & (uint64_t)(size - 1)) ||
        ((int64_t)reg->off + off + (int64_t)reg->var.value) % size) {
        tnum_str(tn, sizeof tn, reg->var);
        return vf_reject(env, "misaligned stack access off (%s)+%d+%d size %d", tn, reg->off, off,
                         size);
    }
    if ((err = stack_frame(env, st, reg, &f)) ||
        (err = stack_bounds(env, reg, regno, off, size, " write to", &lo, &hi)))
        return err;
    note_depth(env, f, lo);
    if (!(f = reserve_to(env, st, reg->frameno, lo)))
        return -ENOMEM;
    int zero = reg_is_const(val) && val->var.value == 0;
    for (int a = lo; a < hi; a++) {
        int b;
        struct bl_slot *s = slot_at(f, a, &b);
        if (s->bytes[0] == SLOT_SPILL)
            memset(s->bytes, s->spilled.type == REG_SCALAR ? SLOT_MISC : SLOT_INVALID, 8);
        if (s->bytes[b] == SLOT_MISC || s->bytes[b] == SLOT_NARROW ||
            (s->bytes[b] == SLOT_ZERO && !zero))
            s->bytes[b] = SLOT_MISC;
    }
    return 0;
}

static int stack_write(struct bl_venv *env, struct bl_vstate *st, const struct bl_reg *reg,
                       int regno, int off, int size, const struct bl_reg *val)
{
    struct bl_frame *f = NULL;
    int lo, hi, err;
    if ((err = stack_frame(env, st, reg, &f)))
        return err;
    if (!tnum_is_const(reg->var))
        return stack_write_var(env, st, reg, regno, off, size, val);
    if ((err = stack_aligned(env, reg, off, size)) ||
        (err = stack_bounds(env, reg, regno, off, size, " write to", &lo, &hi)))
        return err;
    if (reg_is_pointer(val) && size != 8)
        return vf_reject(env, "invalid size of register spill");
    note_depth(env, f, lo);
    if (!(f = reserve_to(env, st, reg->frameno, lo)))
        return -ENOMEM;
    int b;
    struct bl_slot *s = slot_at(f, lo, &b);
    if (size == 8) {
        memset(s->bytes, SLOT_SPILL, 8);
        s->spilled = *val;
        return 0;
    }
    if (s->bytes[0] == SLOT_SPILL) /* a partial overwrite leaves plain bytes, */
        memset(s->bytes, s->spilled.type == REG_SCALAR ? SLOT_MISC : SLOT_INVALID, 8);
    /* but what is left of a pointer must not be read back as a number;
     * an earlier narrow spill is plain bytes now */
    vf_slot_drop_narrow(s);
    uint8_t t = reg_is_const(val) && val->var.value == 0 ? SLOT_ZERO : SLOT_MISC;
    if (b == 0 && t == SLOT_MISC && val->type == REG_SCALAR) {
        /* a number at the slot's start: a narrow spill, as the kernel's
         * (a fill of its first bytes gives them back). Linked to its
         * register only while it fits (vf_check_store); never the
         * packet's length, which a helper that moves the packet forgets */
        t = SLOT_NARROW;
        s->spilled = *val;
        s->spilled.range = 0;
        if (s->spilled.umax >> (8 * size)) {
            s->spilled.id = 0;
            s->spilled.off = 0;
        }
    }
    memset(&s->bytes[b], t, (size_t)size);
    return 0;
}

/* ---- ctx, packet, map values ---------------------------------------------- */

static int ctx_access(struct bl_venv *env, const struct bl_reg *reg, int regno, int off, int size,
                      int write, int mode, const struct bl_reg *val, struct bl_reg *out)
{
    if (reg->off || !tnum_equals_const(reg->var, 0))
        return vf_reject(env, "dereference of modified ctx ptr R%d off=%d disallowed", regno,
                         reg->off);
    const struct bl_prog_type *t = env->prog->type;
    const struct bl_ctx_field *f = mode == BL_MEM ? bl_ctx_field_at(t, off, size, write) : NULL;
    if (!f)
        return vf_reject(env, "invalid bpf_context access off=%d size=%d", off, size);
    if (write && val && val->type != REG_SCALAR)
        return vf_reject(env, "R%d leaks addr into ctx", regno);
    if (!write) {
        switch (f->kind) {
        case BL_CTX_PKT: mark_reg_ptr(out, REG_PTR_TO_PACKET); break;
        case BL_CTX_PKT_END: mark_reg_ptr(out, REG_PTR_TO_PACKET_END); break;
        case BL_CTX_PKT_META: mark_reg_ptr(out, REG_PTR_TO_PACKET_META); break;
        case BL_CTX_SOCKET: mark_reg_ptr(out, REG_PTR_TO_SOCKET); break;
        case BL_CTX_SOCK_COMMON_OR_NULL:
            mark_reg_ptr(out, REG_PTR_TO_SOCK_COMMON_OR_NULL);
            out->id = vf_new_id(env);
            break;
        case BL_CTX_SOCKET_OR_NULL:
            mark_reg_ptr(out, REG_PTR_TO_SOCKET_OR_NULL);
            out->id = vf_new_id(env);
            break;
        default: sized_unknown(out, size, 0);
        }
    }
    env->aux[env->cur_insn].ctx_field = (uint8_t)(1 + (f - t->fields));
    return 0;
}

static int pkt_access(struct bl_venv *env, const struct bl_reg *reg, int regno, int off, int size)
{
    if (reg->smin < 0)
        return vf_reject(env, "R%d min value is negative, either use unsigned index or do a if (index >=0) check.",
                         regno);
    int total = reg->off + off;
    if (total < 0 || total + size > reg->range)
        return vf_reject(env, "invalid access to packet, off=%d size=%d, R%d(id=%u,off=%d,r=%d)",
                         total, size, regno, reg->id, reg->off, reg->range);
    return 0;
}

static int map_mem_access(struct bl_venv *env, const struct bl_reg *reg, int regno, int off,
                          int size, uint32_t mem_size, const char *what)
{
    if (reg->smin < 0)
        return vf_reject(env, "R%d min value is negative, either use unsigned index or do a if (index >=0) check.",
                         regno);
    if (reg->umax >= MAX_VAR_OFF)
        return vf_reject(env,
                         "R%d unbounded memory access, make sure to bounds check any such access",
                         regno);
    int64_t lo = (int64_t)reg->off + off + reg->smin;
    int64_t hi = (int64_t)reg->off + off + (int64_t)reg->umax + size;
    if (lo >= 0 && hi <= (int64_t)mem_size)
        return 0;
    if (tnum_is_const(reg->var))
        return vf_reject(env, "invalid access to %s, %s_size=%u off=%lld size=%d", what,
                         strcmp(what, "map key") ? "value" : "key", mem_size,
                         (long long)(reg->off + off + (int64_t)reg->var.value), size);
    if (lo < 0)
        return vf_reject(env, "R%d min value is outside of the allowed memory range", regno);
    return vf_reject(env, "R%d max value is outside of the allowed memory range", regno);
}

static const struct bl_map_def *reg_map(struct bl_venv *env, const struct bl_reg *reg)
{
    return &env->obj->maps[reg->map];
}

/* A map value's struct bpf_spin_lock is the helpers' alone. */
static int lock_overlap(struct bl_venv *env, const struct bl_reg *reg, int off, int size)
{
    uint32_t lk = reg_map(env, reg)->spin_lock_off;
    if (!lk)
        return 0;
    int64_t lo = (int64_t)reg->off + off + reg->smin, hi = (int64_t)reg->off + off + (int64_t)reg->umax + size;
    if (lo < (int64_t)lk - 1 + 4 && (int64_t)lk - 1 < hi)
        return vf_reject(env, "bpf_spin_lock cannot be accessed directly by load/store");
    return 0;
}

/* struct bpf_tcp_sock (112 bytes) as the kernel's bpf_tcp_sock_is_valid_access:
 * aligned reads, 8 bytes for bytes_received and bytes_acked, 4 for the rest */
static int tcp_sock_access(struct bl_venv *env, const struct bl_reg *reg, int regno, int off,
                           int size, int write)
{
    int o = reg->off + off;
    if (write)
        return vf_reject(env, "R%d cannot write into %s", regno, vf_reg_type_str(reg->type));
    if (!tnum_equals_const(reg->var, 0) || o < 0 || o >= 112 || o % size ||
        size != ((o == 80 || o == 88) ? 8 : 4))
        return vf_reject(env, "R%d invalid %s access off=%d size=%d", regno,
                         vf_reg_type_str(reg->type), o, size);
    return 0;
}

/* struct bpf_sock (80 bytes) as the kernel's bpf_sock_is_valid_access:
 * aligned reads; narrow ones of the fields listed; sock_common (from
 * skc_lookup) lacks type, protocol, mark and priority. */
static int sock_access(struct bl_venv *env, const struct bl_reg *reg, int regno, int off,
                       int size, int write)
{
    int o = reg->off + off, ok;
    if (write)
        return vf_reject(env, "R%d cannot write into %s", regno, vf_reg_type_str(reg->type));
    if (!tnum_equals_const(reg->var, 0) || o < 0 || o >= 80 || o % size)
        ok = 0;
    else if (reg->type == REG_PTR_TO_SOCK_COMMON && o >= 8 && o < 24)
        ok = 0;
    else if (o == 72 || o == 4 || o == 8 || o == 12 || o == 44 || o == 76 ||
             (o >= 24 && o < 44) || (o >= 52 && o < 72))
        ok = size <= 4; /* state, family, type, protocol, src_port, rx_queue_mapping, addresses */
    else if (o >= 48 && o < 52)
        ok = size == 4 || (o < 50 && size <= 2); /* dst_port, then its padding */
    else
        ok = size == 4;
    if (!ok)
        return vf_reject(env, "R%d invalid %s access off=%d size=%d", regno,
                         vf_reg_type_str(reg->type), o, size);
    return 0;
}

/* One load or store of `size` bytes at reg+off. val: the stored value
 * (writes); out: the loaded value (reads). */
static int check_mem_access(struct bl_venv *env, struct bl_vstate *st, int regno, int off,
                            int size, int write, int mode, const struct bl_reg *val,
                            struct bl_reg *out, int sext)
{
    const struct bl_reg *reg = &cur_frame(st)->regs[regno];
    int err = 0, type = reg->type; /* (a stack write may move the frame, and reg) */
    switch (reg->type) {
    case REG_PTR_TO_STACK:
        err = write ? stack_write(env, st, reg, regno, off, size, val)
                    : stack_read(env, st, reg, regno, off, size, out, sext);
        break;
    case REG_PTR_TO_CTX:
        err = ctx_access(env, reg, regno, off, size, write, mode, val, out);
        break;
    case REG_PTR_TO_PACKET:
    case REG_PTR_TO_PACKET_META:
        if (write && env->prog->type->packet_ro)
            return vf_reject(env, "cannot write into packet");
        if (write && reg_is_pointer(val))
            return vf_reject(env, "R%d leaks addr into packet", regno);
        err = pkt_access(env, reg, regno, off, size);
        if (!err && !write)
            sized_unknown(out, size, sext);
        break;
    case REG_PTR_TO_MAP_VALUE:
        if (write && reg_is_pointer(val))
            return vf_reject(env, "R%d leaks addr into map", regno);
        if (write && reg_map(env, reg)->rdonly_prog)
            return vf_reject(env, "write into map forbidden, value_size=%u off=%d size=%d",
                             reg_map(env, reg)->value_size, off, size);
        err = map_mem_access(env, reg, regno, off, size, reg_map(env, reg)->value_size,
                             "map value");
        if (!err)
            err = lock_overlap(env, reg, off, size);
        if (!err && !write)
            sized_unknown(out, size, sext);
        break;
    case REG_PTR_TO_MEM:
        if (write && reg_is_pointer(val))
            return vf_reject(env, "R%d leaks addr into mem", regno);
        err = map_mem_access(env, reg, regno, off, size, (uint32_t)reg->range, "mem");
        if (!err && !write)
            sized_unknown(out, size, sext);
        break;
    case REG_PTR_TO_SOCKET:
    case REG_PTR_TO_SOCK_COMMON:
        err = sock_access(env, reg, regno, off, size, write);
        if (!err)
            sized_unknown(out, size, 0);
        break;
    case REG_PTR_TO_TCP_SOCK:
        err = tcp_sock_access(env, reg, regno, off, size, write);
        if (!err)
            sized_unknown(out, size, 0);
        break;
    case REG_PTR_TO_MAP_KEY:
        if (write)
            return vf_reject(env, "write to change key R%d not allowed", regno);
        err = map_mem_access(env, reg, regno, off, size, reg_map(env, reg)->key_size, "map key");
        if (!err)
            sized_unknown(out, size, sext);
        break;
    default:
        return vf_reject(env, "R%d invalid mem access '%s'", regno, vf_reg_type_str(reg->type));
    }
    if (!err) {
        static const uint8_t kind[REG_PTR_TO_TCP_SOCK_OR_NULL + 1] = {
            [REG_PTR_TO_MEM] = BL_MEMK_OTHER, [REG_PTR_TO_SOCKET] = BL_MEMK_OTHER,
            [REG_PTR_TO_SOCK_COMMON] = BL_MEMK_OTHER, [REG_PTR_TO_TCP_SOCK] = BL_MEMK_OTHER,
            [REG_PTR_TO_STACK] = BL_MEMK_STACK, [REG_PTR_TO_CTX] = BL_MEMK_CTX,
            [REG_PTR_TO_PACKET] = BL_MEMK_PACKET, [REG_PTR_TO_PACKET_META] = BL_MEMK_PACKET,
            [REG_PTR_TO_MAP_VALUE] = BL_MEMK_MAP_VALUE, [REG_PTR_TO_MAP_KEY] = BL_MEMK_MAP_KEY,
        };
        env->aux[env->cur_insn].mem_safe = 1;
        /* recorded for the JIT (alias analysis), never read here; pruned
         * paths reach later insns with the same pointer types (vf_regsafe
         * demands equal types), so the OR covers every path */
        env->aux[env->cur_insn].mem_kinds |= kind[type];
    }
    return err;
}

/* The loader rewrites ctx loads, so one insn must always see one kind of base. */
static int check_same_base(struct bl_venv *env, const struct bl_reg *base)
{
    struct bl_insn_aux *a = &env->aux[env->cur_insn];
    int is_ctx = base->type == REG_PTR_TO_CTX;
    uint8_t *seen = &env->base_kind[env->cur_insn];
    uint8_t kind = is_ctx ? 1 : 2;
    (void)a;
    if (*seen && *seen != kind)
        return vf_reject(env, "same insn cannot be used with different pointers");
    *seen = kind;
    return 0;
}

/* Legacy packet loads (socket filters and tc): R0 = the big-endian bytes at
 * imm (+ src) of the packet of the skb in R6; out of bounds the program
 * ends returning 0. R1-R5 are clobbered, as by a call. */
static int check_ld_abs(struct bl_venv *env, struct bl_vstate *st, const struct bl_insn *insn)
{
    struct bl_frame *f = cur_frame(st);
    int size = insn_size(insn->code), err;
    if (!env->prog->type->ld_abs)
        return vf_reject(env, "BPF_LD_[ABS|IND] instructions not allowed for this program type");
    /* it may end the program: nothing may be held then */
    if (st->n_refs)
        return vf_reject(env, "BPF_LD_[ABS|IND] cannot be mixed with socket references");
    if (st->lock.map)
        return vf_reject(env, "BPF_LD_[ABS|IND] cannot be used inside bpf_spin_lock-ed region");
    if (size == 8 || insn->dst != 0 || insn->off != 0 ||
        (BL_MODE(insn->code) == BL_ABS && insn->src != 0))
        return vf_reject(env, "BPF_LD_[ABS|IND] uses reserved fields");
    if ((err = vf_check_reg_read(env, st, BL_R6)))
        return err;
    if (f->regs[BL_R6].type != REG_PTR_TO_CTX || f->regs[BL_R6].off ||
        !tnum_equals_const(f->regs[BL_R6].var, 0))
        return vf_reject(env, "at the time of BPF_LD_ABS|IND R6 != pointer to skb");
    if (BL_MODE(insn->code) == BL_IND) {
        if ((err = vf_check_reg_read(env, st, insn->src)))
            return err;
        if (f->regs[insn->src].type != REG_SCALAR)
            return vf_reject(env, "R%d pointer in BPF_LD_IND", insn->src);
    }
    for (int r = BL_R1; r <= BL_R5; r++)
        mark_reg_not_init(&f->regs[r]);
    sized_unknown(&f->regs[BL_R0], size, 0);
    return 0;
}

int vf_check_load(struct bl_venv *env, struct bl_vstate *st, const struct bl_insn *insn)
{
    struct bl_frame *f = cur_frame(st);
    int mode = BL_MODE(insn->code), err;
    if (mode == BL_ABS || mode == BL_IND)
        return check_ld_abs(env, st, insn);
    if (mode != BL_MEM && mode != BL_MEMSX)
        return vf_reject(env, "unknown opcode %02x", insn->code);
    if ((err = vf_check_reg_read(env, st, insn->src)))
        return err;
    if (insn->dst == BL_R10)
        return vf_reject(env, "frame pointer is read only");
    if (insn->dst >= BL_R10)
        return vf_reject(env, "R%d is invalid", insn->dst);
    if ((err = check_same_base(env, &f->regs[insn->src])))
        return err;
    struct bl_reg out;
    mark_reg_unknown(&out);
    err = check_mem_access(env, st, insn->src, insn->off, insn_size(insn->code), 0, mode, NULL,
                           &out, mode == BL_MEMSX);
    if (err)
        return err;
    f->regs[insn->dst] = out;
    /* pruned paths reach here with the same pointer at the same offset
     * (vf_regsafe), so the OR covers every path */
    int data = out.type == REG_PTR_TO_PACKET && out.off == 0 && tnum_is_const(out.var) &&
               out.var.value == 0;
    env->aux[env->cur_insn].ld_val |= data ? BL_LDV_DATA
                                      : out.type == REG_PTR_TO_PACKET_END ? BL_LDV_DATA_END
                                                                          : BL_LDV_OTHER;
    return 0;
}

static int check_atomic(struct bl_venv *env, struct bl_vstate *st, const struct bl_insn *insn);

int vf_check_store(struct bl_venv *env, struct bl_vstate *st, const struct bl_insn *insn)
{
    struct bl_frame *f = cur_frame(st);
    int is_st = BL_CLASS(insn->code) == BL_ST, err;
    if (BL_MODE(insn->code) == BL_ATOMIC && !is_st)
        return check_atomic(env, st, insn);
    if (BL_MODE(insn->code) != BL_MEM)
        return vf_reject(env, "unknown opcode %02x", insn->code);
    if ((err = vf_check_reg_read(env, st, insn->dst)))
        return err;
    struct bl_reg val;
    if (is_st) {
        mark_reg_known(&val, (uint64_t)(int64_t)insn->imm);
        if (f->regs[insn->dst].type == REG_PTR_TO_CTX)
            return vf_reject(env, "BPF_ST stores into R%d ctx is not allowed", insn->dst);
    } else {
        if ((err = vf_check_reg_read(env, st, insn->src)))
            return err;
        val = f->regs[insn->src];
    }
    if ((err = check_same_base(env, &f->regs[insn->dst])))
        return err;
    const struct bl_reg *base = &f->regs[insn->dst];
    int size = insn_size(insn->code);
    if (!is_st && val.type == REG_SCALAR && !val.id && !tnum_is_const(val.var) &&
        base->type == REG_PTR_TO_STACK && tnum_is_const(base->var) &&
        ((int64_t)base->off + insn->off + (int64_t)base->var.value) % 8 == 0 &&
        (size == 8 || !(val.umax >> (8 * size)))) {
        /* a number spilled at a slot's start stays linked to its register
         * (the kernel's assign_scalar_id_before_mov): a check of either
         * after the spill bounds the other (sync_linked) */
        val.id = f->regs[insn->src].id = vf_new_id(env);
    }
    return check_mem_access(env, st, insn->dst, insn->off, size, 1, BL_MEM, &val, NULL, 0);
}

static int check_atomic(struct bl_venv *env, struct bl_vstate *st, const struct bl_insn *insn)
{
    struct bl_frame *f = cur_frame(st);
    int size = insn_size(insn->code), err;
    int op = insn->imm & ~BL_FETCH;
    int fetch = (insn->imm & BL_FETCH) != 0;
    if (size != 4 && size != 8)
        return vf_reject(env, "invalid atomic operand size");
    if (insn->imm != BL_XCHG && insn->imm != BL_CMPXCHG &&
        op != BL_ADD && op != BL_OR && op != BL_AND && op != BL_XOR)
        return vf_reject(env, "BPF_ATOMIC uses invalid atomic opcode %02x", insn->imm);
    if ((err = vf_check_reg_read(env, st, insn->src)) ||
        (err = vf_check_reg_read(env, st, insn->dst)))
        return err;
    if (insn->imm == BL_CMPXCHG && (err = vf_check_reg_read(env, st, BL_R0)))
        return err;
    if (reg_is_pointer(&f->regs[insn->src]))
        return vf_reject(env, "R%d leaks addr into mem", insn->src);
    if (insn->imm == BL_CMPXCHG && reg_is_pointer(&f->regs[BL_R0]))
        return vf_reject(env, "R0 leaks addr into mem");
    int t = f->regs[insn->dst].type;
    if (t != REG_PTR_TO_STACK && t != REG_PTR_TO_MAP_VALUE)
        return vf_reject(env, "BPF_ATOMIC stores into R%d %s is not allowed", insn->dst,
                         vf_reg_type_str((enum bl_reg_type)t));
    struct bl_reg old, unknown;
    mark_reg_unknown(&old);
    if ((err = check_mem_access(env, st, insn->dst, insn->off, size, 0, BL_MEM, NULL, &old, 0)))
        return err;
    sized_unknown(&unknown, size, 0);
    if ((err = check_mem_access(env, st, insn->dst, insn->off, size, 1, BL_MEM, &unknown, NULL, 0)))
        return err;
    f = cur_frame(st); /* a stack write may have grown (moved) the frame */
    if (insn->imm == BL_CMPXCHG)
        sized_unknown(&f->regs[BL_R0], size, 0);
    else if (fetch)
        sized_unknown(&f->regs[insn->src], size, 0);
    return 0;
}

/* ---- helper memory arguments ------------------------------------------- */

int vf_check_mem_region(struct bl_venv *env, struct bl_vstate *st, int regno, uint64_t size,
                        int write)
{
    const struct bl_reg *reg = &cur_frame(st)->regs[regno];
    if (size > BL_STACK_SIZE * 128)
        return vf_reject(env, "R%d invalid memory size %llu", regno, (unsigned long long)size);
    if (size == 0)
        return 0;
    int sz = (int)size, err, lo, hi, zero;
    struct bl_frame *f = NULL;
    switch (reg->type) {
    case REG_PTR_TO_STACK:
        if ((err = stack_frame(env, st, reg, &f)) ||
            (err = stack_bounds(env, reg, regno, 0, sz, " indirect access to", &lo, &hi)))
            return err;
        if (write && tnum_is_const(reg->var)) {
            if (!(f = reserve_to(env, st, reg->frameno, lo)))
                return -ENOMEM;
            for (int a = lo; a < hi; a++) {
                int b;
                struct bl_slot *s = slot_at(f, a, &b);
                if (s->bytes[0] == SLOT_SPILL)
                    memset(s->bytes, SLOT_MISC, 8);
                s->bytes[b] = SLOT_MISC;
            }
            note_depth(env, f, lo);
            return 0;
        }
        if (write) {
            /* a variable offset: any byte of [lo, hi) may be written, so
             * none of them keeps a known value (the kernel's clobber):
             * spilled numbers and known zeros become plain bytes, what
             * was a pointer becomes unreadable, unwritten bytes stay so */
            if (!(f = reserve_to(env, st, reg->frameno, lo)))
                return -ENOMEM;
            for (int a = lo; a < hi; a++) {
                int b;
                struct bl_slot *s = slot_at(f, a, &b);
                if (s->bytes[0] == SLOT_SPILL)
                    memset(s->bytes, s->spilled.type == REG_SCALAR ? SLOT_MISC : SLOT_INVALID, 8);
                if (s->bytes[b] != SLOT_INVALID)
                    s->bytes[b] = SLOT_MISC;
            }
            note_depth(env, f, lo);
            return 0;
        }
        if ((err = stack_read_range(env, f, lo, hi, regno, "", &zero)))
            return err;
        return no_pointer_bytes(env, f, lo, hi, "leaks addr into helper function");
    case REG_PTR_TO_PACKET:
    case REG_PTR_TO_PACKET_META:
        if (write && env->prog->type->packet_ro)
            return vf_reject(env, "helper access to the packet is not allowed");
        return pkt_access(env, reg, regno, 0, sz);
    case REG_PTR_TO_MAP_VALUE:
        if (write && reg_map(env, reg)->rdonly_prog)
            return vf_reject(env, "write into map forbidden, value_size=%u off=%d size=%d",
                             reg_map(env, reg)->value_size, 0, sz);
        if ((err = map_mem_access(env, reg, regno, 0, sz, reg_map(env, reg)->value_size,
                                  "map value")))
            return err;
        return lock_overlap(env, reg, 0, sz);
    case REG_PTR_TO_MEM:
        return map_mem_access(env, reg, regno, 0, sz, (uint32_t)reg->range, "mem");
    case REG_PTR_TO_MAP_KEY:
        if (write)
            return vf_reject(env, "write to change key R%d not allowed", regno);
        return map_mem_access(env, reg, regno, 0, sz, reg_map(env, reg)->key_size, "map key");
    default:
        return vf_reject(env, "R%d type=%s expected=fp, pkt, pkt_meta, map_key, map_value", regno,
                         vf_reg_type_str(reg->type));
    }
}

int vf_check_lddw(struct bl_venv *env, struct bl_vstate *st, const struct bl_insn *insn)
{
    struct bl_reg *dst = &cur_frame(st)->regs[insn->dst];
    uint32_t idx = env->cur_insn;
    if (insn->dst >= BL_R10)
        return vf_reject(env, insn->dst == BL_R10 ? "frame pointer is read only" : "R%d is invalid",
                         insn->dst);
    switch (insn->src) {
    case 0:
        mark_reg_known(dst, (uint32_t)insn[0].imm | ((uint64_t)(uint32_t)insn[1].imm << 32));
        return 0;
    case BL_PSEUDO_MAP_FD:
    case BL_PSEUDO_MAP_VALUE:
        if (insn->imm < 0 || (uint32_t)insn->imm >= env->obj->n_maps)
            return vf_reject(env, "fd %d is not pointing to valid bpf_map", insn->imm);
        if (insn->src == BL_PSEUDO_MAP_FD) {
            mark_reg_ptr(dst, REG_CONST_PTR_TO_MAP);
        } else {
            /* as the kernel: only an array map of one element has a value
             * address known at load (global data is such a map) */
            const struct bl_map_def *m = &env->obj->maps[insn->imm];
            if (m->type != BPFLUA_MAP_ARRAY)
                return vf_reject(env, "no direct value access support for this map type");
            if (m->max_entries != 1 || insn[1].imm < 0 || (uint32_t)insn[1].imm >= m->value_size)
                return vf_reject(env, "invalid access to map value pointer, value_size=%u off=%d",
                                 m->value_size, insn[1].imm);
            mark_reg_ptr(dst, REG_PTR_TO_MAP_VALUE);
            dst->off = insn[1].imm;
        }
        dst->map = (uint32_t)insn->imm;
        return 0;
    case BL_PSEUDO_FUNC:
        mark_reg_ptr(dst, REG_PTR_TO_FUNC);
        dst->map = (uint32_t)((int64_t)idx + insn->imm + 1);
        return 0;
    default:
        return vf_reject(env, "unrecognized bpf_ld_imm64 insn");
    }
}
