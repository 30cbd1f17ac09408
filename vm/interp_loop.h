/* interp_loop.h - the interpreter's dispatch loop, included by interp.c
 * once per mode with:
 *   INTERP_FN     the function's name
 *   INTERP_RAW    1: check memory accesses, call depth, helper ids
 *   INTERP_COUNT  1: count instructions against st->budget
 *   INTERP_DIRECT 1: run st->dcode (decoded here on first entry), else st->insns
 * so the verified, uncounted loop has no per-instruction work beyond the
 * dispatch itself (computed goto on the opcode byte, GNU C).
 *
 * Runs from instruction `start` with R1..R5 = args in a fresh frame;
 * returns R0. On an error it records it in st and returns 0.
 */

static uint64_t INTERP_FN(struct interp_state *st, uint32_t start, const uint64_t args[5])
{
    /* every opcode byte not listed below is invalid */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"
    __extension__ static const void *const table[256] = {
        [0 ... 255] = &&invalid,
        /* ALU64 */
        [0x07] = &&add64_imm, [0x0f] = &&add64_reg, [0x17] = &&sub64_imm, [0x1f] = &&sub64_reg,
        [0x27] = &&mul64_imm, [0x2f] = &&mul64_reg, [0x37] = &&div64_imm, [0x3f] = &&div64_reg,
        [0x47] = &&or64_imm, [0x4f] = &&or64_reg, [0x57] = &&and64_imm, [0x5f] = &&and64_reg,
        [0x67] = &&lsh64_imm, [0x6f] = &&lsh64_reg, [0x77] = &&rsh64_imm, [0x7f] = &&rsh64_reg,
        [0x87] = &&neg64, [0x97] = &&mod64_imm, [0x9f] = &&mod64_reg,
        [0xa7] = &&xor64_imm, [0xaf] = &&xor64_reg, [0xb7] = &&mov64_imm, [0xbf] = &&mov64_reg,
        [0xc7] = &&arsh64_imm, [0xcf] = &&arsh64_reg, [0xd7] = &&bswap,
        /* ALU32 */
        [0x04] = &&add32_imm, [0x0c] = &&add32_reg, [0x14] = &&sub32_imm, [0x1c] = &&sub32_reg,
        [0x24] = &&mul32_imm, [0x2c] = &&mul32_reg, [0x34] = &&div32_imm, [0x3c] = &&div32_reg,
        [0x44] = &&or32_imm, [0x4c] = &&or32_reg, [0x54] = &&and32_imm, [0x5c] = &&and32_reg,
        [0x64] = &&lsh32_imm, [0x6c] = &&lsh32_reg, [0x74] = &&rsh32_imm, [0x7c] = &&rsh32_reg,
        [0x84] = &&neg32, [0x94] = &&mod32_imm, [0x9c] = &&mod32_reg,
        [0xa4] = &&xor32_imm, [0xac] = &&xor32_reg, [0xb4] = &&mov32_imm, [0xbc] = &&mov32_reg,
        [0xc4] = &&arsh32_imm, [0xcc] = &&arsh32_reg, [0xd4] = &&le, [0xdc] = &&be,
        /* loads and stores */
        [0x18] = &&lddw,
        [0x20] = &&ldabsw, [0x28] = &&ldabsh, [0x30] = &&ldabsb,
        [0x40] = &&ldindw, [0x48] = &&ldindh, [0x50] = &&ldindb,
        [0x61] = &&ldxw, [0x69] = &&ldxh, [0x71] = &&ldxb, [0x79] = &&ldxdw,
        [0x81] = &&ldxsw, [0x89] = &&ldxsh, [0x91] = &&ldxsb,
        [0x62] = &&stw, [0x6a] = &&sth, [0x72] = &&stb, [0x7a] = &&stdw,
        [0x63] = &&stxw, [0x6b] = &&stxh, [0x73] = &&stxb, [0x7b] = &&stxdw,
        [0xc3] = &&atomic32, [0xdb] = &&atomic64,
        /* JMP */
        [0x05] = &&ja, [0x06] = &&ja32,
        [0x15] = &&jeq_imm, [0x1d] = &&jeq_reg, [0x25] = &&jgt_imm, [0x2d] = &&jgt_reg,
        [0x35] = &&jge_imm, [0x3d] = &&jge_reg, [0x45] = &&jset_imm, [0x4d] = &&jset_reg,
        [0x55] = &&jne_imm, [0x5d] = &&jne_reg, [0x65] = &&jsgt_imm, [0x6d] = &&jsgt_reg,
        [0x75] = &&jsge_imm, [0x7d] = &&jsge_reg, [0xa5] = &&jlt_imm, [0xad] = &&jlt_reg,
        [0xb5] = &&jle_imm, [0xbd] = &&jle_reg, [0xc5] = &&jslt_imm, [0xcd] = &&jslt_reg,
        [0xd5] = &&jsle_imm, [0xdd] = &&jsle_reg,
        [0x85] = &&call, [0x8d] = &&callx, [0x95] = &&exit,
        /* JMP32 */
        [0x16] = &&jeq32_imm, [0x1e] = &&jeq32_reg, [0x26] = &&jgt32_imm, [0x2e] = &&jgt32_reg,
        [0x36] = &&jge32_imm, [0x3e] = &&jge32_reg, [0x46] = &&jset32_imm, [0x4e] = &&jset32_reg,
        [0x56] = &&jne32_imm, [0x5e] = &&jne32_reg, [0x66] = &&jsgt32_imm, [0x6e] = &&jsgt32_reg,
        [0x76] = &&jsge32_imm, [0x7e] = &&jsge32_reg, [0xa6] = &&jlt32_imm, [0xae] = &&jlt32_reg,
        [0xb6] = &&jle32_imm, [0xbe] = &&jle32_reg, [0xc6] = &&jslt32_imm, [0xce] = &&jslt32_reg,
        [0xd6] = &&jsle32_imm, [0xde] = &&jsle32_reg,
    };
#pragma GCC diagnostic pop
#if INTERP_DIRECT
    if (!st->decoded) {
        /* static, like table: nothing of it on this function's stack */
        static const struct fused_handlers fused = {
            .ldxdw_mov = &&ldxdw_mov, .mov_add = &&mov_add, .mov_addk = &&mov_addk,
            .movk_exit = &&movk_exit, .movx_exit = &&movx_exit, .ldxdw_add = &&ldxdw_add,
            .add_stxdw = &&add_stxdw, .ldxdw_mul = &&ldxdw_mul, .mov_ldxdw = &&mov_ldxdw,
            .mov_mov = &&mov_mov, .ldxdw_add_stxdw = &&ldxdw_add_stxdw,
            .ldxdw_mulself = &&ldxdw_mulself, .ldxdw_xor = &&ldxdw_xor,
            .ldxdw_ldxdw = &&ldxdw_ldxdw, .movk0_exit = &&movk0_exit,
            .ldxdw_sub = &&ldxdw_sub, .ldxdw_and = &&ldxdw_and, .ldxdw_or = &&ldxdw_or,
            .mov_opk = { [BL_ADD >> 4] = &&mov_addk, [BL_SUB >> 4] = &&mov_subk,
                         [BL_MUL >> 4] = &&mov_mulk, [BL_LSH >> 4] = &&mov_lshk,
                         [BL_RSH >> 4] = &&mov_rshk, [BL_AND >> 4] = &&mov_andk,
                         [BL_OR >> 4] = &&mov_ork, [BL_XOR >> 4] = &&mov_xork },
            .op_stxdw = { [BL_ADD >> 4] = &&add_stxdw, [BL_SUB >> 4] = &&sub_stxdw,
                          [BL_MUL >> 4] = &&mul_stxdw, [BL_AND >> 4] = &&and_stxdw,
                          [BL_OR >> 4] = &&or_stxdw, [BL_XOR >> 4] = &&xor_stxdw },
            .ldxdw_jeq0 = &&ldxdw_jeq0, .ldxdw_jne0 = &&ldxdw_jne0,
            .stdw0_stdw0 = &&stdw0_stdw0, .movk_stxdw = &&movk_stxdw, .mov_movk = &&mov_movk,
            .mov_reg0 = &&mov64_reg0, .call_loop = &&call_loop, .call_local = &&call_local, .call_helper = &&call_helper,
            .ldxdw_opk = { [BL_ADD >> 4] = &&ldxdw_addk, [BL_SUB >> 4] = &&ldxdw_subk,
                           [BL_MUL >> 4] = &&ldxdw_mulk, [BL_AND >> 4] = &&ldxdw_andk,
                           [BL_OR >> 4] = &&ldxdw_ork, [BL_XOR >> 4] = &&ldxdw_xork,
                           [BL_LSH >> 4] = &&ldxdw_lshk, [BL_RSH >> 4] = &&ldxdw_rshk },
            .ldxdw_opx = { [BL_ADD >> 4] = &&ldxdw_addx, [BL_SUB >> 4] = &&ldxdw_subx,
                           [BL_MUL >> 4] = &&ldxdw_mulx, [BL_AND >> 4] = &&ldxdw_andx,
                           [BL_OR >> 4] = &&ldxdw_orx, [BL_XOR >> 4] = &&ldxdw_xorx },
            .movk_movk = &&movk_movk, .stxdw_ldxdw = &&stxdw_ldxdw,
            .mulk_ldxdw_add = &&mulk_ldxdw_add,
            .ldxdw_add_stxdw_next = &&ldxdw_add_stxdw_next, .add_stxdw_next = &&add_stxdw_next,
            .stxdw_next = &&stxdw_next, .stdw_next = &&stdw_next,
            .opx_ldxdw_addx = { [BL_ADD >> 4] = &&addx_ldxdw_addx, [BL_MUL >> 4] = &&mulx_ldxdw_addx,
                                [BL_XOR >> 4] = &&xorx_ldxdw_addx },
            .opx_ldxdw_xorx = { [BL_ADD >> 4] = &&addx_ldxdw_xorx, [BL_MUL >> 4] = &&mulx_ldxdw_xorx,
                                [BL_XOR >> 4] = &&xorx_ldxdw_xorx },
            .loop_call = &&loop_call,
            .trip = { &&trip_sgt, &&trip_slt, &&trip_sgt_div, &&trip_slt_div },
            .stxdw_trip = { &&stxdw_trip_sgt, &&stxdw_trip_slt, &&stxdw_trip_sgt_div,
                            &&stxdw_trip_slt_div },
            .nx_full = &&nx_full, .nx_k1 = &&nx_k1, .nx_k2 = &&nx_k2, .nx_none = &&nx_none,
            .stxdw_movk = &&stxdw_movk, .ldxdw_stxdw = &&ldxdw_stxdw,
            .stdw_loop_call = &&stdw_loop_call,
            .launder = &&launder, .stxdw_launder = &&stxdw_launder,
            .ldxdw_add_stxdw_launder = &&ldxdw_add_stxdw_launder, .launder_next = &&launder_next,
            .mem_opx = { [BL_ADD >> 4] = &&ldxdw_add_stxdw, [BL_SUB >> 4] = &&mem_subx,
                         [BL_MUL >> 4] = &&mem_mulx, [BL_AND >> 4] = &&mem_andx,
                         [BL_OR >> 4] = &&mem_orx, [BL_XOR >> 4] = &&mem_xorx },
            .mem_opk = { [BL_ADD >> 4] = &&mem_addk, [BL_SUB >> 4] = &&mem_subk,
                         [BL_MUL >> 4] = &&mem_mulk, [BL_AND >> 4] = &&mem_andk,
                         [BL_OR >> 4] = &&mem_ork, [BL_XOR >> 4] = &&mem_xork,
                         [BL_LSH >> 4] = &&mem_lshk, [BL_RSH >> 4] = &&mem_rshk },
            .mov_opx = { [BL_ADD >> 4] = &&mov_addx, [BL_SUB >> 4] = &&mov_subx,
                         [BL_MUL >> 4] = &&mov_mulx, [BL_AND >> 4] = &&mov_andx,
                         [BL_OR >> 4] = &&mov_orx, [BL_XOR >> 4] = &&mov_xorx },
            .opx_mov = { [BL_ADD >> 4] = &&addx_mov, [BL_SUB >> 4] = &&subx_mov,
                         [BL_MUL >> 4] = &&mulx_mov, [BL_AND >> 4] = &&andx_mov,
                         [BL_OR >> 4] = &&orx_mov, [BL_XOR >> 4] = &&xorx_mov },
            .c_ldxdw = &&c_ldxdw, .c_stxdw = &&c_stxdw, .c_stdw = &&c_stdw,
            .c_stxdw_next = &&c_stxdw_next, .c_stdw_next = &&c_stdw_next,
            .c_ldxdw_ldxdw = &&c_ldxdw_ldxdw, .c_stdw0_stdw0 = &&c_stdw0_stdw0,
            .c_add_stxdw = &&c_add_stxdw, .c_add_stxdw_next = &&c_add_stxdw_next,
            .c_movk_stxdw = &&c_movk_stxdw, .c_stxdw_ldxdw = &&c_stxdw_ldxdw,
            .c_ldxdw_add_stxdw = &&c_ldxdw_add_stxdw,
            .c_ldxdw_add_stxdw_next = &&c_ldxdw_add_stxdw_next,
            .c_ldxdw_jeq0 = &&c_ldxdw_jeq0, .c_ldxdw_jne0 = &&c_ldxdw_jne0,
            .c_ldxdw_opk = { [BL_ADD >> 4] = &&c_ldxdw_addk, [BL_SUB >> 4] = &&c_ldxdw_subk,
                             [BL_MUL >> 4] = &&c_ldxdw_mulk, [BL_AND >> 4] = &&c_ldxdw_andk,
                             [BL_OR >> 4] = &&c_ldxdw_ork, [BL_XOR >> 4] = &&c_ldxdw_xork,
                             [BL_LSH >> 4] = &&c_ldxdw_lshk, [BL_RSH >> 4] = &&c_ldxdw_rshk },
            .c_ldxdw_opx = { [BL_ADD >> 4] = &&c_ldxdw_addx, [BL_SUB >> 4] = &&c_ldxdw_subx,
                             [BL_MUL >> 4] = &&c_ldxdw_mulx, [BL_AND >> 4] = &&c_ldxdw_andx,
                             [BL_OR >> 4] = &&c_ldxdw_orx, [BL_XOR >> 4] = &&c_ldxdw_xorx },
            .c_opx_ldxdw_addx = { [BL_ADD >> 4] = &&c_addx_ldxdw_addx,
                                  [BL_MUL >> 4] = &&c_mulx_ldxdw_addx,
                                  [BL_XOR >> 4] = &&c_xorx_ldxdw_addx },
            .c_opx_ldxdw_xorx = { [BL_ADD >> 4] = &&c_addx_ldxdw_xorx,
                                  [BL_MUL >> 4] = &&c_mulx_ldxdw_xorx,
                                  [BL_XOR >> 4] = &&c_xorx_ldxdw_xorx } };
        decode_program(st, table, &fused);
        st->decoded = 1;
    }
    const struct dinsn *const base = st->dcode;
    const struct dinsn *ip = base + start;
    /* decode_program's side tables: callback index -> prologue */
    const uint16_t *const memo = (const uint16_t *)(base + st->n_insns);
    const struct loop_pro *const pros =
        (const struct loop_pro *)((const char *)base + pro_table_offset(st->n_insns));
    /* the helpers the calls name (call_helper), after the prologues */
    const struct bpflua_helper *const *const helpers =
        (const struct bpflua_helper *const *)(pros + pros[0].aux);
#define INSN_T struct dinsn
#define DISPATCH() goto *ip->handler
#else
    const struct bl_insn *const base = st->insns;
    const struct bl_insn *ip = base + start;
#define INSN_T struct bl_insn
#define DISPATCH() goto *table[ip->code]
#endif
#define PC ((long)(ip - base))
    uint64_t reg[BL_NREGS + 1];  /* reg[BL_NREGS]: a scratch slot (l_pi, l_pc) */
    struct call_frame frames[BL_MAX_CALL_DEPTH];
    unsigned nframes = 0;      /* BPF-to-BPF frames pushed by this invocation */
    /* the innermost bpf_loop run by this invocation, in locals (registers)
     * rather than in its frame: l_top is nframes while its callback frame
     * is on top (UINT_MAX: no loop), l_i the iteration, l_n the count,
     * l_ctx the context; each iteration (movk0_exit: without exit's frame
     * work) does the callback's prologue l_pro itself (its leading movs
     * as stores of i and ctx, the index transform) and goes on at l_entry,
     * after those l_pro->npro instructions (none in the loops that do not
     * decode: l_entry is the callback). An enclosing loop's state is in
     * the frame. */
    const INSN_T *l_entry = NULL;
    const struct loop_pro *l_pro = &plain_pro;
    uint64_t l_ctx = 0;
    uint32_t l_i = 0, l_n = 0;
    unsigned l_top = UINT_MAX;
    /* a loop being entered (loop_enter): callback index, count, ctx, prologue */
    uint64_t lp_cb, lp_ctx;
    uint32_t lp_n;
    uint8_t lp_keep;
    const struct loop_pro *lp_pro;
    uint64_t d64;              /* divisor of div/mod, shared by their imm/reg entries */
    const struct bpflua_helper *hp;  /* the helper being called */
    uint32_t d32;
#if INTERP_COUNT
    uint64_t count = st->count;
#endif
#if INTERP_COUNT && INTERP_BUDGET
    const uint64_t budget = st->budget;
#endif

    if (st->depth >= BL_MAX_CALL_DEPTH) {
        interp_fail(st, PC, -E2BIG, "call stack of %d frames is too deep", BL_MAX_CALL_DEPTH + 1);
        return 0;
    }
    reg[0] = 0;
    for (int k = 0; k < 5; k++)
        reg[1 + k] = args[k];
    reg[6] = reg[7] = reg[8] = reg[9] = 0;
    reg[10] = frame_top(st, st->depth);
    const unsigned depth0 = st->depth++;
    if (st->depth > st->max_depth)
        st->max_depth = st->depth;

#define DST reg[ip->dst]
#define SRC reg[ip->src]
#define IMM ((int64_t)ip->imm)
#define UIMM ((uint64_t)(int64_t)ip->imm)
#define U32(x) ((uint32_t)(x))
#define S32(x) ((int32_t)(uint32_t)(x))
#if INTERP_COUNT && INTERP_BUDGET
#define STEP() do { if (++count > budget) goto out_budget; } while (0)
#define STEPN(n) do { count += (n); if (count > budget) goto out_budget; } while (0)
#elif INTERP_COUNT
#define STEP() do { count++; } while (0)
#define STEPN(n) do { count += (n); } while (0)
#else
#define STEP() do { } while (0)
#define STEPN(n) do { } while (0)
#endif
#define NEXT() do { ip++; STEP(); DISPATCH(); } while (0)
#define JUMP(cond) do { ip += (cond) ? ip->off + 1 : 1; STEP(); DISPATCH(); } while (0)
#if INTERP_RAW
#define CHECK_MEM(addr, size, what) \
    do { if (!mem_ok(st, (addr), (size))) { mem_fail(st, PC, (addr), (size), what); goto out; } } while (0)
#else
#define CHECK_MEM(addr, size, what) do { } while (0)
#endif
#define ALU64(name, expr) \
    name##_imm: { uint64_t b = UIMM; DST = (expr); NEXT(); } \
    name##_reg: { uint64_t b = SRC; DST = (expr); NEXT(); }
#define ALU32(name, expr) \
    name##_imm: { uint32_t a = U32(DST), b = U32(ip->imm); DST = U32(expr); NEXT(); } \
    name##_reg: { uint32_t a = U32(DST), b = U32(SRC); DST = U32(expr); NEXT(); }
/* R6-R9 saved or restored one register at a time (the empty asm keeps
 * GCC from merging the moves into 16-byte ones): a wide load of registers
 * the code just stored one by one cannot be forwarded from those stores
 * and waits for them to reach the cache, and the code's 8-byte loads
 * after a wide store may forward slowly */
#define COPY_R6_R9(to, from)                                                              \
    do {                                                                                  \
        for (int r_ = 0; r_ < 4; r_++) {                                                  \
            uint64_t v_ = (from)[r_];                                                     \
            __asm__("" : "+r"(v_));                                                       \
            (to)[r_] = v_;                                                                \
        }                                                                                 \
    } while (0)
/* the innermost loop's iteration l_i, ip past the callback's prologue
 * (struct loop_pro, callback_trim): i into reg[a], then `next` (nx_*, or
 * the callback's own code) */
#define ITER_GO()                                                                         \
    do {                                                                                  \
        const struct loop_pro *p_ = l_pro;                                                \
        reg[p_->a] = l_i;                                                                 \
        goto *p_->next;                                                                   \
    } while (0)
/* the callback's prologue for iteration i (struct loop_pro) */
#define LOOP_PROLOGUE(i, ctx, p)                                                          \
    do {                                                                                  \
        reg[1] = (i);                                                                     \
        reg[2] = (ctx);                                                                   \
        reg[(p)->pi] = (i);                                                               \
        reg[(p)->pc] = (ctx);                                                             \
        if ((p)->kind) {                                                                  \
            uint64_t v_ = (i) * (p)->mul + (p)->add;                                      \
            if ((p)->kind == 2) {                                                         \
                uint64_t w_;                                                              \
                memcpy(&w_, (const void *)(uintptr_t)((ctx) + (uint64_t)(int64_t)(p)->off), \
                       sizeof w_);                                                        \
                reg[(p)->y] = w_;                                                         \
                v_ += w_;                                                                 \
            }                                                                             \
            reg[(p)->x] = v_;                                                             \
        }                                                                                 \
    } while (0)
#define JMP64(name, cond) \
    name##_imm: { uint64_t a = DST, b = UIMM; JUMP(cond); } \
    name##_reg: { uint64_t a = DST, b = SRC; JUMP(cond); }
#define JMP32(name, cond) \
    name##_imm: { uint32_t a = U32(DST), b = U32(ip->imm); JUMP(cond); } \
    name##_reg: { uint32_t a = U32(DST), b = U32(SRC); JUMP(cond); }
#define LOAD(name, type, ext) \
    name: { uint64_t addr = SRC + (uint64_t)(int64_t)ip->off; type v; \
            CHECK_MEM(addr, sizeof v, "read"); \
            memcpy(&v, (const void *)(uintptr_t)addr, sizeof v); DST = (uint64_t)(ext)v; NEXT(); }
#define STORE(name, type, value) \
    name: { uint64_t addr = DST + (uint64_t)(int64_t)ip->off; type v = (type)(value); \
            CHECK_MEM(addr, sizeof v, "write"); \
            memcpy((void *)(uintptr_t)addr, &v, sizeof v); NEXT(); }

    STEP();
    DISPATCH();

    ALU64(add64, DST + b)
    ALU64(sub64, DST - b)
    ALU64(mul64, DST * b)
    ALU64(or64, DST | b)
    ALU64(and64, DST & b)
    ALU64(lsh64, DST << (b & 63))
    ALU64(rsh64, DST >> (b & 63))
    ALU64(xor64, DST ^ b)
    ALU64(arsh64, (uint64_t)((int64_t)DST >> (b & 63)))
    mov64_imm: DST = UIMM; NEXT();
#if INTERP_DIRECT
    mov64_reg0: DST = SRC; NEXT();   /* off 0 (decode_program) */
#endif
    mov64_reg:
        switch (ip->off) {
        case 0: DST = SRC; break;
        case 8: DST = (uint64_t)(int64_t)(int8_t)SRC; break;
        case 16: DST = (uint64_t)(int64_t)(int16_t)SRC; break;
        default: DST = (uint64_t)(int64_t)S32(SRC); break;
        }
        NEXT();
    div64_imm: d64 = UIMM; goto div64;
    div64_reg: d64 = SRC;
    div64:
        if (ip->off == 0)
            DST = d64 ? DST / d64 : 0;
        else if (d64 == (uint64_t)-1)
            DST = 0 - DST;                       /* INT64_MIN / -1 = INT64_MIN */
        else
            DST = d64 ? (uint64_t)((int64_t)DST / (int64_t)d64) : 0;
        NEXT();
    mod64_imm: d64 = UIMM; goto mod64;
    mod64_reg: d64 = SRC;
    mod64:
        if (ip->off == 0)
            DST = d64 ? DST % d64 : DST;
        else if (d64 == (uint64_t)-1)
            DST = 0;                             /* INT64_MIN % -1 = 0 */
        else
            DST = d64 ? (uint64_t)((int64_t)DST % (int64_t)d64) : DST;
        NEXT();
    neg64: DST = 0 - DST; NEXT();

    ALU32(add32, a + b)
    ALU32(sub32, a - b)
    ALU32(mul32, a * b)
    ALU32(or32, a | b)
    ALU32(and32, a & b)
    ALU32(lsh32, a << (b & 31))
    ALU32(rsh32, a >> (b & 31))
    ALU32(xor32, a ^ b)
    ALU32(arsh32, (uint32_t)((int32_t)a >> (b & 31)))
    mov32_imm: DST = U32(ip->imm); NEXT();
    mov32_reg:
        switch (ip->off) {
        case 0: DST = U32(SRC); break;
        case 8: DST = U32((int32_t)(int8_t)SRC); break;
        default: DST = U32((int32_t)(int16_t)SRC); break;
        }
        NEXT();
    div32_imm: d32 = U32(ip->imm); goto div32;
    div32_reg: d32 = U32(SRC);
    div32:
        if (ip->off == 0)
            DST = d32 ? U32(DST) / d32 : 0;
        else if (d32 == UINT32_MAX)
            DST = U32(0 - U32(DST));             /* INT32_MIN / -1 = INT32_MIN */
        else
            DST = d32 ? U32(S32(DST) / (int32_t)d32) : 0;
        NEXT();
    mod32_imm: d32 = U32(ip->imm); goto mod32;
    mod32_reg: d32 = U32(SRC);
    mod32:
        if (ip->off == 0)
            DST = d32 ? U32(DST) % d32 : U32(DST);
        else if (d32 == UINT32_MAX)
            DST = 0;
        else
            DST = d32 ? U32(S32(DST) % (int32_t)d32) : U32(DST);
        NEXT();
    neg32: DST = U32(0 - U32(DST)); NEXT();

    le:   /* host order is little endian: truncate */
        DST = ip->imm == 16 ? (uint16_t)DST : ip->imm == 32 ? U32(DST) : DST;
        NEXT();
    be:
    bswap:
        DST = ip->imm == 16 ? __builtin_bswap16((uint16_t)DST)
            : ip->imm == 32 ? __builtin_bswap32(U32(DST)) : __builtin_bswap64(DST);
        NEXT();

    lddw: {
        uint64_t v = (uint64_t)U32(ip[0].imm) | ((uint64_t)U32(ip[1].imm) << 32);
        if (ip->src == BL_PSEUDO_FUNC)
            v = (uint64_t)(ip - base) + 1 + (uint64_t)(int64_t)ip->imm;
        DST = v;
        ip++;
        NEXT(); }

    /* legacy socket-filter loads: big-endian from the packet of the context
     * in R6 (the sandbox's skb context: data at 0, data_end at 8); out of
     * bounds the program ends with R0 = 0, as the kernel's implicit exit */
#define LDPKT(name, size, ind) \
    name: { uint64_t v; \
            if (bl_skb_ld_abs((const struct bl_skb_ctx *)(uintptr_t)reg[6], \
                              (uint32_t)(UIMM + ((ind) ? SRC : 0)), (size), &v)) \
                { reg[0] = 0; nframes = 0; goto out; } \
            reg[0] = v; NEXT(); }
    LDPKT(ldabsw, 4, 0)
    LDPKT(ldabsh, 2, 0)
    LDPKT(ldabsb, 1, 0)
    LDPKT(ldindw, 4, 1)
    LDPKT(ldindh, 2, 1)
    LDPKT(ldindb, 1, 1)
#undef LDPKT
    LOAD(ldxb, uint8_t, uint8_t)
    LOAD(ldxh, uint16_t, uint16_t)
    LOAD(ldxw, uint32_t, uint32_t)
    LOAD(ldxdw, uint64_t, uint64_t)
    LOAD(ldxsb, int8_t, int64_t)
    LOAD(ldxsh, int16_t, int64_t)
    LOAD(ldxsw, int32_t, int64_t)
    STORE(stb, uint8_t, ip->imm)
    STORE(sth, uint16_t, ip->imm)
    STORE(stw, uint32_t, ip->imm)
    STORE(stdw, uint64_t, IMM)
    STORE(stxb, uint8_t, SRC)
    STORE(stxh, uint16_t, SRC)
    STORE(stxw, uint32_t, SRC)
    STORE(stxdw, uint64_t, SRC)

    atomic32: {
        /* one engine thread: a plain read-modify-write is atomic enough */
        uint64_t addr = DST + (uint64_t)(int64_t)ip->off;
        uint32_t old, v, s = U32(SRC);
        CHECK_MEM(addr, 4, "atomic");
        memcpy(&old, (const void *)(uintptr_t)addr, 4);
        switch (ip->imm & ~BL_FETCH) {
        case BL_ADD: v = old + s; break;
        case BL_OR: v = old | s; break;
        case BL_AND: v = old & s; break;
        case BL_XOR: v = old ^ s; break;
        case BL_XCHG & ~BL_FETCH: v = s; break;
        default: /* cmpxchg */
            v = old == U32(reg[0]) ? s : old;
            reg[0] = old;
            break;
        }
        memcpy((void *)(uintptr_t)addr, &v, 4);
        if ((ip->imm & BL_FETCH) && ip->imm != BL_CMPXCHG)
            SRC = old;
        NEXT(); }
    atomic64: {
        uint64_t addr = DST + (uint64_t)(int64_t)ip->off;
        uint64_t old, v, s = SRC;
        CHECK_MEM(addr, 8, "atomic");
        memcpy(&old, (const void *)(uintptr_t)addr, 8);
        switch (ip->imm & ~BL_FETCH) {
        case BL_ADD: v = old + s; break;
        case BL_OR: v = old | s; break;
        case BL_AND: v = old & s; break;
        case BL_XOR: v = old ^ s; break;
        case BL_XCHG & ~BL_FETCH: v = s; break;
        default:
            v = old == reg[0] ? s : old;
            reg[0] = old;
            break;
        }
        memcpy((void *)(uintptr_t)addr, &v, 8);
        if ((ip->imm & BL_FETCH) && ip->imm != BL_CMPXCHG)
            SRC = old;
        NEXT(); }

    ja: ip += ip->off + 1; STEP(); DISPATCH();
    ja32: ip += (int64_t)ip->imm + 1; STEP(); DISPATCH();
    JMP64(jeq, a == b)
    JMP64(jgt, a > b)
    JMP64(jge, a >= b)
    JMP64(jset, a & b)
    JMP64(jne, a != b)
    JMP64(jsgt, (int64_t)a > (int64_t)b)
    JMP64(jsge, (int64_t)a >= (int64_t)b)
    JMP64(jlt, a < b)
    JMP64(jle, a <= b)
    JMP64(jslt, (int64_t)a < (int64_t)b)
    JMP64(jsle, (int64_t)a <= (int64_t)b)
    JMP32(jeq32, a == b)
    JMP32(jgt32, a > b)
    JMP32(jge32, a >= b)
    JMP32(jset32, a & b)
    JMP32(jne32, a != b)
    JMP32(jsgt32, (int32_t)a > (int32_t)b)
    JMP32(jsge32, (int32_t)a >= (int32_t)b)
    JMP32(jlt32, a < b)
    JMP32(jle32, a <= b)
    JMP32(jslt32, (int32_t)a < (int32_t)b)
    JMP32(jsle32, (int32_t)a <= (int32_t)b)

    call:
        if (ip->src == BL_PSEUDO_CALL) {
#if INTERP_DIRECT
    call_local:  /* decode_program: a BPF-to-BPF call */
#endif
            if (st->depth >= BL_MAX_CALL_DEPTH || nframes >= BL_MAX_CALL_DEPTH - 1) {
                interp_fail(st, PC, -E2BIG, "the call stack of %d frames is too deep",
                            BL_MAX_CALL_DEPTH + 1);
                goto out;
            }
            struct call_frame *f = &frames[nframes++];
            f->ret = ip + 1;
            COPY_R6_R9(f->saved, &reg[6]);
            f->r10 = reg[10];
            reg[10] = frame_top(st, st->depth);
            st->depth++;
            if (st->depth > st->max_depth)
                st->max_depth = st->depth;
            ip += (int64_t)ip->imm + 1;
            STEP();
            DISPATCH();
        }
        {
            uint32_t id = (uint32_t)ip->imm;
            goto helper;
    callx:
            id = U32(DST);
    helper: ;
            if (id == BL_HELPER_LOOP && st->inline_loop)
                goto loop;
            hp = st->helper_find(id);
            if (!hp || !hp->fn) {
                interp_fail(st, PC, -EFAULT, "unknown helper %u", id);
                goto out;
            }
#if INTERP_RAW
            if (st->inline_loop && !scalar_args_only(hp)) {
                interp_fail(st, PC, -EFAULT, "helper %u takes pointers: not callable unverified", id);
                goto out;
            }
#endif
#if INTERP_DIRECT
            goto helper_run;
    call_helper:   /* decode_program: the prototype looked up once, helpers[imm] */
            hp = helpers[ip->imm];
    helper_run:
#endif
#if INTERP_COUNT
            st->count = count;
#endif
            if (ip->off) /* the linker's zero_args (engine/run.c): unwritten R3-R5 */
                for (int r = 3; r <= 5; r++)
                    if (ip->off & (1 << r))
                        reg[r] = 0;
            reg[0] = hp->fn(reg[1], reg[2], reg[3], reg[4], reg[5], st->env);
#if INTERP_COUNT
            count = st->count;
#endif
            if (st->env->fault) {
                reg[0] = 0;
                goto out;
            }
            NEXT();
        }

#if INTERP_DIRECT
    call_loop:   /* call 181 (decode_program) */
        if (st->inline_loop)
            goto loop;
        goto call;
    loop_call: { /* lddw r2, func; mov r3, rX; mov r4, 0; call 181 (decode_program):
                  * the callback's index in imm, its prologue's in off */
    loop_call_at:
        if (!st->inline_loop) {
            DST = (uint64_t)(uint32_t)ip->imm;   /* the lddw alone */
            ip += 2;
            STEP();
            DISPATCH();
        }
        uint32_t n = U32(reg[1]);
        lp_cb = (uint32_t)ip->imm;
        lp_pro = pros + (uint16_t)ip->off;
        lp_ctx = reg[ip->src];
        lp_keep = ip[1].dst;   /* R6-R9 to keep (loop_keep), in the lddw's second slot */
        ip += 4;
        STEPN(3);
        if (n - 1 < BL_MAX_LOOPS) {
            lp_n = n;
            goto loop_enter;
        }
        reg[2] = lp_cb;
        reg[3] = lp_ctx;
        reg[4] = 0;
        reg[0] = n ? (uint64_t)(int64_t)-E2BIG : 0;
        NEXT(); }
#endif
    loop: {
        /* bpf_loop(nr_loops, callback, ctx, flags) as stdlib/helpers.c
         * defines it, without a C call per iteration: the callback runs in a
         * loop frame that exit re-enters */
        uint32_t n = U32(reg[1]);
        if (reg[4] != 0 || n > BL_MAX_LOOPS || n == 0) {
            reg[0] = reg[4] ? (uint64_t)(int64_t)-EINVAL
                   : n ? (uint64_t)(int64_t)-E2BIG : 0;
            NEXT();
        }
#if INTERP_RAW
        if (reg[2] >= st->n_insns) {
            interp_fail(st, PC, -EFAULT, "bpf_loop callback %llu is outside the program",
                        (unsigned long long)reg[2]);
            goto out;
        }
#endif
        lp_cb = reg[2];
        lp_ctx = reg[3];
        lp_n = n;
        lp_keep = 0xf;
#if INTERP_DIRECT
        lp_pro = pros + (reg[2] < st->n_insns ? memo[reg[2]] : 0);
#else
        lp_pro = &plain_pro;
#endif
        goto loop_enter;
    }
    loop_enter: {  /* ip on the call */
        if (st->depth >= BL_MAX_CALL_DEPTH || nframes >= BL_MAX_CALL_DEPTH - 1) {
            interp_fail(st, PC, -E2BIG, "the call stack of %d frames is too deep",
                        BL_MAX_CALL_DEPTH + 1);
            goto out;
        }
        struct call_frame *f = &frames[nframes++];
        f->ret = ip + 1;
        f->keep = lp_keep;
        if (lp_keep)
            COPY_R6_R9(f->saved, &reg[6]);
        f->o_entry = l_entry;
        f->o_pro = l_pro;
        f->o_ctx = l_ctx;
        f->o_i = l_i;
        f->o_n = l_n;
        f->o_top = l_top;
        l_pro = lp_pro;
        l_entry = base + lp_cb + lp_pro->npro;
        l_ctx = lp_ctx;
        l_i = 0;
        l_n = lp_n;
        l_top = nframes;
        if (!l_pro->light) {  /* a callback that reads R10 gets a stack frame */
            f->r10 = reg[10];
            reg[10] = frame_top(st, st->depth);
            st->depth++;
            if (st->depth > st->max_depth)
                st->max_depth = st->depth;
        }
        /* the verified loops leave R3-R5 alone: the verifier holds a
         * callback to never read them before writing */
#if INTERP_DIRECT
        /* the first iteration as the next ones (callback_trim: i into
         * reg[a], then `next`), with ctx in R2 and the prologue's ctx
         * register, which those do not store again (the callback does
         * not change them) */
        reg[2] = l_ctx;
        reg[l_pro->pc] = l_ctx;
        ip = l_entry;
        STEPN(1 + l_pro->npro);
        ITER_GO(); }
#else
        reg[3] = reg[4] = reg[5] = 0;
        LOOP_PROLOGUE((uint64_t)0, l_ctx, l_pro);
        ip = l_entry;
        STEPN(1 + l_pro->npro);
        DISPATCH(); }
