-- codegen.lua: the checked AST to eBPF, through emit.lua.
--
-- Each program (and each local function) has one "area" on its stack frame,
-- addressed through R9 (base = R10 - FRAME). Every variable has a slot in
-- the area; loop callbacks receive R9 as their bpf_loop context and keep
-- using it, so variables need no copying in and out of loops (the hottest
-- ones are also kept in registers: "register variables" below). Area layout:
--   +0 status  (0 running, 2 returned a value, 3 fault, 4 returned nothing)
--   +8 return value
--   +16 data, +24 data_end (programs only: packet pointers spilled once)
--   +32 ... variables, loop control, spilled temporaries, helper scratch
-- Registers: R9 area base, R8 the caller's argument block in a local
-- function, R6-R8 register variables and expression temporaries (then area
-- slots), R0-R5 scratch within one operation. See docs/compiler.md for the
-- whole design.

local emit = require "bpflua.emit"
local arith = require "bpflua.arith"
local helpers = require "bpflua.helpers"
local opcodes = require "bpflua.opcodes"

local ipairs, pairs, type, error, math_type, math_max, math_min, setmetatable, tostring, string_byte, table_move,
  table_sort =
  ipairs, pairs, type, error, math.type, math.max, math.min, setmetatable, tostring, string.byte, table.move,
  table.sort

_ENV = nil

local R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10 = 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
local ST_RUN, ST_VALUE, ST_FAULT, ST_NONE = 0, 2, 3, 4
local OFF_STATUS, OFF_RET, OFF_DATA, OFF_END, OFF_FIRST = 0, 8, 16, 24, 32
local OFF_CTX = 32 -- tc programs: the __sk_buff pointer (their variables start at 40)
local MAX_PKT = 0xffff
local MAX_LOOPS = 8388608
local STACK_LIMIT = 512

local G = {}
G.__index = G

local function is_rec(ty) return ty == "rec" or ty == "nilrec" end
local function strip(e)
  while e.tag == "Paren" do e = e[1] end
  return e
end
local function type_is_int(v) return math_type(v) == "integer" end
-- k (an integer) is a power of two, and its exponent
local function is_pow2(k) return k > 0 and (k & (k - 1)) == 0 end
local function log2(k)
  local sh = 0
  while (1 << sh) ~= k do sh = sh + 1 end
  return sh
end

local function cg_error(pos, msg, hint)
  error({ pos = pos, msg = msg, hint = hint }, 0)
end

-- area allocation (LIFO) ------------------------------------------------------

