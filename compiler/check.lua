-- check.lua: scopes, constants, types and the restrictions of LANGUAGE.md.
--
-- check(chunk, errors) walks the AST once, in source order (a name is
-- visible only after its declaration, as in Lua), and returns the model
--   { license = "GPL", maps = { mapdef... }, funcs = { fndef... }, progs = { fndef... } }
-- Every problem is appended to `errors` as {pos=, end_pos=, msg=, hint=};
-- checking goes on after an error so that a file reports all of them.
--
-- Types (node.ty):
--   "int"      a 64-bit integer
--   "bool"     true or false
--   "nil"      the nil literal
--   "nilint"   an integer or nil (a map lookup, a local declared without value)
--   "falseint" an integer or false (`cond and x`): only a condition or `or` operand
--   "void"     a call that returns no value
--   "err"      after an error (silences follow-up errors)
-- A constant expression also gets node.k (its integer or boolean value),
-- folded with the exact Lua 5.4 integer semantics of fold.lua-style helpers below.
--
-- Symbols (node.sym on Id nodes):
--   {kind="var", name, ty, id}          local variable or parameter
--   {kind="const", name, value}         top-level constant
--   {kind="map", name, map=mapdef}
--   {kind="fn", name, fn=fndef}         local function
--   {kind="pkt", name}                  the program's packet parameter
--   {kind="ns"|"builtin"|"type"|"license"|"pairs", name}   predefined

local arith = require "bpflua.arith"
local records = require "bpflua.records"

local ipairs, pairs, type, math_type, tostring, string_format, table_concat, setmetatable, select, table_sort =
  ipairs, pairs, type, math.type, tostring, string.format, table.concat, setmetatable, select, table.sort

_ENV = nil

local MAX_LOOPS = 8388608
local MAX_FRAMES = 8

local map_kinds = { hash = 1, array = 2, lru_hash = 9, percpu_hash = 5, percpu_array = 6, lpm = 11,
  ringbuf = 27 }
local MAX_RECORD = 512
local type_names = {
  u8 = { size = 1, signed = false }, u16 = { size = 2, signed = false },
  u32 = { size = 4, signed = false }, u64 = { size = 8, signed = false },
  i8 = { size = 1, signed = true }, i16 = { size = 2, signed = true },
  i32 = { size = 4, signed = true }, i64 = { size = 8, signed = true },
}
local xdp_consts = { ABORTED = 0, DROP = 1, PASS = 2, TX = 3, REDIRECT = 4 }
local tc_consts = { OK = 0, RECLASSIFY = 1, SHOT = 2, PIPE = 3, STOLEN = 4, REDIRECT = 7, UNSPEC = -1 }
-- __sk_buff fields of tc programs: offset, writable
local skb_fields = { mark = { off = 8, rw = true }, priority = { off = 32, rw = true },
  ifindex = { off = 40 }, ingress_ifindex = { off = 36 }, protocol = { off = 16, be16 = true } }
local pkt_reads = { u8 = 1, be16 = 2, be32 = 4, be64 = 8, le16 = 2, le32 = 4, le64 = 8 }
local pkt_writes = { set_u8 = 1, set_be16 = 2, set_be32 = 4, set_be64 = 8,
  set_le16 = 2, set_le32 = 4, set_le64 = 8 }
local builtins = { print = true, ktime = true, random = true, cpu = true }

local MAYBE_NIL_HINT = "a map lookup may be nil: write (m[k] or 0)"

local function describe(ty)
  return ({ int = "an integer", bool = "a boolean", ["nil"] = "nil", nilint = "a value that may be nil",
    falseint = "an integer or false", void = "no value", mixed = "a value of mixed types",
    rec = "a record", nilrec = "a record reference that may be nil" })[ty] or ty
end

local function is_rec(ty) return ty == "rec" or ty == "nilrec" end

local Checker = {}
Checker.__index = Checker

