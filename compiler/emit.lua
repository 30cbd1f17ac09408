-- emit.lua: builds eBPF functions instruction by instruction, with labels,
-- forward jumps patched when their label is placed, and a linker that lays
-- the functions of one program out (main first) and resolves BPF-to-BPF
-- calls and callback addresses. The only place that packs bytes.
--
--   local f = emit.func("name")
--   f:alu("add", R1, R2) / f:alu("add", R1, nil, 5)  (reg or imm form)
--   local l = f:label(); f:jcc("eq", R1, nil, 0, l); ...; f:place(l)
--   emit.link({ main, sub1, ... }) -> insns string, funcs list, lines list
-- Errors (a jump out of int16 range, an imm out of int32 range) are raised as
-- {msg = "...", pos = <source position>} with the position of the statement
-- being compiled (f.pos).

local op = require "bpflua.opcodes"

local string_pack, table_concat, error, setmetatable, ipairs, math_type, table_move, table_unpack =
  string.pack, table.concat, error, setmetatable, ipairs, math.type, table.move, table.unpack

_ENV = nil

local INT32_MIN, INT32_MAX = -0x80000000, 0x7fffffff
local FMT = {}
for n = 1, 64 do FMT[n] = "<" .. ("BBhi"):rep(n) end

local Func = {}
Func.__index = Func

local M = {}

function M.func(name)
  return setmetatable({ name = name, insns = {}, lines = {}, pos = 1, fact = 0, dead = false, epoch = 0 }, Func)
end

local function fail(f, msg)
  error({ msg = msg, pos = f.pos }, 0)
end

-- appends one slot {code, dst, src, off, imm}; returns its index (1-based)
function Func:ins(code, dst, src, off, imm)
  imm = imm or 0
  if self.dead then return nil end
  local n = #self.insns + 1
  if imm < INT32_MIN or imm > INT32_MAX then fail(self, "constant out of 32-bit range") end
  self.insns[n] = { code, dst or 0, src or 0, off or 0, imm or 0 }
  return n
end

function Func:here() return #self.insns end

