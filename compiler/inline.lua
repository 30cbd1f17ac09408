-- inline.lua: inlines small local functions at their call sites, on the
-- syntax tree, before the checker (see docs/compiler.md, "Inlining").
--
-- A call costs ~45 instructions (argument block, the callee's frame, the
-- status test); a small function's body is often less than that. The
-- rewrite is exactly Lua's semantics:
--   - the callee: no `return` but its last statement, which returns one
--     value (or, for a call statement, anything or nothing); no '...';
--     at most MAX_NODES nodes; a parameter the callee uses as the packet is
--     replaced by the argument, which must be a plain name
--   - the arguments are evaluated once, in order, into fresh locals
--     (`local a@3, b@3 = e1, e2`); the callee's locals get fresh names
--     (`s@3`, '@' cannot be written in a program) so nothing of the caller
--     is captured or shadowed; a name the callee reads from the top level
--     must mean the same there at the call site (not shadowed by a caller's
--     local, not redeclared at the top level since)
--   - sites: `local x = E`, `x = E`, `m[k] = E` (k a local or a constant),
--     `return E`, `if E then` (the first condition) and a call statement, where E reaches the call through
--     arithmetic, comparisons and parentheses (never `and`/`or`, which may
--     skip it) and every operand evaluated before the call is a constant or
--     an expression of the caller's locals that cannot fail (so reading it
--     after the callee's side effects gives the same value)
-- Everything else stays a call. The result is checked again from scratch:
-- compiler.lua falls back to the original tree when the inlined one does
-- not check or generate, so errors are always those of the source as written.

local error, ipairs, pairs, pcall, type = error, ipairs, pairs, pcall, type

_ENV = nil

local M = {}

local MAX_NODES = 120 -- the callee's body (with what was inlined into it)
local MAX_DEPTH = 8   -- calls inlined into arguments of inlined calls

local function copy(n)
  if type(n) ~= "table" then return n end
  local c = {}
  for k, v in pairs(n) do c[k] = copy(v) end
  return c
end

local function count(n)
  if type(n) ~= "table" then return 0 end
  local c = n.tag and 1 or 0
  for _, v in pairs(n) do c = c + count(v) end
  return c
end

-- Scopes: a chain of { [name] = new name or true }.
local function push(scope) return { up = scope, names = {} } end
local function lookup(scope, name)
  while scope do
    local v = scope.names[name]
    if v ~= nil then return v end
    scope = scope.up
  end
  return nil
end

---------------------------------------------------------------------------
-- The callee: eligibility, free names, renaming of a fresh copy

-- does the block (or anything under it) hold a Return, Vararg, function?
local function has_tag(n, tags)
  if type(n) ~= "table" then return false end
  if n.tag and tags[n.tag] then return true end
  for k, v in pairs(n) do
    if k ~= "up" and has_tag(v, tags) then return true end
  end
  return false
end

local BAD_INSIDE = { Return = true, Vararg = true, Closure = true, LocalFunction = true,
  Function = true, Goto = true, Label = true, While = true, Repeat = true }

-- names a parameter is used as the packet by: p:method(...) or #p
local function packet_uses(n, name)
  if type(n) ~= "table" then return false end
  if n.tag == "Invoke" and n[1].tag == "Id" and n[1].name == name then return true end
  if n.tag == "Unop" and n.op == "#" and n[1].tag == "Id" and n[1].name == name then return true end
  for _, v in pairs(n) do
    if packet_uses(v, name) then return true end
  end
  return false
end

-- Renames the locals of a fresh copy of a callee's statements in place:
-- declared names get `name@N`, packet parameters the caller's name; names
-- not declared in the callee are collected in free.
local rename_block

