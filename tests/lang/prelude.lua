-- prelude.lua: runs a bpflua program under stock Lua 5.4 — the test oracle.
--
--   local prelude = require "prelude"
--   local obj = prelude.load(source, "file.lua")   -- or nil, err
--   obj.order                 -- program names in definition order
--   obj:run(name, packet_bytes) -> verdict (unsigned 32-bit), packet_after
--   obj.trace                 -- lines "printed" by print()
--
-- It implements LANGUAGE.md with plain Lua: map objects (hash, array,
-- lru_hash) with key/value wrapping, a packet object whose accessors fault
-- outside 0..#pkt-1, xdp constants, license, the type names, and faults
-- (packet bounds, // or % by zero, for step 0, more than 8388608 iterations)
-- as verdict 0. A program that returns no value gives xdp.PASS (2), as the
-- compiler does. Numeric `for` loops are rewritten to a range iterator so
-- the trip-count limit can be enforced; the loop itself keeps Lua semantics.

local M = {}

local MAX_LOOPS = 8388608
local FAULT = setmetatable({}, { __tostring = function() return "bpflua fault" end })

local function fault() error(FAULT, 0) end

local types = {}
for _, t in ipairs { { "u8", 1, false }, { "u16", 2, false }, { "u32", 4, false }, { "u64", 8, false },
  { "i8", 1, true }, { "i16", 2, true }, { "i32", 4, true }, { "i64", 8, true } } do
  types[t[1]] = { name = t[1], size = t[2], signed = t[3] }
end

local function wrap(ty, v)
  if ty.size == 8 then return v end
  local bits = ty.size * 8
  v = v & ((1 << bits) - 1)
  if ty.signed and v >= (1 << (bits - 1)) then v = v - (1 << bits) end
  return v
end

local function check_int(v)
  if math.type(v) ~= "integer" then error("not an integer: " .. tostring(v), 0) end
  return v
end

local function new_map(kind, spec)
  local key_ty = spec.key or types.u32
  local val_ty = assert(spec.value, "map needs a value type")
  local max = assert(spec.max_entries)
  local data, n, order, tick = {}, 0, {}, 0
  local m = {}
  local function touch(k) tick = tick + 1; order[k] = tick end
  local mt = {}
  function mt.__index(_, k)
    k = wrap(key_ty, check_int(k))
    if kind == "array" then
      if k < 0 or k >= max then return nil end
      return data[k] or 0
    end
    local v = data[k]
    if v ~= nil and kind == "lru_hash" then touch(k) end
    return v
  end
  function mt.__newindex(_, k, v)
    k = wrap(key_ty, check_int(k))
    if kind == "array" then
      if k < 0 or k >= max then return end
      if v == nil then return end
      data[k] = wrap(val_ty, check_int(v))
      return
    end
    if v == nil then
      if data[k] ~= nil then data[k] = nil; n = n - 1; order[k] = nil end
      return
    end
    v = wrap(val_ty, check_int(v))
    if data[k] == nil then
      if n >= max then
        if kind ~= "lru_hash" then return end
        -- evict the least recently used entry
        local victim, best = nil, math.maxinteger
        for kk, t in pairs(order) do if t < best then victim, best = kk, t end end
        data[victim] = nil; order[victim] = nil; n = n - 1
      end
      n = n + 1
    end
    data[k] = v
    if kind == "lru_hash" then touch(k) end
  end
  function mt.__pairs()
    if kind == "array" then
      local i = -1
      return function()
        i = i + 1
        if i < max then return i, data[i] or 0 end
      end, m, nil
    end
    -- a snapshot of the keys, sorted: iteration order is unspecified anyway
    local keys = {}
    for k in pairs(data) do keys[#keys + 1] = k end
    table.sort(keys)
    local i = 0
    return function()
      while true do
        i = i + 1
        local k = keys[i]
        if k == nil then return nil end
        if data[k] ~= nil then return k, data[k] end
      end
    end, m, nil
  end
  return setmetatable(m, mt)
end

local function new_packet(bytes)
  local b = { string.byte(bytes, 1, -1) }
  local len = #bytes
  local pkt = {}
  local function bounds(off, size)
    check_int(off)
    if off < 0 or off > len - size then fault() end
  end
  local function get(off, size, big)
    bounds(off, size)
    local v = 0
    for i = 0, size - 1 do
      local byte = b[off + 1 + (big and i or (size - 1 - i))]
      v = (v << 8) | byte
    end
    return v
  end
  local function set(off, size, big, v)
    bounds(off, size)
    check_int(v)
    for i = 0, size - 1 do
      local shift = big and (size - 1 - i) * 8 or i * 8
      b[off + 1 + i] = (v >> shift) & 0xff
    end
  end
  local methods = {
    u8 = function(_, o) return get(o, 1, true) end,
    be16 = function(_, o) return get(o, 2, true) end,
    be32 = function(_, o) return get(o, 4, true) end,
    be64 = function(_, o) return get(o, 8, true) end,
    le16 = function(_, o) return get(o, 2, false) end,
    le32 = function(_, o) return get(o, 4, false) end,
    le64 = function(_, o) return get(o, 8, false) end,
    set_u8 = function(_, o, v) set(o, 1, true, v) end,
    set_be16 = function(_, o, v) set(o, 2, true, v) end,
    set_be32 = function(_, o, v) set(o, 4, true, v) end,
    set_be64 = function(_, o, v) set(o, 8, true, v) end,
    set_le16 = function(_, o, v) set(o, 2, false, v) end,
    set_le32 = function(_, o, v) set(o, 4, false, v) end,
    set_le64 = function(_, o, v) set(o, 8, false, v) end,
  }
  setmetatable(pkt, { __index = methods, __len = function() return len end })
  local function bytes_now() return string.char(table.unpack(b)) end
  return pkt, bytes_now
end

-- for NAME = a, b[, c] do  ->  for NAME in __range(a, b[, c]) do
-- (a light scanner: skips strings and comments, matches parentheses)
local function rewrite_for(src)
  local out, i, n = {}, 1, #src
  local function skip_long(j)
    local eq = src:match("^%[(=*)%[", j)
    if not eq then return nil end
    local _, e = src:find("]" .. eq .. "]", j, true)
    return (e or n) + 1
  end
  while i <= n do
    local c = src:sub(i, i)
    if src:sub(i, i + 1) == "--" then
      local j = skip_long(i + 2) or ((src:find("\n", i, true) or n) + 1)
      out[#out + 1] = src:sub(i, j - 1); i = j
    elseif c == "[" and skip_long(i) then
      local j = skip_long(i); out[#out + 1] = src:sub(i, j - 1); i = j
    elseif c == '"' or c == "'" then
      local j = i + 1
      while j <= n and src:sub(j, j) ~= c do
        if src:sub(j, j) == "\\" then j = j + 1 end
        j = j + 1
      end
      out[#out + 1] = src:sub(i, j); i = j + 1
    else
      local s, e, name = src:find("^for%s+([%a_][%w_]*)%s*=", i)
      local prev = i > 1 and src:sub(i - 1, i - 1) or " "
      if s and not prev:match "[%w_]" then
        -- find the 'do' at depth 0
        local j, depth = e + 1, 0
        while j <= n do
          local d = src:sub(j, j)
          if d == "(" or d == "[" or d == "{" then depth = depth + 1
          elseif d == ")" or d == "]" or d == "}" then depth = depth - 1
          elseif depth == 0 and src:find("^do[^%w_]", j) and not src:sub(j - 1, j - 1):match "[%w_]" then
            break
          end
          j = j + 1
        end
        out[#out + 1] = "for " .. name .. " in __range(" .. src:sub(e + 1, j - 1) .. ") "
        i = j
      else
        local j = src:find("[%-%[\"'f]", i + 1) or n + 1
        out[#out + 1] = src:sub(i, j - 1); i = j
      end
    end
  end
  return table.concat(out)
end

-- unsigned n / d (d ~= 0), as Lua's own for loop computes its count
local function udiv(n, d)
  if d < 0 then return math.ult(n, d) and 0 or 1 end
  if n >= 0 then return n // d end
  local q = ((n >> 1) // d) << 1
  local r = n - q * d
  if not math.ult(r, d) then q = q + 1 end
  return q
end

local function range(a, b, c)
  c = c or 1
  check_int(a); check_int(b); check_int(c)
  if c == 0 then fault() end
  local count
  if c > 0 then
    if a > b then return function() end end
    count = udiv(b - a, c)
  else
    if a < b then return function() end end
    count = udiv(a - b, -(c + 1) + 1)
  end
  -- count is iterations - 1 (unsigned); more than MAX_LOOPS iterations fault
  if math.ult(MAX_LOOPS - 1, count) then fault() end
  local i = -1
  return function()
    i = i + 1
    if i <= count then return a + i * c end
  end
end

function M.load(source, filename)
  local progs, order = {}, {}
  local license_name = "GPL"
  local trace = {}
  local obj = { order = order, trace = trace, maps = {} }
  local xdp = setmetatable({}, {
    __index = { ABORTED = 0, DROP = 1, PASS = 2, TX = 3, REDIRECT = 4 },
    __newindex = function(_, k, v)
      progs[k] = v
      order[#order + 1] = k
    end,
  })
  local map = {}
  for _, kind in ipairs { "hash", "array", "lru_hash" } do
    map[kind] = function(spec)
      local m = new_map(kind, spec)
      obj.maps[#obj.maps + 1] = m
      return m
    end
  end
  local env = {
    xdp = xdp, map = map, pairs = pairs,
    math = { maxinteger = math.maxinteger, mininteger = math.mininteger },
    license = function(s) license_name = s end,
    print = function(fmt, ...)
      local args = table.pack(...)
      for i = 1, args.n do args[i] = math.type(args[i]) == "integer" and args[i] or 0 end
      fmt = fmt:gsub("%%l+([diux])", "%%%1")
      trace[#trace + 1] = string.format(fmt, table.unpack(args, 1, args.n))
    end,
    ktime = function() return 1 end,
    random = function() return 4 end,
    cpu = function() return 0 end,
    __range = range,
  }
  for k, v in pairs(types) do env[k] = v end
  local chunk, err = load(rewrite_for(source), "@" .. (filename or "prog.lua"), "t", env)
  if not chunk then return nil, err end
  local ok, e = pcall(chunk)
  if not ok then return nil, tostring(e) end
  obj.license = license_name
  function obj:run(name, bytes)
    local fn = progs[name]
    if not fn then error("no program " .. tostring(name)) end
    local pkt, after = new_packet(bytes)
    local ok2, r = pcall(fn, pkt)
    if not ok2 then
      if r == FAULT then return 0, after() end
      local s = tostring(r)
      -- Lua's own run-time errors that the language defines as faults
      if s:find("'n//0'", 1, true) or s:find("'n%0'", 1, true) or s:find("divide by zero", 1, true)
        or s:find("modulo by zero", 1, true) or s:find("'for' step is zero", 1, true) then
        return 0, after()
      end
      error(s, 0)
    end
    if r == nil then r = 2 end
    if math.type(r) ~= "integer" then error("program returned " .. tostring(r), 0) end
    return r & 0xffffffff, after()
  end
  return obj
end

M.rewrite_for = rewrite_for
M.range = range
return M