#endif

    exit:
        if (nframes == 0)
            goto out;
        if (nframes == l_top) {
            if (reg[0] == 0 && l_i + 1 < l_n) {
                /* separate 8-byte stores: the callback's first instructions
                 * read R1 and R2 one at a time, and a load from inside a
                 * wider (vector) store forwards slowly or not at all */
#if INTERP_DIRECT
                ++l_i;
                ip = l_entry;
                STEPN(1 + l_pro->npro);
                ITER_GO();
#else
                uint64_t i = ++l_i, ctx = l_ctx;
                __asm__("" : "+r"(i), "+r"(ctx));
                reg[3] = reg[4] = reg[5] = 0;
                LOOP_PROLOGUE(i, ctx, l_pro);
                ip = l_entry;
                STEPN(1);
                DISPATCH();
#endif
            }
            reg[0] = (uint64_t)l_i + 1;   /* the iterations run */
#if INTERP_DIRECT
    loop_done:
#endif
            {   /* the enclosing loop's state back, then the frame's pop (a
                 * light loop's leaves R10 and the depth as they are) */
                const struct call_frame *f = &frames[--nframes];
                int light = l_pro->light;
                l_entry = f->o_entry;
                l_pro = f->o_pro;
                l_ctx = f->o_ctx;
                l_i = f->o_i;
                l_n = f->o_n;
                l_top = f->o_top;
                if (f->keep)
                    COPY_R6_R9(&reg[6], f->saved);
                if (!light) {
                    st->depth--;
                    reg[10] = f->r10;
                }
                ip = (const INSN_T *)f->ret;
                STEP();
                DISPATCH();
            }
        }
        {
            struct call_frame *f = &frames[--nframes];
            COPY_R6_R9(&reg[6], f->saved);
            st->depth--;
            reg[10] = f->r10;
            ip = (const INSN_T *)f->ret;
            STEP();
            DISPATCH();
        }

