-- opcodes.lua: the eBPF opcode bytes the compiler emits, named as in
-- vm/ops.def (BL_OP_<NAME>). Only the byte is here; the discriminating field
-- (off 1 for sdiv/smod, imm for byte swaps) is set by emit.lua.

_ENV = nil

local M = {
  -- ALU64
  ADD64_IMM = 0x07, ADD64_REG = 0x0f, SUB64_IMM = 0x17, SUB64_REG = 0x1f,
  MUL64_IMM = 0x27, MUL64_REG = 0x2f, DIV64_IMM = 0x37, DIV64_REG = 0x3f,
  SDIV64_IMM = 0x37, SDIV64_REG = 0x3f, -- off = 1
  OR64_IMM = 0x47, OR64_REG = 0x4f, AND64_IMM = 0x57, AND64_REG = 0x5f,
  LSH64_IMM = 0x67, LSH64_REG = 0x6f, RSH64_IMM = 0x77, RSH64_REG = 0x7f,
  NEG64 = 0x87,
  MOD64_IMM = 0x97, MOD64_REG = 0x9f, SMOD64_IMM = 0x97, SMOD64_REG = 0x9f, -- off = 1
  XOR64_IMM = 0xa7, XOR64_REG = 0xaf, MOV64_IMM = 0xb7, MOV64_REG = 0xbf,
  ARSH64_IMM = 0xc7, ARSH64_REG = 0xcf,
  MOV32_IMM = 0xb4, MOV32_REG = 0xbc,
  LOCK_ADD64 = 0xdb, -- BL_STX | BL_ATOMIC | BL_DW, imm 0 (add)
  -- byte order (imm = 16/32/64): BE converts host (little endian) to big endian
  BE = 0xdc, LE = 0xd4,
  LDDW = 0x18,
  -- memory
  LDXW = 0x61, LDXH = 0x69, LDXB = 0x71, LDXDW = 0x79,
  LDXSW = 0x81, LDXSH = 0x89, LDXSB = 0x91,
  STW = 0x62, STH = 0x6a, STB = 0x72, STDW = 0x7a,
  STXW = 0x63, STXH = 0x6b, STXB = 0x73, STXDW = 0x7b,
  -- jumps
  JA = 0x05,
  JEQ_IMM = 0x15, JEQ_REG = 0x1d, JGT_IMM = 0x25, JGT_REG = 0x2d,
  JGE_IMM = 0x35, JGE_REG = 0x3d, JSET_IMM = 0x45, JSET_REG = 0x4d,
  JNE_IMM = 0x55, JNE_REG = 0x5d, JSGT_IMM = 0x65, JSGT_REG = 0x6d,
  JSGE_IMM = 0x75, JSGE_REG = 0x7d, JLT_IMM = 0xa5, JLT_REG = 0xad,
  JLE_IMM = 0xb5, JLE_REG = 0xbd, JSLT_IMM = 0xc5, JSLT_REG = 0xcd,
  JSLE_IMM = 0xd5, JSLE_REG = 0xdd,
  CALL = 0x85, EXIT = 0x95,
}

-- load/store opcodes by access size in bytes
M.LDX = { [1] = M.LDXB, [2] = M.LDXH, [4] = M.LDXW, [8] = M.LDXDW }
M.LDXS = { [1] = M.LDXSB, [2] = M.LDXSH, [4] = M.LDXSW, [8] = M.LDXDW }
M.STX = { [1] = M.STXB, [2] = M.STXH, [4] = M.STXW, [8] = M.STXDW }
M.ST = { [1] = M.STB, [2] = M.STH, [4] = M.STW, [8] = M.STDW }

-- conditional jumps by comparison name: {imm form, reg form}
M.JCC = {
  eq = { M.JEQ_IMM, M.JEQ_REG }, ne = { M.JNE_IMM, M.JNE_REG },
  gt = { M.JGT_IMM, M.JGT_REG }, ge = { M.JGE_IMM, M.JGE_REG },
  lt = { M.JLT_IMM, M.JLT_REG }, le = { M.JLE_IMM, M.JLE_REG },
  sgt = { M.JSGT_IMM, M.JSGT_REG }, sge = { M.JSGE_IMM, M.JSGE_REG },
  slt = { M.JSLT_IMM, M.JSLT_REG }, sle = { M.JSLE_IMM, M.JSLE_REG },
  set = { M.JSET_IMM, M.JSET_REG },
}
-- the negation of each comparison
M.NEGATE = { eq = "ne", ne = "eq", gt = "le", le = "gt", ge = "lt", lt = "ge",
  sgt = "sle", sle = "sgt", sge = "slt", slt = "sge" }

-- ALU64 opcodes by operator: {imm form, reg form}
M.ALU = {
  add = { M.ADD64_IMM, M.ADD64_REG }, sub = { M.SUB64_IMM, M.SUB64_REG },
  mul = { M.MUL64_IMM, M.MUL64_REG }, div = { M.DIV64_IMM, M.DIV64_REG },
  ["or"] = { M.OR64_IMM, M.OR64_REG }, ["and"] = { M.AND64_IMM, M.AND64_REG },
  lsh = { M.LSH64_IMM, M.LSH64_REG }, rsh = { M.RSH64_IMM, M.RSH64_REG },
  mod = { M.MOD64_IMM, M.MOD64_REG }, xor = { M.XOR64_IMM, M.XOR64_REG },
  mov = { M.MOV64_IMM, M.MOV64_REG }, arsh = { M.ARSH64_IMM, M.ARSH64_REG },
  sdiv = { M.SDIV64_IMM, M.SDIV64_REG }, smod = { M.SMOD64_IMM, M.SMOD64_REG },
}

M.PSEUDO_MAP_FD = 1
M.PSEUDO_FUNC = 4
M.PSEUDO_CALL = 1

return M