local function rename_expr(e, scope, free)
  if type(e) ~= "table" then return end
  local tag = e.tag
  if tag == "Id" then
    local v = lookup(scope, e.name)
    if v then e.name = v else free[e.name] = true end
    return
  end
  if tag == "Index" then
    rename_expr(e[1], scope, free)
    rename_expr(e[2], scope, free)
    return
  end
  if tag == "Call" or tag == "Invoke" then
    rename_expr(e[1], scope, free)
    for _, a in ipairs(e.args) do rename_expr(a, scope, free) end
    return
  end
  if tag == "Op" or tag == "Unop" or tag == "Paren" then
    rename_expr(e[1], scope, free)
    rename_expr(e[2], scope, free)
    return
  end
  if tag == "Table" then
    for _, f in ipairs(e.fields) do
      rename_expr(f.key, scope, free)
      rename_expr(f.value, scope, free)
    end
  end
end

local function declare(scope, id, suffix)
  local nm = id.name .. "@" .. suffix
  scope.names[id.name] = nm
  id.name = nm
end

local function rename_stat(s, scope, free, suffix)
  local tag = s.tag
  if tag == "Local" then
    for _, e in ipairs(s.exprs or {}) do rename_expr(e, scope, free) end
    for _, id in ipairs(s.names) do declare(scope, id, suffix) end
  elseif tag == "Set" then
    for _, t in ipairs(s.targets) do rename_expr(t, scope, free) end
    for _, e in ipairs(s.exprs) do rename_expr(e, scope, free) end
  elseif tag == "CallStat" or tag == "Return" then
    for _, e in ipairs(s) do rename_expr(e, scope, free) end
  elseif tag == "If" then
    for i, c in ipairs(s.conds) do
      rename_expr(c, scope, free)
      rename_block(s.blocks[i], push(scope), free, suffix)
    end
    if s.else_block then rename_block(s.else_block, push(scope), free, suffix) end
  elseif tag == "Do" then
    rename_block(s.body, push(scope), free, suffix)
  elseif tag == "Fornum" then
    rename_expr(s.start, scope, free)
    rename_expr(s.limit, scope, free)
    rename_expr(s.step, scope, free)
    local inner = push(scope)
    declare(inner, s.var, suffix)
    rename_block(s.body, inner, free, suffix)
  elseif tag == "Forin" then
    for _, e in ipairs(s.exprs) do rename_expr(e, scope, free) end
    local inner = push(scope)
    for _, id in ipairs(s.names) do declare(inner, id, suffix) end
    rename_block(s.body, inner, free, suffix)
  end
end

rename_block = function(b, scope, free, suffix)
  for _, s in ipairs(b) do rename_stat(s, scope, free, suffix) end
end

-- What makes a local function inlinable, or nil. Its free names are those
-- of a renamed copy (the same for every copy).
-- a `break` not inside one of the callee's loops (would leave the caller's)
local function loose_break(n)
  if type(n) ~= "table" then return false end
  if n.tag == "Break" then return true end
  if n.tag == "Fornum" or n.tag == "Forin" then return false end
  for _, v in pairs(n) do
    if loose_break(v) then return true end
  end
  return false
end

