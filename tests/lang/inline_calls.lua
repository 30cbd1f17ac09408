-- inline_calls.lua: calls of local functions the compiler inlines
-- (compiler/inline.lua) and calls it must leave alone, beside map reads and
-- writes, in loops, nested, with side effects in the arguments.
license "GPL"

local m = map.hash { key = u32, value = u64, max_entries = 16 }
local log = map.array { key = u32, value = u64, max_entries = 8 }

local function bump(k)
  local v = (m[k] or 0) + 1
  m[k] = v
  return v
end

local function mix(i, seed)
  local s = 0
  for j = 0, i & 3 do
    s = s + (i ~ j ~ seed)
  end
  return s
end

local function sq(x) return x * x end
local function twice(x) return sq(x) + sq(x + 1) end

local function note(k, v)
  log[k] = v
end

local function nothing(k)
  log[k & 7] = (log[k & 7] or 0) + 3
  return
end

local function early(x)
  if x > 100 then return 1 end
  return 2
end

local function maybe(x)
  if x > 50 then return x end
end

local function in_loop_ret(n)
  for i = 0, n do
    if i == 3 then return i * 10 end
  end
  return 0
end

local function brk(n)
  local s = 0
  for i = 0, n do
    if i > 5 then break end
    s = s + i
  end
  return s
end

local function sum_range(p, a, b)
  local s = 0
  for i = a, b - 1 do s = s + p:u8(i) end
  return s
end

local function shadow(acc)
  local seed = acc + 1 -- same names as the caller's
  return seed * 2
end

local K = 5
local function usek(x) return x + K end

-- a map read left of a call whose callee writes that map: read first
function xdp.read_then_write(pkt)
  local k = pkt:u8(0) & 3
  m[k] = 10
  local a = (m[k] or 0) + bump(k)
  local b = bump(k) + (m[k] or 0)
  local c = (m[k] or 0) * 100 + bump(k)
  return (a * 1000 + b * 10 + c) & 0xffffff
end

-- the same function many times, in a loop, in expressions and statements
function xdp.many(pkt)
  local seed = pkt:u8(1)
  local acc = 0
  for i = 0, 19 do
    acc = acc + mix(i, seed)
    local t = mix(i, seed) * 2
    acc = acc ~ t
  end
  acc = acc + mix(7, seed) + mix(8, seed)
  local x = mix(1, 2)
  acc = acc + x
  return acc & 0xffffff
end

-- nested calls and calls in arguments with side effects, in order
function xdp.nested(pkt)
  local b = pkt:u8(2)
  local r = twice(twice(b & 7))
  local s = sq(bump(1)) + sq(bump(1) + bump(2))
  note(3, bump(3) * 7 + bump(3))
  note(4, r)
  return (r + s + (log[3] or 0)) & 0xffffff
end

-- functions returning nothing or nil, called as statements and for values
function xdp.nothings(pkt)
  local b = pkt:u8(3)
  nothing(b)
  nothing(b + 1)
  for i = 0, 3 do nothing(i) end
  local v = maybe(b)
  if v == nil then return 7 end
  bump(b & 3)
  return v + (log[b & 7] or 0)
end

-- early returns and returns in loops stay calls; breaks inline
function xdp.early_returns(pkt)
  local b = pkt:u8(4)
  local a = early(b) + early(b + 100)
  local c = in_loop_ret(b & 7)
  local d = brk(b & 15)
  return a * 10000 + c * 100 + d
end

-- packet parameters, return sites, shadowed names, top-level constants
function xdp.packets(pkt)
  local half = #pkt // 2
  return (sum_range(pkt, 0, half) * 3 + sum_range(pkt, half, #pkt)) & 0xffffff
end

function xdp.shadows(pkt)
  local acc = pkt:u8(5)
  local seed = 1000
  local K = 1
  local r = shadow(acc) + seed + usek(acc) + K
  acc = shadow(acc) + acc
  return (r + acc) & 0xffffff
end

-- calls under and/or, in conditions, in map keys and stores
function xdp.conditional(pkt)
  local b = pkt:u8(6)
  local a = b > 3 and bump(1) or bump(2)
  local c = (b > 200) and bump(3) or 0
  if bump(0) > 2 then a = a + 1 end
  m[b & 3] = bump(b & 1) + 5
  log[1] = sq(b)
  for i = 1, sq(b & 3) do a = a + i end
  return (a + c + (m[b & 3] or 0)) & 0xffffff
end

-- a top-level name redeclared after the callee: the callee keeps its own
local T = 3
local function uset(x) return x * T end
local T = 40

local function get(k)
  bump(k)
  return (m[k] or 0) * 2
end

local function pkt_sum(p, n)
  local s = 0
  for i = 0, n do s = s + p:u8(i) end
  return s
end

function xdp.more(pkt)
  local b = pkt:u8(7)
  local r = uset(b) + T
  get(b & 3)                       -- a value dropped, still evaluated
  local acc = 0
  for i = 0, 3 do
    acc = acc + pkt_sum(pkt, i) + sq(mix(i, b))
  end
  local n = #pkt > 20 and 9 or 0
  return (r + acc + twice(pkt_sum(pkt, n)) + get(1)) & 0xffffff
end

-- calls in conditions: the first one is always evaluated, elseif ones not
function xdp.conds(pkt)
  local b = pkt:u8(8)
  local r = 0
  if sq(b & 15) > 100 then r = 1 elseif bump(2) > 3 then r = 2 else r = 3 end
  if bump(b & 3) + (m[b & 3] or 0) > 4 then r = r + 10 end
  if (m[1] or 0) > 2 and get(1) > 0 then r = r + 100 end
  for i = 0, 3 do
    if mix(i, b) > 300 then r = r + 1000 end
  end
  if twice(b) > 70000 then
    return r + 5
  else
    return r + (m[2] or 0)
  end
end