function Checker:err(node, msg, hint)
  self.errors[#self.errors + 1] = { pos = node.pos, end_pos = node.end_pos, msg = msg, hint = hint }
end

-- scopes ------------------------------------------------------------------

function Checker:push_scope()
  local parent = self.scope
  local s = setmetatable({}, { __index = parent })
  self.parents[s] = parent
  self.scope = s
end
function Checker:pop_scope() self.scope = self.parents[self.scope] end

function Checker:declare(id, sym)
  sym.name = id.name
  sym.decl = id
  id.sym = sym
  self.scope[id.name] = sym
  return sym
end

function Checker:new_var(id, ty)
  self.nvars = self.nvars + 1
  if ty == "nil" then ty = "nilint" end
  return self:declare(id, { kind = "var", ty = ty, id = self.nvars, fn = self.fn })
end

-- record references: flow facts ----------------------------------------------
--
-- self.flow = { nonnil = {[sym] = true}, stale = {[sym] = line},
-- own = {[sym] = true} } for the record variables of the current function:
-- which nil-able references a test has proven present here, which point
-- into a map that a later statement stored into (LANGUAGE.md "Records"),
-- and which hold a record of their own here (made by a constructor, or
-- another name of such a record): a store into a map does not touch those.
-- Branches get copies; joins keep what every incoming path proves (nonnil,
-- own) and what any path made stale.

local function copy_flow(fl)
  local n, st, o = {}, {}, {}
  for k, v in pairs(fl.nonnil) do n[k] = v end
  for k, v in pairs(fl.stale) do st[k] = v end
  for k, v in pairs(fl.own) do o[k] = v end
  return { nonnil = n, stale = st, own = o }
end

local function merge_flows(list, base)
  if #list == 0 then return copy_flow(base) end
  local out = copy_flow(list[1])
  for i = 2, #list do
    local fl = list[i]
    for k in pairs(out.nonnil) do if not fl.nonnil[k] then out.nonnil[k] = nil end end
    for k in pairs(out.own) do if not fl.own[k] then out.own[k] = nil end end
    for k, v in pairs(fl.stale) do out.stale[k] = out.stale[k] or v end
  end
  return out
end

-- the maps whose entries a record expression may be: the union of the
-- expressions' origin (one map) and origins (a set)
local function origins_of(...)
  local out
  for i = 1, select("#", ...) do
    local e = select(i, ...)
    if e then
      if e.origin then out = out or {}; out[e.origin] = true end
      for m in pairs(e.origins or {}) do out = out or {}; out[m] = true end
    end
  end
  return out
end

local function strip(e)
  while e and e.tag == "Paren" do e = e[1] end
  return e
end

local function rec_var(e)
  e = strip(e)
  return e and e.tag == "Id" and e.sym and e.sym.kind == "var" and is_rec(e.sym.ty) and e.sym or nil
end

-- a record variable or a nil-able integer variable (tests prove both present)
local function nilable_var(e)
  e = strip(e)
  return e and e.tag == "Id" and e.sym and e.sym.kind == "var"
    and (is_rec(e.sym.ty) or e.sym.ty == "nilint") and e.sym or nil
end

-- the record variables proven present when condition c is `sense`
function Checker:cond_facts(c, sense, out)
  out = out or {}
  c = strip(c)
  if not c then return out end
  local sym = nilable_var(c)
  if sym then
    if sense then out[#out + 1] = sym end
  elseif c.tag == "Unop" and c.op == "not" then
    self:cond_facts(c[1], not sense, out)
  elseif c.tag == "Op" and (c.op == "==" or c.op == "~=") then
    local a, b = strip(c[1]), strip(c[2])
    local v = (b.tag == "Nil" and nilable_var(a)) or (a.tag == "Nil" and nilable_var(b))
    if v and (c.op == "~=") == sense then out[#out + 1] = v end
  elseif c.tag == "Op" and c.op == "and" and sense then
    self:cond_facts(c[1], true, out)
    self:cond_facts(c[2], true, out)
  elseif c.tag == "Op" and c.op == "or" and not sense then
    self:cond_facts(c[1], false, out)
    self:cond_facts(c[2], false, out)
  end
  return out
end

function Checker:assume(c, sense)
  for _, sym in ipairs(self:cond_facts(c, sense)) do self.flow.nonnil[sym] = true end
end

-- nil tests of a record variable are not uses (a stale reference may be tested)
local function mark_tests(c)
  c = strip(c)
  if not c then return end
  if c.tag == "Id" then c.nil_test = true
  elseif c.tag == "Unop" and c.op == "not" then mark_tests(c[1])
  elseif c.tag == "Op" and (c.op == "and" or c.op == "or") then mark_tests(c[1]); mark_tests(c[2])
  elseif c.tag == "Op" and (c.op == "==" or c.op == "~=") then
    local a, b = strip(c[1]), strip(c[2])
    if b.tag == "Nil" then a.nil_test = true elseif a.tag == "Nil" then b.nil_test = true end
  end
end

-- after a statement that stores into or deletes from map m
function Checker:stored(m, node)
  local line = self.line_of(node.pos)
  for sym in pairs(self.refs_by_map[m] or {}) do
    if not self.flow.own[sym] then self.flow.stale[sym] = line end
  end
end

-- a record variable now refers to e's record (an entry of the maps of
-- origins_of(e), or a record of its own: a constructor's, or another name's
-- that is one here)
function Checker:bind_ref(sym, e, ty)
  sym.rec = sym.rec or e.rec
  self.flow.stale[sym] = nil
  self.flow.nonnil[sym] = (ty == "rec") or nil
  local origins = origins_of(e)
  self.flow.own[sym] = not origins or nil
  for m in pairs(origins or {}) do
    local set = self.refs_by_map[m]
    if not set then set = {}; self.refs_by_map[m] = set end
    set[sym] = true
    sym.origins = sym.origins or {}
    sym.origins[m] = true
  end
end

-- the maps a block stores into or deletes from (nested blocks included),
-- with the line of the first such statement; and the variables it assigns
function Checker:block_effects(block, stores, assigns)
  local function resolve(e)
    e = strip(e)
    local sym = e and e.tag == "Id" and self.scope[e.name]
    return sym
  end
  local function walk(b)
    for _, st in ipairs(b) do
      local tag = st.tag
      if tag == "Set" then
        for _, t in ipairs(st.targets) do
          if t.tag == "Index" then
            local sym = resolve(t[1])
            if sym and sym.kind == "map" and not stores[sym.map] then stores[sym.map] = self.line_of(st.pos) end
          elseif t.tag == "Id" then
            local sym = self.scope[t.name]
            if sym then assigns[sym] = true end
          end
        end
      elseif tag == "CallStat" and st[1].tag == "Invoke" and st[1].method == "set" then
        local sym = resolve(st[1][1])
        if sym and sym.kind == "map" and not stores[sym.map] then stores[sym.map] = self.line_of(st.pos) end
      elseif tag == "If" then
        for _, bl in ipairs(st.blocks) do walk(bl) end
        if st.else_block then walk(st.else_block) end
      elseif tag == "Do" then walk(st.body)
      elseif tag == "Fornum" or tag == "Forin" or tag == "While" or tag == "Repeat" then walk(st.body)
      end
    end
  end
  walk(block)
end

-- expressions -------------------------------------------------------------

local function is_nilable(ty) return ty == "nilint" or ty == "falseint" or ty == "nil" end

function Checker:need_int(e, ty, what)
  if ty == "int" or ty == "err" then return true end
  if is_nilable(ty) then
    self:err(e, (what or "this operand") .. " may be nil", MAYBE_NIL_HINT)
  elseif ty == "bool" then
    self:err(e, (what or "this operand") .. " is a boolean, not an integer",
      "booleans cannot be used in arithmetic; write (cond and 1 or 0)")
  elseif ty == "void" then
    self:err(e, "this call returns no value", "return a value from the function")
  else
    self:err(e, (what or "this operand") .. " is " .. describe(ty) .. ", not an integer", "use an integer expression here")
  end
  return false
end

local arith_ops = { ["+"] = true, ["-"] = true, ["*"] = true, ["//"] = true, ["%"] = true,
  ["&"] = true, ["|"] = true, ["~"] = true, ["<<"] = true, [">>"] = true }
local order_ops = { ["<"] = true, ["<="] = true, [">"] = true, [">="] = true }

local MAX_EXPR_DEPTH = 200

function Checker:expr(e)
  local depth = (self.expr_depth or 0) + 1
  if depth > MAX_EXPR_DEPTH then
    if not self.too_complex then
      self.too_complex = true
      self:err(e, "this expression is too complex (nested more than " .. MAX_EXPR_DEPTH .. " levels)",
        "compute it in steps with local variables")
    end
    e.ty = "err"
    return "err"
  end
  self.expr_depth = depth
  local ty = self:expr_inner(e)
  self.expr_depth = depth - 1
  e.ty = ty
  return ty
end

function Checker:expr_inner(e)
  local tag = e.tag
  if tag == "Number" then
    if e.is_float then
      if e.text and not e.text:find("[%.eEpP]") then
        self:err(e, "this integer does not fit in 64 bits",
          "integers range from math.mininteger to math.maxinteger (hexadecimal constants wrap around)")
        return "err"
      end
      self:err(e, "float numbers are not supported", "bpflua values are 64-bit integers; use // for integer division")
      return "err"
    end
    e.k = e.value
    return "int"
  elseif tag == "True" then e.k = true; return "bool"
  elseif tag == "False" then e.k = false; return "bool"
  elseif tag == "Nil" then return "nil"
  elseif tag == "String" then
    self:err(e, "strings are not values in bpflua", "strings may only be print's format and the license name")
    return "err"
  elseif tag == "Vararg" then
    self:err(e, "'...' is not supported", "declare the parameters by name (at most 5)")
    return "err"
  elseif tag == "Closure" then
    self:err(e, "closures are not allowed", "declare a top-level 'local function NAME(...)' and call it")
    return "err"
  elseif tag == "Table" then
    self:err(e, "tables are not values in bpflua", "use a map: local m = map.hash { key = u32, value = u64, max_entries = 1024 }")
    return "err"
  elseif tag == "Paren" then
    local ty = self:expr(e[1])
    e.k = e[1].k
    e.rec, e.origin, e.origins = e[1].rec, e[1].origin, e[1].origins
    return ty
  elseif tag == "Id" then
    return self:id_expr(e)
  elseif tag == "Index" then
    return self:index_expr(e)
  elseif tag == "Call" then
    return self:call(e, false)
  elseif tag == "Invoke" then
    return self:invoke(e, false)
  elseif tag == "Unop" then
    return self:unop(e)
  elseif tag == "Op" then
    return self:binop(e)
  end
  self:err(e, "unexpected expression")
  return "err"
end

function Checker:lookup(id)
  local sym = self.scope[id.name]
  if not sym then
    local later = self.declared_later and self.declared_later[id.name]
    if later then
      self:err(id, "'" .. id.name .. "' is used before its declaration",
        "move 'local " .. id.name .. "' above this use (line " .. later .. ")")
    else
      self:err(id, "undefined name '" .. id.name .. "'", "declare it with 'local " .. id.name .. " = ...' first")
    end
    return nil
  end
  id.sym = sym
  return sym
end

function Checker:id_expr(e)
  local sym = self:lookup(e)
  if not sym then return "err" end
  local k = sym.kind
  if k == "var" then
    if sym.fn ~= self.fn then
      self:err(e, "'" .. e.name .. "' belongs to another function", "pass it as a parameter")
      return "err"
    end
    if is_rec(sym.ty) then
      e.rec = sym.rec
      -- another name of this record shares its maps (unless it is its own)
      if not self.flow.own[sym] then e.origins = sym.origins end
      local stale = self.flow.stale[sym]
      if stale and not e.nil_test then
        local names = {}
        for m in pairs(sym.origins or {}) do names[#names + 1] = "'" .. m.name .. "'" end
        table_sort(names)
        self:err(e, "'" .. e.name .. "' refers into map " .. table_concat(names, " or ")
          .. ", which line " .. stale .. " stores into (the entry may have been replaced)",
          "look it up again after the store: " .. e.name .. " = m[k]")
        return "err"
      end
      if sym.ty == "nilrec" and self.flow.nonnil[sym] then return "rec" end
    end
    -- a nil-able integer that a test proved present is an integer there
    -- (`local n = m[k]; if n then m[k] = n + 1 end`), as Lua runs it
    if sym.untyped then sym.used_untyped = true end
    if sym.ty == "nilint" and self.flow.nonnil[sym] and not e.nil_test then return "int" end
    return sym.ty
  elseif k == "const" then
    e.k = sym.value
    return "int"
  elseif k == "map" then
    self:err(e, "'" .. e.name .. "' is a map, not a value", "index it: " .. e.name .. "[key]")
  elseif k == "fn" then
    self:err(e, "'" .. e.name .. "' is a function, not a value", "call it: " .. e.name .. "(...)")
  elseif k == "pkt" then
    self:err(e, "'" .. e.name .. "' is the packet, not a value", "read it with " .. e.name .. ":u8(off), or its length with #" .. e.name)
  elseif k == "type" then
    self:err(e, "'" .. e.name .. "' is a type name", "type names are only used in map declarations")
  elseif k == "record" then
    self:err(e, "'" .. e.name .. "' is a record type, not a value", "make a record with " .. e.name .. " { field = value, ... }")
  else
    self:err(e, "'" .. e.name .. "' is not a value", "use it as documented: xdp.NAME, math.maxinteger, map.hash { ... }")
  end
  return "err"
end

-- the key of m[k]: an integer, or a record of the map's key record
function Checker:map_key_expr(m, key)
  local kt = self:expr(key)
  if m.key_rec then
    if kt == "err" then return end
    if kt ~= "rec" then
      if kt == "nilrec" then
        self:err(key, "this record may be nil", "test it first: if r then ... end")
      else
        self:err(key, "the key of map '" .. m.name .. "' is a " .. m.key_rec.name .. " record",
          "write " .. m.name .. "[" .. m.key_rec.name .. " { ... }]")
      end
    elseif key.rec ~= m.key_rec then
      self:err(key, "the key of map '" .. m.name .. "' is a " .. m.key_rec.name .. " record, not a "
        .. key.rec.name, "write " .. m.name .. "[" .. m.key_rec.name .. " { ... }]")
    end
  elseif is_rec(kt) then
    self:err(key, "the key of map '" .. m.name .. "' is an integer, not a record", "use an integer key")
  else
    self:need_int(key, kt, "the key")
  end
end

function Checker:index_expr(e)
  local obj, key = e[1], e[2]
  if obj.tag == "Id" then
    local sym = self.scope[obj.name]
    if sym and sym.kind == "ns" then
      obj.sym = sym
      local name = key.tag == "String" and key.value
      if sym.name == "xdp" and name and xdp_consts[name] then
        e.k = xdp_consts[name]; return "int"
      elseif sym.name == "tc" and name and tc_consts[name] then
        e.k = tc_consts[name]; return "int"
      elseif sym.name == "math" and name == "maxinteger" then
        e.k = arith.MAXINT; return "int"
      elseif sym.name == "math" and name == "mininteger" then
        e.k = arith.MININT; return "int"
      end
      self:err(e, "unknown name '" .. obj.name .. "." .. tostring(name or "?") .. "'",
        sym.name == "xdp" and "verdicts are xdp.ABORTED, xdp.DROP, xdp.PASS, xdp.TX, xdp.REDIRECT"
        or sym.name == "tc" and "verdicts are tc.OK, tc.RECLASSIFY, tc.SHOT, tc.PIPE, tc.STOLEN, tc.REDIRECT, tc.UNSPEC"
        or "math.maxinteger and math.mininteger are the only math names")
      return "err"
    end
    if sym and sym.kind == "map" then
      obj.sym = sym
      local m = sym.map
      e.map = m
      if self.fn then self.fn.uses_maps = true end
      if m.kind == "ringbuf" then
        self:expr(key)
        self:err(e, "a ring buffer is not indexed", "send events with " .. m.name .. ":emit(r)")
        return "err"
      end
      self:map_key_expr(m, key)
      if m.value_rec then
        e.rec = m.value_rec
        e.origin = m
        return "nilrec"
      end
      return "nilint"
    end
    if sym and sym.kind == "pkt" then
      obj.sym = sym
      local name = key.tag == "String" and key.value
      local fld = name and skb_fields[name]
      if fld and self.fn and self.fn.kind == "tc" and not sym.param then
        e.skb = fld
        return "int"
      elseif fld and self.fn and sym.param and not self.fn.is_prog then
        -- a local function's packet: its callers must be tc programs
        e.skb = fld
        self.fn.skb_use = self.fn.skb_use or name
        return "int"
      elseif fld then
        self:err(e, "pkt." .. name .. " is a field of tc programs' socket buffer",
          sym.param and "read it in the program and pass it as an argument"
          or "declare the program as function tc.NAME(pkt)")
        return "err"
      end
      self:err(e, name and ("the packet has no field '" .. name .. "'") or "a packet is not indexed with []",
        "read bytes with " .. obj.name .. ":u8(off); tc programs also have pkt.mark, pkt.priority, "
        .. "pkt.ifindex, pkt.ingress_ifindex, pkt.protocol")
      return "err"
    end
  end
  local t = self:expr(obj)
  if t == "err" then return "err" end
  if is_rec(t) then
    local name = key.tag == "String" and key.value
    local fld = name and obj.rec and obj.rec.by_name[name]
    if not fld then
      self:err(key, "record " .. (obj.rec and obj.rec.name or "?") .. " has no field '" .. tostring(name or "?") .. "'",
        "its fields: " .. (obj.rec and obj.rec.field_list or ""))
      return "err"
    end
    if t == "nilrec" then
      self:err(obj, (obj.tag == "Id" and ("'" .. obj.name .. "'") or "this record reference")
        .. " may be nil here (a map lookup)",
        "test it first: if " .. (obj.tag == "Id" and obj.name or "r") .. " then ... end, or write (m[k] or "
        .. obj.rec.name .. " { ... })")
      return "err"
    end
    e.field = fld
    return "int"
  end
  self:err(e, "only maps and records can be indexed", "declare a map: local m = map.hash { ... }")
  return "err"
end

function Checker:check_args(e, args, n, what, params)
  if #args ~= n then
    self:err(e, what .. " takes " .. n .. " argument" .. (n == 1 and "" or "s") .. ", got " .. #args,
      "pass exactly " .. n .. " value" .. (n == 1 and "" or "s"))
  end
  for i, a in ipairs(args) do
    if params and params[i] and params[i].kind == "pkt" then
      local sym = a.tag == "Id" and self.scope[a.name]
      if sym and sym.kind == "pkt" then
        a.sym = sym
        a.ty = "pkt"
      else
        self:expr(a)
        self:err(a, "this argument must be the packet", "pass the program's packet parameter, e.g. f(pkt)")
      end
    else
      local sym = a.tag == "Id" and self.scope[a.name]
      if sym and sym.kind == "pkt" then
        a.sym = sym
        self:err(a, "the packet is passed to a parameter that is not used as a packet",
          "read it in the function with p:u8(off) or #p")
      else
        local t = self:expr(a)
        if is_rec(t) then
          self:err(a, "records cannot be passed to functions",
            "pass the fields you need as integers: f(r.a, r.b)")
        else
          self:need_int(a, t, "the argument")
        end
      end
    end
  end
end

-- R { field = expr, ... }: a fresh record
function Checker:constructor(e, rec)
  e.rec = rec
  e.ctor = true
  local t = e.args[1]
  if #e.args ~= 1 or t.tag ~= "Table" then
    for _, a in ipairs(e.args) do self:expr(a) end
    self:err(e, "a record is made with a table of fields", rec.name .. " { " .. rec.fields[1].name .. " = 1 }")
    return "err"
  end
  local seen = {}
  e.inits = {}
  for _, f in ipairs(t.fields) do
    local name = f.key and f.key.tag == "String" and f.key.value
    local fld = name and rec.by_name[name]
    local vt = self:expr(f.value)
    if not name then
      self:err(f, "record fields are given by name", rec.name .. " { " .. rec.fields[1].name .. " = 1 }")
    elseif not fld then
      self:err(f.key, "record " .. rec.name .. " has no field '" .. name .. "'", "its fields: " .. rec.field_list)
    elseif seen[name] then
      self:err(f.key, "field '" .. name .. "' given twice", "remove one of them")
    else
      seen[name] = true
      if is_rec(vt) then
        self:err(f.value, "records cannot be nested", "copy the fields one by one: " .. name .. " = r.x")
      elseif self:need_int(f.value, vt, "the field '" .. name .. "'") then
        e.inits[#e.inits + 1] = { field = fld, value = f.value }
      end
    end
  end
  if self.fn then
    local list = self.fn.ctors
    list[#list + 1] = e
  end
  return "rec"
end

-- calls: as_stat is true for a call statement (whose value is dropped)
function Checker:call(e, as_stat)
  local f = e[1]
  if f.tag ~= "Id" then
    self:expr(f)
    self:err(e, "only local functions and built-ins can be called", "declare a top-level local function NAME(...)")
    return "err"
  end
  local sym = self:lookup(f)
  if not sym then
    for _, a in ipairs(e.args) do self:expr(a) end
    return "err"
  end
  if sym.kind == "record" then
    return self:constructor(e, sym.rec)
  end
  if sym.kind == "builtin" then
    if sym.name == "print" then
      if not as_stat then self:err(e, "print returns no value", "call print as a statement") end
      local fmt = e.args[1]
      if not fmt or fmt.tag ~= "String" then
        self:err(fmt or e, "print needs a format string as its first argument", 'print("x=%d", x)')
        return "void"
      end
      if #e.args > 4 then self:err(e, "print takes at most 3 values after the format", "split it into several prints") end
      local n = 0
      local bad = false
      local text = fmt.value
      local i = 1
      while true do
        local s, _, spec = text:find("%%(l?l?[%a%%])", i)
        if not s then break end
        i = s + 1 + #spec
        if spec ~= "%" then
          local conv = spec:sub(-1)
          if conv == "d" or conv == "i" or conv == "u" or conv == "x" then n = n + 1 else bad = true end
        end
      end
      if bad then
        self:err(fmt, "unsupported conversion in print's format", "use only %d, %i, %u, %x and %%")
      elseif n ~= #e.args - 1 then
        self:err(e, "print's format has " .. n .. " conversions but " .. (#e.args - 1) .. " values are given",
          "give one value per %d, %i, %u or %x")
      end
      if #text > 63 then self:err(fmt, "print's format is too long (at most 63 bytes)", "shorten it or split it into several prints") end
      for i2 = 2, #e.args do
        local t = self:expr(e.args[i2])
        self:need_int(e.args[i2], t, "the value")
      end
      e.builtin = "print"
      return "void"
    end
    self:check_args(e, e.args, 0, sym.name)
    e.builtin = sym.name
    return "int"
  elseif sym.kind == "fn" then
    local fn = sym.fn
    e.fn = fn
    if self.fn then
      self.fn.calls[#self.fn.calls + 1] = { fn = fn, node = e, depth = self.loop_depth }
    end
    self:check_args(e, e.args, #fn.params, "'" .. fn.name .. "'", fn.params)
    if fn.skb_use and self.fn and fn ~= self.fn then
      -- the callee reads or writes socket-buffer fields of its packet
      if not self.fn.is_prog then
        self.fn.skb_use = self.fn.skb_use or fn.skb_use
      elseif self.fn.kind ~= "tc" then
        self:err(e, "'" .. fn.name .. "' uses the socket-buffer field " .. fn.skb_use
          .. " of its packet, which only tc programs have",
          "call it from a function tc.NAME(pkt), or pass the value as an argument")
      end
    end
    if fn == self.fn then
      self:err(e, "recursion is not allowed", "eBPF has no recursion: rewrite it with a for loop")
      return "err"
    end
    return fn.ret or "void"
  elseif sym.kind == "license" then
    self:err(e, "license must be declared at the top level", 'write license "GPL" outside the functions')
    return "err"
  end
  self:err(f, "'" .. f.name .. "' is not a function", "callable: local functions, print, ktime, random, cpu")
  for _, a in ipairs(e.args) do self:expr(a) end
  return "err"
end

-- m:set(addr, len, v) on an LPM map, events:emit(x) on a ring buffer
function Checker:map_method(e, m, as_stat)
  local name = e.method
  if not as_stat then self:err(e, m.name .. ":" .. name .. " returns no value", "call it as a statement") end
  if self.fn then self.fn.uses_maps = true end
  e.map = m
  if name == "set" then
    if m.kind ~= "lpm" then
      for _, a in ipairs(e.args) do self:expr(a) end
      self:err(e, "':set' is the update of an LPM map; '" .. m.name .. "' is a map." .. m.kind,
        "write " .. m.name .. "[k] = v")
      return "void"
    end
    if #e.args ~= 3 and #e.args ~= 2 then
      for _, a in ipairs(e.args) do self:expr(a) end
      self:err(e, m.name .. ":set takes 3 arguments (address, prefix length, value or nil)",
        m.name .. ":set(addr, 24, 1)")
      return "void"
    end
    local a, l, v = e.args[1], e.args[2], e.args[3]
    self:need_int(a, self:expr(a), "the address")
    self:need_int(l, self:expr(l), "the prefix length")
    if math_type(l.k) == "integer" and (l.k < 0 or l.k > 32) then
      self:err(l, "the prefix length " .. l.k .. " is outside 0..32", "IPv4 prefixes are 0 to 32 bits long")
    end
    -- m:set(addr, len) is m:set(addr, len, nil) in Lua: a delete
    local vt = v and self:expr(v) or "nil"
    if vt == "nil" then
      e.delete = true
    elseif m.value_rec then
      if vt ~= "rec" or v.rec ~= m.value_rec then
        self:err(v, "the value of map '" .. m.name .. "' is a " .. m.value_rec.name .. " record",
          m.name .. ":set(addr, len, " .. m.value_rec.name .. " { ... })")
      end
    else
      if vt == "nilint" then e.maybe_nil = true
      else self:need_int(v, vt, "the value") end
    end
    return "void"
  elseif name == "emit" then
    if m.kind ~= "ringbuf" then
      for _, a in ipairs(e.args) do self:expr(a) end
      self:err(e, "'" .. m.name .. "' is not a ring buffer; only ring buffers have :emit",
        "declare one: local events = map.ringbuf { size = 65536 }")
      return "void"
    end
    if #e.args ~= 1 then
      for _, a in ipairs(e.args) do self:expr(a) end
      self:err(e, m.name .. ":emit takes one record or integer", m.name .. ":emit(r)")
      return "void"
    end
    local a = e.args[1]
    local t = self:expr(a)
    local kind
    if t == "rec" then kind = a.rec
    elseif t == "nilrec" then
      self:err(a, "this record reference may be nil", "test it first: if r then ... end")
      return "void"
    elseif self:need_int(a, t, "the event") then kind = "int"
    else return "void" end
    if m.event == nil then
      m.event = kind
      m.event_node = a
    elseif m.event ~= kind then
      local function d(k) return k == "int" and "integers" or (k.name .. " records") end
      self:err(a, "ring buffer '" .. m.name .. "' carries " .. d(m.event) .. " (line "
        .. self.line_of(m.event_node.pos) .. "), not " .. d(kind),
        "use one ring buffer per event type")
    end
    return "void"
  end
  for _, a in ipairs(e.args) do self:expr(a) end
  self:err(e, "unknown map method '" .. name .. "'",
    "maps are read with m[k] and written with m[k] = v; LPM maps: m:set(addr, len, v); ring buffers: m:emit(r)")
  return "void"
end

function Checker:invoke(e, as_stat)
  local obj = e[1]
  local sym = obj.tag == "Id" and self.scope[obj.name]
  if sym and sym.kind == "map" then
    obj.sym = sym
    return self:map_method(e, sym.map, as_stat)
  end
  if not (sym and sym.kind == "pkt") then
    self:expr(obj)
    self:err(e, "only the packet has methods", "pkt:u8(off), pkt:be16(off), pkt:set_u8(off, v), ...")
    return "err"
  end
  obj.sym = sym
  local m = e.method
  if pkt_reads[m] then
    e.size = pkt_reads[m]
    self:check_args(e, e.args, 1, "pkt:" .. m)
    return "int"
  elseif pkt_writes[m] then
    e.size = pkt_writes[m]
    self:check_args(e, e.args, 2, "pkt:" .. m)
    if not as_stat then self:err(e, "pkt:" .. m .. " returns no value", "call it as a statement") end
    return "void"
  end
  self:err(e, "unknown packet method '" .. m .. "'",
    "reads: u8 be16 be32 be64 le16 le32 le64; writes: set_u8 set_be16 ... set_le64")
  for _, a in ipairs(e.args) do self:expr(a) end
  return "err"
end

function Checker:unop(e)
  local op, a = e.op, e[1]
  if op == "#" then
    local sym = a.tag == "Id" and self.scope[a.name]
    if sym and sym.kind == "pkt" then
      a.sym = sym
      e.pktlen = true
      return "int"
    end
    self:expr(a)
    self:err(e, "'#' applies only to the packet", "#pkt is the packet length")
    return "err"
  end
  local t = self:expr(a)
  if op == "not" then
    if a.k ~= nil then e.k = not a.k end
    return "bool"
  end
  if not self:need_int(a, t) then return "err" end
  if math_type(a.k) == "integer" then
    e.k = op == "-" and arith.neg(a.k) or ~a.k
  end
  return "int"
end

function Checker:binop(e)
  local op, a, b = e.op, e[1], e[2]
  if op == "/" then
    self:expr(a); self:expr(b)
    self:err(e, "'/' is float division", "use // for integer division")
    return "err"
  elseif op == "^" then
    self:expr(a); self:expr(b)
    self:err(e, "'^' is float exponentiation", "use * or << (for example 1 << n)")
    return "err"
  elseif op == ".." then
    self:expr(a); self:expr(b)
    self:err(e, "'..' concatenates strings, which bpflua does not have", "print values with print(\"%d %d\", a, b)")
    return "err"
  end
  local ta, tb
  if op == "and" or op == "or" then
    -- b is evaluated only when a is true (and) / false (or)
    if op == "and" then mark_tests(a) end
    ta = self:expr(a)
    local saved = copy_flow(self.flow)
    self:assume(a, op == "and")
    tb = self:expr(b)
    self.flow = saved
  else
    if op == "==" or op == "~=" then mark_tests(e) end
    ta, tb = self:expr(a), self:expr(b)
  end
  if ta == "err" or tb == "err" then return "err" end
  if is_rec(ta) or is_rec(tb) then return self:rec_binop(e, op, a, b, ta, tb) end
  if arith_ops[op] then
    local oka = self:need_int(a, ta, "the left operand of '" .. op .. "'")
    local okb = self:need_int(b, tb, "the right operand of '" .. op .. "'")
    if not (oka and okb) then return "err" end
    if math_type(a.k) == "integer" and math_type(b.k) == "integer" then
      e.k = arith.fold(op, a.k, b.k) -- nil when it would fault (x // 0)
    end
    return "int"
  elseif order_ops[op] then
    local oka = self:need_int(a, ta, "the left operand of '" .. op .. "'")
    local okb = self:need_int(b, tb, "the right operand of '" .. op .. "'")
    if not (oka and okb) then return "err" end
    if math_type(a.k) == "integer" and math_type(b.k) == "integer" then
      local x, y = a.k, b.k
      if op == "<" then e.k = x < y elseif op == "<=" then e.k = x <= y
      elseif op == ">" then e.k = x > y else e.k = x >= y end
    end
    return "bool"
  elseif op == "==" or op == "~=" then
    local function family(t)
      if t == "int" then return "int" elseif t == "bool" then return "bool"
      elseif t == "nil" then return "nil" elseif t == "nilint" then return "nilint" end
      return t
    end
    local fa, fb = family(ta), family(tb)
    if fa == "void" or fb == "void" then self:err(e, "a call that returns no value cannot be compared", "return a value from the function"); return "err" end
    if fa == "mixed" or fb == "mixed" then
      self:err(e, "this value mixes types (it is only usable as a condition)", "compare the parts separately")
      return "err"
    end
    if fa == "falseint" or fb == "falseint" then
      self:err(e, "'x and y' with a boolean x cannot be compared", "compare the parts separately")
      return "err"
    end
    if fa == "nilint" and fb ~= "nil" or fb == "nilint" and fa ~= "nil" then
      self:err(e, "a value that may be nil can only be compared with nil", MAYBE_NIL_HINT)
      return "err"
    end
    if (fa == "int" and fb == "bool") or (fa == "bool" and fb == "int") then
      self:err(e, "comparing an integer with a boolean is always false", "compare values of the same type")
      return "err"
    end
    if a.k ~= nil and b.k ~= nil then
      e.k = (a.k == b.k) == (op == "==")
    elseif (fa == "nil" and (fb == "int" or fb == "bool")) or (fb == "nil" and (fa == "int" or fa == "bool")) then
      e.k_sidefx = true -- decided, but an operand must still be evaluated
    elseif fa == "nil" and fb == "nil" then
      e.k = op == "=="
    end
    return "bool"
  elseif op == "and" or op == "or" then
    if ta == "void" or tb == "void" then self:err(e, "a call that returns no value has no truth value", "return a value from the function"); return "err" end
    if op == "or" then
      if ta == "int" then e.k = a.k; return "int" end           -- b never evaluated
      if ta == "mixed" or tb == "mixed" then return "mixed" end
      if ta == "nilint" or ta == "falseint" or ta == "nil" then
        if tb == "int" then
          if a.k ~= nil and b.k ~= nil then e.k = a.k or b.k end
          return "int"
        end
        if tb == "nilint" or tb == "nil" then return "nilint" end
        return "mixed" -- only its truth value can be used
      end
      if ta == "bool" then
        if tb == "bool" then
          if a.k ~= nil and b.k ~= nil then e.k = a.k or b.k end
          return "bool"
        end
        return "mixed"
      end
    else
      if tb == "mixed" and ta ~= "int" then return "mixed" end
      if ta == "int" then
        if a.k ~= nil then e.k = b.k end
        return tb                                                  -- result is b
      end
      if ta == "nil" then return "nil" end
      if ta == "bool" then
        if tb == "bool" then
          if a.k ~= nil and b.k ~= nil then e.k = a.k and b.k end
          return "bool"
        end
        if tb == "int" then
          if a.k ~= nil and b.k ~= nil then e.k = a.k and b.k end
          return "falseint"
        end
        return "mixed"
      end
      if ta == "nilint" then
        if tb == "int" or tb == "nilint" then return "nilint" end
        return "mixed"
      end
      if ta == "falseint" or ta == "mixed" then return "mixed" end
    end
  end
  self:err(e, "unsupported operator '" .. op .. "'", "operators: + - * // % & | ~ << >> == ~= < <= > >= and or not #")
  return "err"
end

-- an operator with a record operand
function Checker:rec_binop(e, op, a, b, ta, tb)
  if op == "==" or op == "~=" then
    if tb == "nil" or ta == "nil" then return "bool" end
    self:err(e, "records cannot be compared", "compare their fields: a.x == b.x and a.y == b.y")
    return "err"
  end
  if op == "or" then
    if ta == "rec" then e.rec = a.rec; e.origins = origins_of(a); return "rec" end
    if ta == "nilrec" and is_rec(tb) then
      if b.rec ~= a.rec then
        self:err(b, "both sides of 'or' must be " .. a.rec.name .. " records", a.rec.name .. " { ... }")
        return "err"
      end
      e.rec = a.rec
      e.origins = origins_of(a, b)
      return tb
    end
    if ta == "nilrec" and tb == "nil" then e.rec = a.rec; e.origins = origins_of(a); return "nilrec" end
    return "mixed"
  elseif op == "and" then
    if is_rec(ta) then
      if tb == "int" or tb == "nilint" then return ta == "rec" and tb or "nilint" end
      if is_rec(tb) then e.rec = b.rec; e.origins = origins_of(b); return ta == "rec" and tb or "nilrec" end
      return "mixed"
    end
    return "mixed"
  end
  local r = is_rec(ta) and a or b
  self:err(r, "a record is not an integer", "use one of its fields: r.field")
  return "err"
end

-- statements --------------------------------------------------------------

-- does the block always end in return (so that code after it is unreachable)?
local function always_returns(block)
  local last = block[#block]
  if not last then return false end
  if last.tag == "Return" then return true end
  if last.tag == "Do" then return always_returns(last.body) end
  if last.tag == "If" and last.else_block then
    for _, b in ipairs(last.blocks) do if not always_returns(b) then return false end end
    return always_returns(last.else_block)
  end
  return false
end

-- does the block always leave (return, or break out of its loop)?
local function always_exits(block)
  local last = block[#block]
  if not last then return false end
  if last.tag == "Return" or last.tag == "Break" then return true end
  if last.tag == "Do" then return always_exits(last.body) end
  if last.tag == "If" and last.else_block then
    for _, b in ipairs(last.blocks) do if not always_exits(b) then return false end end
    return always_exits(last.else_block)
  end
  return false
end

function Checker:block(block)
  self:push_scope()
  for _, s in ipairs(block) do self:stat(s) end
  self:pop_scope()
end

local function value_type(self, e, ty)
  if ty == "mixed" then
    self:err(e, "this 'and'/'or' mixes types, so it is only usable as a condition",
      "give both sides the same type, e.g. (cond and 1 or 0)")
    return "err"
  end
  if ty == "void" then self:err(e, "this call returns no value", "return a value from the function"); return "err" end
  if ty == "falseint" then
    self:err(e, "this value is an integer or false", "finish it with 'or': (cond and x or y)")
    return "err"
  end
  return ty
end

local function assignable(var_ty, ty)
  if ty == "err" or var_ty == "err" then return true end
  if var_ty == ty then return true end
  if var_ty == "nilint" and (ty == "int" or ty == "nil") then return true end
  return false
end

function Checker:stat(s)
  local tag = s.tag
  if tag == "Local" then
    local types = {}
    for i, e in ipairs(s.exprs or {}) do
      types[i] = value_type(self, e, self:expr(e))
    end
    for i, id in ipairs(s.names) do
      if id.attrib and id.attrib ~= "const" then
        self:err(id, "attribute <" .. id.attrib .. "> is not supported", "only <const> is accepted (and ignored)")
      end
      local sym = self:new_var(id, types[i] or "nilint")
      -- `local s` with no value: it takes the type of its first assignment
      -- when that is a record (`if c then s = m[a] else s = m[b] end`)
      -- (`local s = nil` is the same in Lua)
      if not (s.exprs and s.exprs[i]) or strip(s.exprs[i]).tag == "Nil" then sym.untyped = true end
      if is_rec(types[i]) then
        sym.rec = s.exprs[i].rec
        self:bind_ref(sym, s.exprs[i], types[i])
        self.fn.recvars[#self.fn.recvars + 1] = sym
      end
    end
  elseif tag == "Set" then
    local types = {}
    for _, t in ipairs(s.targets) do self:target(t) end
    for i, e in ipairs(s.exprs) do types[i] = value_type(self, e, self:expr(e)) end
    for i, t in ipairs(s.targets) do
      local ty = types[i] or "nil"
      local e = s.exprs[i]
      if t.rec_target then
        -- a record variable: another reference (same record type)
        local sym = t.sym
        if not is_rec(ty) and ty ~= "err" then
          self:err(e or t, "'" .. t.name .. "' holds a " .. sym.rec.name .. " record, not " .. describe(ty),
            "assign a " .. sym.rec.name .. " record (or declare a new local)")
        elseif ty ~= "err" and e.rec ~= sym.rec then
          self:err(e, "'" .. t.name .. "' holds a " .. sym.rec.name .. " record, not a " .. e.rec.name,
            "declare a new local for it")
        elseif ty == "nilrec" and sym.ty == "rec" then
          self:err(e, "this record reference may be nil, and '" .. t.name .. "' is never nil",
            "write (m[k] or " .. sym.rec.name .. " { ... })")
        elseif ty ~= "err" then
          sym.reassigned = true
          self:bind_ref(sym, e, ty)
        end
      elseif t.map_target then
        local m = t.map
        if ty == "nil" then
          -- a delete
        elseif m.value_rec then
          if ty == "nilrec" and e.rec == m.value_rec then
            -- Lua would delete the entry when it is nil
            self:err(e, "this record reference may be nil here (a map lookup)",
              "test it first: local r = " .. m.name .. "[k2]; if r then " .. m.name .. "[k] = r end")
          elseif ty ~= "rec" or e.rec ~= m.value_rec then
            if ty ~= "err" then
              self:err(e or t, "the value of map '" .. m.name .. "' is a " .. m.value_rec.name .. " record",
                "store " .. m.name .. "[k] = " .. m.value_rec.name .. " { ... }, or nil to delete")
            end
          end
        elseif is_rec(ty) then
          self:err(e, "map '" .. m.name .. "' holds integers, not records", "store one of its fields: r.field")
        elseif not assignable("nilint", ty) then
          self:err(e or t, "cannot assign " .. describe(ty) .. " to '" .. (t.name or "?") .. "', which holds " .. describe("nilint"),
            "a variable keeps the type of its first value; declare a new local")
        end
      elseif t.target_ty and is_rec(ty) and t.tag == "Id" and t.sym and t.sym.untyped
        and not t.sym.used_untyped and t.sym.fn == self.fn then
        -- the first value of a `local s` declared without one: a record variable
        local sym = t.sym
        sym.ty, sym.rec, sym.untyped, sym.decl_nil = "nilrec", e.rec, nil, true
        t.rec_target, t.target_ty = true, nil
        sym.reassigned = true
        self.fn.recvars[#self.fn.recvars + 1] = sym
        self:bind_ref(sym, e, ty)
      elseif t.target_ty and is_rec(ty) then
        self:err(e, "cannot assign a record to '" .. (t.name or "?") .. "', which holds " .. describe(t.target_ty),
          "declare a new local for the record")
      elseif t.target_ty and not assignable(t.target_ty, ty) then
        if t.target_ty == "int" and is_nilable(ty) then
          self:err(s.exprs[i] or t, "cannot assign a value that may be nil to '" .. (t.name or "?") .. "', an integer variable",
            MAYBE_NIL_HINT .. ", or declare the variable with 'local x' (nil-able)")
        else
          self:err(s.exprs[i] or t, "cannot assign " .. describe(ty) .. " to '" .. (t.name or "?") .. "', which holds " .. describe(t.target_ty),
            "a variable keeps the type of its first value; declare a new local")
        end
      end
    end
    for i, t in ipairs(s.targets) do
      if t.map_target then self:stored(t.map, s) end
      -- a nil-able integer variable is present after it is given an integer
      if t.tag == "Id" and t.sym and t.sym.kind == "var" and t.sym.ty == "nilint" then
        self.flow.nonnil[t.sym] = (types[i] == "int") or nil
        if types[i] == "int" or types[i] == "nilint" then t.sym.untyped = nil end
      end
    end
  elseif tag == "CallStat" then
    local c = s[1]
    if c.tag == "Call" then self:call(c, true) else self:invoke(c, true) end
    if c.tag == "Invoke" and c.map and c.method == "set" then self:stored(c.map, s) end
  elseif tag == "If" then
    local base = self.flow
    local outs = {}
    for i, c in ipairs(s.conds) do
      mark_tests(c)
      local t = self:expr(c)
      if t == "void" then self:err(c, "this call returns no value", "return a value from the function") end
      local before = self.flow
      self.flow = copy_flow(before)
      self:assume(c, true)
      self:block(s.blocks[i])
      if not always_exits(s.blocks[i]) then outs[#outs + 1] = self.flow end
      self.flow = copy_flow(before)
      self:assume(c, false)
    end
    if s.else_block then self:block(s.else_block) end
    if not (s.else_block and always_exits(s.else_block)) then outs[#outs + 1] = self.flow end
    self.flow = merge_flows(outs, base)
  elseif tag == "Do" then
    self:block(s.body)
  elseif tag == "Fornum" then
    local ok = true
    for _, key in ipairs { "start", "limit", "step" } do
      local e = s[key]
      if e then
        local t = self:expr(e)
        if not self:need_int(e, t, "the loop " .. (key == "start" and "start" or key)) then ok = false end
      end
    end
    if ok then
      local a, b, c = s.start.k, s.limit.k, s.step and s.step.k or 1
      if math_type(a) == "integer" and math_type(b) == "integer" and math_type(c) == "integer" and c ~= 0 then
        local n = arith.trip_count(a, b, c)
        if n and n > MAX_LOOPS then
          self:err(s, "this loop runs " .. n .. " times; bpf_loop allows at most " .. MAX_LOOPS,
            "split the work or lower the bound")
        end
      end
    end
    self:loop(s, function()
      self:new_var(s.var, "int")
      s.var.sym.loopvar = true
    end)
  elseif tag == "Forin" then
    local e = s.exprs[1]
    local m
    if #s.exprs == 1 and e.tag == "Call" and e[1].tag == "Id" and e[1].name == "pairs" and #e.args == 1
      and e.args[1].tag == "Id" then
      local sym = self.scope[e.args[1].name]
      if sym and sym.kind == "map" then m = sym.map end
    end
    if not m then
      self:err(e or s, "only 'for k, v in pairs(m)' over a map is supported",
        "iterate with a numeric for: for i = 0, N - 1 do ... end")
    elseif #s.names > 2 then
      self:err(s.names[3], "pairs gives two values: the key and the value", "for k, v in pairs(m) do ... end")
    end
    if m and (m.kind == "lpm" or m.kind == "ringbuf") then
      self:err(e, "pairs cannot iterate over " .. (m.kind == "lpm" and "an LPM map" or "a ring buffer"),
        m.kind == "lpm" and "look prefixes up with m[addr]; keep a separate map to iterate"
        or "ring buffer events are read in user space")
      m = nil
    end
    s.map = m
    if self.fn then self.fn.uses_maps = true end
    self:loop(s, function()
      for i, id in ipairs(s.names) do
        local rec = m and (i == 1 and m.key_rec or i == 2 and m.value_rec)
        local sym = self:new_var(id, rec and "rec" or (i <= 2 and "int" or "nilint"))
        if rec then
          sym.rec = rec
          sym.readonly = i == 1
          self:bind_ref(sym, { rec = rec, origin = m }, "rec")
          self.fn.recvars[#self.fn.recvars + 1] = sym
        end
      end
    end)
  elseif tag == "While" then
    self:expr(s.cond)
    self:err({ pos = s.pos, end_pos = s.pos + 5 }, "'while' loops are not allowed",
      "every loop is a bounded for: for i = 1, N do if not (cond) then break end ... end")
    self:loop(s, function() end)
  elseif tag == "Repeat" then
    self:err({ pos = s.pos, end_pos = s.pos + 6 }, "'repeat' loops are not allowed",
      "every loop is a bounded for: for i = 1, N do ... if cond then break end end")
    self:loop(s, function() end, function() self:expr(s.cond) end)
  elseif tag == "Goto" then
    self:err(s, "'goto' is not allowed", "use if/else, or a for loop with break")
  elseif tag == "Label" then
    self:err(s, "labels are not allowed", "use if/else, or a for loop with break")
  elseif tag == "Break" then
    if self.loop_depth == 0 then self:err(s, "'break' outside a loop", "use return to leave the function") end
  elseif tag == "Return" then
    self:return_stat(s)
  elseif tag == "LocalFunction" or tag == "Function" then
    self:err(s, "functions can only be declared at the top level",
      "closures are not allowed: move 'local function' to the top level")
  else
    self:err(s, "unexpected statement")
  end
end

function Checker:loop(s, declare, after)
  -- references from before the loop into a map that the body stores into
  -- are stale in the whole body (a later iteration follows the store), and
  -- nothing the body assigns is proven present at its start
  local stores, assigns = {}, {}
  self:block_effects(s.body, stores, assigns)
  local entry = copy_flow(self.flow)
  for m, line in pairs(stores) do
    for sym in pairs(self.refs_by_map[m] or {}) do
      if not (entry.own[sym] and not assigns[sym]) then entry.stale[sym] = entry.stale[sym] or line end
    end
  end
  for sym in pairs(assigns) do entry.nonnil[sym] = nil; entry.own[sym] = nil end
  self.flow = copy_flow(entry)
  self.loop_depth = self.loop_depth + 1
  if self.fn then
    self.fn.loops = self.fn.loops + 1
    if self.loop_depth > self.fn.max_loop_depth then self.fn.max_loop_depth = self.loop_depth end
  end
  s.loop_depth = self.loop_depth
  self:push_scope()
  declare()
  for _, st in ipairs(s.body) do self:stat(st) end
  if after then after() end
  self:pop_scope()
  self.loop_depth = self.loop_depth - 1
  self.flow = merge_flows({ entry, self.flow }, entry)
end

function Checker:target(t)
  if t.tag == "Id" then
    if not self.scope[t.name] then
      self:err(t, "assignment to undeclared variable '" .. t.name .. "'",
        "declare it first: local " .. t.name .. " = ...")
      return
    end
    local sym = self:lookup(t)
    if not sym then return end
    if sym.kind == "var" then
      if sym.fn ~= self.fn then self:err(t, "'" .. t.name .. "' belongs to another function", "pass it as a parameter"); return end
      if is_rec(sym.ty) then t.rec_target = true; return end
      t.target_ty = sym.ty
    elseif sym.kind == "const" then
      self:err(t, "'" .. t.name .. "' is a constant", "declare a local variable inside the function to change it")
    else
      self:err(t, "cannot assign to '" .. t.name .. "'", "only local variables and map entries can be assigned")
    end
  elseif t.tag == "Index" then
    local obj = t[1]
    local sym = obj.tag == "Id" and self.scope[obj.name]
    if sym and sym.kind == "map" then
      obj.sym = sym
      local m = sym.map
      t.map = m
      if self.fn then self.fn.uses_maps = true end
      t.name = obj.name .. "[...]"
      if m.kind == "lpm" then
        self:expr(t[2])
        self:err(t, "an LPM map is written with :set (address, prefix length, value)",
          obj.name .. ":set(addr, 32, v), or " .. obj.name .. ":set(addr, len, nil) to delete")
        return
      elseif m.kind == "ringbuf" then
        self:expr(t[2])
        self:err(t, "a ring buffer is not indexed", "send events with " .. obj.name .. ":emit(r)")
        return
      end
      self:map_key_expr(m, t[2])
      t.map_target = true -- int/record stores, nil deletes
      return
    end
    if sym and sym.kind == "pkt" then
      obj.sym = sym
      local name = t[2].tag == "String" and t[2].value
      local fld = name and skb_fields[name]
      local in_func = fld and self.fn and sym.param and not self.fn.is_prog
      if fld and self.fn and (self.fn.kind == "tc" and not sym.param or in_func) then
        if not fld.rw then
          self:err(t, obj.name .. "." .. name .. " is read-only", "only pkt.mark and pkt.priority can be written")
          return
        end
        if in_func then self.fn.skb_use = self.fn.skb_use or name end
        t.skb = fld
        t.target_ty = "int"
        t.name = "pkt." .. name
        return
      end
      self:expr(t)
      return
    end
    local ty = self:expr(obj)
    if is_rec(ty) then
      local name = t[2].tag == "String" and t[2].value
      local fld = name and obj.rec and obj.rec.by_name[name]
      if not fld then
        self:err(t[2], "record " .. (obj.rec and obj.rec.name or "?") .. " has no field '" .. tostring(name or "?") .. "'",
          "its fields: " .. (obj.rec and obj.rec.field_list or ""))
      elseif ty == "nilrec" then
        self:err(obj, (obj.tag == "Id" and ("'" .. obj.name .. "'") or "this record reference")
          .. " may be nil here (a map lookup)",
          "test it first: if " .. (obj.tag == "Id" and obj.name or "r") .. " then ... end, or write (m[k] or "
          .. obj.rec.name .. " { ... })")
      elseif rec_var(obj) and rec_var(obj).readonly then
        self:err(t, "the key of pairs cannot be written", "copy it: " .. obj.rec.name .. " { ... }")
      else
        t.field = fld
        t.target_ty = "int"
        t.name = (obj.name or "r") .. "." .. name
      end
    elseif ty ~= "err" then
      self:err(t, "only local variables, record fields and map entries can be assigned", "write m[k] = v for a map")
    end
  else
    self:err(t, "cannot assign to this expression", "only local variables and map entries can be assigned")
  end
end

function Checker:return_stat(s)
  local fn = self.fn
  if #s > 1 then self:err(s[2], "a function returns at most one value", "return one integer (or store extra results in a map)") end
  local e = s[1]
  local ty = "none"
  if e then ty = value_type(self, e, self:expr(e)) end
  if is_rec(ty) then
    if fn.is_prog then
      self:err(e, "a program returns a verdict, not a record", "return " .. fn.kind .. ".PASS or another verdict")
    else
      self:err(e, "records cannot be returned from functions",
        "store the record in a map, or return one field: return r.x")
    end
    return
  end
  if fn.is_prog and fn.kind == "tc" and e and ty == "nil" then
    self:err(e, "a tc program may not return nil", "return tc.OK (or leave out the return value)")
    return
  end
  if fn.is_prog then
    if e and ty ~= "int" and ty ~= "err" then
      if is_nilable(ty) then
        self:err(e, "a program's verdict may not be nil", MAYBE_NIL_HINT)
      else
        self:err(e, "a program returns an integer verdict, not " .. describe(ty),
          fn.kind == "tc" and "return tc.OK, tc.SHOT, ..." or "return xdp.PASS, xdp.DROP, ...")
      end
    end
  else
    fn.returns[#fn.returns + 1] = { ty = ty, node = s }
  end
end

-- top level ---------------------------------------------------------------

local function const_int(self, e, what)
  local ty = self:expr(e)
  if ty == "err" then return nil end
  if ty ~= "int" or math_type(e.k) ~= "integer" then
    self:err(e, what .. " must be a constant integer expression",
      "top-level locals are constants or maps; declare variables inside a function")
    return nil
  end
  return e.k
end

function Checker:record_decl(id, e)
  local spec = e.args[1]
  if #e.args ~= 1 or spec.tag ~= "Table" then
    self:err(e, "a record type is declared with a table of fields", "local " .. id.name .. " = record { x = u32, y = u16 }")
    return
  end
  local rec = { name = id.name, fields = {}, by_name = {} }
  local seen = {}
  for _, f in ipairs(spec.fields) do
    local name = f.key and f.key.tag == "String" and f.key.value
    local v = f.value
    local dup = name and seen[name]
    if name then seen[name] = true end
    if not name then
      self:err(f, "record fields are named with their type", "record { x = u32, y = u16 }")
    elseif dup then
      self:err(f.key, "field '" .. name .. "' is declared twice in record " .. id.name, "give each field its own name")
    else
      -- a type name as Lua sees it here: a local (a record, a constant)
      -- may hide it, as in `local u32 = record { ... }`
      local sym = v.tag == "Id" and self.scope[v.name]
      local t = sym and sym.kind == "type" and type_names[v.name]
      if t then
        local fld = { name = name, size = t.size, signed = t.signed, type_name = v.name }
        rec.fields[#rec.fields + 1] = fld
        rec.by_name[name] = fld
      elseif sym and sym.kind == "record" then
        self:err(v, "records cannot be nested (field '" .. name .. "' is a " .. v.name .. " record)",
          "copy the fields of " .. v.name .. " into " .. id.name)
      elseif sym and type_names[v.name] then
        self:err(v, "'" .. v.name .. "' is a local declared above here, not the type " .. v.name,
          "rename that local: Lua would use it here")
      else
        self:err(v, "unknown field type" .. (v.tag == "Id" and (" '" .. v.name .. "'") or ""),
          "field types are u8 u16 u32 u64 i8 i16 i32 i64")
      end
    end
  end
  if #spec.fields == 0 then
    self:err(spec, "record " .. id.name .. " has no fields", "record { x = u32 }")
    return
  end
  if #rec.fields ~= #spec.fields then return end
  rec.size, rec.align = records.layout(rec.fields)
  if rec.size > MAX_RECORD then
    self:err(e, "record " .. id.name .. " takes " .. rec.size .. " bytes; the kernel's stack holds " .. MAX_RECORD,
      "split it into smaller records")
    return
  end
  if #id.name > 63 then
    self:err(id, "record name '" .. id.name:sub(1, 20) .. "...' is longer than 63 bytes", "choose a shorter name")
    return
  end
  for _, other in ipairs(self.model.records) do
    if other.name == id.name then
      self:err(id, "record '" .. id.name .. "' is declared twice", "give each record type its own name")
      return
    end
  end
  local names = {}
  for _, fld in ipairs(rec.fields) do names[#names + 1] = fld.name end
  rec.field_list = table_concat(names, ", ")
  self.model.records[#self.model.records + 1] = rec
  rec.index = #self.model.records
  self:declare(id, { kind = "record", rec = rec })
end

-- the range of integers a key type holds (nil, nil: every integer)
local function key_range(t)
  if t.size == 8 then return nil, nil end
  local bits = t.size * 8
  if t.signed then return -(1 << (bits - 1)), (1 << (bits - 1)) - 1 end
  return 0, (1 << bits) - 1
end

-- a constant record value of an init table: its bytes, or nil
function Checker:const_record(e, rec, what)
  local ty = self:expr(e)
  if ty == "err" then return nil end
  if ty ~= "rec" or not e.ctor or e.rec ~= rec then
    self:err(e, what .. " of this map is a " .. rec.name .. " record", rec.name .. " { ... }")
    return nil
  end
  local vals = {}
  for _, it in ipairs(e.inits) do
    if math_type(it.value.k) ~= "integer" then
      self:err(it.value, "initial contents are constants", "use constant integer expressions")
      return nil
    end
    vals[it.field.name] = it.value.k
  end
  return records.pack_record(rec, vals)
end

-- init = { [k] = v, ... }: the list of { key = bytes, value = bytes }
function Checker:map_init(m, spec_e)
  if spec_e.tag ~= "Table" then
    self:expr(spec_e)
    self:err(spec_e, "init is a table of initial entries", "init = { [1] = 10, [7] = 70 }")
    return
  end
  -- the order in which Lua's table constructor stores the fields: a keyed
  -- field at once, positional ones in batches of 50 (LFIELDS_PER_FLUSH),
  -- flushed before the field after the 50th and at the end; so
  -- { 5, [1] = 7 } holds 5 at key 1, as in Lua
  local order, pending, npos = {}, {}, 0
  for _, f in ipairs(spec_e.fields) do
    if #pending == 50 then
      for _, x in ipairs(pending) do order[#order + 1] = x end
      pending = {}
    end
    if f.key then
      order[#order + 1] = { f = f }
    else
      npos = npos + 1
      pending[#pending + 1] = { f = f, pos = npos }
    end
  end
  for _, x in ipairs(pending) do order[#order + 1] = x end
  local out, keys, lua_key = {}, {}, {}
  for _, it in ipairs(order) do
    local f = it.f
    local kb, vb, lk
    local ke = f.key
    if m.kind == "lpm" then
      if not ke or ke.tag ~= "String" then
        if ke then self:expr(ke) end
        self:err(ke or f, "the keys of an LPM map's init are prefixes as strings", '["10.0.0.0/8"] = 1')
      else
        local addr, len = records.parse_prefix(ke.value)
        if not addr then
          self:err(ke, "'" .. ke.value .. "' is not an IPv4 prefix a.b.c.d/len (" .. len .. ")",
            'write it as "10.0.0.0/8" (four bytes 0..255, a length 0..32)')
        else
          kb = records.lpm_key(addr, len)
          lk = "s" .. ke.value
        end
      end
    elseif m.key_rec then
      if not ke then
        self:err(f, "the keys of this map are " .. m.key_rec.name .. " records", "[" .. m.key_rec.name .. " { ... }] = v")
      else
        kb = self:const_record(ke, m.key_rec, "the key")
      end
    else
      local k
      if not ke then
        k = it.pos
      elseif ke.tag == "String" then
        self:err(ke, "the keys of map '" .. m.name .. "' are integers", "init = { [1] = 10 }")
      else
        k = const_int(self, ke, "an init key")
      end
      if k then
        local lo, hi = key_range(m.key)
        if m.type == 2 or m.type == 6 then lo, hi = 0, m.max_entries - 1 end
        if lo and (k < lo or k > hi) then
          self:err(ke or f, "init key " .. k .. " is outside the keys of map '" .. m.name .. "' ("
            .. lo .. " to " .. hi .. ")", (m.type == 2 or m.type == 6) and "array indexes go from 0 to max_entries - 1"
            or "use a key that fits " .. m.key_name)
        else
          kb = records.pack_int(k, m.key_size)
          lk = "i" .. k
        end
      end
    end
    if m.value_rec then
      vb = self:const_record(f.value, m.value_rec, "the value")
    else
      local v = const_int(self, f.value, "an init value")
      if v then vb = records.pack_int(v, m.value_size) end
    end
    if kb and vb then
      -- the same integer or string twice is one Lua table key (the later
      -- field wins, as in Lua); two records, or two strings naming one
      -- prefix, are two keys of the Lua table, stored in an order Lua
      -- leaves open: the map would get either value
      if keys[kb] and (not lk or keys[kb] ~= lk) then
        self:err(ke or f, "this init " .. (m.kind == "lpm" and "prefix" or "key") .. " repeats an earlier entry's;"
          .. " Lua keeps both table keys in an open order, so either value could win",
          m.kind == "lpm" and "write each prefix once (host bits are cleared: 10.1.0.0/8 is 10.0.0.0/8)"
          or "write each key once")
      else
        if not keys[kb] then keys[kb] = lk or true; keys[#keys + 1] = kb end
        out[#out + 1] = { key = kb, value = vb }
      end
    end
  end
  if #keys > m.max_entries then
    self:err(spec_e, "init has " .. #keys .. " entries but map '" .. m.name .. "' holds " .. m.max_entries,
      "raise max_entries or remove entries")
    return
  end
  m.init = out
end

function Checker:map_decl(id, e)
  local kind = e[1][2].value
  local mtype = map_kinds[kind]
  if not mtype then
    self:err(e[1], "unknown map kind '" .. tostring(kind) .. "'",
      "use map.hash, map.array, map.lru_hash, map.percpu_hash, map.percpu_array, map.lpm or map.ringbuf")
    return
  end
  local spec = e.args[1]
  if #e.args ~= 1 or spec.tag ~= "Table" then
    self:err(e, "a map is declared with a table",
      kind == "ringbuf" and "map.ringbuf { size = 65536 }" or "map." .. kind .. " { key = u32, value = u64, max_entries = 1024 }")
    return
  end
  local m = { name = id.name, type = mtype, kind = kind, flags = 0, node = id }
  local allowed = kind == "ringbuf" and { size = true }
    or { key = kind ~= "lpm", value = true, max_entries = true, init = true }
  local seen = {}
  local init_e
  for _, f in ipairs(spec.fields) do
    local key = f.key and f.key.tag == "String" and f.key.value
    if not key then
      self:err(f, "map fields are named: key, value, max_entries", "map.hash { key = u32, value = u64, max_entries = 1024 }")
    elseif seen[key] then
      self:err(f, "field '" .. key .. "' given twice", "remove one of them")
    elseif not allowed[key] then
      seen[key] = true
      if kind == "ringbuf" then
        self:err(f, "a ring buffer is declared with its size only", "map.ringbuf { size = 65536 }")
      elseif kind == "lpm" and key == "key" then
        self:err(f, "an LPM map's key is an IPv4 prefix (address and length)", "leave out 'key' for map.lpm")
      else
        self:err(f, "unknown map field '" .. key .. "'", "map fields are key, value, max_entries and init")
      end
    else
      seen[key] = true
      if key == "key" or key == "value" then
        local v = f.value
        local sym = v.tag == "Id" and self.scope[v.name]
        local t = sym and sym.kind == "type" and type_names[v.name]
        if t then
          m[key] = t
          m[key .. "_name"] = v.name
        elseif sym and sym.kind == "record" then
          m[key .. "_rec"] = sym.rec
          m[key] = { size = sym.rec.size, signed = false }
          m[key .. "_name"] = v.name
        elseif sym and type_names[v.name] then
          self:err(v, "'" .. v.name .. "' is a local declared above here, not the type " .. v.name,
            "rename that local: Lua would use it here")
        else
          self:err(v, "the " .. key .. " type must be one of u8 u16 u32 u64 i8 i16 i32 i64",
            key .. " = u32, or a record type declared above: " .. key .. " = Flow")
        end
      elseif key == "max_entries" then
        local v = const_int(self, f.value, "max_entries")
        if v and (v < 1 or v > 0x7fffffff) then
          self:err(f.value, "max_entries must be between 1 and 2147483647", "max_entries = 1024")
        elseif v then
          m.max_entries = v
        end
      elseif key == "size" then
        local v = const_int(self, f.value, "the ring buffer size")
        if v and (v < 4096 or v > 0x40000000 or (v & (v - 1)) ~= 0) then
          self:err(f.value, "a ring buffer's size must be a power of two from 4096 to 1073741824",
            "size = 65536")
        elseif v then
          m.max_entries = v
        end
      elseif key == "init" then
        init_e = f.value
      end
    end
  end
  if kind == "ringbuf" then
    if not m.max_entries then
      if not seen.size then self:err(spec, "a ring buffer needs a size", "map.ringbuf { size = 65536 }") end
      return
    end
    m.key_size, m.value_size = 0, 0
    m.key_signed, m.value_signed = false, false
  else
    if mtype == 2 or mtype == 6 then
      if m.key and (m.key_name ~= "u32") then
        self:err(spec, "an array map's key is always u32", "leave out 'key' for map." .. kind)
      end
      m.key, m.key_rec = type_names.u32, nil
    elseif kind == "lpm" then
      m.key = { size = 8, signed = false }
      m.flags = 1 -- BPF_F_NO_PREALLOC, which the kernel requires
    elseif not m.key and seen.key == nil then
      self:err(spec, "this map needs a key type", "add key = u32 (or another integer type, or a record type)")
    end
    if not m.value and seen.value == nil then
      self:err(spec, "this map needs a value type", "add value = u64 (or another integer type, or a record type)")
    end
    if not m.max_entries and not seen.max_entries then
      self:err(spec, "this map needs max_entries", "add max_entries = 1024")
    end
    if not (m.key and m.value and m.max_entries) then return end
    m.key_size, m.value_size = m.key.size, m.value.size
    m.key_signed, m.value_signed = m.key.signed, m.value.signed
  end
  for _, other in ipairs(self.model.maps) do
    if other.name == m.name then
      self:err(id, "map '" .. m.name .. "' is declared twice", "give each map its own name")
      return
    end
  end
  if #m.name > 63 then
    self:err(id, "map name '" .. m.name:sub(1, 20) .. "...' is longer than 63 bytes", "choose a shorter name")
    return
  end
  if init_e then self:map_init(m, init_e) end
  m.index = #self.model.maps
  self.model.maps[#self.model.maps + 1] = m
  self:declare(id, { kind = "map", map = m })
end

-- is `name` used as a packet (name:method(...) or #name) anywhere in `node`?
local function uses_as_packet(node, name, scope)
  if type(node) ~= "table" then return false end
  -- passed on as the packet argument of a local function declared before
  if node.tag == "Call" and node[1] and node[1].tag == "Id" and scope then
    local callee = scope[node[1].name]
    local pi = callee and callee.kind == "fn" and callee.fn and callee.fn.pkt_param
    local a = pi and node.args and node.args[pi]
    if a and a.tag == "Id" and a.name == name then return true end
  end
  if (node.tag == "Invoke" or (node.tag == "Unop" and node.op == "#"))
    and node[1] and node[1].tag == "Id" and node[1].name == name then
    return true
  end
  -- p.mark and the other socket-buffer fields (tc programs' packets)
  if node.tag == "Index" and node[1] and node[1].tag == "Id" and node[1].name == name
    and node[2] and node[2].tag == "String" and skb_fields[node[2].value] then
    return true
  end
  for k, v in pairs(node) do
    if type(v) == "table" and k ~= "sym" and uses_as_packet(v, name, scope) then return true end
  end
  return false
end

function Checker:func(s, is_prog, name, sym, kind)
  local fn = {
    name = name, node = s, is_prog = is_prog, params = {}, calls = {}, returns = {},
    loops = 0, max_loop_depth = 0, kind = kind or "xdp", ctors = {}, recvars = {},
  }
  if sym then sym.fn = fn end
  local saved_fn, saved_depth, saved_nvars = self.fn, self.loop_depth, self.nvars
  self.fn, self.loop_depth, self.nvars = fn, 0, 0
  self.flow = { nonnil = {}, stale = {}, own = {} }
  self.refs_by_map = {}
  self:push_scope()
  if is_prog then
    if #s.params ~= 1 or s.params[1].tag ~= "Id" then
      self:err(s, "a program takes exactly one parameter, the packet", "function xdp." .. name .. "(pkt)")
    end
    if s.params[1] and s.params[1].tag == "Id" then
      fn.pkt = self:declare(s.params[1], { kind = "pkt" })
    end
  else
    if #s.params > 5 then
      self:err(s.params[6], "a function takes at most 5 parameters")
    end
    for _, p in ipairs(s.params) do
      if p.tag == "Vararg" then
        self:err(p, "'...' is not supported", "declare the parameters by name")
      elseif uses_as_packet(s.body, p.name, self.scope) and not fn.pkt_param then
        -- a parameter read with p:u8(...) or #p is the packet
        fn.params[#fn.params + 1] = self:declare(p, { kind = "pkt", param = true })
        fn.pkt_param = #fn.params
      else
        fn.params[#fn.params + 1] = self:new_var(p, "int")
      end
    end
    -- the name is visible in its own body (so recursion is reported as such)
    self.scope[s.name.name] = s.name.sym
  end
  for _, st in ipairs(s.body) do self:stat(st) end
  self:pop_scope()
  fn.nvars = self.nvars
  fn.falls_through = not always_returns(s.body)
  self.fn, self.loop_depth, self.nvars = saved_fn, saved_depth, saved_nvars
  return fn
end

function Checker:local_function(s)
  local id = s.name
  local fn
  -- declare first: `local function f` is visible in its own body
  local sym = self:declare(id, { kind = "fn" })
  fn = self:func(s, false, id.name, sym)
  -- its return type
  local ty
  local bad = false
  for _, r in ipairs(fn.returns) do
    local t = r.ty
    if t ~= "err" then
      if t == "none" or t == "nil" then t = "nilnone" end
      if ty == nil then ty = t
      elseif ty ~= t then
        local pair = { [ty] = true, [t] = true }
        if (pair.int or pair.nilint) and (pair.nilint or pair.nilnone) and not pair.bool then
          ty = "nilint"
        elseif not (pair.int and pair.nilint) then
          if not bad then
            self:err(r.node, "'" .. id.name .. "' returns " .. describe(t == "nilnone" and "nil" or t)
              .. " here but " .. describe(ty == "nilnone" and "nil" or ty) .. " elsewhere",
              "return values of one type from a function")
          end
          bad = true
        else
          ty = "nilint"
        end
      end
    end
  end
  if ty and fn.falls_through and ty ~= "nilnone" then
    if ty == "int" or ty == "nilint" then ty = "nilint"
    elseif ty == "bool" and not bad then
      self:err(s.name, "'" .. id.name .. "' returns a boolean on some paths and nothing on others",
        "end the function with a return")
      bad = true
    end
  end
  if ty == "nilnone" then ty = nil end
  fn.ret = (not bad) and ty or (bad and "err") or nil
  self.model.funcs[#self.model.funcs + 1] = fn
  fn.index = #self.model.funcs
end

function Checker:top(s)
  local tag = s.tag
  if tag == "CallStat" and s[1].tag == "Call" and s[1][1].tag == "Id" and s[1][1].name == "license" then
    local c = s[1]
    local sym = self.scope.license
    if sym and sym.kind == "license" then
      local a = c.args[1]
      if #c.args ~= 1 or a.tag ~= "String" then
        self:err(c, "license takes one string", 'license "GPL"')
      elseif #a.value == 0 or #a.value > 127 or a.value:find("%z") then
        self:err(a, "the license name must be 1 to 127 bytes without NUL")
      else
        self.model.license = a.value
      end
      return
    end
  end
  if tag == "Local" then
    if #s.names == 1 and s.exprs and #s.exprs == 1 then
      local id, e = s.names[1], s.exprs[1]
      if e.tag == "Call" and e[1].tag == "Index" and e[1][1].tag == "Id" and e[1][1].name == "map"
        and self.scope.map and self.scope.map.kind == "ns" then
        self:map_decl(id, e)
        return
      end
      if e.tag == "Call" and e[1].tag == "Id" and e[1].name == "record"
        and self.scope.record and self.scope.record.kind == "recordkw" then
        self:record_decl(id, e)
        return
      end
      local v = const_int(self, e, "'" .. id.name .. "'")
      if v then
        self:declare(id, { kind = "const", value = v })
      end
      self.scope[id.name] = self.scope[id.name] or { kind = "const", value = 0, name = id.name }
      return
    end
    if s.exprs and #s.exprs == #s.names then
      -- several constants at once
      for i, id in ipairs(s.names) do
        local v = const_int(self, s.exprs[i], "'" .. id.name .. "'")
        if v then self:declare(id, { kind = "const", value = v }) end
      end
      for _, id in ipairs(s.names) do
        self.scope[id.name] = self.scope[id.name] or { kind = "const", value = 0, name = id.name }
      end
      return
    end
    self:err(s, "top-level 'local' declares constants (one value each) or one map",
      "write local NAME = <constant integer> or local NAME = map.hash { ... }")
    for _, id in ipairs(s.names) do
      self.scope[id.name] = { kind = "const", value = 0, name = id.name }
    end
    return
  elseif tag == "LocalFunction" then
    self:local_function(s)
    return
  elseif tag == "Function" then
    local n = s.name
    local ns = n.tag == "Index" and n[1].tag == "Id" and n[1].name
    if (ns == "xdp" or ns == "tc") and n[2].tag == "String" then
      local name = n[2].value
      local consts = ns == "xdp" and xdp_consts or tc_consts
      if #name > 48 then
        self:err(n, "program name '" .. name:sub(1, 20) .. "...' is longer than 48 bytes", "choose a shorter name")
      elseif consts[name] then
        self:err(n, "'" .. ns .. "." .. name .. "' is a verdict constant", "choose another program name")
      elseif self.prog_names[name] then
        self:err(n, "program '" .. name .. "' is defined twice", "give each program its own name")
      end
      self.prog_names[name] = true
      local fn = self:func(s, true, name, nil, ns)
      self.model.progs[#self.model.progs + 1] = fn
      return
    end
    self:err(n, "only 'function xdp.NAME(pkt)' or 'function tc.NAME(pkt)' defines a program",
      "use 'local function NAME(...)' for a helper function")
    return
  end
  self:err(s, "only declarations are allowed at the top level",
    "write code inside 'function xdp.NAME(pkt) ... end'")
end

-- call graph: recursion and frame depth ------------------------------------

function Checker:call_graph()
  local state = {}
  local depth = {}
  local function visit(fn)
    if state[fn] == "done" then return depth[fn] end
    if state[fn] == "active" then return nil end
    state[fn] = "active"
    local d = 1 + fn.max_loop_depth
    for _, c in ipairs(fn.calls) do
      if state[c.fn] == "active" then
        if c.fn ~= fn then
          self:err(c.node, "recursion is not allowed ('" .. c.fn.name .. "' calls back into itself)",
            "eBPF has no recursion: rewrite it with a for loop")
        end
      else
        local cd = visit(c.fn)
        if cd then
          local total = 1 + c.depth + cd
          if total > d then d = total end
        end
      end
    end
    state[fn] = "done"
    depth[fn] = d
    return d
  end
  for _, fn in ipairs(self.model.funcs) do visit(fn) end
  for _, p in ipairs(self.model.progs) do
    local d = visit(p)
    p.frames = d
    if d > MAX_FRAMES then
      self:err(p.node.name, "program '" .. p.name .. "' nests loops and calls " .. d .. " frames deep; the kernel allows "
        .. MAX_FRAMES, "each for loop and each function call is one eBPF frame: flatten some of them")
    end
  end
end

local M = {}

function M.check(chunk, errors, source)
  local root = {}
  for n in pairs(builtins) do root[n] = { kind = "builtin", name = n } end
  for n in pairs(type_names) do root[n] = { kind = "type", name = n } end
  root.xdp = { kind = "ns", name = "xdp" }
  root.math = { kind = "ns", name = "math" }
  root.map = { kind = "ns", name = "map" }
  root.tc = { kind = "ns", name = "tc" }
  root.record = { kind = "recordkw", name = "record" }
  root.license = { kind = "license", name = "license" }
  root.pairs = { kind = "pairs", name = "pairs" }
  local self = setmetatable({
    errors = errors, scope = root, parents = {}, loop_depth = 0, nvars = 0,
    model = { license = "GPL", maps = {}, funcs = {}, progs = {}, records = {} },
    prog_names = {}, flow = { nonnil = {}, stale = {}, own = {} }, refs_by_map = {},
  }, Checker)
  -- line of a position (binary search over line starts)
  local starts = { 1 }
  for p in source:gmatch "()\n" do starts[#starts + 1] = p + 1 end
  self.line_of = function(pos)
    local lo, hi = 1, #starts
    while lo < hi do
      local mid = (lo + hi + 1) // 2
      if starts[mid] <= pos then lo = mid else hi = mid - 1 end
    end
    return lo
  end
  -- names declared at the top level, for "used before its declaration"
  local later = {}
  -- line numbers of increasing positions, counted incrementally
  local last_pos, last_line = 1, 1
  local line_of = function(pos)
    if pos < last_pos then last_pos, last_line = 1, 1 end
    for _ in source:sub(last_pos, pos - 1):gmatch "\n" do last_line = last_line + 1 end
    last_pos = pos
    return last_line
  end
  for _, s in ipairs(chunk.body) do
    if s.tag == "Local" then
      for _, id in ipairs(s.names) do later[id.name] = later[id.name] or line_of(id.pos) end
    elseif s.tag == "LocalFunction" then
      later[s.name.name] = later[s.name.name] or line_of(s.name.pos)
    end
  end
  self.declared_later = later
  self:push_scope()
  for _, s in ipairs(chunk.body) do self:top(s) end
  self:call_graph()
  if #self.model.progs == 0 then
    errors[#errors + 1] = { pos = 1, end_pos = 1, msg = "this file defines no program",
      hint = "define one with: function xdp.NAME(pkt) ... return xdp.PASS end" }
  end
  return self.model
end

return M