-- source position of the next instruction
function Func:line(line, col)
  if self.dead then return end
  local at = #self.insns
  local last = self.lines[#self.lines]
  if last and last.insn == at then
    last.line, last.col = line, col
  else
    self.lines[#self.lines + 1] = { insn = at, line = line, col = col }
  end
end

local function fits32(v) return v >= INT32_MIN and v <= INT32_MAX end
M.fits32 = fits32

-- dst = dst <op> src (register form) or dst = dst <op> imm
function Func:alu(name, dst, src, imm)
  local codes = op.ALU[name]
  local off = (name == "sdiv" or name == "smod") and 1 or 0
  if src then return self:ins(codes[2], dst, src, off, 0) end
  return self:ins(codes[1], dst, 0, off, imm)
end

function Func:mov(dst, src)
  if dst ~= src then self:ins(op.MOV64_REG, dst, src, 0, 0) end
end

-- dst = a 64-bit constant (mov or lddw)
function Func:movi(dst, v)
  if fits32(v) then
    self:ins(op.MOV64_IMM, dst, 0, 0, v)
  else
    local lo = v & 0xffffffff
    local hi = (v >> 32) & 0xffffffff
    if lo >= 0x80000000 then lo = lo - 0x100000000 end
    if hi >= 0x80000000 then hi = hi - 0x100000000 end
    self:ins(op.LDDW, dst, 0, 0, lo)
    self:ins(0, 0, 0, 0, hi)
  end
end

function Func:neg(dst) self:ins(op.NEG64, dst, 0, 0, 0) end

-- byte swaps: kind "be" or "le", width 16/32/64 (host is little endian)
function Func:endian(kind, dst, width)
  self:ins(kind == "be" and op.BE or op.LE, dst, 0, 0, width)
end

function Func:ldx(size, dst, src, off, signed)
  local codes = signed and op.LDXS or op.LDX
  self:ins(codes[size], dst, src, off, 0)
end

function Func:stx(size, dst, off, src) self:ins(op.STX[size], dst, src, off, 0) end
function Func:st(size, dst, off, imm) self:ins(op.ST[size], dst, 0, off, imm) end

-- *(u64 *)(dst + off) += src, atomically (BL_OP_LOCK_ADD64)
function Func:atomic_add(dst, off, src) self:ins(op.LOCK_ADD64, dst, src, off, 0) end

-- dst = (u32)dst: zero-extends the low 32 bits
function Func:zext32(dst) self:ins(op.MOV32_REG, dst, dst, 0, 0) end

-- dst = (u32)src
function Func:mov32(dst, src) self:ins(op.MOV32_REG, dst, src, 0, 0) end

function Func:lddw_map(dst, index)
  self:ins(op.LDDW, dst, op.PSEUDO_MAP_FD, 0, index)
  self:ins(0, 0, 0, 0, 0)
end

-- dst = address of function `target` (a Func), resolved by link
function Func:lddw_func(dst, target)
  local n = self:ins(op.LDDW, dst, op.PSEUDO_FUNC, 0, 0)
  if not n then return end
  self:ins(0, 0, 0, 0, 0)
  self.relocs = self.relocs or {}
  self.relocs[#self.relocs + 1] = { at = n, target = target }
end

function Func:call_helper(id) self:ins(op.CALL, 0, 0, 0, id) end

function Func:call_local(target)
  local n = self:ins(op.CALL, 0, op.PSEUDO_CALL, 0, 0)
  if not n then return end
  self.relocs = self.relocs or {}
  self.relocs[#self.relocs + 1] = { at = n, target = target }
end

function Func:exit()
  self:ins(op.EXIT, 0, 0, 0, 0)
  self.dead = true
end

-- inserts instructions (lists {code, dst, src, off, imm}) before slot `at`
-- (1-based); every jump must lie entirely after `at`
function Func:insert(at, list)
  local n = #list
  if n == 0 then return end
  table_move(self.insns, at, #self.insns, at + n)
  for i = 1, n do self.insns[at + i - 1] = list[i] end
  for _, r in ipairs(self.relocs or {}) do if r.at >= at then r.at = r.at + n end end
  for _, li in ipairs(self.lines) do if li.insn >= at - 1 and li.insn > 0 then li.insn = li.insn + n end end
end

-- labels -------------------------------------------------------------------

function Func:label() return { at = nil, refs = {} } end

local function patch(f, at, target)
  local d = target - (at + 1)
  if d < -32768 or d > 32767 then
    fail(f, "control structure too long (a jump over more than 32767 instructions)")
  end
  f.insns[at][4] = d
end

-- Places label l here. Code after an unconditional jump or exit is dead
-- (the kernel rejects unreachable instructions): ins() drops it until a
-- label that some live jump targets is placed. Each label also merges a
-- "fact" (the proven minimum packet length) over its incoming edges: the
-- minimum of the facts at every jump to it and at the fall-through.
-- Every label placed starts a new basic block (f.epoch counts them): codegen
-- trusts a register copy of a variable only within the block it was made in.
-- Returns true if the code here is live.
function Func:place(l)
  if #l.refs == 0 and l.fact == nil then return not self.dead end
  l.at = #self.insns + 1
  -- a new basic block: register copies of memory are no longer known
  self.epoch = self.epoch + 1
  for _, r in ipairs(l.refs) do patch(self, r, l.at) end
  l.refs = {}
  if self.dead then
    self.fact = l.fact or 0
  elseif l.fact and l.fact < self.fact then
    self.fact = l.fact
  end
  self.dead = false
  return true
end

local function jump_to(f, n, l, fact)
  if not n then return end
  if l.at then error({ msg = "internal error: backward jump", pos = f.pos }, 0) end
  l.refs[#l.refs + 1] = n
  fact = fact or f.fact
  if l.fact == nil or fact < l.fact then l.fact = fact end
end

function Func:ja(l)
  local n = self:ins(op.JA, 0, 0, 0, 0)
  jump_to(self, n, l)
  self.dead = true
end

-- if dst <cmp> (src or imm) goto l; `fact` is the fact on the taken edge
function Func:jcc(cmp, dst, src, imm, l, fact)
  local codes = op.JCC[cmp]
  local n
  if src then n = self:ins(codes[2], dst, src, 0, 0) else n = self:ins(codes[1], dst, 0, 0, imm) end
  jump_to(self, n, l, fact)
end

-- linking --------------------------------------------------------------------

-- funcs: main function first. Returns the packed instructions, the funcs[]
-- list {insn, name} and the lines[] list {insn, line, col} (0-based insns).
function M.link(funcs)
  local start = {}
  local total = 0
  for _, f in ipairs(funcs) do
    start[f] = total
    total = total + #f.insns
  end
  local parts, finfo, lines = {}, {}, {}
  for _, f in ipairs(funcs) do
    local base = start[f]
    for _, r in ipairs(f.relocs or {}) do
      local t = start[r.target]
      if not t then error({ msg = "internal error: unlinked function " .. r.target.name, pos = 1 }, 0) end
      f.insns[r.at][5] = t - (base + r.at - 1 + 1)
    end
    finfo[#finfo + 1] = { insn = base, name = f.name }
    for _, li in ipairs(f.lines) do
      if li.insn < #f.insns then
        lines[#lines + 1] = { insn = base + li.insn, line = li.line, col = li.col }
      end
    end
    -- packed 64 instructions per string.pack call
    local ins, count = f.insns, #f.insns
    for first = 1, count, 64 do
      local last = first + 63
      if last > count then last = count end
      local vals, k = {}, 0
      for j = first, last do
        local i = ins[j]
        vals[k + 1], vals[k + 2], vals[k + 3], vals[k + 4] = i[1], (i[3] << 4) | i[2], i[4], i[5]
        k = k + 4
      end
      local n = last - first + 1
      parts[#parts + 1] = string_pack(FMT[n], table_unpack(vals, 1, k))
    end
  end
  return table_concat(parts), finfo, lines, total
end

M.is_int = function(v) return math_type(v) == "integer" end

return M