local function callee_info(fnode)
  local body = fnode.body
  if loose_break(body) then return nil end
  local n = #body
  for i = 1, n - 1 do
    if has_tag(body[i], BAD_INSIDE) then return nil end
  end
  local last = body[n]
  local ret
  if last and last.tag == "Return" then
    if #last > 1 then return nil end
    for _, e in ipairs(last) do
      if has_tag(e, BAD_INSIDE) then return nil end
    end
    ret = last
  elseif last and has_tag(last, BAD_INSIDE) then
    return nil
  end
  if #fnode.params > 5 then return nil end
  local pkt = {}
  for i, p in ipairs(fnode.params) do
    if p.tag ~= "Id" then return nil end
    if packet_uses(body, p.name) then pkt[i] = true end
  end
  if count(body) > MAX_NODES then return nil end
  local info = { node = fnode, ret = ret, pkt = pkt, value = ret and #ret == 1 }
  -- free names, from a trial renaming
  local scope = push(nil)
  for _, p in ipairs(fnode.params) do scope.names[p.name] = p.name .. "@0" end
  local free = {}
  rename_block(copy(body), scope, free, 0)
  info.free = free
  -- a packet parameter must never be assigned (it becomes the caller's name)
  for i, p in ipairs(fnode.params) do
    if pkt[i] then
      local assigned = false
      local function walk(x)
        if type(x) ~= "table" then return end
        if x.tag == "Set" then
          for _, t in ipairs(x.targets) do
            if t.tag == "Id" and t.name == p.name then assigned = true end
          end
        end
        for _, v in pairs(x) do walk(v) end
      end
      walk(body)
      if assigned then return nil end
    end
  end
  return info
end

---------------------------------------------------------------------------
-- The caller

local Inliner = {}
Inliner.__index = Inliner

-- e is evaluated before the callee's side effects in Lua and after them
-- here: only caller's locals and constants, with operators that cannot fail
local SAFE_OPS = { ["+"] = true, ["-"] = true, ["*"] = true, ["&"] = true, ["|"] = true,
  ["~"] = true, ["<<"] = true, [">>"] = true, ["=="] = true, ["~="] = true, ["<"] = true,
  ["<="] = true, [">"] = true, [">="] = true, ["not"] = true }

function Inliner:stable(e, scope)
  local tag = e.tag
  if tag == "Number" or tag == "True" or tag == "False" or tag == "Nil" or tag == "String" then
    return true
  end
  if tag == "Id" then return lookup(scope, e.name) == true end
  if tag == "Paren" then return self:stable(e[1], scope) end
  if tag == "Op" then
    return SAFE_OPS[e.op] and self:stable(e[1], scope) and self:stable(e[2], scope)
  end
  if tag == "Unop" then
    return (e.op == "-" or e.op == "~" or e.op == "not") and self:stable(e[1], scope)
  end
  return false
end

-- the callee's info if call is an inlinable call here
function Inliner:target(call, scope, want_value)
  if call.tag ~= "Call" or call[1].tag ~= "Id" then return nil end
  local name = call[1].name
  if lookup(scope, name) ~= nil then return nil end -- a caller's local
  local top = self.top[name]
  if not top or not top.info then return nil end
  local info = top.info
  if want_value and not info.value then return nil end
  if #call.args ~= #info.node.params then return nil end
  for i in pairs(info.pkt) do
    local a = call.args[i]
    if a.tag ~= "Id" or info.free[a.name] then return nil end
  end
  for nm in pairs(info.free) do
    if lookup(scope, nm) ~= nil then return nil end
    if (self.ver[nm] or 0) ~= (top.free_ver[nm] or 0) then return nil end
  end
  return info
end

-- Finds an inlinable call in e (on a path of safe operators, everything
-- evaluated before it stable). Returns the call, its info, and a setter that
-- replaces it in e.
function Inliner:find(e, scope, set)
  local info = self:target(e, scope, true)
  if info then return e, info, set end
  local tag = e.tag
  if tag == "Paren" or (tag == "Unop" and e.op ~= "#") then
    return self:find(e[1], scope, function(v) e[1] = v end)
  end
  if tag == "Op" and e.op ~= "and" and e.op ~= "or" then
    local c, i, s = self:find(e[1], scope, function(v) e[1] = v end)
    if c then return c, i, s end
    if self:stable(e[1], scope) then
      return self:find(e[2], scope, function(v) e[2] = v end)
    end
  end
  return nil
end

-- The statements that do the call's work: the arguments into fresh
-- locals, the body renamed. Returns them and the callee's final Return
-- (renamed) or nil.
local FOUND = {} -- raised by a probe (M.wanted) at the first call it would inline

function Inliner:expand(call, info, scope, out)
  if self.probe then error(FOUND, 0) end
  self.n = self.n + 1
  local suffix = self.n
  local fnode = info.node
  local body = copy(fnode.body)
  local inner = push(nil)
  -- the arguments first, in order, one local each (the names are fresh:
  -- no argument sees another's local); they are the caller's expressions
  local names = {}
  for i, p in ipairs(fnode.params) do
    if info.pkt[i] then
      inner.names[p.name] = call.args[i].name
    else
      local id = copy(p)
      local a = call.args[i]
      id.pos, id.end_pos = a.pos, a.end_pos
      declare(inner, id, suffix)
      names[#names + 1] = id
      self:stat({ tag = "Local", names = { id }, exprs = { a }, pos = a.pos, end_pos = a.end_pos }, scope, out)
    end
  end
  -- the renamed body goes into the caller's current scope
  rename_block(body, inner, {}, suffix)
  local ret
  if info.ret then
    ret = body[#body]
    body[#body] = nil
  end
  for _, s in ipairs(body) do
    out[#out + 1] = s
    -- the callee's locals are now the caller's (fresh names)
    if s.tag == "Local" then
      for _, id in ipairs(s.names) do scope.names[id.name] = true end
    end
  end
  for _, id in ipairs(names) do scope.names[id.name] = true end
  return ret
end

-- Where s holds the one expression a call in which is expanded right
-- before s, in the same block (t[k]), or nil: `local x = E`, `return E`,
-- and an `if`'s first condition, which is always evaluated (an `if` that
-- ends a function stays last).
local function value_slot(s)
  local tag = s.tag
  if tag == "Local" and #s.names == 1 and s.exprs and #s.exprs == 1 then return s.exprs, 1 end
  if tag == "Return" and #s == 1 then return s, 1 end
  if tag == "If" then return s.conds, 1 end
  return nil
end

-- Appends s, or what replaces it, to out.
function Inliner:stat(s, scope, out)
  local tag = s.tag
  if self.depth < MAX_DEPTH then
    local t, k = value_slot(s)
    if t then
      local call, info, set = self:find(t[k], scope, function(v) t[k] = v end)
      if call then
        self.depth = self.depth + 1
        local ret = self:expand(call, info, scope, out)
        set(ret[1])
        self.depth = self.depth - 1
        return self:stat(s, scope, out)
      end
    elseif tag == "Set" and #s.targets == 1 and #s.exprs == 1 and self:simple_target(s.targets[1], scope) then
      local call, info, set = self:find(s.exprs[1], scope, function(v) s.exprs[1] = v end)
      if call then
        self.depth = self.depth + 1
        local inner = push(scope)
        local body = {}
        local ret = self:expand(call, info, inner, body)
        set(ret[1])
        self:stat(s, inner, body)
        self.depth = self.depth - 1
        out[#out + 1] = { tag = "Do", body = body, pos = s.pos, end_pos = s.end_pos }
        return
      end
    elseif tag == "CallStat" then
      local info = self:target(s[1], scope, false)
      if info then
        self.depth = self.depth + 1
        local inner = push(scope)
        local body = {}
        local ret = self:expand(s[1], info, inner, body)
        if ret and #ret == 1 then
          -- the value is dropped, but evaluated
          local e = ret[1]
          if e.tag == "Call" or e.tag == "Invoke" then
            self:stat({ tag = "CallStat", e, pos = ret.pos, end_pos = ret.end_pos }, inner, body)
          elseif not self:stable(e, inner) then
            self.n = self.n + 1
            self:stat({ tag = "Local", pos = ret.pos, end_pos = ret.end_pos,
              names = { { tag = "Id", name = "_@" .. self.n, pos = ret.pos, end_pos = ret.end_pos } },
              exprs = { e } }, inner, body)
          end
        end
        self.depth = self.depth - 1
        out[#out + 1] = { tag = "Do", body = body, pos = s.pos, end_pos = s.end_pos }
        return
      end
    end
  end
  -- no call inlined here: walk into the blocks, declare the names
  if tag == "Local" then
    out[#out + 1] = s
    for _, id in ipairs(s.names) do scope.names[id.name] = true end
  elseif tag == "If" then
    for i, b in ipairs(s.blocks) do s.blocks[i] = self:block(b, push(scope)) end
    if s.else_block then s.else_block = self:block(s.else_block, push(scope)) end
    out[#out + 1] = s
  elseif tag == "Do" then
    s.body = self:block(s.body, push(scope))
    out[#out + 1] = s
  elseif tag == "Fornum" then
    local inner = push(scope)
    inner.names[s.var.name] = true
    s.body = self:block(s.body, inner)
    out[#out + 1] = s
  elseif tag == "Forin" then
    local inner = push(scope)
    for _, id in ipairs(s.names) do inner.names[id.name] = true end
    s.body = self:block(s.body, inner)
    out[#out + 1] = s
  elseif tag == "LocalFunction" or tag == "Function" then
    -- nested functions are rejected by the checker; leave them
    out[#out + 1] = s
  else
    out[#out + 1] = s
  end
end

-- targets whose evaluation the callee cannot change: a caller's local, or
-- m[k] with m a top-level name and k a caller's local or a constant
function Inliner:simple_target(t, scope)
  if t.tag == "Id" then return lookup(scope, t.name) == true end
  if t.tag == "Index" and t[1].tag == "Id" and lookup(scope, t[1].name) == nil then
    local k = t[2]
    return k.tag == "Number" or k.tag == "String" or (k.tag == "Id" and lookup(scope, k.name) == true)
  end
  return false
end

function Inliner:block(b, scope)
  local out = {}
  for _, s in ipairs(b) do self:stat(s, scope, out) end
  if self.probe then return b end -- nothing was inlined: the tree stays as it is
  for k, v in pairs(b) do
    if type(k) ~= "number" then out[k] = v end
  end
  return out
end

function Inliner:func(f)
  local scope = push(nil)
  for _, p in ipairs(f.params) do
    if p.tag == "Id" then scope.names[p.name] = true end
  end
  local before = self.n
  f.body = self:block(f.body, scope)
  return self.n > before
end

local function run(chunk, probe)
  local self = { top = {}, ver = {}, n = 0, depth = 0, probe = probe }
  for k, v in pairs(Inliner) do self[k] = v end
  local function bump(name)
    self.ver[name] = (self.ver[name] or 0) + 1
    self.top[name] = nil
  end
  for _, s in ipairs(chunk.body) do
    if s.tag == "LocalFunction" then
      bump(s.name.name)
      -- its own name inside is itself (recursion: left to the checker)
      self.top[s.name.name] = { info = nil }
      self:func(s)
      local info = callee_info(s)
      local top = { info = info, free_ver = {} }
      if info then
        for nm in pairs(info.free) do top.free_ver[nm] = self.ver[nm] or 0 end
        if info.free[s.name.name] then top.info = nil end
      end
      self.top[s.name.name] = top
    elseif s.tag == "Function" then
      self:func(s)
    elseif s.tag == "Local" then
      for _, id in ipairs(s.names) do bump(id.name) end
    end
  end
  return self.n
end

-- Inlines in place into chunk (a fresh tree the caller owns). Returns the
-- number of calls inlined.
function M.run(chunk) return run(chunk, false) end

-- Whether M.run would inline any call of chunk, without changing it: the
-- same walk, stopped at the first call it would expand (before that point
-- the walk changes nothing), so the caller copies the tree only for
-- programs that gain from it (a copy of a 1,000-line program's tree costs
-- about a fifth of its compile).
function M.wanted(chunk)
  local ok, e = pcall(run, chunk, true)
  if ok then return false end
  if e == FOUND then return true end
  error(e, 0)
end

M.copy = copy

return M
