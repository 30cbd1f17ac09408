-- prelude.lua: runs a bpflua program under stock Lua 5.4 — the test oracle.
--
--   local prelude = require "prelude"
--   local obj = prelude.load(source, "file.lua")   -- or nil, err
--   obj.order                 -- program names in definition order
--   obj:run(name, packet_bytes) -> verdict (unsigned 32-bit), packet_after
--   obj.trace                 -- lines "printed" by print()
--
--   obj:run(name, bytes, { mark =, priority =, ifindex = }) -> verdict, packet_after,
--       info = { events = { {map=, value= | fields=} ... }, dropped = n,
--                mark =, priority = (tc programs) }
--   obj:dump_maps() -> the lines of `bpflua run --dump-maps` (sorted)
--
-- It implements LANGUAGE.md (version 1) with plain Lua: map objects (hash,
-- array, lru_hash, percpu_hash, percpu_array as one CPU's slot, lpm,
-- ringbuf) with key/value wrapping, records (proxies that wrap on write;
-- map values are references, stores copy), initial contents, a packet object whose accessors fault
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

-- records ----------------------------------------------------------------------

local RECTYPE = {}   -- metatable marker of record types

local function is_rectype(t) return type(t) == "table" and getmetatable(t) == RECTYPE end

-- a record value: a proxy whose fields wrap to their types on write
local function new_record(rt, init)
  local vals = {}
  for _, f in ipairs(rt.fields) do vals[f.name] = 0 end
  local r = {}
  setmetatable(r, {
    __rectype = rt,
    __index = function(_, k)
      local v = vals[k]
      if v == nil then error("record " .. rt.name .. " has no field " .. tostring(k), 0) end
      return v
    end,
    __newindex = function(_, k, v)
      local f = rt.by_name[k]
      if not f then error("record " .. rt.name .. " has no field " .. tostring(k), 0) end
      vals[k] = wrap(f.ty, check_int(v))
    end,
    __eq = function() error("records cannot be compared", 0) end,
  })
  if init then for k, v in pairs(init) do r[k] = v end end
  return r
end

local function rectype_of(r)
  local mt = type(r) == "table" and getmetatable(r)
  return mt and mt.__rectype
end