#if INTERP_DIRECT
    /* superinstructions (see decode_program): the second operand's register or
     * immediate is in imm, the pair's second slot is skipped */
    /* ldxdw rA, [rB+off]; then rC op= rA, C in imm */
#define LDXDW_THEN(name, op)                                                              \
    name: {                                                                               \
        uint64_t v;                                                                       \
        memcpy(&v, (const void *)(uintptr_t)(SRC + (uint64_t)(int64_t)ip->off), sizeof v); \
        DST = v;                                                                          \
        reg[ip->imm] op v;                                                                \
        ip += 2;                                                                          \
        STEPN(2);                                                                         \
        DISPATCH(); }
    LDXDW_THEN(ldxdw_mov, =)
    LDXDW_THEN(ldxdw_add, +=)
    LDXDW_THEN(ldxdw_mul, *=)
    LDXDW_THEN(ldxdw_sub, -=)
    LDXDW_THEN(ldxdw_and, &=)
    LDXDW_THEN(ldxdw_or, |=)
    /* mov rA, rB; rA op= K (shift counts checked at decode) */
#define MOV_OPK(name, expr)                                                               \
    name: {                                                                               \
        uint64_t v = SRC, k = UIMM;                                                       \
        DST = (expr);                                                                     \
        ip += 2;                                                                          \
        STEPN(2);                                                                         \
        DISPATCH(); }
    MOV_OPK(mov_subk, v - k)
    MOV_OPK(mov_mulk, v * k)
    MOV_OPK(mov_lshk, v << (k & 63))
    MOV_OPK(mov_rshk, v >> (k & 63))
    MOV_OPK(mov_andk, v & k)
    MOV_OPK(mov_ork, v | k)
    MOV_OPK(mov_xork, v ^ k)
    /* rA op= rB; stxdw [rC+off], rA (the op's own off is 0: off holds the store's) */