function G:alloc(size)
  local a = self.area
  local off = a.top
  a.top = off + ((size + 7) // 8) * 8
  if a.top > a.max then a.max = a.top end
  return off
end

function G:release(off) self.area.top = off end

-- temporaries -----------------------------------------------------------------

function G:tmp()
  local ts = self.temps
  local n = #ts + 1
  local regs = self.cb.temp_regs
  local t
  if n <= #regs then t = { reg = regs[n] } else t = { slot = self:alloc(8) } end
  ts[n] = t
  return t
end

function G:free(t)
  local ts = self.temps
  if ts[#ts] ~= t then error({ pos = self.f.pos, msg = "internal error: temporaries freed out of order" }, 0) end
  ts[#ts] = nil
  if t.slot then self:release(t.slot) end
end

-- the register holding t (loaded into `scratch` if t is in memory)
function G:treg(t, scratch)
  if t.reg then return t.reg end
  self.f:ldx(8, scratch, R9, t.slot)
  return scratch
end

function G:tset(t, reg)
  if t.reg then self.f:mov(t.reg, reg) else self.f:stx(8, R9, t.slot, reg) end
end

function G:tconst(t, v)
  if t.reg then self.f:movi(t.reg, v)
  else
    self.f:movi(R0, v)
    self.f:stx(8, R9, t.slot, R0)
  end
end

local read_kind = {
  u8 = { 1, nil }, be16 = { 2, "be" }, be32 = { 4, "be" }, be64 = { 8, "be" },
  le16 = { 2, nil }, le32 = { 4, nil }, le64 = { 8, nil },
}

-- register variables ----------------------------------------------------------
--
-- Each eBPF function (a program, a local function, a loop body) keeps its
-- most used integer/boolean variables in callee-saved registers (R6-R8 minus
-- at least one left for temporaries):
--   private  declared in this function and referenced by no other one (no
--            nested loop body sees it): it lives only in its register, its
--            slot is never touched;
--   shared   referenced here and elsewhere (an outer variable, or one a
--            nested loop reads through the area): the slot stays the home and
--            the register is a copy, loaded at most once per basic block
--            (f.epoch, bumped by every placed label and by nested loop
--            calls) and written through to the slot on every assignment.

local alu_ops = { ["+"] = "add", ["-"] = "sub", ["*"] = "mul", ["&"] = "and", ["|"] = "or", ["~"] = "xor" }
local commutative = { ["+"] = true, ["*"] = true, ["&"] = true, ["|"] = true, ["~"] = true }

-- f(x, a, b) for each operand x of expression e (its two sides, a call's
-- arguments), in source order
local function each_operand(e, f, a, b)
  if e.tag == "Table" then
    -- a record constructor's fields
    for _, fld in ipairs(e.fields) do f(fld.value, a, b) end
    return
  end
  f(e[1], a, b)
  f(e[2], a, b)
  if e.args then for _, x in ipairs(e.args) do f(x, a, b) end end
end

-- walk_function(fn node, v): the one walk over a function's statements
-- (those of nested blocks and loop bodies included, in source order), for
-- scan_function and precise_vars: a new statement kind is added here. sc is
-- the scope a statement is in (the function node or the Fornum/Forin node of
-- a loop body). Calls
--   v.eval(list, sc, s)  statement s evaluates the expressions of list
--                        together (list.cond: an if's condition)
--   v.set(s, sc)         an assignment (its targets and values)
--   v.declare(id, sc)    a name declared in scope sc (parameter, local, loop
--                        variable)
local function walk_function(fnnode, v)
  local eval, declare = v.eval, v.declare
  local function block(b, sc)
    for _, s in ipairs(b) do
      local tag = s.tag
      if tag == "Local" then
        eval(s.exprs or {}, sc, s)
        for _, id in ipairs(s.names) do declare(id, sc) end
      elseif tag == "Set" then
        v.set(s, sc)
      elseif tag == "CallStat" then
        eval({ s[1] }, sc, s)
      elseif tag == "If" then
        for i, c in ipairs(s.conds) do eval({ c, cond = true }, sc, s); block(s.blocks[i], sc) end
        if s.else_block then block(s.else_block, sc) end
      elseif tag == "Do" then
        block(s.body, sc)
      elseif tag == "Fornum" then
        eval({ s.start, s.limit, s.step }, sc, s)
        declare(s.var, s)
        block(s.body, s)
      elseif tag == "Forin" then
        eval(s.exprs or {}, sc, s)
        for _, id in ipairs(s.names) do declare(id, s) end
        block(s.body, s)
      elseif tag == "Return" then
        eval({ s[1] }, sc, s) -- at most one value (check.lua)
      end
    end
  end
  for _, p in ipairs(fnnode.params or {}) do declare(p, fnnode) end
  block(fnnode.body, fnnode)
end

-- scan(fn node) -> { refs = {[scope] = {[sym] = uses}}, decl = {[sym] = scope},
-- nscopes = {[sym] = number of scopes referencing it} }; a scope is the
-- function node or the Fornum/Forin node of a loop body
local function scan_function(fnnode)
  local refs, decl, nscopes, exprs, writes = {}, {}, {}, {}, {}
  -- the expressions each scope evaluates (lists evaluated together, as in
  -- the start, limit and step of a for), for the temporaries estimate
  local function evals(sc, list)
    local l = exprs[sc]
    if not l then l = {}; exprs[sc] = l end
    l[#l + 1] = list
  end
  local function use(sc, sym, n)
    local r = refs[sc]
    if not r then r = {}; refs[sc] = r end
    if not r[sym] then nscopes[sym] = (nscopes[sym] or 0) + 1 end
    r[sym] = (r[sym] or 0) + n
  end
  local function expr(e, sc)
    if type(e) ~= "table" then return end
    if e.tag == "Id" then
      if e.sym and e.sym.kind == "var" then use(sc, e.sym, 1) end
      return
    end
    each_operand(e, expr, sc)
  end
  walk_function(fnnode, {
    eval = function(list, sc, s)
      for _, e in ipairs(list) do expr(e, sc) end
      -- a for-in's pairs(m) takes no temporaries (G:forin)
      if s.tag ~= "Forin" then evals(sc, list) end
    end,
    set = function(s, sc)
      local l = {}
      for _, t in ipairs(s.targets) do
        expr(t, sc)
        if t.tag == "Index" and not (#s.targets == 1 and t[2].tag == "Id") then l[#l + 1] = t[2] end
        if t.tag == "Id" and t.sym then writes[t.sym] = (writes[t.sym] or 0) + 1 end
      end
      for _, e in ipairs(s.exprs) do expr(e, sc); l[#l + 1] = e end
      evals(sc, l)
    end,
    declare = function(id, sc)
      if id.sym then decl[id.sym] = sc; use(sc, id.sym, 0) end
    end,
  })
  return { refs = refs, decl = decl, nscopes = nscopes, exprs = exprs, writes = writes }
end

-- about how many temporaries evaluating e needs at once (its result
-- included), following gen_into: a right operand that is a constant, a
-- variable or a packet read with a simple offset needs none
local function simple_shape(e)
  if e.k ~= nil or e.tag == "Id" then return true end
  if e.tag == "Paren" or (e.tag == "Unop" and not e.pktlen and e.op ~= "not") then return simple_shape(e[1]) end
  if e.tag == "Op" and (alu_ops[e.op] or e.op == "<<" or e.op == ">>" or e.op == "//" or e.op == "%") then
    return (e[2].k ~= nil or e[2].tag == "Id") and simple_shape(e[1])
  end
  return false
end

-- Which variables may become "precise" in the kernel verifier (whose exact
-- value it would track through the iterations of a loop callback): every
-- variable read anywhere except as an arithmetic operand (+ - * & | ~,
-- unary - ~, left of a shift by a constant or of // % by a power of two) in
-- the right side of an assignment to itself (`s = s + x`) or, in a program,
-- of a return. The kernel compares, indexes or passes such a value only
-- through the variable itself, so it never needs it exactly; the verifier
-- widens it at the callback's next entry and no launder is needed
-- (see G:launder). Returns {[sym] = true} for the others.
local function precise_vars(fnnode, is_prog)
  local tainted = {}
  local function ex(e, ok, ctx)
    if type(e) ~= "table" or e.k ~= nil then return end
    local tag = e.tag
    if tag == "Id" then
      local sym = e.sym
      if sym and sym.kind == "var" and not (ok and (ctx == true or ctx == sym)) then tainted[sym] = true end
      return
    end
    if tag == "Paren" or (tag == "Unop" and (e.op == "-" or e.op == "~")) then return ex(e[1], ok, ctx) end
    if tag == "Op" then
      local kb = e[2].k
      if alu_ops[e.op] then
        ex(e[1], ok, ctx)
        ex(e[2], ok, ctx)
        return
      elseif math_type(kb) == "integer" and ((e.op == "<<" or e.op == ">>")
          or ((e.op == "//" or e.op == "%") and is_pow2(kb))) then
        return ex(e[1], ok, ctx)
      end
    end
    each_operand(e, ex, false)
  end
  walk_function(fnnode, {
    eval = function(list, _, s)
      local ok = is_prog and s.tag == "Return"
      for _, e in ipairs(list) do ex(e, ok, true) end
    end,
    set = function(s)
      if #s.targets == 1 and #s.exprs == 1 and s.targets[1].tag == "Id" then
        ex(s.exprs[1], true, s.targets[1].sym)
      else
        for _, t in ipairs(s.targets) do if t.tag == "Index" then ex(t[2], false) end end
        for _, e in ipairs(s.exprs) do ex(e, false) end
      end
    end,
    declare = function() end,
  })
  return tainted
end

local function est(e)
  if type(e) ~= "table" or e.k ~= nil then return 1 end
  local tag = e.tag
  if tag == "Paren" or tag == "Unop" then return est(e[1]) end
  if tag == "Op" then
    local a, b = est(e[1]), est(e[2])
    local bt = e[2].tag
    if simple_shape(e[2]) or (bt == "Invoke" and b <= 1) then b = 0 end
    if e.op == "or" then return math_max(est(e[1]), est(e[2])) end
    if e.op == "and" then return math_max(est(e[1]) + 1, est(e[2])) end
    return math_max(a, 1 + b)
  end
  if tag == "Invoke" then
    local o = e.args and e.args[1]
    if not o or simple_shape(o) then return 1 end
    return 1 + est(o)
  end
  if tag == "Index" then return e[2].tag == "Id" and 1 or 1 + est(e[2]) end
  if tag == "Call" then
    local n = 1
    for i, a in ipairs(e.args or {}) do n = math_max(n, i - 1 + est(a)) end
    return n + 1
  end
  return 1
end

-- the same for a condition (jump_if: and/or/not only branch, a comparison
-- needs its operands)
local function est_cond(e)
  if type(e) ~= "table" or e.k ~= nil then return 0 end
  local tag = e.tag
  if tag == "Paren" or (tag == "Unop" and e.op == "not") then return est_cond(e[1]) end
  if tag == "Op" and (e.op == "and" or e.op == "or") then return math_max(est_cond(e[1]), est_cond(e[2])) end
  if tag == "Op" and e.ty == "bool" and e[1].ty ~= "nilint" and e[2].ty ~= "nilint" then
    local a, b = est(e[1]), est(e[2])
    if e[2].k ~= nil and simple_shape(e[1]) then a = 0 end
    if simple_shape(e[2]) then b = 0 end
    return math_max(a, (a > 0 and 1 or 0) + b)
  end
  return est(e)
end

local function demand(list)
  local n = 0
  if list.cond then return est_cond(list[1]) end
  for i, e in ipairs(list) do n = math_max(n, i - 1 + est(e)) end
  return n
end

-- chooses the register variables of the current function (scope: its node)
-- from `pool`; the rest of the pool is left to temporaries
function G:setup_regs(scope, pool)
  local cb = self.cb
  cb.vreg, cb.shared, cb.valid = {}, {}, {}
  local sc = self.scan
  local cands = {}
  for sym, n in pairs(sc.refs[scope] or {}) do
    if (sym.ty == "int" or sym.ty == "bool") and n > 0 then
      local private = sc.decl[sym] == scope and sc.nscopes[sym] == 1
      -- a shared variable gains only from its second read in a block
      -- (uses here minus assignments anywhere: at most its reads here)
      local score = private and n + 1 or n - (sc.writes[sym] or 0) - 1
      if score > 0 then
        cands[#cands + 1] = { sym = sym, score = score, private = private, pos = sym.decl and sym.decl.pos or 0 }
      end
    end
  end
  -- a total order (pairs' order differs from run to run): an inlined
  -- callee's locals share their declaration's position in every copy
  table_sort(cands, function(a, b)
    if a.score ~= b.score then return a.score > b.score end
    if a.pos ~= b.pos then return a.pos < b.pos end
    return a.sym.id < b.sym.id
  end)
  -- leave the temporaries the busiest statement of this function needs
  local need = 1
  for _, l in ipairs(sc.exprs[scope] or {}) do need = math_max(need, demand(l)) end
  -- a private variable is worth a register even if the busiest statement
  -- (maybe a rare branch) then spills a temporary
  if cands[1] and cands[1].private then need = math_min(need, #pool - 1) end
  local nvars = math_max(0, math_min(#cands, #pool - need))
  for i = 1, nvars do
    local c = cands[i]
    cb.vreg[c.sym] = pool[i]
    if c.private then c.sym.private_cb = cb else cb.shared[c.sym] = true end
  end
  local temps = {}
  for i = nvars + 1, #pool do temps[#temps + 1] = pool[i] end
  cb.temp_regs = temps
end

-- the register holding variable sym's current value (loaded from its slot
-- if this block has no copy yet), or nil if sym lives in its slot here
function G:var_reg(sym)
  local cb = self.cb
  local r = cb.vreg and cb.vreg[sym]
  if not r then
    if sym.private_cb and sym.private_cb ~= cb then
      error({ pos = self.f.pos, msg = "internal error: register variable '" .. tostring(sym.name)
        .. "' used in another function" }, 0)
    end
    return nil
  end
  if cb.shared[sym] and cb.valid[sym] ~= self.f.epoch then
    self.f:ldx(8, r, R9, sym.slot)
    cb.valid[sym] = self.f.epoch
  end
  return r
end

-- the register of e if e is a variable kept in a register here, else nil
function G:reg_of(e)
  while e.tag == "Paren" do e = e[1] end
  if e.tag == "Id" and e.k == nil and e.sym and e.sym.kind == "var" and self.cb.vreg and self.cb.vreg[e.sym] then
    return self:var_reg(e.sym)
  end
  return nil
end

-- has a register here (without loading it)
function G:has_reg(e)
  while e.tag == "Paren" do e = e[1] end
  return e.tag == "Id" and e.k == nil and e.sym and e.sym.kind == "var" and self.cb.vreg
    and self.cb.vreg[e.sym] or nil
end

-- after sym's register got its new value: write it through to the slot
-- (shared variables) and launder
function G:commit_var(sym)
  local cb = self.cb
  if cb.shared[sym] then
    self.f:stx(8, R9, sym.slot, cb.vreg[sym])
    cb.valid[sym] = self.f.epoch
  end
  self:launder(sym)
end

-- sym := register reg (int/bool variables)
function G:write_var(sym, reg)
  local cb = self.cb
  local vr = cb.vreg and cb.vreg[sym]
  if vr then
    self.f:mov(vr, reg)
    if cb.shared[sym] then
      self.f:stx(8, R9, sym.slot, vr)
      cb.valid[sym] = self.f.epoch
    end
  else
    if sym.private_cb and sym.private_cb ~= cb then
      error({ pos = self.f.pos, msg = "internal error: register variable '" .. tostring(sym.name)
        .. "' written in another function" }, 0)
    end
    self.f:stx(8, R9, sym.slot, reg)
  end
end

local function mentions(e, sym)
  if type(e) ~= "table" then return false end
  if e.tag == "Id" then return e.sym == sym end
  if e.tag == "Table" then
    for _, fld in ipairs(e.fields) do if mentions(fld.value, sym) then return true end end
    return false
  end
  if mentions(e[1], sym) or mentions(e[2], sym) then return true end
  if e.args then for _, a in ipairs(e.args) do if mentions(a, sym) then return true end end end
  return false
end

-- can e be evaluated straight into sym's register? gen_into evaluates the
-- left operand of an arithmetic operator into the destination first, so sym
-- may appear only as the leftmost operand chain
local function safe_target(e, sym)
  if e.k ~= nil then return true end
  local tag = e.tag
  if tag == "Id" then return true end
  if tag == "Paren" or (tag == "Unop" and (e.op == "-" or e.op == "~")) then return safe_target(e[1], sym) end
  if tag == "Op" and (alu_ops[e.op] or e.op == "//" or e.op == "%" or e.op == "<<" or e.op == ">>") then
    return safe_target(e[1], sym) and not mentions(e[2], sym)
  end
  return not mentions(e, sym)
end

-- e can be evaluated by gen_into(e, {reg = r}) using register r only (and
-- R5 for a right operand that is a variable in the area; no temporaries, no
-- calls, no labels)
function G:simple(e)
  if e.k ~= nil then return math_type(e.k) == "integer" or type(e.k) == "boolean" end
  local tag = e.tag
  if tag == "Paren" then return self:simple(e[1]) end
  if tag == "Id" then
    return e.sym and e.sym.kind == "var" and (e.sym.ty == "int" or e.sym.ty == "bool")
  end
  if tag == "Unop" then return (e.op == "-" or e.op == "~") and not e.pktlen and self:simple(e[1]) end
  if tag == "Op" and e.ty == "int" then
    local kb = e[2].k
    local kint = math_type(kb) == "integer"
    if alu_ops[e.op] then
      local b = e[2]
      while b.tag == "Paren" do b = b[1] end
      local var = b.tag == "Id" and b.k == nil and b.sym and b.sym.kind == "var"
        and (b.sym.ty == "int" or b.sym.ty == "bool")
      if not ((kint and emit.fits32(kb)) or var) then return false end
    elseif e.op == "<<" or e.op == ">>" then
      if not kint then return false end
    elseif e.op == "//" or e.op == "%" then
      if not (kint and emit.fits32(kb) and (kb == -1 or is_pow2(kb))) then return false end
    else
      return false
    end
    return self:simple(e[1])
  end
  return false
end

-- dst = dst <op> k, with multiplications by powers of two as shifts
function G:alu_imm(name, dst, k)
  local f = self.f
  if name == "mul" then
    if k == 1 then return end
    if is_pow2(k) then
      f:alu("lsh", dst, nil, log2(k))
      return
    end
  elseif (name == "add" or name == "sub" or name == "or" or name == "xor") and k == 0 then
    return
  end
  f:alu(name, dst, nil, k)
end

-- the right operand b of a binary operation, evaluated as late as possible:
-- returns its register and a temporary to free (or nil). The register may
-- be the scratch R0, R2 or (when the destination is R2, inside a simple
-- expression, where b is a variable) R5: use it at once.
function G:operand(b, avoid)
  local vr = self:reg_of(b)
  if vr then return vr end
  if self:simple(b) then
    local r = avoid == R2 and R5 or R2
    self:gen_into(b, { reg = r })
    return r
  end
  local bb = b
  while bb.tag == "Paren" do bb = bb[1] end
  if bb.k == nil and bb.tag == "Invoke" and read_kind[bb.method] then
    self:pkt_read(bb, { reg = R0 })
    return R0
  end
  local tb = self:gen(b)
  return self:treg(tb, R2), tb
end

-- faults and exits ------------------------------------------------------------

function G:fault()
  self.f:ja(self.cb.fault)
end

-- A loop callback returns by falling off its end (r0 = 0: next iteration)
-- or through one shared exit (r0 = 1: stop); both first zero the area
-- slots the callback used as scratch (G:callback). The kernel goes back to
-- the bpf_loop call after every iteration and compares the caller's state,
-- area included, with the states it saw there: scratch values left by the
-- last iteration (constants that differ per path) keep that state from
-- ever matching, and the kernel walks the callback again and again.
function G:cb_exit1()
  local cb = self.cb
  cb.ret1 = cb.ret1 or self.f:label()
  self.f:ja(cb.ret1)
end

-- a program's verdict when it returns nothing, and when it faults
function G:default_verdict() return self.is_tc and 0 or 2 end   -- tc.OK, xdp.PASS
function G:fault_verdict() return self.is_tc and 2 or 0 end     -- tc.SHOT, xdp.ABORTED

-- emits the shared exit paths of the current function (at its end)
function G:finish_callback_or_main()
  local f, cb = self.f, self.cb
  if f:place(cb.fault) then
    if cb.kind == "main" then
      if self.fctx.is_prog then f:movi(R0, self:fault_verdict()) else f:movi(R0, ST_FAULT) end
      f:exit()
    else
      f:st(8, R9, OFF_STATUS, ST_FAULT)
      self:cb_exit1()
    end
  end
  if cb.brk and f:place(cb.brk) then
    self:cb_exit1()
  end
  if cb.propagate and f:place(cb.propagate) then
    -- a loop ended with status ~= 0 (R1 holds it)
    if cb.kind ~= "main" then
      self:cb_exit1()
    elseif self.fctx.is_prog then
      local none = f:label()
      f:jcc("eq", R1, nil, ST_NONE, none)
      local flt = f:label()
      f:jcc("eq", R1, nil, ST_FAULT, flt)
      f:ldx(8, R0, R9, OFF_RET)
      f:exit()
      f:place(none)
      f:movi(R0, self:default_verdict())
      f:exit()
      f:place(flt)
      f:movi(R0, self:fault_verdict())
      f:exit()
    else
      local other = f:label()
      f:jcc("ne", R1, nil, ST_VALUE, other)
      f:ldx(8, R0, R9, OFF_RET)
      f:stx(8, R8, 0, R0)
      f:place(other)
      f:mov(R0, R1)
      f:exit()
    end
  end
end

-- packet ----------------------------------------------------------------------

-- R1 = data, R2 = data_end
function G:pkt_ptrs()
  self.f:ldx(8, R1, R9, OFF_DATA)
  self.f:ldx(8, R2, R9, OFF_END)
end

-- leaves in R1 a packet pointer valid for `size` bytes at offset expression
-- `off`; faults otherwise
function G:pkt_addr(off_e, size)
  local f = self.f
  local k = off_e.k
  if math_type(k) == "integer" then
    if k < 0 or k > MAX_PKT - size then
      self:fault()
      f:ldx(8, R1, R9, OFF_DATA)
      return 0
    end
    if k + size <= f.fact then
      f:ldx(8, R1, R9, OFF_DATA)
      return k
    end
    self:pkt_ptrs()
    f:mov(R3, R1)
    f:alu("add", R3, nil, k + size)
    f:jcc("gt", R3, R2, nil, self.cb.fault)
    if k + size > f.fact then f.fact = k + size end
    return k
  end
  local t
  local r = self:reg_of(off_e)
  if not r then
    if self:simple(off_e) then
      self:gen_into(off_e, { reg = R3 })
      r = R3
    else
      t = self:gen(off_e)
      r = self:treg(t, R3)
    end
  end
  f:jcc("gt", r, nil, MAX_PKT - 8, self.cb.fault)
  self:pkt_ptrs()
  f:alu("add", R1, r)
  f:mov(R3, R1)
  f:alu("add", R3, nil, size)
  f:jcc("gt", R3, R2, nil, self.cb.fault)
  if t then self:free(t) end
  return 0
end

function G:pkt_read(e, t)
  local kind = read_kind[e.method]
  local size = kind[1]
  local off = self:pkt_addr(e.args[1], size)
  local f = self.f
  local r = t.reg or R0
  f:ldx(size, r, R1, off)
  if kind[2] then f:endian("be", r, size * 8) end
  self:tset(t, r)
end

function G:pkt_write(e)
  local m = e.method:sub(5)
  local kind = read_kind[m]
  local size = kind[1]
  local tv = self:gen(e.args[2])
  local off = self:pkt_addr(e.args[1], size)
  local f = self.f
  local r = self:treg(tv, R4)
  f:mov(R4, r)
  if kind[2] then f:endian("be", R4, size * 8) end
  f:stx(size, R1, off, R4)
  self:free(tv)
end

-- #pkt compared with a constant: "len < M" as a packet pointer comparison the
-- kernel understands (data + M > data_end), which also proves the range
local function pktlen_cmp(e)
  local a, b, op = e[1], e[2], e.op
  local flip = { ["<"] = ">", [">"] = "<", ["<="] = ">=", [">="] = "<=" }
  if not flip[op] then return nil end
  if b.tag == "Unop" and b.pktlen and math_type(a.k) == "integer" then
    a, b, op = b, a, flip[op]
  end
  if not (a.tag == "Unop" and a.pktlen and math_type(b.k) == "integer") then return nil end
  local n = b.k
  -- len < M, negated or not
  local m, when_lt
  if op == "<" then m, when_lt = n, true
  elseif op == ">=" then m, when_lt = n, false
  elseif op == "<=" then m, when_lt = n + 1, true
  else m, when_lt = n + 1, false end
  if n == arith.MAXINT or m < 0 or m > MAX_PKT then return nil end
  return m, when_lt
end

-- conditions ------------------------------------------------------------------

-- jumps to l if truth(e) == sense, falls through otherwise
function G:jump_if(e, sense, l)
  local f = self.f
  if e.k ~= nil then
    if (e.k ~= false) == sense then f:ja(l) end
    return
  end
  local tag = e.tag
  if tag == "Paren" then return self:jump_if(e[1], sense, l) end
  if tag == "Unop" and e.op == "not" then return self:jump_if(e[1], not sense, l) end
  if tag == "Op" and (e.op == "and" or e.op == "or") then
    if (e.op == "and") == sense then
      -- (a and b) true / (a or b) false: both must hold
      local skip = f:label()
      self:jump_if(e[1], not sense, skip)
      self:jump_if(e[2], sense, l)
      f:place(skip)
    else
      self:jump_if(e[1], sense, l)
      self:jump_if(e[2], sense, l)
    end
    return
  end
  if is_rec(e.ty) then
    -- a record is true; a nil-able reference when present
    local x = strip(e)
    if x.tag == "Index" then
      self:map_lookup_ptr(x)
      f:jcc(sense and "ne" or "eq", R0, nil, 0, l)
    elseif x.tag == "Id" and x.sym.rclass ~= "own" and x.sym.rclass ~= "shared" then
      if sense then
        local skip = f:label()
        self:rec_var_present(x.sym, skip)
        f:ja(l)
        f:place(skip)
      else
        self:rec_var_present(x.sym, l)
      end
    elseif sense then
      f:ja(l)
    end
    return
  end
  if tag == "Op" and e.ty == "bool" and (e.op == "==" or e.op == "~=")
    and (is_rec(e[1].ty) or is_rec(e[2].ty)) then
    local x = is_rec(e[1].ty) and e[1] or e[2]
    return self:jump_if(x, (e.op == "~=") == sense, l)
  end
  if tag == "Op" and e.ty == "bool" and (e.op == "==" or e.op == "~=") then
    local ta, tb = e[1].ty, e[2].ty
    if e.k_sidefx or ta == "nilint" or tb == "nilint" then
      local x = (ta == "nil") and e[2] or e[1]
      if e.k_sidefx then
        local t = self:gen(x)
        self:free(t)
        -- int/bool == nil is false
        if (e.op == "~=") == sense then f:ja(l) end
        return
      end
      -- present == (x ~= nil)
      local want_present = (e.op == "~=") == sense
      if want_present then
        local skip = f:label()
        local t = self:gen_opt(x, skip)
        self:free(t)
        f:ja(l)
        f:place(skip)
      else
        local t = self:gen_opt(x, l)
        self:free(t)
      end
      return
    end
  end
  if tag == "Op" and e.ty == "bool" and ({ ["=="] = 1, ["~="] = 1, ["<"] = 1, ["<="] = 1, [">"] = 1, [">="] = 1 })[e.op] then
    local m, when_lt = pktlen_cmp(e)
    if m then
      -- R1 = data + m; "len < m" is R1 > data_end
      self:pkt_ptrs()
      f:alu("add", R1, nil, m)
      local jump_when_lt = (when_lt == sense)
      local lt_fact = f.fact
      local ge_fact = math_max(f.fact, m)
      if jump_when_lt then
        f:jcc("gt", R1, R2, nil, l, lt_fact)
        f.fact = ge_fact
      else
        f:jcc("le", R1, R2, nil, l, ge_fact)
        f.fact = lt_fact
      end
      return
    end
    local cmp = ({ ["=="] = "eq", ["~="] = "ne", ["<"] = "slt", ["<="] = "sle", [">"] = "sgt", [">="] = "sge" })[e.op]
    if not sense then cmp = ({ eq = "ne", ne = "eq", slt = "sge", sle = "sgt", sgt = "sle", sge = "slt" })[cmp] end
    local kb = e[2].k
    if kb == true then kb = 1 elseif kb == false then kb = 0 end
    local kimm = math_type(kb) == "integer" and emit.fits32(kb)
    local ta
    local ra = self:reg_of(e[1])
    if not ra and kimm and self:simple(e[1]) then
      self:gen_into(e[1], { reg = R1 })
      ra = R1
    elseif not ra then
      ta = self:gen(e[1])
    end
    if kimm then
      ra = ra or self:treg(ta, R1)
      f:jcc(cmp, ra, nil, kb, l)
    else
      local rb, tb = self:operand(e[2])
      ra = ra or self:treg(ta, R1)
      f:jcc(cmp, ra, rb, nil, l)
      if tb then self:free(tb) end
    end
    if ta then self:free(ta) end
    return
  end
  local ty = e.ty
  if ty == "nilint" or ty == "falseint" or ty == "nil" then
    if sense then
      local skip = f:label()
      local t = self:gen_opt(e, skip)
      self:free(t)
      f:ja(l)
      f:place(skip)
    else
      local t = self:gen_opt(e, l)
      self:free(t)
    end
    return
  end
  if ty == "int" then
    -- integers are always true (evaluated for their faults)
    local t = self:gen(e)
    self:free(t)
    if sense then f:ja(l) end
    return
  end
  -- a boolean value
  local vr = self:reg_of(e)
  if vr then
    f:jcc(sense and "ne" or "eq", vr, nil, 0, l)
    return
  end
  local t = self:gen(e)
  local r = self:treg(t, R1)
  f:jcc(sense and "ne" or "eq", r, nil, 0, l)
  self:free(t)
end

local plain_cmp -- (below, with gen_cmp_value)

-- values ------------------------------------------------------------------------

-- evaluates an int or bool expression into a new temporary
function G:gen(e)
  local t = self:tmp()
  self:gen_into(e, t)
  return t
end

function G:gen_into(e, t)
  local f = self.f
  local k = e.k
  if k ~= nil then
    if k == true then k = 1 elseif k == false then k = 0 end
    self:tconst(t, k)
    return
  end
  local tag = e.tag
  if tag == "Paren" then return self:gen_into(e[1], t) end
  if e.ty == "bool" and (tag == "Op" or tag == "Unop") then
    if self:gen_cmp_value(e, t) then return end
    local no, done = f:label(), f:label()
    self:jump_if(e, false, no)
    self:tconst(t, 1)
    f:ja(done)
    f:place(no)
    self:tconst(t, 0)
    f:place(done)
    return
  end
  if tag == "Id" then
    local sym = e.sym
    local vr = self:var_reg(sym)
    if vr then
      self:tset(t, vr)
    elseif t.reg then
      f:ldx(8, t.reg, R9, sym.slot)
    else
      f:ldx(8, R0, R9, sym.slot)
      self:tset(t, R0)
    end
  elseif tag == "Unop" then
    if e.pktlen then
      self:pkt_ptrs()
      f:alu("sub", R2, R1)
      self:tset(t, R2)
      return
    end
    self:gen_into(e[1], t)
    local r = self:treg(t, R1)
    if e.op == "-" then f:neg(r) else f:alu("xor", r, nil, -1) end
    self:tset(t, r)
  elseif tag == "Op" then
    local op = e.op
    if op == "or" or op == "and" then
      return self:gen_logic_int(e, t)
    end
    local b = e[2]
    local kb = b.k
    local kimm = math_type(kb) == "integer" and emit.fits32(kb)
    local ar = alu_ops[op] and commutative[op] and not kimm and self:has_reg(e[1])
    if ar and ar ~= t.reg and not self:has_reg(b) then
      -- a register variable op something complex: evaluate that into the
      -- destination first, saving a temporary
      self:gen_into(b, t)
      local ra = self:treg(t, R1)
      f:alu(alu_ops[op], ra, self:reg_of(e[1]))
      self:tset(t, ra)
      return
    end
    self:gen_into(e[1], t)
    if alu_ops[op] then
      local ra
      if kimm then
        ra = self:treg(t, R1)
        self:alu_imm(alu_ops[op], ra, kb)
      else
        local rb, tb = self:operand(b, t.reg)
        ra = self:treg(t, R1)
        f:alu(alu_ops[op], ra, rb)
        if tb then self:free(tb) end
      end
      self:tset(t, ra)
    elseif op == "//" or op == "%" then
      self:gen_divmod(op, t, b)
    elseif op == "<<" or op == ">>" then
      self:gen_shift(op, t, b)
    else
      cg_error(e.pos, "internal error: operator " .. op)
    end
  elseif tag == "Invoke" then
    self:pkt_read(e, t)
  elseif tag == "Call" then
    self:gen_call(e, t, nil)
  elseif tag == "Index" and e.field then
    self:field_read(e, t)
  elseif tag == "Index" and e.skb then
    self:skb_read(e, t)
  elseif tag == "Index" then
    -- an int-typed index cannot happen (lookups are nil-able)
    cg_error(e.pos, "internal error: map lookup used as an integer")
  else
    cg_error(e.pos, "internal error: cannot generate " .. tostring(tag))
  end
end

-- A comparison of integers (or booleans), or `not` of one, as the value 0
-- or 1 computed without a branch. A branch would give the kernel verifier
-- two paths with different constants in t; a test of t later decides its
-- branch, which makes t precise, and those paths never merge again: inside
-- a loop body every boolean local doubled the kernel's work (tests/lang/
-- budget.lua). Computed, t is just a scalar in [0, 1]. Returns false when
-- e is not of that form.
local cmp_ops = { ["<"] = true, ["<="] = true, [">"] = true, [">="] = true, ["=="] = true, ["~="] = true }
function plain_cmp(e)
  while e.tag == "Paren" do e = e[1] end
  if e.tag == "Unop" and e.op == "not" then
    local c = plain_cmp(e[1])
    return c and { cmp = c.cmp, negate = not c.negate }
  end
  if e.tag ~= "Op" or not cmp_ops[e.op] or e.k_sidefx or e.k ~= nil then return nil end
  local ta, tb = e[1].ty, e[2].ty
  if not ((ta == "int" and tb == "int") or (ta == "bool" and tb == "bool")) then return nil end
  if pktlen_cmp(e) then return nil end -- jump_if proves the packet length from it
  return { cmp = e, negate = false }
end

function G:gen_cmp_value(e, t)
  local c = plain_cmp(e)
  if not c then return false end
  local f = self.f
  local cmp = c.cmp
  local op = cmp.op
  self:gen_into(cmp[1], t)
  local rb, tb = self:operand(cmp[2], t.reg)
  local ra = self:treg(t, R1)
  -- three scratch registers that hold neither operand
  local sc = {}
  for _, r in ipairs({ R3, R4, R5, R0 }) do
    if r ~= ra and r ~= rb and #sc < 3 then sc[#sc + 1] = r end
  end
  local d, u, w = sc[1], sc[2], sc[3]
  local negate = c.negate
  if op == "==" or op == "~=" then
    -- x ~= y is the top bit of (d | -d) with d = x ~ y
    f:mov(d, ra)
    f:alu("xor", d, rb)
    f:mov(u, d)
    f:neg(u)
    f:alu("or", d, u)
    f:alu("rsh", d, nil, 63)
    if op == "==" then negate = not negate end
  else
    -- x < y (signed) is the top bit of d ~ ((x ~ y) & (d ~ x)), d = x - y
    -- (Hacker's Delight 2-12); > and <= swap the operands, <= and >= negate
    local x, y = ra, rb
    if op == ">" or op == "<=" then x, y = rb, ra end
    if op == "<=" or op == ">=" then negate = not negate end
    f:mov(d, x)
    f:alu("sub", d, y)
    f:mov(u, x)
    f:alu("xor", u, y)
    f:mov(w, d)
    f:alu("xor", w, x)
    f:alu("and", u, w)
    f:alu("xor", d, u)
    f:alu("rsh", d, nil, 63)
  end
  if negate then f:alu("xor", d, nil, 1) end
  if tb then self:free(tb) end
  self:tset(t, d)
  return true
end

-- `a or b` / `a and b` whose result is an integer
function G:gen_logic_int(e, t)
  local f = self.f
  local a, b = e[1], e[2]
  if e.op == "or" then
    if a.ty == "int" then return self:gen_into(a, t) end
    local other, done = f:label(), f:label()
    self:gen_opt(a, other, t)
    f:ja(done)
    f:place(other)
    self:gen_into(b, t)
    f:place(done)
  else
    -- a is an integer or a record (always true): the result is b
    if not is_rec(a.ty) then
      local ta = self:gen(a)
      self:free(ta)
    end
    self:gen_into(b, t)
  end
end

-- evaluates a nil-able expression: the value in a new temporary (or in
-- `into`, which the caller then owns), or a jump to `absent` when it is nil
-- (or false); nothing is written to `into` on the way to `absent`
function G:gen_opt(e, absent, into)
  local f = self.f
  local ty = e.ty
  if ty == "int" then
    if into then self:gen_into(e, into); return into end
    return self:gen(e)
  end
  local t = into or self:tmp()
  local tag = e.tag
  if e.k == false then
    f:ja(absent)
    return t
  elseif math_type(e.k) == "integer" then
    self:tconst(t, e.k)
    return t
  end
  if ty == "nil" or tag == "Nil" then
    f:ja(absent)
    return t
  end
  if tag == "Paren" then
    if not into then self:free(t) end
    return self:gen_opt(e[1], absent, into)
  end
  if tag == "Id" then
    local sym = e.sym
    f:ldx(8, R0, R9, sym.slot + 8)
    f:jcc("eq", R0, nil, 0, absent)
    f:ldx(8, R0, R9, sym.slot)
    self:tset(t, R0)
  elseif tag == "Index" then
    self:map_lookup(e, t, absent)
  elseif tag == "Call" then
    self:gen_call(e, t, absent)
  elseif tag == "Op" and e.op == "or" then
    local other, done = f:label(), f:label()
    self:gen_opt(e[1], other, t)
    f:ja(done)
    f:place(other)
    self:gen_opt(e[2], absent, t)
    f:place(done)
  elseif tag == "Op" and e.op == "and" then
    local a = e[1]
    if is_rec(a.ty) or a.ty == "bool" then
      self:jump_if(a, false, absent)
    elseif a.ty == "int" then
      local ta = self:gen(a)
      self:free(ta)
    else
      local ta = self:gen_opt(a, absent)
      self:free(ta)
    end
    self:gen_opt(e[2], absent, t)
  else
    cg_error(e.pos, "internal error: nil-able " .. tostring(tag))
  end
  return t
end

function G:gen_divmod(op, t, b)
  local f = self.f
  local kb = b.k
  if math_type(kb) == "integer" and kb ~= 0 and emit.fits32(kb) then
    local ra = self:treg(t, R1)
    if kb == -1 then
      if op == "//" then f:neg(ra) else f:movi(ra, 0) end
      self:tset(t, ra)
      return
    end
    if is_pow2(kb) then
      if op == "//" then
        local sh = log2(kb)
        if sh > 0 then f:alu("arsh", ra, nil, sh) end
      else
        f:alu("and", ra, nil, kb - 1)
      end
      self:tset(t, ra)
      return
    end
  end
  local rb, tb = self:operand(b)
  if rb == R0 then f:mov(R2, R0); rb = R2 end
  local ra = self:treg(t, R1)
  if ra == R0 then f:mov(R1, R0); ra = R1 end -- R0 is the result
  if not (math_type(kb) == "integer" and kb ~= 0) then
    f:jcc("eq", rb, nil, 0, self.cb.fault)
  end
  -- Lua's floor division from the truncating sdiv/smod: when the
  -- remainder r is nonzero and its sign differs from the divisor's, q - 1
  -- and r + b. Computed without a branch (a mask of all ones when the
  -- correction applies): branches here would give the kernel verifier
  -- paths that never merge in a loop body (see gen_cmp_value).
  if op == "//" then
    f:mov(R0, ra)
    f:alu("sdiv", R0, rb)
    f:mov(R5, ra)
    f:alu("smod", R5, rb)
  else
    f:mov(R0, ra)
    f:alu("smod", R0, rb)
    f:mov(R5, R0)
  end
  -- R3 = r ~= 0 and -1 or 0
  f:mov(R3, R5)
  f:neg(R3)
  f:alu("or", R3, R5)
  f:alu("arsh", R3, nil, 63)
  -- R5 = the correction mask
  f:alu("xor", R5, rb)
  f:alu("arsh", R5, nil, 63)
  f:alu("and", R5, R3)
  if op == "//" then
    f:alu("add", R0, R5)
  else
    f:alu("and", R5, rb)
    f:alu("add", R0, R5)
  end
  self:tset(t, R0)
  if tb then self:free(tb) end
end

function G:gen_shift(op, t, b)
  local f = self.f
  local kb = b.k
  local left, right = "lsh", "rsh"
  if op == ">>" then left, right = "rsh", "lsh" end
  if math_type(kb) == "integer" then
    local ra = self:treg(t, R1)
    if kb == arith.MININT then kb = -64 end
    if kb >= 64 or kb <= -64 then
      f:movi(ra, 0)
    elseif kb > 0 then
      f:alu(left, ra, nil, kb)
    elseif kb < 0 then
      f:alu(right, ra, nil, -kb)
    end
    self:tset(t, ra)
    return
  end
  local rb, tb = self:operand(b)
  if rb == R0 then f:mov(R2, R0); rb = R2 end
  local ra = self:treg(t, R1)
  if ra == R0 then f:mov(R1, R0); ra = R1 end -- R0 is the result
  -- Lua's shift (a negative count shifts the other way, |n| >= 64 gives
  -- 0) without a branch, from the masked eBPF shifts (count & 63): R3 = n <
  -- 0 and -1 or 0 selects between x <left< n and x <right< -n, and a mask
  -- clears the result when |n| > 63. Branches would give the kernel four
  -- paths that never merge in a loop body (see gen_cmp_value).
  f:mov(R3, rb)
  f:alu("arsh", R3, nil, 63)
  f:mov(R0, ra)
  f:alu(left, R0, rb)
  f:mov(R4, rb)
  f:neg(R4)
  f:mov(R5, ra)
  f:alu(right, R5, R4)
  f:alu("xor", R5, R0)
  f:alu("and", R5, R3)
  f:alu("xor", R0, R5)
  -- R4 = |n| >> 6 (minint stays negative: nonzero), then 0 if nonzero
  -- else all ones
  f:mov(R4, rb)
  f:alu("xor", R4, R3)
  f:alu("sub", R4, R3)
  f:alu("rsh", R4, nil, 6)
  f:mov(R5, R4)
  f:neg(R5)
  f:alu("or", R4, R5)
  f:alu("arsh", R4, nil, 63)
  f:alu("xor", R4, nil, -1)
  f:alu("and", R0, R4)
  self:tset(t, R0)
  if tb then self:free(tb) end
end

-- maps ------------------------------------------------------------------------

-- stores the key expression (truncated to the key type) into a new scratch
-- slot; returns the slot
-- Scratch slots are always written whole (8 bytes, the value truncated in a
-- register first): a partial write would leave a slot the verifiers cannot
-- treat as one scalar across loop iterations.
function G:store_truncated(slot, r, size)
  local f = self.f
  if size == 4 then
    f:mov32(R5, r)
    r = R5
  elseif size < 8 then
    f:mov(R5, r)
    f:alu("and", R5, nil, (1 << (size * 8)) - 1)
    r = R5
  end
  f:stx(8, R9, slot, r)
end

function G:map_key(m, key_e, tk)
  local slot = self:alloc(8)
  local r = self:treg(tk, R1)
  self:store_truncated(slot, r, m.key_size)
  return slot
end

function G:map_lookup(e, t, absent)
  local f = self.f
  local m = e.map
  if m.key_rec or m.kind == "lpm" then
    self:map_lookup_ptr(e)
    f:jcc("eq", R0, nil, 0, absent)
    local r = t.reg or R1
    f:ldx(m.value_size, r, R0, 0, m.value_signed and m.value_size < 8)
    self:tset(t, r)
    return
  end
  local vr = self:reg_of(e[2])
  local tk = vr and { reg = vr } or self:gen(e[2])
  local slot = self:map_key(m, e[2], tk)
  f:lddw_map(R1, m.index)
  f:mov(R2, R9)
  f:alu("add", R2, nil, slot)
  f:call_helper(helpers.map_lookup_elem.id)
  self:release(slot)
  if not vr then self:free(tk) end
  f:jcc("eq", R0, nil, 0, absent)
  local r = t.reg or R1
  f:ldx(m.value_size, r, R0, 0, m.value_signed and m.value_size < 8)
  -- R0 was the value pointer; on the absent path it is 0: make it 0 here
  -- too, or the kernel cannot merge the two paths after `m[k] or x`
  f:movi(R0, 0)
  self:tset(t, r)
end

-- m[k] = value; `v` is an evaluated value (see eval_value)
function G:map_store(target, tk, v)
  local f = self.f
  local m = target.map
  -- the key: an area slot holding the integer key, or (record keys) the
  -- record's address in tk; set_key puts its address in R2
  local function key()
    if m.key_rec then return nil end
    return self:map_key(m, target[2], tk)
  end
  local function set_key(kslot)
    if kslot then
      f:mov(R2, R9)
      f:alu("add", R2, nil, kslot)
    else
      self:operand_reg(tk, R2)
    end
  end
  local function update()
    local kslot = key()
    local vslot
    if not v.op then
      vslot = self:alloc(8)
      local r = self:treg(v.t, R1)
      self:store_truncated(vslot, r, m.value_size)
    end
    f:lddw_map(R1, m.index)
    set_key(kslot)
    if vslot then
      f:mov(R3, R9)
      f:alu("add", R3, nil, vslot)
    else
      self:operand_reg(v.op, R3)
    end
    f:movi(R4, 0)
    f:call_helper(helpers.map_update_elem.id)
    if kslot then self:release(kslot) elseif vslot then self:release(vslot) end
  end
  local function delete()
    if m.type == 2 or m.type == 6 then return end -- array entries cannot be deleted
    local kslot = key()
    f:lddw_map(R1, m.index)
    set_key(kslot)
    f:call_helper(helpers.map_delete_elem.id)
    if kslot then self:release(kslot) end
  end
  if v.isnil then
    delete()
  elseif v.flag then
    local gone, done = f:label(), f:label()
    local r = self:treg(v.flag, R1)
    f:jcc("eq", r, nil, 0, gone)
    update()
    f:ja(done)
    f:place(gone)
    delete()
    f:place(done)
  else
    update()
  end
end

-- records ---------------------------------------------------------------------
--
-- Where a record lives (rec_classes, per variable):
--   own    only ever made by constructors (or other own records): a buffer
--          of the record's size in the area ("home"), its address R9 + home
--   ref    only ever a map value (a lookup, a pairs key or value): the
--          address in the variable's 8-byte slot, 0 for nil
--   mixed  both (`m[k] or R { ... }`): slot = map address, slot + 8 = 1
--          when the record is the home buffer instead, both 0 for nil
-- A loop body may not spill an address of the stack into its caller's
-- frame (the kernel refuses it), so stack records are never stored as
-- addresses: they are always R9 + a constant. A constructor used directly
-- (a key, a stored value, an event) fills a scratch buffer of the
-- statement. Every dereference of a map address is preceded by a null
-- test to the fault path (the checker proved it present; the test is for
-- the verifiers).

-- the class of each record variable of a function
local function rec_classes(fnnode, recvars)
  local assigns = {}
  for _, sym in ipairs(recvars or {}) do assigns[sym] = {} end
  local function add(sym, e) if assigns[sym] and e then local l = assigns[sym]; l[#l + 1] = e end end
  walk_function(fnnode, {
    eval = function(_, _, s)
      if s.tag == "Local" then
        for i, id in ipairs(s.names) do
          local e = (s.exprs or {})[i]
          -- `local s = nil` is `local s`
          if not (e and strip(e).tag == "Nil") then add(id.sym, e) end
        end
      end
    end,
    set = function(s)
      for i, t in ipairs(s.targets) do if t.rec_target then add(t.sym, s.exprs[i]) end end
    end,
    declare = function() end,
  })
  local cls = {}
  local function combine(a, b)
    if a == nil then return b end
    if b == nil or a == b then return a end
    return "mixed"
  end
  local function class(e)
    e = strip(e)
    if e.ctor then return "own" end
    if e.tag == "Id" then return cls[e.sym] end
    if e.tag == "Index" then return "ref" end
    if e.tag == "Op" and e.op == "or" then return combine(class(e[1]), class(e[2])) end
    if e.tag == "Op" and e.op == "and" then
      local c = class(e[2])
      return c == "own" and "mixed" or c
    end
    return "ref"
  end
  for sym, list in pairs(assigns) do if #list == 0 then cls[sym] = "ref" end end -- pairs variables
  -- `local s` declared without a value: nil until assigned, so never "own"
  for sym in pairs(assigns) do if sym.decl_nil then cls[sym] = "ref" end end
  local changed = true
  while changed do
    changed = false
    for sym, list in pairs(assigns) do
      local c = cls[sym]
      for _, e in ipairs(list) do c = combine(c, class(e)) end
      if c ~= cls[sym] then cls[sym] = c; changed = true end
    end
  end
  for sym in pairs(assigns) do sym.rclass = cls[sym] or "own" end
  -- Own records that take one another's value (`b = a`) name one record,
  -- as Lua's tables: a field write through one is seen through the other,
  -- and a later `a = R {...}` gives `a` a new record that `b` does not see.
  -- A group of such variables whose every link is a declaration
  -- `local b = a` where neither side is assigned anywhere else always names
  -- one record: one buffer (alias_of). Any other group is "shared": each
  -- member has a buffer and a slot holding the index of the member's buffer
  -- its record is in now; a new record goes into a buffer that no other
  -- member names (there is always one: n members, n buffers).
  local parent = {}
  local function find(x)
    while parent[x] ~= x do x = parent[x] end
    return x
  end
  local links = {}
  for _, sym in ipairs(recvars or {}) do
    if sym.rclass == "own" then
      for _, e in ipairs(assigns[sym]) do
        local x = strip(e)
        if x.tag == "Id" and x.sym ~= sym and x.sym.rclass == "own" then
          parent[sym] = parent[sym] or sym
          parent[x.sym] = parent[x.sym] or x.sym
          local ra, rb = find(sym), find(x.sym)
          if ra ~= rb then parent[ra] = rb end
          links[#links + 1] = { sym, x.sym }
        end
      end
    end
  end
  local inexact = {}
  for _, l in ipairs(links) do
    if #assigns[l[1]] ~= 1 or #assigns[l[2]] ~= 1 then inexact[find(l[1])] = true end
  end
  local groups = {}
  for _, sym in ipairs(recvars or {}) do
    local root = parent[sym] and find(sym)
    if root and inexact[root] then
      local g = groups[root] or {}
      groups[root] = g
      g[#g + 1] = sym
      sym.rclass, sym.group, sym.index = "shared", g, #g - 1
    end
  end
  for _, sym in ipairs(recvars or {}) do
    local list = assigns[sym]
    local only = #list == 1 and strip(list[1])
    if sym.rclass == "own" and only and only.tag == "Id" and only.sym ~= sym
      and only.sym.rclass == "own" then
      sym.alias_of = only.sym
    end
  end
end

-- homes and slots of the record variables, for the whole function
function G:place_records(recvars)
  for _, sym in ipairs(recvars or {}) do
    local c = sym.rclass
    if c ~= "own" then sym.slot = self:alloc(c == "mixed" and 16 or 8) end
    if c == "shared" then self.f:st(8, R9, sym.slot, sym.index) end
    if c ~= "ref" and not sym.alias_of then sym.home = self:alloc(sym.rec.size) end
  end
  for _, sym in ipairs(recvars or {}) do
    local a = sym.alias_of
    while a and a.alias_of do a = a.alias_of end
    if a then sym.home = a.home end
  end
  -- a mixed variable's slot (the map address) is not written when it
  -- holds its own record and its buffer is not written when it holds a
  -- map entry: both start zeroed, so that no verifier that merges the two
  -- paths (ours, or the kernel's in a loop) reads them uninitialised
  local f = self.f
  for _, sym in ipairs(recvars or {}) do
    if sym.rclass == "mixed" or sym.rclass == "shared" then
      -- (shared: a member's buffer may be read through another member
      -- before its own declaration has run, as far as a verifier knows)
      if sym.rclass == "mixed" then for o = 0, 8, 8 do f:st(8, R9, sym.slot + o, 0) end end
      local o = 0
      while o < sym.rec.size do
        local n = (sym.rec.size - o >= 8) and 8 or (sym.rec.size - o >= 4) and 4 or (sym.rec.size - o >= 2) and 2 or 1
        f:st(n, R9, sym.home + o, 0)
        o = o + n
      end
    end
  end
end

-- copies `size` bytes of the area from offset src to offset dst
function G:copy_area(dst, src, size)
  local f = self.f
  local o = 0
  while o < size do
    local n = (size - o >= 8) and 8 or (size - o >= 4) and 4 or (size - o >= 2) and 2 or 1
    f:ldx(n, R1, R9, src + o)
    f:stx(n, R9, dst + o, R1)
    o = o + n
  end
end

-- zeroes then fills buffer `buf` of the area with constructor e; the
-- field values are evaluated first (they may read the record that the
-- buffer holds)
function G:fill_ctor(e, buf)
  local f = self.f
  local rec = e.rec
  local vals = {}
  for i, it in ipairs(e.inits) do
    if it.value.k == nil then vals[i] = self:gen(it.value) end
  end
  local o = 0
  while o < rec.size do
    local n = (rec.size - o >= 8) and 8 or (rec.size - o >= 4) and 4 or (rec.size - o >= 2) and 2 or 1
    f:st(n, R9, buf + o, 0)
    o = o + n
  end
  for i, it in ipairs(e.inits) do
    local fld = it.field
    local k = it.value.k
    if k ~= nil then
      if k == true then k = 1 elseif k == false then k = 0 end
      local v = fld.size == 8 and k or (k & ((1 << (fld.size * 8)) - 1))
      if v ~= 0 then
        if fld.size < 4 or (fld.size == 4 and v < 0x80000000) or (fld.size == 8 and emit.fits32(v)) then
          f:st(fld.size, R9, buf + fld.offset, v)
        else
          f:movi(R1, v)
          f:stx(fld.size, R9, buf + fld.offset, R1)
        end
      end
    else
      local r = self:treg(vals[i], R1)
      f:stx(fld.size, R9, buf + fld.offset, r)
    end
  end
  for i = #e.inits, 1, -1 do if vals[i] then self:free(vals[i]) end end
end

-- jumps to `absent` when record variable sym is nil
function G:rec_var_present(sym, absent)
  local f = self.f
  local c = sym.rclass
  if c == "own" or c == "shared" then return end
  if c == "mixed" then
    local present = f:label()
    f:ldx(8, R1, R9, sym.slot + 8)
    f:jcc("ne", R1, nil, 0, present)
    f:ldx(8, R1, R9, sym.slot)
    f:jcc("eq", R1, nil, 0, absent)
    f:place(present)
  else
    f:ldx(8, R1, R9, sym.slot)
    f:jcc("eq", R1, nil, 0, absent)
  end
end

-- register r := the address of record variable sym (nil: to `absent`, or
-- the fault path)
function G:rec_var_addr(sym, r, absent)
  local f = self.f
  local c = sym.rclass
  if c == "own" then
    f:mov(r, R9)
    f:alu("add", r, nil, sym.home)
  elseif c == "shared" then
    -- the buffer of the member whose index the slot holds
    local g, done = sym.group, f:label()
    f:ldx(8, r, R9, sym.slot)
    for k = 1, #g - 1 do
      local nxt = f:label()
      f:jcc("ne", r, nil, k - 1, nxt)
      f:mov(r, R9)
      f:alu("add", r, nil, g[k].home)
      f:ja(done)
      f:place(nxt)
    end
    f:mov(r, R9)
    f:alu("add", r, nil, g[#g].home)
    f:place(done)
  elseif c == "ref" then
    f:ldx(8, r, R9, sym.slot)
    f:jcc("eq", r, nil, 0, absent or self.cb.fault)
  else
    -- the map address when there is one, else the home buffer: one test
    -- of one slot, so that a verifier that merges states at joins (ours in
    -- loop bodies) never has to relate the slot to the flag at slot + 8
    local done = f:label()
    if absent then self:rec_var_present(sym, absent) end
    f:ldx(8, r, R9, sym.slot)
    f:jcc("ne", r, nil, 0, done)
    f:mov(r, R9)
    f:alu("add", r, nil, sym.home)
    f:place(done)
  end
end

-- a record operand (a key, a stored value, an event, a field's record):
-- {buf = area offset} | {sym = variable} | {t = temporary holding a map
-- address}; `absent` is where a nil-able one jumps when nil
function G:rec_operand(e, absent)
  local f = self.f
  e = strip(e)
  if e.ctor then
    local buf = self:alloc(e.rec.size)
    self:fill_ctor(e, buf)
    return { buf = buf }
  elseif e.tag == "Id" then
    local sym = e.sym
    if sym.rclass == "own" then return { buf = sym.home } end
    if absent then self:rec_var_present(sym, absent) end
    return { sym = sym }
  elseif e.tag == "Index" then
    self:map_lookup_ptr(e)
    f:jcc("eq", R0, nil, 0, absent or self.cb.fault)
    local t = self:tmp()
    self:tset(t, R0)
    return { t = t }
  end
  -- `m[k] or R { ... }` and the like: a hidden variable of class mixed
  -- (its slots and buffer are the statement's)
  local tmpvar = { rclass = "mixed", rec = e.rec, ty = "rec" }
  tmpvar.slot = self:alloc(16)
  tmpvar.home = self:alloc(e.rec.size)
  f:st(8, R9, tmpvar.slot, 0)
  f:st(8, R9, tmpvar.slot + 8, 0)
  if absent then
    self:assign_rec_opt(tmpvar, e, absent)
  else
    self:assign_rec(tmpvar, e)
  end
  return { sym = tmpvar }
end

-- register r := the operand's address
function G:operand_reg(op, r)
  local f = self.f
  if op.buf then
    f:mov(r, R9)
    f:alu("add", r, nil, op.buf)
  elseif op.t then
    local x = self:treg(op.t, r)
    if x ~= r then f:mov(r, x) end
  else
    self:rec_var_addr(op.sym, r)
  end
end

function G:free_operand(op)
  if op.t then self:free(op.t) end
end

-- shared record variable sym: its slot := the index of a buffer of its
-- group that no other member names
function G:choose_buffer(sym)
  local f = self.f
  local g, chosen = sym.group, f:label()
  for k = 0, #g - 1 do
    local nxt = f:label()
    for _, u in ipairs(g) do
      if u ~= sym then
        f:ldx(8, R1, R9, u.slot)
        f:jcc("eq", R1, nil, k, nxt)
      end
    end
    f:st(8, R9, sym.slot, k)
    f:ja(chosen)
    f:place(nxt)
  end
  f:st(8, R9, sym.slot, sym.index) -- not reached: n - 1 others name at most n - 1 buffers
  f:place(chosen)
end

-- copies `size` bytes from the address in register src to area offset dst
function G:copy_from_reg(dst, src, size)
  local f = self.f
  local o = 0
  while o < size do
    local n = (size - o >= 8) and 8 or (size - o >= 4) and 4 or (size - o >= 2) and 2 or 1
    f:ldx(n, R1, src, o)
    f:stx(n, R9, dst + o, R1)
    o = o + n
  end
end

-- record variable sym := record expression e
function G:assign_rec(sym, e)
  local f = self.f
  e = e and strip(e)
  local c = sym.rclass
  if e == nil then
    -- `local s` without a value: nil
    f:st(8, R9, sym.slot, 0)
    if c == "mixed" then f:st(8, R9, sym.slot + 8, 0) end
    return
  end
  if c == "shared" then
    if e.tag == "Id" then
      -- the same record: the other member's buffer index
      if e.sym ~= sym then
        f:ldx(8, R1, R9, e.sym.slot)
        f:stx(8, R9, sym.slot, R1)
      end
      return
    end
    -- a new record: built in a scratch buffer (its fields may read sym),
    -- then copied into a buffer no other member names
    local buf = self:alloc(sym.rec.size)
    self:fill_ctor(e, buf)
    self:choose_buffer(sym)
    self:rec_var_addr(sym, R2)
    local o, size = 0, sym.rec.size
    while o < size do
      local n = (size - o >= 8) and 8 or (size - o >= 4) and 4 or (size - o >= 2) and 2 or 1
      f:ldx(n, R1, R9, buf + o)
      f:stx(n, R2, o, R1)
      o = o + n
    end
    return
  end
  if e.ctor then
    self:fill_ctor(e, sym.home)
    if c == "mixed" then f:st(8, R9, sym.slot, 0); f:st(8, R9, sym.slot + 8, 1) end
  elseif e.tag == "Id" then
    local y = e.sym
    if y == sym then return end
    local yc = y.rclass
    if yc == "own" or yc == "shared" then
      if yc == "shared" then
        self:rec_var_addr(y, R2)
        self:copy_from_reg(sym.home, R2, sym.rec.size)
      elseif sym.home ~= y.home then
        self:copy_area(sym.home, y.home, sym.rec.size)
      end
      if c == "mixed" then f:st(8, R9, sym.slot, 0); f:st(8, R9, sym.slot + 8, 1) end
    elseif yc == "ref" then
      f:ldx(8, R1, R9, y.slot)
      f:stx(8, R9, sym.slot, R1)
      if c == "mixed" then f:st(8, R9, sym.slot + 8, 0) end
    else
      local done = f:label()
      f:ldx(8, R1, R9, y.slot)
      f:stx(8, R9, sym.slot, R1)
      f:ldx(8, R1, R9, y.slot + 8)
      f:stx(8, R9, sym.slot + 8, R1)
      f:jcc("eq", R1, nil, 0, done)
      self:copy_area(sym.home, y.home, sym.rec.size)
      f:place(done)
    end
  elseif e.tag == "Index" then
    self:map_lookup_ptr(e)
    f:stx(8, R9, sym.slot, R0) -- 0 when absent: nil
    if c == "mixed" then f:st(8, R9, sym.slot + 8, 0) end
  elseif e.tag == "Op" and e.op == "or" then
    local other, done = f:label(), f:label()
    self:assign_rec_opt(sym, e[1], other)
    f:ja(done)
    f:place(other)
    self:assign_rec(sym, e[2])
    f:place(done)
  elseif e.tag == "Op" and e.op == "and" then
    local none, done = f:label(), f:label()
    self:jump_if(e[1], false, none)
    self:assign_rec(sym, e[2])
    f:ja(done)
    f:place(none)
    f:st(8, R9, sym.slot, 0)
    if c == "mixed" then f:st(8, R9, sym.slot + 8, 0) end
    f:place(done)
  else
    cg_error(e.pos, "internal error: record expression " .. tostring(e.tag))
  end
end

-- sym := e when e is present, else a jump to `absent` (sym unchanged)
function G:assign_rec_opt(sym, e, absent)
  local f = self.f
  e = strip(e)
  if e.tag == "Index" then
    self:map_lookup_ptr(e)
    f:jcc("eq", R0, nil, 0, absent)
    f:stx(8, R9, sym.slot, R0)
    if sym.rclass == "mixed" then f:st(8, R9, sym.slot + 8, 0) end
  elseif e.tag == "Id" then
    self:rec_var_present(e.sym, absent)
    self:assign_rec(sym, e)
  elseif e.tag == "Op" and e.op == "or" then
    local other, done = f:label(), f:label()
    self:assign_rec_opt(sym, e[1], other)
    f:ja(done)
    f:place(other)
    self:assign_rec_opt(sym, e[2], absent)
    f:place(done)
  elseif e.tag == "Op" and e.op == "and" then
    self:jump_if(e[1], false, absent)
    self:assign_rec_opt(sym, e[2], absent)
  else
    self:assign_rec(sym, e)
  end
end

-- r.field (e.field set by the checker) into temporary t
function G:field_read(e, t)
  local f = self.f
  local fld = e.field
  local op = self:rec_operand(e[1])
  local dst = t.reg or R0
  if op.buf then
    f:ldx(fld.size, dst, R9, op.buf + fld.offset, fld.signed and fld.size < 8)
  else
    self:operand_reg(op, R1)
    f:ldx(fld.size, dst, R1, fld.offset, fld.signed and fld.size < 8)
  end
  self:free_operand(op)
  self:tset(t, dst)
end

-- the key of map m for expression key_e: R2 = its address; returns what
-- release_key frees
function G:key_addr(m, key_e)
  local f = self.f
  if m.key_rec then
    local op = self:rec_operand(key_e)
    self:operand_reg(op, R2)
    return { op = op }
  end
  local vr = self:reg_of(key_e)
  local tk = vr and { reg = vr } or self:gen(key_e)
  local slot
  if m.kind == "lpm" then
    -- { u32 prefixlen = 32; u8 addr[4] } with the address in network order
    slot = self:alloc(8)
    local r = self:treg(tk, R1)
    f:mov(R2, r)
    f:endian("be", R2, 32)
    f:alu("lsh", R2, nil, 32)
    f:alu("or", R2, nil, 32)
    f:stx(8, R9, slot, R2)
  else
    slot = self:map_key(m, key_e, tk)
  end
  if not vr then self:free(tk) end
  f:mov(R2, R9)
  f:alu("add", R2, nil, slot)
  return { slot = slot }
end

function G:release_key(k)
  if k.op then self:free_operand(k.op) end
  if k.slot then self:release(k.slot) end
end

-- R0 = bpf_map_lookup_elem(m, key of e) (NULL when absent)
function G:map_lookup_ptr(e)
  local f = self.f
  local k = self:key_addr(e.map, e[2])
  f:lddw_map(R1, e.map.index)
  f:call_helper(helpers.map_lookup_elem.id)
  self:release_key(k)
end

-- m:set(addr, len, v) on an LPM map: the key { len, addr & mask }; a len
-- outside 0..32 drops the update (the kernel's update fails)
function G:lpm_set(c)
  local f = self.f
  local m = c.map
  local a, l, v = c.args[1], c.args[2], c.args[3]
  local ta = self:gen(a)
  local tl = self:gen(l)
  local val = not c.delete and self:eval_value(v)
  local skip = f:label()
  local rl = self:treg(tl, R3)
  f:mov(R3, rl)
  f:jcc("gt", R3, nil, 32, skip)
  -- mask = (0xffffffff << (32 - len)) & 0xffffffff (0 for len 0)
  f:movi(R4, 32)
  f:alu("sub", R4, R3)
  f:movi(R2, 0xffffffff)
  f:alu("lsh", R2, R4)
  local r = self:treg(ta, R1)
  f:alu("and", R2, r)
  f:mov32(R2, R2)
  f:endian("be", R2, 32)
  f:alu("lsh", R2, nil, 32)
  f:alu("or", R2, R3)
  local kslot = self:alloc(8)
  f:stx(8, R9, kslot, R2)
  local function update()
    local vslot
    if val.op then
      self:operand_reg(val.op, R3)
    else
      vslot = self:alloc(8)
      local rv = self:treg(val.t, R1)
      self:store_truncated(vslot, rv, m.value_size)
      f:mov(R3, R9)
      f:alu("add", R3, nil, vslot)
    end
    f:lddw_map(R1, m.index)
    f:mov(R2, R9)
    f:alu("add", R2, nil, kslot)
    f:movi(R4, 0)
    f:call_helper(helpers.map_update_elem.id)
    if vslot then self:release(vslot) end
  end
  local function delete()
    f:lddw_map(R1, m.index)
    f:mov(R2, R9)
    f:alu("add", R2, nil, kslot)
    f:call_helper(helpers.map_delete_elem.id)
  end
  if c.delete or val.isnil then
    delete()
  elseif val.flag then
    local gone, done = f:label(), f:label()
    local rf = self:treg(val.flag, R1)
    f:jcc("eq", rf, nil, 0, gone)
    update()
    f:ja(done)
    f:place(gone)
    delete()
    f:place(done)
  else
    update()
  end
  self:release(kslot)
  f:place(skip)
  if val then self:free_value(val) end
  self:free(tl)
  self:free(ta)
end

-- A refused output (full buffer) adds one to the ring buffer's slot of the
-- hidden per-CPU array __bpflua_drops (compiler.lua), so every engine, the kernel and a live
-- attach count dropped events alike (the kernel reports none itself). Both
-- paths leave the same state at the join (key slot written, r0 = r1 = 0,
-- r2-r5 clobbered by a call): the kernel's loop verification merges them.
function G:count_drop(m)
  local f = self.f
  local key = self:alloc(8)
  local join, none = f:label(), f:label()
  f:st(8, R9, key, m.drop_slot) -- the whole slot: a u32 key, the rest 0
  f:movi(R1, 0)
  f:jcc("eq", R0, nil, 0, join)
  f:lddw_map(R1, m.drops.index)
  f:mov(R2, R9)
  f:alu("add", R2, nil, key)
  f:call_helper(helpers.map_lookup_elem.id)
  f:jcc("eq", R0, nil, 0, none)
  f:ldx(8, R1, R0, 0)
  f:alu("add", R1, nil, 1)
  f:stx(8, R0, 0, R1)
  f:place(none)
  f:movi(R0, 0)
  f:movi(R1, 0)
  f:place(join)
  self:release(key)
end

-- events:emit(x): bpf_ringbuf_output(map, &x, size, 0); a full buffer
-- drops the event, counted (count_drop); the program goes on
function G:emit_event(c)
  local f = self.f
  local m = c.map
  local a = c.args[1]
  if a.ty == "rec" then
    local op = self:rec_operand(a)
    self:operand_reg(op, R2)
    self:free_operand(op)
    f:movi(R3, a.rec.size)
  else
    local t = self:gen(a)
    local slot = self:alloc(8)
    local r = self:treg(t, R1)
    f:stx(8, R9, slot, r)
    self:free(t)
    f:mov(R2, R9)
    f:alu("add", R2, nil, slot)
    f:movi(R3, 8)
    self:release(slot)
  end
  f:lddw_map(R1, m.index)
  f:movi(R4, 0)
  f:call_helper(helpers.ringbuf_output.id)
  if m.drops then self:count_drop(m) end
end

-- tc programs: R1 = the __sk_buff pointer (spilled at OFF_CTX)
function G:skb_read(e, t)
  local f = self.f
  local fld = e.skb
  local r = t.reg or R0
  f:ldx(8, R1, R9, OFF_CTX)
  f:ldx(4, r, R1, fld.off)
  if fld.be16 then f:endian("be", r, 16) end
  self:tset(t, r)
end

-- calls -------------------------------------------------------------------------

function G:gen_call(e, t, absent)
  local f = self.f
  if e.builtin then
    local id = ({ ktime = helpers.ktime_get_ns.id, random = helpers.get_prandom_u32.id,
      cpu = helpers.get_smp_processor_id.id })[e.builtin]
    if e.builtin == "print" then return self:gen_print(e) end
    f:call_helper(id)
    if t then self:tset(t, R0) end
    return
  end
  local fn = e.fn
  local targs = {}
  for i, a in ipairs(e.args) do
    if not fn.pkt_param or fn.pkt_param ~= i then
      -- a register variable is stored into the block straight from its register
      local vr = self:has_reg(a) and self:reg_of(a)
      targs[#targs + 1] = { i = i, t = vr and { reg = vr } or self:gen(a), var = vr and true }
    end
  end
  -- the block: +0 result, +8i argument i; when the packet is passed, R2
  -- points to this function's area, whose +16/+24 hold data and data_end
  local nargs = #e.args
  local block = self:alloc(8 * (1 + nargs))
  f:st(8, R9, block, 0) -- the result slot, written on every path
  for _, ta in ipairs(targs) do
    local r = self:treg(ta.t, R1)
    f:stx(8, R9, block + 8 * ta.i, r)
  end
  if fn.pkt_param then f:mov(R2, R9) end
  f:mov(R1, R9)
  f:alu("add", R1, nil, block)
  f:call_local(self:local_func(fn))
  f:jcc("eq", R0, nil, ST_FAULT, self.cb.fault)
  self.fctx.calls[#self.fctx.calls + 1] = { fn = fn, depth = self.cb.depth }
  if t and absent then f:jcc("eq", R0, nil, ST_NONE, absent) end
  -- The kernel verifies the callee again at every call, and each of its
  -- return paths comes back with its own status in R0 and often its own
  -- constant in the result slot; in a loop body those paths would never
  -- merge again (see gen_cmp_value). R0 = 0 and a launder of the result
  -- slot (an atomic add of 0: the value is unchanged, the verifier forgets
  -- it) make them one state.
  f:movi(R0, 0)
  f:atomic_add(R9, block, R0)
  if t then
    f:ldx(8, R1, R9, block)
    self:tset(t, R1)
  end
  self:release(block)
  for i = #targs, 1, -1 do if not targs[i].var then self:free(targs[i].t) end end
end

-- print(fmt, ...): bpf_trace_printk(fmt, size, a, b, c), integers printed as
-- 64-bit (%d becomes %lld)
function G:gen_print(e)
  local f = self.f
  local targs = {}
  for i = 2, #e.args do targs[#targs + 1] = self:gen(e.args[i]) end
  local fmt = e.args[1].value:gsub("%%l?l?([diux])", "%%ll%1") .. "\0"
  local size = #fmt
  local padded = fmt .. ("\0"):rep((8 - size % 8) % 8)
  local slot = self:alloc(#padded)
  for i = 1, #padded, 8 do
    local v = 0
    for j = 7, 0, -1 do v = (v << 8) | string_byte(padded, i + j) end
    f:movi(R0, v)
    f:stx(8, R9, slot + i - 1, R0)
  end
  for i, ta in ipairs(targs) do
    local r = self:treg(ta, R0)
    f:mov(R2 + i, r)
  end
  for i = #targs + 1, 3 do f:movi(R2 + i, 0) end
  f:mov(R1, R9)
  f:alu("add", R1, nil, slot)
  f:movi(R2, size)
  f:call_helper(helpers.trace_printk.id)
  self:release(slot)
  for i = #targs, 1, -1 do self:free(targs[i]) end
end

-- local functions: one copy per program, compiled on first use
function G:local_func(fn)
  local p = self.prog
  local lf = p.locals[fn]
  if lf then return lf end
  lf = emit.func(p.name .. "__" .. fn.name)
  p.locals[fn] = lf
  p.pending[#p.pending + 1] = { fn = fn, func = lf }
  return lf
end

-- values for assignment ---------------------------------------------------------

-- evaluates e for storing into something of type `ty`: {t = temp} for
-- int/bool, plus {flag = temp} for a nil-able value, or {isnil = true}
function G:eval_value(e)
  local f = self.f
  local ty = e.ty
  if is_rec(ty) then
    -- a record stored into a map: its operand (present: checked)
    return { op = self:rec_operand(e), rec = true }
  end
  if ty == "nil" then
    if e.tag ~= "Nil" then local t = self:gen_opt(e, f:label()); self:free(t) end
    return { isnil = true }
  end
  if ty == "nilint" or ty == "falseint" then
    local t, flag = self:tmp(), self:tmp()
    local absent, done = f:label(), f:label()
    self:gen_opt(e, absent, t)
    self:tconst(flag, 1)
    f:ja(done)
    f:place(absent)
    self:tconst(flag, 0)
    self:tconst(t, 0)
    f:place(done)
    return { t = t, flag = flag }
  end
  return { t = self:gen(e) }
end

function G:free_value(v)
  if v.op then self:free_operand(v.op) end
  if v.flag then self:free(v.flag) end
  if v.t then self:free(v.t) end
end

-- A variable of an outer scope written inside a loop callback: its slot is
-- "laundered" with an atomic add of 0, which leaves the value alone but
-- makes the kernel verifier forget it (the slot becomes unknown). Otherwise
-- the kernel, which verifies a bpf_loop callback again for every new state,
-- follows a counter like `n = n + 1; if n > 3 then break end` through
-- every value up to its 1M-instruction limit (see docs/compiler.md).
--
-- Not needed for an integer variable the kernel never tracks exactly
-- (precise_vars): it widens such a value itself when the callback is
-- entered again.
function G:launder(sym)
  if self.cb.kind == "main" or sym.owner == self.cb or is_rec(sym.ty) then return end
  if sym.ty == "int" and not self.scan.precise[sym] then return end
  local f = self.f
  f:movi(R0, 0)
  f:atomic_add(R9, sym.slot, R0)
  if sym.ty == "nilint" then f:atomic_add(R9, sym.slot + 8, R0) end
end

-- stores an evaluated value into a variable's slot
function G:store_var(sym, v)
  self:store_var_raw(sym, v)
  self:launder(sym)
end

function G:store_var_raw(sym, v)
  local f = self.f
  if sym.ty == "nilint" then
    if v.isnil then
      f:st(8, R9, sym.slot, 0) -- so that no path reads an unwritten slot
      f:st(8, R9, sym.slot + 8, 0)
      return
    end
    local r = self:treg(v.t, R1)
    f:stx(8, R9, sym.slot, r)
    if v.flag then
      r = self:treg(v.flag, R2)
      f:stx(8, R9, sym.slot + 8, r)
    else
      f:st(8, R9, sym.slot + 8, 1)
    end
    return
  end
  local r = self:treg(v.t, R1)
  self:write_var(sym, r)
end

local function var_size(sym) return sym.ty == "nilint" and 16 or 8 end

-- statements ---------------------------------------------------------------------

function G:block(b)
  local mark = self.area.top
  local refs
  for _, s in ipairs(b) do
    self:stat(s)
    if s.tag == "Local" then
      for _, id in ipairs(s.names) do
        local sym = id.sym
        if sym and is_rec(sym.ty) and (sym.rclass == "ref" or sym.rclass == "mixed") then
          refs = refs or {}
          refs[#refs + 1] = sym
        end
      end
    end
  end
  -- record references end with their block: their slots go back to 0, so
  -- that the paths where the lookup found an entry and where it did not
  -- meet again in one state (the kernel compares dead slots too, and a
  -- loop body would be verified once per combination otherwise)
  for _, sym in ipairs(refs or {}) do
    self.f:st(8, R9, sym.slot, 0)
    if sym.rclass == "mixed" then self.f:st(8, R9, sym.slot + 8, 0) end
  end
  self.area.top = mark
end

function G:stat(s)
  local f = self.f
  f.pos = s.pos
  local line, col = self.line_col(s.pos)
  f:line(line, col)
  local tag = s.tag
  if (tag == "Local" or tag == "Set") and self:direct_assign(s) then
    return
  end
  if tag == "Local" and self:has_rec_names(s) then
    -- records (their homes and slots are the function's): one at a time
    for i, id in ipairs(s.names) do
      local e = (s.exprs or {})[i]
      if is_rec(id.sym.ty) then
        if e and strip(e).tag == "Nil" then e = nil end -- `local s = nil` is `local s`
        self:assign_rec(id.sym, e)
      else
        id.sym.slot = self:alloc(var_size(id.sym))
        id.sym.owner = self.cb
        local v = e and self:eval_value(e) or { isnil = true }
        self:store_var(id.sym, v)
        self:free_value(v)
      end
    end
  elseif tag == "Local" then
    local slots = {}
    for i, id in ipairs(s.names) do slots[i] = self:alloc(var_size(id.sym)) end
    local vals = {}
    local exprs = s.exprs or {}
    for i, e in ipairs(exprs) do vals[i] = self:eval_value(e) end
    for i, id in ipairs(s.names) do
      id.sym.slot = slots[i]
      id.sym.owner = self.cb
      self:store_var(id.sym, vals[i] or { isnil = true })
    end
    for i = #vals, 1, -1 do self:free_value(vals[i]) end
  elseif tag == "Set" then
    local keys = {}
    for i, t in ipairs(s.targets) do
      if t.field then
        keys[i] = self:rec_operand(t[1]) -- the record
      elseif t.map and t.map.key_rec then
        keys[i] = self:rec_operand(t[2])
      elseif t.rec_target then
        -- assigned below, in order
      elseif t.tag == "Index" and not t.skb then
        -- a key in a register variable is used where it is (one target: no
        -- other assignment of this statement can change it first)
        local vr = #s.targets == 1 and self:reg_of(t[2])
        keys[i] = vr and { reg = vr, var = true } or self:gen(t[2])
      end
    end
    local vals = {}
    for i, e in ipairs(s.exprs) do
      if not (s.targets[i] and s.targets[i].rec_target) then vals[i] = self:eval_value(e) end
    end
    -- `a, b = b, a` of records: every right side is read before any
    -- record target changes (a copy of the slot of each variable read)
    local snap = {}
    local nrec = 0
    for _, t in ipairs(s.targets) do if t.rec_target then nrec = nrec + 1 end end
    if nrec > 1 then
      for i, t in ipairs(s.targets) do
        local x = t.rec_target and s.exprs[i] and strip(s.exprs[i])
        if x and x.tag == "Id" and (x.sym.rclass == "shared" or x.sym.rclass == "ref") then
          local tmp = self:alloc(8)
          f:ldx(8, R1, R9, x.sym.slot)
          f:stx(8, R9, tmp, R1)
          snap[i] = { tag = "Id", sym = setmetatable({ slot = tmp }, { __index = x.sym }) }
        end
      end
    end
    for i = #s.targets, 1, -1 do
      local t = s.targets[i]
      local v = vals[i] or { isnil = true }
      if t.rec_target then
        self:assign_rec(t.sym, snap[i] or s.exprs[i])
      elseif t.field then
        local rv = self:treg(v.t, R1)
        local op = keys[i]
        if op.buf then
          f:stx(t.field.size, R9, op.buf + t.field.offset, rv)
        else
          if rv == R1 then f:mov(R3, R1); rv = R3 end
          self:operand_reg(op, R2)
          f:stx(t.field.size, R2, t.field.offset, rv)
        end
      elseif t.skb then
        local rv = self:treg(v.t, R2)
        f:ldx(8, R1, R9, OFF_CTX)
        f:stx(4, R1, t.skb.off, rv)
      elseif t.tag == "Index" then self:map_store(t, keys[i], v) else self:store_var(t.sym, v) end
    end
    for i = #s.exprs, 1, -1 do if vals[i] then self:free_value(vals[i]) end end
    for i = #s.targets, 1, -1 do
      local k, t = keys[i], s.targets[i]
      if k and (t.field or (t.map and t.map.key_rec)) then
        self:free_operand(k)
      elseif k and not k.var then self:free(k) end
    end
  elseif tag == "CallStat" then
    local c = s[1]
    if c.tag == "Invoke" and c.map then
      if c.method == "set" then self:lpm_set(c) else self:emit_event(c) end
    elseif c.tag == "Invoke" then
      if c.method:sub(1, 4) == "set_" then self:pkt_write(c)
      else local t = self:gen(c); self:free(t) end
    elseif c.ctor then
      -- `R { ... }` as a statement (a call in Lua): its fields are
      -- evaluated (they may fault) and the record dropped
      self:rec_operand(c)
    else
      self:gen_call(c, nil, nil)
    end
  elseif tag == "If" then
    local done = f:label()
    for i, c in ipairs(s.conds) do
      local nxt = f:label()
      self:jump_if(c, false, nxt)
      self:block(s.blocks[i])
      -- also after the last branch without an else, where this is a 'ja +0':
      -- the kernel prunes loop bodies at that join far better with it
      -- (randprog seed 509 does not load without it)
      f:ja(done)
      f:place(nxt)
    end
    if s.else_block then self:block(s.else_block) end
    f:place(done)
  elseif tag == "Do" then
    self:block(s.body)
  elseif tag == "Fornum" then
    self:fornum(s)
  elseif tag == "Forin" then
    self:forin(s)
  elseif tag == "Break" then
    self.cb.brk = self.cb.brk or f:label()
    f:ja(self.cb.brk)
  elseif tag == "Return" then
    self:return_stat(s)
  else
    cg_error(s.pos, "internal error: statement " .. tostring(tag))
  end
end

function G:has_rec_names(s)
  for _, id in ipairs(s.names) do if id.sym and is_rec(id.sym.ty) then return true end end
  return false
end

-- `x = e` / `local x = e` with x in a register here: e is evaluated
-- straight into the register when that is safe. Returns true if done.
function G:direct_assign(s)
  local names = s.tag == "Local" and s.names or s.targets
  local exprs = s.exprs
  if not exprs or #names ~= 1 or #exprs ~= 1 or names[1].tag ~= "Id" then return false end
  local sym, e = names[1].sym, exprs[1]
  local vr = sym and self.cb.vreg and self.cb.vreg[sym]
  if not vr or not (e.ty == "int" or e.ty == "bool") or not safe_target(e, sym) then return false end
  if s.tag == "Local" then
    -- the slot (freed with the block, as in stat) is the home of a shared variable
    sym.slot = self:alloc(var_size(sym))
    sym.owner = self.cb
  end
  self:gen_into(e, { reg = vr })
  self:commit_var(sym)
  return true
end

function G:return_stat(s)
  local f = self.f
  local e = s[1]
  local cb = self.cb
  local fctx = self.fctx
  if cb.kind == "main" and fctx.is_prog then
    if e then
      local vr = self:reg_of(e)
      if vr then
        f:mov(R0, vr)
      elseif self:simple(e) then
        self:gen_into(e, { reg = R0 })
      else
        local t = self:gen(e)
        local r = self:treg(t, R0)
        f:mov(R0, r)
        self:free(t)
      end
    else
      f:movi(R0, self:default_verdict())
    end
    f:exit()
    return
  end
  -- status + value into the area (loop callbacks) or the caller's block
  local function value_exit(r)
    if cb.kind == "main" then
      f:stx(8, R8, 0, r)
      f:movi(R0, ST_VALUE)
    else
      f:stx(8, R9, OFF_RET, r)
      f:st(8, R9, OFF_STATUS, ST_VALUE)
      return self:cb_exit1()
    end
    f:exit()
  end
  local function none_exit()
    if cb.kind == "main" then
      f:movi(R0, ST_NONE)
    else
      f:st(8, R9, OFF_STATUS, ST_NONE)
      return self:cb_exit1()
    end
    f:exit()
  end
  if not e then return none_exit() end
  if e.ty == "nilint" or e.ty == "nil" then
    local absent = f:label()
    local t = self:gen_opt(e, absent)
    local r = self:treg(t, R1)
    self:free(t)
    value_exit(r)
    f:place(absent)
    none_exit()
    return
  end
  local r = self:reg_of(e)
  if not r then
    local t = self:gen(e)
    r = self:treg(t, R1)
    self:free(t)
  end
  value_exit(r)
end

-- runs `body` as a new callback function; returns its Func
function G:callback(name, kind_args, body)
  local saved_f, saved_cb, saved_temps = self.f, self.cb, self.temps
  local p = self.prog
  local nm = name
  p.names[nm] = (p.names[nm] or 0) + 1
  if p.names[nm] > 1 then nm = nm .. "_" .. p.names[nm] end
  local f = emit.func(nm)
  f.fact = saved_f.fact
  f.pos = saved_f.pos
  local cb = { kind = "loop", fault = f:label(), temp_regs = { R6, R7, R8 }, depth = saved_cb.depth + 1 }
  if cb.depth > self.fctx.max_depth then self.fctx.max_depth = cb.depth end
  self.f, self.cb, self.temps = f, cb, {}
  self.fctx.funcs[#self.fctx.funcs + 1] = f
  -- the slots this callback uses as scratch: from the area's top now to
  -- the highest top its body reaches (nested callbacks included)
  local area = self.area
  local saved_max, scratch_from = area.max, area.top
  area.max = area.top
  body(f)
  local scratch_to = area.max
  if saved_max > area.max then area.max = saved_max end
  local function shared_exit(v)
    for off = scratch_from, scratch_to - 8, 8 do f:st(8, R9, off, 0) end
    f:movi(R0, v)
    f:exit()
  end
  -- falling off the end: continue with the next iteration
  shared_exit(0)
  self:finish_callback_or_main()
  if cb.ret1 and f:place(cb.ret1) then shared_exit(1) end
  f.scratch_from, f.scratch_to = scratch_from, scratch_to
  local slots, seen = {}, {}
  for sym in pairs(cb.vreg or {}) do
    if not cb.shared[sym] and sym.slot and not seen[sym.slot] then
      seen[sym.slot] = true
      slots[#slots + 1] = sym.slot
    end
  end
  table_sort(slots)
  f.private_slots = slots
  self.f, self.cb, self.temps = saved_f, saved_cb, saved_temps
  return f
end

-- Before a bpf_loop / for_each call: the slots of the callback's private
-- register variables (never written by the callback) get a known value.
-- They may hold scratch values the enclosing body left there in its last
-- iteration (it reuses the area after the loop), and the kernel does not
-- converge on a callback whose entry state keeps changing that way
-- (tests/lang/nested_scratch.lua; the callback used to overwrite them).
function G:reset_private_slots(cbf)
  local from, to = cbf.scratch_from, cbf.scratch_to
  for _, slot in ipairs(cbf.private_slots or {}) do
    if slot < from or slot >= to then self.f:st(8, R9, slot, 0) end
  end
  -- and the whole scratch region: the callback leaves it zero, so the
  -- state at the bpf_loop call is the same before and after an iteration
  for off = from, to - 8, 8 do self.f:st(8, R9, off, 0) end
end

-- after bpf_loop / for_each returns: a return or fault inside ends this function
function G:after_loop()
  local f = self.f
  f.epoch = f.epoch + 1 -- the loop body may have written any variable's slot
  self.cb.propagate = self.cb.propagate or f:label()
  f:ldx(8, R1, R9, OFF_STATUS)
  f:jcc("ne", R1, nil, 0, self.cb.propagate)
end

function G:fornum(s)
  local f = self.f
  local mark = self.area.top
  local init_slot, step_slot = self:alloc(8), self:alloc(8)
  local var = s.var.sym
  var.slot = self:alloc(8)
  local step_k = s.step == nil and 1 or s.step.k
  local skip = f:label()
  -- The callback reads init and step from their slots unless they are
  -- 32-bit constants, but the slots are written anyway: the enclosing body
  -- reuses them as scratch after this loop, and without fresh values before
  -- each bpf_loop the kernel sees the last iteration's scratch values at the
  -- callback's entry and does not converge (tests/lang/nested_scratch.lua)
  local init_k = s.start.k
  local consts = math_type(init_k) == "integer" and math_type(s.limit.k) == "integer"
    and math_type(step_k) == "integer" and step_k ~= 0
  local trips = consts and arith.trip_count(init_k, s.limit.k, step_k)
  if trips and trips >= 1 and trips <= MAX_LOOPS then
    -- constant bounds: the trip count is known
    f:movi(R3, init_k)
    f:stx(8, R9, init_slot, R3)
    f:movi(R5, step_k)
    f:stx(8, R9, step_slot, R5)
    f:movi(R1, trips)
    return self:fornum_call(s, mark, skip, init_slot, step_slot, step_k)
  end
  local ts = self:gen(s.start)
  local tl = self:gen(s.limit)
  local tp = s.step and self:gen(s.step)
  local rs = self:treg(ts, R3)
  f:stx(8, R9, init_slot, rs)
  local rl = self:treg(tl, R4)
  local function count_pos(step_imm, step_reg)
    -- R1 = (limit - init) / step, unsigned
    f:jcc("sgt", rs, rl, nil, skip)
    f:mov(R1, rl)
    f:alu("sub", R1, rs)
    if step_reg then
      f:alu("div", R1, step_reg)
    elseif step_imm ~= 1 then
      f:alu("div", R1, nil, step_imm)
    end
  end
  local function count_neg(rstep, step_imm)
    f:jcc("slt", rs, rl, nil, skip)
    f:mov(R1, rs)
    f:alu("sub", R1, rl)
    if step_imm then
      -- a constant step: (init - limit) / -step by an immediate (none for -1)
      if step_imm ~= -1 then f:alu("div", R1, nil, -step_imm) end
      return
    end
    f:mov(R2, rstep)
    f:neg(R2)
    f:alu("div", R1, R2)
  end
  if math_type(step_k) == "integer" then
    f:movi(R5, step_k)
    f:stx(8, R9, step_slot, R5)
    if step_k == 0 then
      self:fault()
    elseif step_k > 0 then
      if emit.fits32(step_k) then count_pos(step_k) else count_pos(nil, R5) end
    elseif emit.fits32(-step_k) then
      count_neg(R5, step_k)
    else
      count_neg(R5)
    end
  else
    local rp = self:treg(tp, R5)
    f:mov(R5, rp)
    f:stx(8, R9, step_slot, R5)
    f:jcc("eq", R5, nil, 0, self.cb.fault)
    local pos, counted = f:label(), f:label()
    f:jcc("sgt", R5, nil, 0, pos)
    count_neg(R5)
    f:ja(counted)
    f:place(pos)
    count_pos(nil, R5)
    f:place(counted)
  end
  if tp then self:free(tp) end
  self:free(tl)
  self:free(ts)
  f:jcc("ge", R1, nil, MAX_LOOPS, self.cb.fault)
  f:alu("add", R1, nil, 1)
  return self:fornum_call(s, mark, skip, init_slot, step_slot, step_k)
end

-- the callback of a numeric for and its bpf_loop call (R1 = trip count)
function G:fornum_call(s, mark, skip, init_slot, step_slot, step_k)
  local f = self.f
  local var = s.var.sym
  local line = self.line_col(s.pos)
  local owner = self.fctx.prefix
  local cbf = self:callback(owner .. "__for_L" .. line, nil, function(cf)
    cf:line(self.line_col(s.pos))
    cf:mov(R9, R2)
    var.owner = self.cb
    self:setup_regs(s, { R6, R7, R8 })
    -- i = init + index * step (constants folded in), computed in i's
    -- register if it has one; not at all if nothing reads i
    local unused = (self.scan.refs[s] or {})[var] == 0 and self.scan.nscopes[var] == 1
    local ri = self.cb.vreg[var] or R1
    if unused then return self:block(s.body) end
    cf:mov(ri, R1)
    if math_type(step_k) == "integer" and emit.fits32(step_k) then
      self:alu_imm("mul", ri, step_k)
    else
      cf:ldx(8, R2, R9, step_slot)
      cf:alu("mul", ri, R2)
    end
    local init_k = s.start.k
    if math_type(init_k) == "integer" and emit.fits32(init_k) then
      self:alu_imm("add", ri, init_k)
    else
      cf:ldx(8, R3, R9, init_slot)
      cf:alu("add", ri, R3)
    end
    if ri == R1 then cf:stx(8, R9, var.slot, R1) else self:commit_var(var) end
    self:block(s.body)
  end)
  -- the index's own slot too (written by the callback only when something
  -- else reads it): the kernel needs it fresh at the first entry as well
  -- (tests/lang/nested_scratch.lua)
  local slots = cbf.private_slots
  local has = false
  for _, sl in ipairs(slots) do if sl == var.slot then has = true end end
  if not has then slots[#slots + 1] = var.slot end
  self:reset_private_slots(cbf)
  f:lddw_func(R2, cbf)
  f:mov(R3, R9)
  f:movi(R4, 0)
  f:call_helper(helpers.loop.id)
  self:after_loop()
  f:place(skip)
  self.area.top = mark
end

function G:forin(s)
  local f = self.f
  local m = s.map
  local mark = self.area.top
  local names = s.names
  for _, id in ipairs(names) do
    if not is_rec(id.sym.ty) then id.sym.slot = self:alloc(var_size(id.sym)) end
  end
  local line = self.line_col(s.pos)
  local cbf = self:callback(self.fctx.prefix .. "__pairs_L" .. line, nil, function(cf)
    cf:line(self.line_col(s.pos))
    cf:mov(R9, R4)
    for _, id in ipairs(names) do id.sym.owner = self.cb end
    self:setup_regs(s, { R6, R7, R8 })
    local vreg = self.cb.vreg
    if names[1] then
      local sym = names[1].sym
      if m.key_rec then
        cf:stx(8, R9, sym.slot, R2) -- the key's address
      else
        cf:ldx(m.key_size, vreg[sym] or R1, R2, 0, m.key_signed and m.key_size < 8)
        if vreg[sym] then self:commit_var(sym) else cf:stx(8, R9, sym.slot, R1) end
      end
    end
    if names[2] then
      local sym = names[2].sym
      if m.value_rec then
        cf:stx(8, R9, sym.slot, R3) -- the value's address: writes change the entry
      else
        cf:ldx(m.value_size, vreg[sym] or R1, R3, 0, m.value_signed and m.value_size < 8)
        if vreg[sym] then self:commit_var(sym) else cf:stx(8, R9, sym.slot, R1) end
      end
    end
    for i = 3, #names do cf:st(8, R9, names[i].sym.slot + 8, 0) end
    self:block(s.body)
  end)
  self:reset_private_slots(cbf)
  f:lddw_map(R1, m.index)
  f:lddw_func(R2, cbf)
  f:mov(R3, R9)
  f:movi(R4, 0)
  f:call_helper(helpers.for_each_map_elem.id)
  self:after_loop()
  self.area.top = mark
end

-- functions ------------------------------------------------------------------------

-- compiles one program function or local function into `f`
function G:function_body(fn, f, is_prog, prefix)
  local fctx = {
    is_prog = is_prog, funcs = {}, calls = {}, prefix = prefix, max_depth = 0,
  }
  local saved = { self.fctx, self.area, self.f, self.cb, self.temps }
  self.fctx = fctx
  local is_tc = is_prog and fn.kind == "tc"
  -- a local function that reads or writes its packet's socket-buffer
  -- fields (called from tc programs only) keeps the context pointer at
  -- OFF_CTX too, copied from its caller's area
  local skb_func = not is_prog and fn.pkt_param and fn.skb_use
  local first = (is_tc or skb_func) and OFF_CTX + 8 or OFF_FIRST
  self.area = { top = first, max = first }
  self.is_tc = is_tc
  self.f = f
  self.cb = { kind = "main", fault = f:label(), temp_regs = is_prog and { R6, R7, R8 } or { R6, R7 }, depth = 0 }
  self.temps = {}
  local saved_scan = self.scan
  self.scan = scan_function(fn.node)
  self.scan.precise = precise_vars(fn.node, is_prog)
  self:setup_regs(fn.node, self.cb.temp_regs)
  f.pos = fn.node.pos
  f:line(self.line_col(fn.node.pos))
  f:mov(R9, R10)
  local frame_at = f:here() + 1
  f:alu("add", R9, nil, -8)
  f:st(8, R9, OFF_STATUS, ST_RUN)
  f:st(8, R9, OFF_RET, 0)
  if is_tc then
    -- __sk_buff: data at 76, data_end at 80; the context itself is kept
    -- for the socket-buffer fields
    f:stx(8, R9, OFF_CTX, R1)
    f:ldx(4, R2, R1, 76)
    f:ldx(4, R3, R1, 80)
    f:stx(8, R9, OFF_DATA, R2)
    f:stx(8, R9, OFF_END, R3)
  elseif is_prog then
    f:ldx(4, R2, R1, 0)
    f:ldx(4, R3, R1, 4)
    f:stx(8, R9, OFF_DATA, R2)
    f:stx(8, R9, OFF_END, R3)
  else
    f:mov(R8, R1)
    if fn.pkt_param then
      f:ldx(8, R3, R2, OFF_DATA)
      f:stx(8, R9, OFF_DATA, R3)
      f:ldx(8, R3, R2, OFF_END)
      f:stx(8, R9, OFF_END, R3)
      if skb_func then
        f:ldx(8, R3, R2, OFF_CTX)
        f:stx(8, R9, OFF_CTX, R3)
      end
    end
    for i, p in ipairs(fn.params) do
      if p.kind == "pkt" then
        -- passed through R2 (above)
      else
        p.slot = self:alloc(8)
        p.owner = self.cb
        local vr = self.cb.vreg[p]
        f:ldx(8, vr or R1, R8, 8 * i)
        if vr then self:commit_var(p) else f:stx(8, R9, p.slot, R1) end
      end
    end
  end
  -- record variables: homes and slots for the whole function
  rec_classes(fn.node, fn.recvars)
  self:place_records(fn.recvars)
  local init_at = f:here() + 1
  local prologue_end = self.area.top
  self:block(fn.node.body)
  -- falling off the end
  if is_prog then f:movi(R0, self:default_verdict()) else f:movi(R0, ST_NONE) end
  f:exit()
  self:finish_callback_or_main()
  local frame = ((self.area.max + 7) // 8) * 8
  f.insns[frame_at][5] = -frame
  if #fctx.funcs > 0 then
    -- loops: every slot starts initialised, so that no callback iteration
    -- starts from a slot that an earlier one wrote for the first time
    local list = {}
    for off = prologue_end, frame - 8, 8 do list[#list + 1] = { opcodes.STDW, R9, 0, off, 0 } end
    f:insert(init_at, list)
  end
  fctx.frame = frame
  local result = fctx
  self.fctx, self.area, self.f, self.cb, self.temps = saved[1], saved[2], saved[3], saved[4], saved[5]
  self.scan = saved_scan
  return result
end

local function round32(n) return ((math_max(n, 1) + 31) // 32) * 32 end

local M = {}

-- compiles the checked model; returns the list of programs
-- {name, section, insns, funcs, lines}. Raises {pos, msg, hint} on errors
-- found only now (stack size, jump range).
function M.generate(model, line_col)
  local out = {}
  local fn_cache, func_owner = {}, {}
  for _, prog in ipairs(model.progs) do
    local self = setmetatable({ line_col = line_col, temps = {} }, G)
    local p = { name = prog.name, locals = {}, pending = {}, names = {} }
    self.prog = p
    local main = emit.func(prog.name)
    local funcs = { main }
    local info = {}
    local mctx = self:function_body(prog, main, true, prog.name)
    info[prog] = mctx
    for _, cf in ipairs(mctx.funcs) do funcs[#funcs + 1] = cf end
    local i = 1
    while p.pending[i] do
      local item = p.pending[i]
      local cached = fn_cache[item.fn]
      local ctx
      if cached then
        -- compiled for an earlier program: copy it, renamed, relocations remapped
        ctx = cached.ctx
        local copies = { [cached.main] = item.func }
        for _, cf in ipairs(cached.subs) do copies[cf] = emit.func("") end
        local function copy(src, dst)
          dst.name = p.name .. src.name:sub(#cached.prog + 1)
          dst.insns, dst.lines, dst.relocs = table_move(src.insns, 1, #src.insns, 1, {}), src.lines, {}
          for _, r in ipairs(src.relocs or {}) do
            local ins = src.insns[r.at] -- link patches these: private copies
            dst.insns[r.at] = { ins[1], ins[2], ins[3], ins[4], ins[5] }
            local t = copies[r.target] or self:local_func(func_owner[r.target])
            dst.relocs[#dst.relocs + 1] = { at = r.at, target = t }
          end
        end
        copy(cached.main, item.func)
        -- a later program copying a function that calls this one finds it
        -- through this copy (the relocation targets this program's func)
        func_owner[item.func] = item.fn
        funcs[#funcs + 1] = item.func
        for _, cf in ipairs(cached.subs) do
          copy(cf, copies[cf])
          funcs[#funcs + 1] = copies[cf]
        end
      else
        ctx = self:function_body(item.fn, item.func, false, p.name .. "__" .. item.fn.name)
        funcs[#funcs + 1] = item.func
        for _, cf in ipairs(ctx.funcs) do funcs[#funcs + 1] = cf end
        fn_cache[item.fn] = { ctx = ctx, main = item.func, subs = ctx.funcs, prog = p.name }
        func_owner[item.func] = item.fn
      end
      info[item.fn] = ctx
      i = i + 1
    end
    -- combined stack of the deepest chain of frames (as the kernel counts it:
    -- each frame rounded up to 32 bytes)
    local memo = {}
    local function stack_of(fn)
      if memo[fn] then return memo[fn] end
      local ctx = info[fn]
      local deepest = 32 * ctx.max_depth
      for _, c in ipairs(ctx.calls) do
        local d = 32 * c.depth + stack_of(c.fn)
        if d > deepest then deepest = d end
      end
      memo[fn] = round32(ctx.frame) + deepest
      return memo[fn]
    end
    local total = stack_of(prog)
    if total > STACK_LIMIT then
      cg_error(prog.node.name.pos, "program '" .. prog.name .. "' needs " .. total
        .. " bytes of stack; the kernel allows " .. STACK_LIMIT,
        "use fewer variables at once (each local takes 8 bytes, nil-able ones 16; each loop level 32)")
    end
    -- only functions reachable from main (a loop in dead code leaves its
    -- callback unreferenced, and the kernel rejects unreachable code)
    local live, order = { [main] = true }, { main }
    local k = 1
    while order[k] do
      for _, r in ipairs(order[k].relocs or {}) do
        if not live[r.target] then live[r.target] = true; order[#order + 1] = r.target end
      end
      k = k + 1
    end
    local kept = {}
    for _, fu in ipairs(funcs) do if live[fu] then kept[#kept + 1] = fu end end
    funcs = kept
    -- function names must fit the object's 63 bytes and stay unique
    for k2, fu in ipairs(funcs) do
      if #fu.name > 63 then fu.name = fu.name:sub(1, 50) .. "__f" .. k2 end
    end
    local insns, finfo, lines, n = emit.link(funcs)
    if n > 1000000 then cg_error(prog.node.pos, "program '" .. prog.name .. "' is too large") end
    out[#out + 1] = { name = prog.name, section = prog.kind == "tc" and "tc" or "xdp", insns = insns, funcs = finfo, lines = lines,
      stack = total }
  end
  return out
end

return M