local function record_type(name, spec)
  local rt = { name = name, fields = {}, by_name = {} }
  -- source order is not kept by a Lua table: the declaration order comes
  -- from the source (M.load passes it), else sorted by name
  for fname, ty in pairs(spec) do
    local f = { name = fname, ty = ty }
    rt.fields[#rt.fields + 1] = f
    rt.by_name[fname] = f
  end
  return setmetatable(rt, RECTYPE)
end

-- the value bytes of a record, for keys: fields in order, each wrapped
local function record_key(r)
  local rt = assert(rectype_of(r), "a record key is needed")
  local parts = {}
  for _, f in ipairs(rt.fields) do parts[#parts + 1] = string.pack("<i8", r[f.name]) end
  return table.concat(parts)
end

local function copy_record(r)
  local rt = rectype_of(r)
  local c = new_record(rt)
  for _, f in ipairs(rt.fields) do c[f.name] = r[f.name] end
  return c
end

-- integers and records as --dump-maps prints them
local function fmt_int(ty, v)
  if ty.size == 8 and not ty.signed then return string.format("%u", v) end
  return tostring(v)
end

local function fmt_value(ty, v)
  if is_rectype(ty) then
    local parts = {}
    for _, f in ipairs(ty.fields) do parts[#parts + 1] = f.name .. "=" .. fmt_int(f.ty, v[f.name]) end
    return "{" .. table.concat(parts, ",") .. "}"
  end
  return fmt_int(ty, v)
end

local function fmt_prefix(addr, len)
  return string.format("%d.%d.%d.%d/%d", (addr >> 24) & 255, (addr >> 16) & 255, (addr >> 8) & 255,
    addr & 255, len)
end

local function prefix_mask(len)
  if len == 0 then return 0 end
  return (0xffffffff << (32 - len)) & 0xffffffff
end

-- maps -------------------------------------------------------------------------

local function new_map(kind, spec, name)
  local is_array = kind == "array" or kind == "percpu_array"
  local key_ty = spec.key or types.u32
  local val_ty = assert(spec.value, "map needs a value type")
  local max = assert(spec.max_entries)
  local key_rec = is_rectype(key_ty) and key_ty
  local val_rec = is_rectype(val_ty) and val_ty
  local data, keys, n, order, tick = {}, {}, 0, {}, 0
  local m = { name = name, kind = kind }
  local function touch(k) tick = tick + 1; order[k] = tick end
  -- the internal key of k and the key as stored (a copy of a record key)
  local function norm(k)
    if key_rec then
      if rectype_of(k) ~= key_rec then error("the key must be a " .. key_rec.name .. " record", 0) end
      return record_key(k), copy_record(k)
    end
    k = wrap(key_ty, check_int(k))
    return k, k
  end
  local function conv(v)
    if val_rec then
      if rectype_of(v) ~= val_rec then error("the value must be a " .. val_rec.name .. " record", 0) end
      return copy_record(v)
    end
    return wrap(val_ty, check_int(v))
  end
  local function zero() return val_rec and new_record(val_rec) or 0 end
  local mt = {}
  function mt.__index(_, k)
    local ik = norm(k)
    if is_array then
      if ik < 0 or ik >= max then return nil end
      if data[ik] == nil then data[ik] = zero() end
      return data[ik]
    end
    local v = data[ik]
    if v ~= nil and kind == "lru_hash" then touch(ik) end
    return v
  end
  function mt.__newindex(_, k, v)
    local ik, kk = norm(k)
    if is_array then
      if ik < 0 or ik >= max then return end
      if v == nil then return end
      data[ik] = conv(v)
      return
    end
    if v == nil then
      if data[ik] ~= nil then data[ik] = nil; keys[ik] = nil; n = n - 1; order[ik] = nil end
      return
    end
    v = conv(v)
    if data[ik] == nil then
      if n >= max then
        if kind ~= "lru_hash" then return end
        -- evict the least recently used entry
        local victim, best = nil, math.maxinteger
        for kx, t in pairs(order) do if t < best then victim, best = kx, t end end
        data[victim] = nil; keys[victim] = nil; order[victim] = nil; n = n - 1
      end
      n = n + 1
    end
    data[ik] = v
    keys[ik] = kk
    if kind == "lru_hash" then touch(ik) end
  end
  local function sorted_keys()
    local list = {}
    for ik in pairs(data) do list[#list + 1] = ik end
    table.sort(list, function(a, b)
      if math.type(a) == "integer" and math.type(b) == "integer" then return a < b end
      return tostring(a) < tostring(b)
    end)
    return list
  end
  function mt.__pairs()
    if is_array then
      local i = -1
      return function()
        i = i + 1
        if i < max then
          if data[i] == nil then data[i] = zero() end
          return i, data[i]
        end
      end, m, nil
    end
    -- a snapshot of the keys, sorted: iteration order is unspecified anyway
    local list = sorted_keys()
    local i = 0
    return function()
      while true do
        i = i + 1
        local ik = list[i]
        if ik == nil then return nil end
        if data[ik] ~= nil then return keys[ik], data[ik] end
      end
    end, m, nil
  end
  -- --dump-maps lines (arrays: every index, unset ones 0, as the engines)
  function m.__dump()
    local out = {}
    if is_array then
      for i = 0, max - 1 do
        out[#out + 1] = { key = fmt_int(types.u32, i), value = fmt_value(val_ty, data[i] or zero()), sort = i }
      end
      return out
    end
    for _, ik in ipairs(sorted_keys()) do
      out[#out + 1] = { key = fmt_value(key_ty, keys[ik]), value = fmt_value(val_ty, data[ik]), sort = ik }
    end
    return out
  end
  function m.__init(k, v) mt.__newindex(m, k, v) end
  return setmetatable(m, mt)
end

-- map.lpm: longest-prefix match on IPv4 addresses (as pkt:be32 reads them)
local function new_lpm(spec, name)
  local val_ty = assert(spec.value, "map needs a value type")
  local max = assert(spec.max_entries)
  local val_rec = is_rectype(val_ty) and val_ty
  local entries, n = {}, 0 -- [len][addr & mask] = value
  local m = { name = name, kind = "lpm" }
  local function conv(v)
    if val_rec then
      if rectype_of(v) ~= val_rec then error("the value must be a " .. val_rec.name .. " record", 0) end
      return copy_record(v)
    end
    return wrap(val_ty, check_int(v))
  end
  local methods = {}
  function methods.set(_, addr, len, v)
    check_int(addr); check_int(len)
    if len < 0 or len > 32 then return end -- the kernel's update fails
    local a = addr & prefix_mask(len)
    entries[len] = entries[len] or {}
    if v == nil then
      if entries[len][a] ~= nil then entries[len][a] = nil; n = n - 1 end
      return
    end
    v = conv(v)
    if entries[len][a] == nil then
      if n >= max then return end
      n = n + 1
    end
    entries[len][a] = v
  end
  local mt = {
    __index = function(_, k)
      if methods[k] then return methods[k] end
      local addr = check_int(k) & 0xffffffff
      for len = 32, 0, -1 do
        local e = entries[len]
        local v = e and e[addr & prefix_mask(len)]
        if v ~= nil then return v end
      end
      return nil
    end,
    __newindex = function() error("an LPM map is written with :set", 0) end,
    __pairs = function() error("pairs over an LPM map", 0) end,
  }
  function m.__dump()
    local out = {}
    for len = 0, 32 do
      for a, v in pairs(entries[len] or {}) do
        -- the kernel's trie walk order is its own: sorted here, and by the comparer
        out[#out + 1] = { key = fmt_prefix(a, len), value = fmt_value(val_ty, v), sort = len * (1 << 32) + a }
      end
    end
    return out
  end
  function m.__init(k, v)
    local a, b, c, d, len = k:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)/(%d+)$")
    methods.set(m, (tonumber(a) << 24) | (tonumber(b) << 16) | (tonumber(c) << 8) | tonumber(d), tonumber(len), v)
  end
  return setmetatable(m, mt)
end

-- map.ringbuf: events, with the kernel's capacity (8-byte header + size
-- rounded up to 8 per event, at most size - 1 bytes held); drained after
-- every run
local function new_ringbuf(spec, name, obj)
  local size = assert(spec.size)
  local m = { name = name, kind = "ringbuf" }
  local used = 0
  local methods = {}
  function methods.emit(_, x)
    local rt = rectype_of(x)
    local bytes = rt and rt.size or 8
    if not rt then check_int(x) end
    local need = 8 + ((bytes + 7) // 8) * 8
    -- the kernel's producer stays at most size - 1 bytes ahead
    if used + need > size - 1 then
      obj.run_dropped = obj.run_dropped + 1
      return
    end
    used = used + need
    local ev = { map = name }
    if rt then
      ev.fields = {}
      for _, f in ipairs(rt.fields) do ev.fields[#ev.fields + 1] = { f.name, f.ty, x[f.name] } end
      ev.text = "event=" .. name .. " " .. fmt_value(rt, x)
    else
      ev.value = x
      ev.text = "event=" .. name .. " value=" .. string.format("%u", x)
    end
    obj.run_events[#obj.run_events + 1] = ev
  end
  function m.__drain() used = 0 end
  function m.__dump() return {} end
  return setmetatable(m, { __index = methods,
    __newindex = function() error("a ring buffer is not indexed", 0) end })
end

local function new_packet(bytes, tc)
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
  local skb
  if tc then
    -- pkt.protocol as eth_type_trans sets it (host order): the Ethernet
    -- type from 0x0600 up, 802.3 (1) when the payload starts ff ff, else
    -- 802.2 (4); 0 below 14 bytes
    local proto = 0
    if len >= 14 then
      proto = (b[13] << 8) | b[14]
      if proto < 0x600 then proto = (len >= 16 and b[15] == 0xff and b[16] == 0xff) and 1 or 4 end
    end
    skb = { mark = tc.mark or 0, priority = tc.priority or 0, ifindex = tc.ifindex or 1,
      ingress_ifindex = tc.ifindex or 1, protocol = proto }
  end
  setmetatable(pkt, {
    __index = function(_, k)
      if skb and skb[k] ~= nil then return skb[k] end
      return methods[k]
    end,
    __newindex = function(_, k, v)
      if skb and (k == "mark" or k == "priority") then
        skb[k] = check_int(v) & 0xffffffff
        return
      end
      error("cannot set pkt." .. tostring(k), 0)
    end,
    __len = function() return len end,
  })
  local function bytes_now() return string.char(table.unpack(b)) end
  return pkt, bytes_now, skb
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
  local obj = { order = order, trace = trace, maps = {}, kinds = {}, run_events = {}, run_dropped = 0 }
  local kinds = obj.kinds
  local function namespace(consts, kind)
    return setmetatable({}, {
      __index = consts,
      __newindex = function(_, k, v)
        progs[k] = v
        kinds[k] = kind
        order[#order + 1] = k
      end,
    })
  end
  local xdp = namespace({ ABORTED = 0, DROP = 1, PASS = 2, TX = 3, REDIRECT = 4 }, "xdp")
  local tc = namespace({ OK = 0, RECLASSIFY = 1, SHOT = 2, PIPE = 3, STOLEN = 4, REDIRECT = 7, UNSPEC = -1 }, "tc")
  -- the names of maps and the field order of records, in declaration
  -- order (a Lua table constructor does not keep it)
  -- (comments blanked first, strings kept: `-- a = b` inside a record's
  -- braces is no field; `record({ ... })` and `["f"] = u8` are Lua too)
  local function uncomment(src)
    src = src:gsub("%-%-%[(=*)%[.-%]%1%]", function(eq) return " " end)
    return (src:gsub("%-%-[^\n]*", ""))
  end
  local scan = uncomment(source)
  local map_names, rec_decls = {}, {}
  for what, rest in scan:gmatch("local%s+([%a_][%w_]*)%s*=%s*()") do
    local tail = scan:sub(rest, rest + 200)
    if tail:match("^map%s*%.") then map_names[#map_names + 1] = what
    elseif tail:match("^record%s*%(?%s*{") then
      local body = scan:match("^record%s*%(?%s*(%b{})", rest) or ""
      body = body:gsub("%[%s*([\"'])([%a_][%w_]*)%1%s*%]", "%2")
      local fields = {}
      for fname in body:gmatch("([%a_][%w_]*)%s*=") do fields[#fields + 1] = fname end
      rec_decls[#rec_decls + 1] = { name = what, fields = fields }
    end
  end
  local map = {}
  local function add_map(m, spec)
    obj.maps[#obj.maps + 1] = m
    if spec.init then
      -- initial contents in the order of the constructor's keys (integer
      -- keys sorted, then the rest as pairs gives them; duplicates cannot
      -- occur in a Lua table)
      local ks = {}
      for k in pairs(spec.init) do ks[#ks + 1] = k end
      table.sort(ks, function(a, b)
        local ta, tb = math.type(a) == "integer", math.type(b) == "integer"
        if ta ~= tb then return ta end
        if ta then return a < b end
        return tostring(a) < tostring(b)
      end)
      for _, k in ipairs(ks) do m.__init(k, spec.init[k]) end
    end
    return m
  end
  for _, kind in ipairs { "hash", "array", "lru_hash", "percpu_hash", "percpu_array" } do
    map[kind] = function(spec)
      return add_map(new_map(kind, spec, table.remove(map_names, 1) or "?"), spec)
    end
  end
  map.lpm = function(spec) return add_map(new_lpm(spec, table.remove(map_names, 1) or "?"), spec) end
  map.ringbuf = function(spec)
    local m = new_ringbuf(spec, table.remove(map_names, 1) or "?", obj)
    obj.maps[#obj.maps + 1] = m
    return m
  end
  local function record(spec)
    local decl = table.remove(rec_decls, 1) or { name = "?", fields = {} }
    local rt = { name = decl.name, fields = {}, by_name = {} }
    local off, align = 0, 1
    for _, fname in ipairs(decl.fields) do
      local ty = spec[fname]
      local f = { name = fname, ty = ty }
      off = (off + ty.size - 1) // ty.size * ty.size + ty.size
      if ty.size > align then align = ty.size end
      rt.fields[#rt.fields + 1] = f
      rt.by_name[fname] = f
    end
    rt.size = (off + align - 1) // align * align
    setmetatable(rt, RECTYPE)
    -- R { ... } makes a record
    RECTYPE.__call = function(t, init) return new_record(t, init) end
    return rt
  end
  local env = {
    xdp = xdp, tc = tc, map = map, pairs = pairs, record = record,
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
  function obj:run(name, bytes, opts)
    local fn = progs[name]
    if not fn then error("no program " .. tostring(name)) end
    local is_tc = kinds[name] == "tc"
    local pkt, after, skb = new_packet(bytes, is_tc and (opts or {}) or nil)
    self.run_events, self.run_dropped = {}, 0
    local function info()
      for _, m in ipairs(self.maps) do local d = rawget(m, "__drain"); if d then d() end end
      return { events = self.run_events, dropped = self.run_dropped,
        mark = skb and skb.mark, priority = skb and skb.priority }
    end
    local ok2, r = pcall(fn, pkt)
    local fault_verdict = is_tc and 2 or 0
    if not ok2 then
      if r == FAULT then return fault_verdict, after(), info() end
      local s = tostring(r)
      -- Lua's own run-time errors that the language defines as faults
      if s:find("'n//0'", 1, true) or s:find("'n%0'", 1, true) or s:find("divide by zero", 1, true)
        or s:find("modulo by zero", 1, true) or s:find("'for' step is zero", 1, true) then
        return fault_verdict, after(), info()
      end
      error(s, 0)
    end
    if r == nil then r = is_tc and 0 or 2 end
    if math.type(r) ~= "integer" then error("program returned " .. tostring(r), 0) end
    return r & 0xffffffff, after(), info()
  end
  -- the --dump-maps lines of every map, in declaration order, entries sorted
  function obj:dump_maps()
    local out = {}
    for _, m in ipairs(self.maps) do
      local list = m.__dump()
      table.sort(list, function(a, b)
        if math.type(a.sort) == "integer" and math.type(b.sort) == "integer" then return a.sort < b.sort end
        return tostring(a.sort) < tostring(b.sort)
      end)
      for _, e in ipairs(list) do
        out[#out + 1] = "map=" .. m.name .. " key=" .. e.key .. " value=" .. e.value
      end
    end
    return out
  end
  return obj
end

M.rewrite_for = rewrite_for
M.range = range
return M