#define OP_STXDW(name, op)                                                                \
    name: {                                                                               \
        uint64_t v = DST op SRC;                                                          \
        DST = v;                                                                          \
        memcpy((void *)(uintptr_t)(reg[ip->imm] + (uint64_t)(int64_t)ip->off), &v, sizeof v); \
        ip += 2;                                                                          \
        STEPN(2);                                                                         \
        DISPATCH(); }
    OP_STXDW(sub_stxdw, -)
    OP_STXDW(mul_stxdw, *)
    OP_STXDW(and_stxdw, &)
    OP_STXDW(or_stxdw, |)
    OP_STXDW(xor_stxdw, ^)
    /* ldxdw rA, [rB+off]; jeq/jne rA, 0, +imm (relative to the jump's slot) */
#define LDXDW_J0(name, cond, B)                                                           \
    name: {                                                                               \
        uint64_t v;                                                                       \
        memcpy(&v, (const void *)(uintptr_t)((B) + (uint64_t)(int64_t)ip->off), sizeof v); \
        DST = v;                                                                          \
        ip += 2;                                                                          \
        STEPN(2);                                                                         \
        if (cond)                                                                         \
            ip += ip[-1].off;                                                             \
        DISPATCH(); }
    LDXDW_J0(ldxdw_jeq0, v == 0, SRC)
    LDXDW_J0(ldxdw_jne0, v != 0, SRC)
    LDXDW_J0(c_ldxdw_jeq0, v == 0, l_ctx)
    LDXDW_J0(c_ldxdw_jne0, v != 0, l_ctx)
    stdw0_stdw0: {  /* the second store's offset in imm */
        const uint64_t z = 0;
        memcpy((void *)(uintptr_t)(DST + (uint64_t)(int64_t)ip->off), &z, sizeof z);
        memcpy((void *)(uintptr_t)(DST + (uint64_t)(int64_t)ip->imm), &z, sizeof z);
        ip += 2;
        STEPN(2);
        DISPATCH(); }
    movk_stxdw: {   /* the store's base register in src, its offset in off */
        uint64_t v = UIMM;
        DST = v;
        memcpy((void *)(uintptr_t)(SRC + (uint64_t)(int64_t)ip->off), &v, sizeof v);
        ip += 2;
        STEPN(2);
        DISPATCH(); }
    mov_movk:       /* the second mov's register in off */
        DST = SRC;
        reg[ip->off] = UIMM;
        ip += 2;
        STEPN(2);
        DISPATCH();
    mov_ldxdw: {
        uint64_t v = SRC, w;  /* the mov's own off is 0: off holds the load's */
        DST = v;
        memcpy(&w, (const void *)(uintptr_t)(v + (uint64_t)(int64_t)ip->off), sizeof w);
        reg[ip->imm] = w;
        ip += 2;
        STEPN(2);
        DISPATCH(); }
    add_stxdw: {
        uint64_t v = DST + SRC;  /* the add's own off is 0: off holds the store's */
        DST = v;
        memcpy((void *)(uintptr_t)(reg[ip->imm] + (uint64_t)(int64_t)ip->off), &v, sizeof v);
        ip += 2;
        STEPN(2);
        DISPATCH(); }
    mov_add: {
        uint64_t v = SRC;
        DST = v;
        reg[ip->imm] += v;
        ip += 2;
        STEPN(2);
        DISPATCH(); }
    mov_addk:
        DST = SRC + UIMM;
        ip += 2;
        STEPN(2);
        DISPATCH();
    movk_exit:
        DST = UIMM;
        ip++;
        STEPN(1);
        goto exit;
    movk0_exit:
        /* `mov r0, 0; exit` in a loop callback: the next iteration right
         * here (R0 is not set: the verifier holds a callback to write it
         * before its exit, and R3-R5 before reading them) */
        if (nframes == l_top) {
            if (l_i + 1 < l_n) {
                ++l_i;
                ip = l_entry;
                STEPN(2 + l_pro->npro);
                ITER_GO();
            }
            reg[0] = l_n;   /* the last iteration: bpf_loop returns the count */
            ip++;
            STEPN(1);
            goto loop_done;
        }
        reg[0] = 0;
        ip++;
        STEPN(1);
        goto exit;
    /* the rest of the next iteration's prologue (struct loop_pro,
     * callback_trim) after i's store to reg[a]: l_i is i, l_pro the
     * prologue, ip on the callback past it */
    nx_full: {
        uint64_t i = l_i, ctx = l_ctx;
        __asm__("" : "+r"(i), "+r"(ctx));
        LOOP_PROLOGUE(i, ctx, l_pro);
        DISPATCH(); }
    nx_none:
        DISPATCH();
    nx_k1:   /* the index transform, kind 1 and 2 (struct loop_pro) */
        reg[l_pro->x] = (uint64_t)l_i * l_pro->mul + l_pro->add;
        DISPATCH();
    nx_k2: {
        uint64_t w;
        memcpy(&w, (const void *)(uintptr_t)(l_ctx + (uint64_t)(int64_t)l_pro->off), sizeof w);
        reg[l_pro->x] = (uint64_t)l_i * l_pro->mul + w;
        DISPATCH(); }
    movx_exit:
        DST = SRC;
        ip++;
        STEPN(1);
        goto exit;
    mov_mov:  /* the second mov's registers in imm: dst in bits 0-7, src in 8-15 */
        DST = SRC;
        reg[ip->imm & 0xff] = reg[(ip->imm >> 8) & 0xff];
        ip += 2;
        STEPN(2);
        DISPATCH();
    /* ldxdw rA, [rB+o]; rA op= rC or K; stxdw [rB+o], rA (C or K in imm;
     * shift counts checked at decode): the value goes from the load to the
     * store without a round trip through reg[] */
#define MEM_UPDATE(K, expr) MEM_UPDATE_B(K, expr, SRC)
#define MEM_UPDATE_B(K, expr, B)                                                          \
    do {                                                                                  \
        void *p = (void *)(uintptr_t)((B) + (uint64_t)(int64_t)ip->off);                  \
        uint64_t v, k = (K);                                                              \
        memcpy(&v, p, sizeof v);                                                          \
        v = (expr);                                                                       \
        DST = v;                                                                          \
        memcpy(p, &v, sizeof v);                                                          \
    } while (0)
    ldxdw_add_stxdw:  /* the memory add */
        MEM_UPDATE(reg[ip->imm], v + k);
        ip += 3;
        STEPN(3);
        DISPATCH();
    /* a loop body's last store and its `mov r0, 0; exit` (decode_program):
     * the group, then straight into movk0_exit (a direct jump, not a
     * dispatch), ip on the `mov r0, 0` */
    ldxdw_add_stxdw_next:
        MEM_UPDATE(reg[ip->imm], v + k);
        ip += 3;
        STEPN(3);
        goto movk0_exit;
    add_stxdw_next: {
        uint64_t v = DST + SRC;
        DST = v;
        memcpy((void *)(uintptr_t)(reg[ip->imm] + (uint64_t)(int64_t)ip->off), &v, sizeof v);
        ip += 2;
        STEPN(2);
        goto movk0_exit; }
    stdw_next: {
        uint64_t v = UIMM;
        memcpy((void *)(uintptr_t)(DST + (uint64_t)(int64_t)ip->off), &v, sizeof v);
        ip += 1;
        STEPN(1);
        goto movk0_exit; }
    stxdw_next: {
        uint64_t v = SRC;
        memcpy((void *)(uintptr_t)(DST + (uint64_t)(int64_t)ip->off), &v, sizeof v);
        ip += 1;
        STEPN(1);
        goto movk0_exit; }
    ldxdw_mulself: {
        uint64_t v;
        memcpy(&v, (const void *)(uintptr_t)(SRC + (uint64_t)(int64_t)ip->off), sizeof v);
        DST = v * reg[ip->imm];
        ip += 2;
        STEPN(2);
        DISPATCH(); }
    ldxdw_ldxdw: {  /* the second load in its own slot (a load slot keeps its fields) */
        uint64_t v;
        memcpy(&v, (const void *)(uintptr_t)(SRC + (uint64_t)(int64_t)ip->off), sizeof v);
        DST = v;
        memcpy(&v, (const void *)(uintptr_t)(reg[ip[1].src] + (uint64_t)(int64_t)ip[1].off),
               sizeof v);
        reg[ip[1].dst] = v;
        ip += 2;
        STEPN(2);
        DISPATCH(); }
    LDXDW_THEN(ldxdw_xor, ^=)
#undef LDXDW_THEN
    /* ldxdw rA, [rB+off]; rA op= K (K in imm; shift counts checked at decode),
     * or rA op= rC (C != A, in imm) */
#define LDXDW_OP(name, K, expr) LDXDW_OP_B(name, K, expr, SRC) \
                                LDXDW_OP_B(c_##name, K, expr, l_ctx)
#define LDXDW_OP_B(name, K, expr, B)                                                      \
    name: {                                                                               \
        uint64_t v, k = (K);                                                              \
        memcpy(&v, (const void *)(uintptr_t)((B) + (uint64_t)(int64_t)ip->off), sizeof v); \
        DST = (expr);                                                                     \
        ip += 2;                                                                          \
        STEPN(2);                                                                         \
        DISPATCH(); }
    LDXDW_OP(ldxdw_addk, UIMM, v + k)
    LDXDW_OP(ldxdw_subk, UIMM, v - k)
    LDXDW_OP(ldxdw_mulk, UIMM, v * k)
    LDXDW_OP(ldxdw_andk, UIMM, v & k)
    LDXDW_OP(ldxdw_ork, UIMM, v | k)
    LDXDW_OP(ldxdw_xork, UIMM, v ^ k)
    LDXDW_OP(ldxdw_lshk, UIMM, v << (k & 63))
    LDXDW_OP(ldxdw_rshk, UIMM, v >> (k & 63))
    LDXDW_OP(ldxdw_addx, reg[ip->imm], v + k)
    LDXDW_OP(ldxdw_subx, reg[ip->imm], v - k)
    LDXDW_OP(ldxdw_mulx, reg[ip->imm], v * k)
    LDXDW_OP(ldxdw_andx, reg[ip->imm], v & k)
    LDXDW_OP(ldxdw_orx, reg[ip->imm], v | k)
    LDXDW_OP(ldxdw_xorx, reg[ip->imm], v ^ k)
#undef LDXDW_OP
#undef LDXDW_OP_B
    /* rA op= rB; mov rC, rA (C in imm) */
#define OPX_MOV(name, op)                                                                 \
    name: {                                                                               \
        uint64_t v = DST op SRC;                                                          \
        DST = v;                                                                          \
        reg[ip->imm] = v;                                                                 \
        ip += 2;                                                                          \
        STEPN(2);                                                                         \
        DISPATCH(); }
    OPX_MOV(addx_mov, +)
    OPX_MOV(subx_mov, -)
    OPX_MOV(mulx_mov, *)
    OPX_MOV(andx_mov, &)
    OPX_MOV(orx_mov, |)
    OPX_MOV(xorx_mov, ^)
#undef OPX_MOV
    /* mov rA, rB; rA op= rC (C != A): the op's fields in the second slot */
#define MOV_OPX(name, op)                                                                 \
    name: {                                                                               \
        uint64_t v = SRC op reg[ip[1].src];                                               \
        DST = v;                                                                          \
        ip += 2;                                                                          \
        STEPN(2);                                                                         \
        DISPATCH(); }
    MOV_OPX(mov_addx, +)
    MOV_OPX(mov_subx, -)
    MOV_OPX(mov_mulx, *)
    MOV_OPX(mov_andx, &)
    MOV_OPX(mov_orx, |)
    MOV_OPX(mov_xorx, ^)
#undef MOV_OPX
    /* rA op1= rB; ldxdw rC, [rD+o]; rA op2= rC (C != A): a chain of
     * arithmetic through a loaded value (`(i * j) ~ seed`, `i ~ j ~ k`),
     * the second and third instructions' fields in their own slots */
#define OPX_LDXDW_OPX(name, op1, op2) OPX_LDXDW_OPX_B(name, op1, op2, reg[ip[1].src]) \
                                      OPX_LDXDW_OPX_B(c_##name, op1, op2, l_ctx)
#define OPX_LDXDW_OPX_B(name, op1, op2, B)                                                \
    name: {                                                                               \
        uint64_t v = DST op1 SRC, w;                                                      \
        DST = v;                                                                          \
        memcpy(&w, (const void *)(uintptr_t)((B) + (uint64_t)(int64_t)ip[1].off),         \
               sizeof w);                                                                 \
        reg[ip[1].dst] = w;                                                               \
        DST = v op2 w;                                                                    \
        ip += 3;                                                                          \
        STEPN(3);                                                                         \
        DISPATCH(); }
    OPX_LDXDW_OPX(addx_ldxdw_addx, +, +)
    OPX_LDXDW_OPX(mulx_ldxdw_addx, *, +)
    OPX_LDXDW_OPX(xorx_ldxdw_addx, ^, +)
    OPX_LDXDW_OPX(addx_ldxdw_xorx, +, ^)
    OPX_LDXDW_OPX(mulx_ldxdw_xorx, *, ^)
    OPX_LDXDW_OPX(xorx_ldxdw_xorx, ^, ^)
#undef OPX_LDXDW_OPX
#undef OPX_LDXDW_OPX_B
    /* single and fused memory ops whose base register holds the innermost
     * loop's ctx all the time they can run (decode_program, ctx_base):
     * l_ctx is the base, no register is read for it */
#define CTXP(o) ((void *)(uintptr_t)(l_ctx + (uint64_t)(int64_t)(o)))
    c_ldxdw: {
        uint64_t v;
        memcpy(&v, CTXP(ip->off), sizeof v);
        DST = v;
        NEXT(); }
    c_stxdw: {
        uint64_t v = SRC;
        memcpy(CTXP(ip->off), &v, sizeof v);
        NEXT(); }
    c_stdw: {
        uint64_t v = UIMM;
        memcpy(CTXP(ip->off), &v, sizeof v);
        NEXT(); }
    c_stxdw_next: {
        uint64_t v = SRC;
        memcpy(CTXP(ip->off), &v, sizeof v);
        ip += 1;
        STEPN(1);
        goto movk0_exit; }
    c_stdw_next: {
        uint64_t v = UIMM;
        memcpy(CTXP(ip->off), &v, sizeof v);
        ip += 1;
        STEPN(1);
        goto movk0_exit; }
    c_ldxdw_ldxdw: {  /* both loads from ctx */
        uint64_t v;
        memcpy(&v, CTXP(ip->off), sizeof v);
        DST = v;
        memcpy(&v, CTXP(ip[1].off), sizeof v);
        reg[ip[1].dst] = v;
        ip += 2;
        STEPN(2);
        DISPATCH(); }
    c_stdw0_stdw0: {
        const uint64_t z = 0;
        memcpy(CTXP(ip->off), &z, sizeof z);
        memcpy(CTXP(ip->imm), &z, sizeof z);
        ip += 2;
        STEPN(2);
        DISPATCH(); }
    c_add_stxdw: {
        uint64_t v = DST + SRC;
        DST = v;
        memcpy(CTXP(ip->off), &v, sizeof v);
        ip += 2;
        STEPN(2);
        DISPATCH(); }
    c_add_stxdw_next: {
        uint64_t v = DST + SRC;
        DST = v;
        memcpy(CTXP(ip->off), &v, sizeof v);
        ip += 2;
        STEPN(2);
        goto movk0_exit; }
    c_movk_stxdw: {
        uint64_t v = UIMM;
        DST = v;
        memcpy(CTXP(ip->off), &v, sizeof v);
        ip += 2;
        STEPN(2);
        DISPATCH(); }
    c_stxdw_ldxdw: {
        uint64_t v = SRC;
        memcpy(CTXP(ip->off), &v, sizeof v);
        reg[ip[1].dst] = v;
        ip += 2;
        STEPN(2);
        DISPATCH(); }
    c_ldxdw_add_stxdw:
        MEM_UPDATE_B(reg[ip->imm], v + k, l_ctx);
        ip += 3;
        STEPN(3);
        DISPATCH();
    c_ldxdw_add_stxdw_next:
        MEM_UPDATE_B(reg[ip->imm], v + k, l_ctx);
        ip += 3;
        STEPN(3);
        goto movk0_exit;
#undef CTXP
    movk_movk:      /* mov rA, K; mov rC, L: the second in its own slot */
        DST = UIMM;
        reg[ip[1].dst] = (uint64_t)(int64_t)ip[1].imm;
        ip += 2;
        STEPN(2);
        DISPATCH();
    stxdw_ldxdw: {  /* stxdw [rB+o], rA; ldxdw rC, [rB+o]: rC gets rA's value */
        uint64_t v = SRC;
        memcpy((void *)(uintptr_t)(DST + (uint64_t)(int64_t)ip->off), &v, sizeof v);
        reg[ip[1].dst] = v;
        ip += 2;
        STEPN(2);
        DISPATCH(); }
    mulk_ldxdw_add: {  /* mul rA, K; ldxdw rB, [rC+o]; add rA, rB (B != A): a
                        * down-counting loop's index from its start slot */
        uint64_t v = DST * UIMM, w;
        DST = v;
        memcpy(&w, (const void *)(uintptr_t)(reg[ip[1].src] + (uint64_t)(int64_t)ip[1].off),
               sizeof w);
        reg[ip[1].dst] = w;
        DST = v + w;
        ip += 3;
        STEPN(3);
        DISPATCH(); }
    stxdw_movk: {   /* stxdw [rB+o], rA; mov rC, K: the mov in its own slot */
        uint64_t v = SRC;
        memcpy((void *)(uintptr_t)(DST + (uint64_t)(int64_t)ip->off), &v, sizeof v);
        reg[ip[1].dst] = (uint64_t)(int64_t)ip[1].imm;
        ip += 2;
        STEPN(2);
        DISPATCH(); }
    ldxdw_stxdw: {  /* ldxdw rA, [rB+o]; stxdw [rC+p], rD: the store in its own slot */
        uint64_t v;
        memcpy(&v, (const void *)(uintptr_t)(SRC + (uint64_t)(int64_t)ip->off), sizeof v);
        DST = v;
        v = reg[ip[1].src];
        memcpy((void *)(uintptr_t)(reg[ip[1].dst] + (uint64_t)(int64_t)ip[1].off), &v, sizeof v);
        ip += 2;
        STEPN(2);
        DISPATCH(); }
    stdw_loop_call: {  /* stdw [rA+o], K, then bpf_loop's call group (loop_call) */
        uint64_t v = UIMM;
        memcpy((void *)(uintptr_t)(DST + (uint64_t)(int64_t)ip->off), &v, sizeof v);
        ip++;
        STEP();
        goto loop_call_at; }
    /* the other operators of ldxdw_add_stxdw's group (mem_opx) */
#define MEM_OP(name, K, expr)                                                             \
    name:                                                                                 \
        MEM_UPDATE(K, expr);                                                              \
        ip += 3;                                                                          \
        STEPN(3);                                                                         \
        DISPATCH();
    MEM_OP(mem_subx, reg[ip->imm], v - k)
    MEM_OP(mem_mulx, reg[ip->imm], v * k)
    MEM_OP(mem_andx, reg[ip->imm], v & k)
    MEM_OP(mem_orx, reg[ip->imm], v | k)
    MEM_OP(mem_xorx, reg[ip->imm], v ^ k)
    MEM_OP(mem_addk, UIMM, v + k)
    MEM_OP(mem_subk, UIMM, v - k)
    MEM_OP(mem_mulk, UIMM, v * k)
    MEM_OP(mem_andk, UIMM, v & k)
    MEM_OP(mem_ork, UIMM, v | k)
    MEM_OP(mem_xork, UIMM, v ^ k)
    MEM_OP(mem_lshk, UIMM, v << (k & 63))
    MEM_OP(mem_rshk, UIMM, v >> (k & 63))
#undef MEM_OP
    /* the launder (is_launder): adding 0 leaves the memory as it is */
    launder:
        reg[0] = 0;
        ip += 2;
        STEPN(2);
        DISPATCH();
    launder_next:   /* followed by `mov r0, 0; exit` */
        reg[0] = 0;
        ip += 2;
        STEPN(2);
        goto movk0_exit;
    stxdw_launder: {
        uint64_t v = SRC;
        memcpy((void *)(uintptr_t)(DST + (uint64_t)(int64_t)ip->off), &v, sizeof v);
        reg[0] = 0;
        ip += 3;
        STEPN(3);
        DISPATCH(); }
    ldxdw_add_stxdw_launder:
        MEM_UPDATE(reg[ip->imm], v + k);
        reg[0] = 0;
        ip += 5;
        STEPN(5);
        DISPATCH();
#undef MEM_UPDATE
#undef MEM_UPDATE_B
    /* a loop's trip count (trip_kind), after a store for stxdw_trip_*:
     * jsgt/jslt rA, rB, +o (the empty loop); mov rC, rX;
     * sub rC, rY (Y != C); [div rC, K;] jge rC, L, +p (too many); add rC, M,
     * each after the first in its own slot */
#define TRIP(name, cond, div, st)                                                         \
    name: {                                                                               \
        if (st) {  /* stxdw [rB+o], rA first */                                           \
            uint64_t s_ = SRC;                                                            \
            memcpy((void *)(uintptr_t)(DST + (uint64_t)(int64_t)ip->off), &s_, sizeof s_); \
            ip++;                                                                         \
            STEP();                                                                       \
        }                                                                                 \
        int64_t a = (int64_t)DST, b = (int64_t)SRC;                                       \
        if (cond) {                                                                       \
            ip += ip->off + 1;                                                            \
            STEP();                                                                       \
            DISPATCH();                                                                   \
        }                                                                                 \
        uint64_t v = reg[ip[1].src] - reg[ip[2].src];                                     \
        if (div)                                                                          \
            v /= (uint64_t)(int64_t)ip[3].imm;                                            \
        const INSN_T *j = ip + 3 + (div);                                                 \
        if (v >= (uint64_t)(int64_t)j->imm) {                                             \
            reg[ip[1].dst] = v;                                                           \
            ip = j + j->off + 1;                                                          \
            STEPN(4 + (div));                                                             \
            DISPATCH();                                                                   \
        }                                                                                 \
        reg[ip[1].dst] = v + (uint64_t)(int64_t)j[1].imm;                                 \
        ip = j + 2;                                                                       \
        STEPN(5 + (div));                                                                 \
        DISPATCH(); }
    TRIP(trip_sgt, a > b, 0, 0)
    TRIP(trip_slt, a < b, 0, 0)
    TRIP(trip_sgt_div, a > b, 1, 0)
    TRIP(trip_slt_div, a < b, 1, 0)
    TRIP(stxdw_trip_sgt, a > b, 0, 1)
    TRIP(stxdw_trip_slt, a < b, 0, 1)
    TRIP(stxdw_trip_sgt_div, a > b, 1, 1)
    TRIP(stxdw_trip_slt_div, a < b, 1, 1)
#undef TRIP
#endif

    invalid:
        interp_fail(st, PC, -EFAULT, "invalid instruction 0x%02x", st->insns[PC].code);
        goto out;
#if INTERP_COUNT && INTERP_BUDGET
    out_budget:
        interp_fail(st, PC, -ETIME, "instruction limit of %llu reached",
                    (unsigned long long)budget);
        goto out;
#endif
    out:
#if INTERP_COUNT
    st->count = count;
#endif
    st->depth = depth0;
    return st->error ? 0 : reg[0];

#undef DST
#undef SRC
#undef IMM
#undef UIMM
#undef U32
#undef S32
#undef DISPATCH
#undef INSN_T
#undef PC
#undef STEP
#undef STEPN
#undef NEXT
#undef JUMP
#undef CHECK_MEM
#undef ALU64
#undef ALU32
#undef JMP64
#undef JMP32
#undef LOAD
#undef STORE
#undef LOOP_PROLOGUE
#undef COPY_R6_R9
#undef ITER_GO
}
