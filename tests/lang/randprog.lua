-- randprog.lua: a deterministic generator of random, well-typed bpflua
-- programs (integer expressions with every operator and extreme constants,
-- locals, if/else, loops with break and return, map updates), for the
-- differential oracle. randprog.generate(seed) -> source text
local M = {}

-- The generators' random numbers: a 64-bit linear congruential sequence
-- (wrapping) from state; rnd(n) is 1..n, pick(t) one element of t.
function M.rng(state)
  local function rnd(n)
    state = state * 6364136223846793005 + 1442695040888963407
    return ((state >> 33) % n) + 1
  end
  return rnd, function(t) return t[rnd(#t)] end
end

function M.generate(seed)
  local rnd, pick = M.rng(seed)
  local consts = { "0", "1", "2", "3", "7", "-1", "-2", "-7", "63", "64", "65", "-64", "100", "255", "0xff",
    "0x7fffffff", "0x80000000", "math.maxinteger", "math.mininteger", "0x123456789", "(1 << 62)" }
  local binops = { "+", "-", "*", "//", "%", "&", "|", "~", "<<", ">>" }
  local cmps = { "<", "<=", ">", ">=", "==", "~=" }
  local vars
  local bools, opts = {}, {}
  local in_f = false
  local loops = 0 -- loops around the current statement
  local f_loops = 0 -- the deepest nesting of loops in f
  local function expr(depth)
    local r = rnd(10)
    if depth <= 0 or r <= 3 then
      if rnd(3) == 1 then return pick(consts) end
      return pick(vars)
    end
    if r == 4 then return "(- " .. expr(depth - 1) .. ")" end
    if r == 5 then return "(~" .. expr(depth - 1) .. ")" end
    if r == 6 and not in_f then return "pkt:u8(" .. rnd(14) - 1 .. ")" end
    if r == 7 then return "(m[" .. expr(depth - 1) .. " & 7] or " .. expr(depth - 1) .. ")" end
    if r == 9 and #opts > 0 then return "(" .. pick(opts) .. " or " .. expr(depth - 1) .. ")" end
    -- no call of f where f's loops on top of the loops around the call make
    -- 6 levels (8 frames with the program's and f's): that chain can exceed
    -- the 512 bytes of stack the compiler allows (randprog 14101 needed 544).
    -- The same random draws either way.
    if r == 8 and not in_f and rnd(2) == 1 and loops + f_loops < 6 then return "f(" .. expr(depth - 1) .. ", " .. expr(depth - 1) .. ")" end
    return "(" .. expr(depth - 1) .. " " .. pick(binops) .. " " .. expr(depth - 1) .. ")"
  end
  -- cond(depth, as_value): a condition; with as_value, a real boolean (it is
  -- stored in a boolean variable): a bare nil-able variable is a condition
  -- but not a boolean (LANGUAGE.md: a value that may be nil can only be
  -- compared with nil, tested, or be the left side of 'or'), and an and/or
  -- with one on either side mixes types. The choices draw the same random
  -- numbers either way, so programs that were valid are unchanged.
  local function cond(depth, as_value)
    local r = rnd(8)
    if r == 7 and #bools > 0 then return pick(bools) end
    if r == 8 and #opts > 0 then
      local o, test = pick(opts), pick { " == nil", " ~= nil", "" }
      if as_value and test == "" then test = " ~= nil" end
      return "(" .. o .. test .. ")"
    end
    if r == 1 and depth > 0 then return "(" .. cond(depth - 1, as_value) .. " and " .. cond(depth - 1, as_value) .. ")" end
    if r == 2 and depth > 0 then return "(" .. cond(depth - 1, as_value) .. " or " .. cond(depth - 1, as_value) .. ")" end
    if r == 3 and depth > 0 then return "not (" .. cond(depth - 1) .. ")" end
    return expr(2) .. " " .. pick(cmps) .. " " .. expr(2)
  end
  local lines = {}
  local function emit(indent, s) lines[#lines + 1] = ("  "):rep(indent) .. s end
  local nvars = 0
  local function block(indent, depth, in_loop)
    for _ = 1, rnd(4) do
      local r = rnd(9)
      if r <= 2 then
        nvars = nvars + 1
        local kind = rnd(5)
        if kind == 1 then
          local name = "b" .. nvars
          emit(indent, "local " .. name .. " = " .. cond(1, true))
          bools[#bools + 1] = name
        elseif kind == 2 then
          local name = "n" .. nvars
          emit(indent, "local " .. name .. pick { " = m[" .. expr(1) .. " & 7]", "" })
          opts[#opts + 1] = name
        else
          local name = "v" .. nvars
          emit(indent, "local " .. name .. " = " .. expr(3))
          vars[#vars + 1] = name
        end
      elseif r == 3 and #opts > 0 and rnd(2) == 1 then
        emit(indent, pick(opts) .. " = " .. pick { "nil", expr(2), "m[" .. expr(1) .. " & 7]" })
      elseif r == 3 and #bools > 0 and rnd(2) == 1 then
        emit(indent, pick(bools) .. " = " .. cond(1, true))
      elseif r <= 4 then
        emit(indent, pick(vars) .. " = " .. expr(3))
      elseif r == 5 and depth > 0 then
        emit(indent, "if " .. cond(2) .. " then")
        local saved, sb, so = #vars, #bools, #opts
        block(indent + 1, depth - 1, in_loop)
        for i = #vars, saved + 1, -1 do vars[i] = nil end; for i = #bools, sb + 1, -1 do bools[i] = nil end; for i = #opts, so + 1, -1 do opts[i] = nil end
        if rnd(2) == 1 then
          emit(indent, "else")
          block(indent + 1, depth - 1, in_loop)
          for i = #vars, saved + 1, -1 do vars[i] = nil end; for i = #bools, sb + 1, -1 do bools[i] = nil end; for i = #opts, so + 1, -1 do opts[i] = nil end
        end
        emit(indent, "end")
      elseif r == 6 and depth > 0 then
        nvars = nvars + 1
        local iv = "i" .. nvars
        local a, b = rnd(7) - 4, rnd(9) - 2
        local step = pick { "", ", 1", ", 2", ", -1", ", 3", ", -2" }
        emit(indent, "for " .. iv .. " = " .. a .. ", " .. b .. step .. " do")
        local saved, sb, so = #vars, #bools, #opts
        vars[#vars + 1] = iv
        loops = loops + 1
        if in_f and loops > f_loops then f_loops = loops end
        block(indent + 1, depth - 1, true)
        loops = loops - 1
        for i = #vars, saved + 1, -1 do vars[i] = nil end; for i = #bools, sb + 1, -1 do bools[i] = nil end; for i = #opts, so + 1, -1 do opts[i] = nil end
        emit(indent, "end")
      elseif r == 7 then
        local k = rnd(4)
        if k == 1 then
          emit(indent, "m[" .. expr(2) .. " & 7] = " .. expr(2))
        elseif k == 2 then
          emit(indent, "m[" .. expr(1) .. " & 7] = nil")
        elseif k == 3 then
          local acc = pick(vars) -- an order-independent sum (iteration order is unspecified)
          emit(indent, "for k, v in pairs(m) do " .. acc .. " = " .. acc .. " + k * 3 + v end")
          if in_f and loops + 1 > f_loops then f_loops = loops + 1 end
        elseif not in_f then
          emit(indent, "pkt:set_" .. pick { "u8", "be16", "le32" } .. "(" .. rnd(8) - 1 .. ", " .. expr(2) .. ")")
        end
      elseif r == 8 and in_loop then
        emit(indent, "if " .. cond(1) .. " then break end")
      elseif r == 9 and rnd(3) == 1 then
        emit(indent, "if " .. cond(1) .. " then return " .. expr(2) .. " end")
      end
    end
  end
  emit(0, "local m = map.hash { key = i32, value = i64, max_entries = 16 }")
  vars, bools, opts = { "x", "y" }, {}, {}
  in_f = true
  emit(0, "local function f(x, y)")
  block(1, 2, false)
  emit(1, "return " .. expr(2))
  emit(0, "end")
  in_f = false
  nvars = 0
  for p = 1, 3 do
    vars, bools, opts = { "a", "b", "c" }, {}, {}
    emit(0, "function xdp.r" .. p .. "(pkt)")
    emit(1, "local a, b, c = pkt:u8(0) - 128, pkt:be16(2) - 30000, pkt:le32(4) * 3")
    block(1, 3, false)
    emit(1, "return " .. expr(3))
    emit(0, "end")
  end
  return table.concat(lines, "\n") .. "\n"
end

-- generate_v1(seed): a random program of version 1 (LANGUAGE.md "Version 1
-- additions"): record types of every field type in random order, records as
-- hash keys and values, references `local s = m[k]` with nil tests and
-- field updates, `m[k] or R {...}`, percpu_array/percpu_hash, lpm maps with
-- init prefixes, lookups and m:set, ring buffers with emit of records and
-- integers (in loops too, so small buffers fill), `init = {...}`, tc
-- programs with skb fields and tc verdicts. References are used right after
-- their lookup, inside a `do ... end`, before any store to the same map.
function M.generate_v1(seed)
  local rnd, pick = M.rng(seed * 2654435761 + 99)
  local tnames = { "u8", "u16", "u32", "u64", "i8", "i16", "i32", "i64" }
  local consts = { "0", "1", "2", "3", "7", "-1", "-7", "63", "64", "100", "255", "0xff", "0xffff",
    "0x7fffffff", "0x80000000", "0xffffffff", "math.maxinteger", "math.mininteger", "0x123456789", "(1 << 40)" }
  local binops = { "+", "-", "*", "//", "%", "&", "|", "~", "<<", ">>", "+", "-" }
  local cmps = { "<", "<=", ">", ">=", "==", "~=" }
  local lines = {}
  local function out(indent, s) lines[#lines + 1] = ("  "):rep(indent) .. s end
  -- record types
  local recs = {}
  local fieldnames = { "a", "b", "c", "d", "e", "f", "g", "h" }
  for r = 1, 3 do
    local n = rnd(6)
    local fields = {}
    local used = {}
    for i = 1, n do
      local nm
      repeat nm = pick(fieldnames) .. (rnd(3) == 1 and tostring(i) or "") until not used[nm]
      used[nm] = true
      fields[i] = { name = nm, ty = pick(tnames) }
    end
    local rt = { name = "R" .. r, fields = fields }
    recs[r] = rt
    local parts = {}
    for i, f in ipairs(fields) do parts[i] = f.name .. " = " .. f.ty end
    out(0, "local " .. rt.name .. " = record { " .. table.concat(parts, ", ") .. " }")
  end
  local KR, VR, ER = recs[1], recs[2], recs[3] -- key, value, event records
  local function small_ctor(rt, val)
    local parts = {}
    for _, f in ipairs(rt.fields) do
      if rnd(4) > 1 then parts[#parts + 1] = f.name .. " = " .. val(f) end
    end
    return rt.name .. " { " .. table.concat(parts, ", ") .. " }"
  end
  -- maps
  local hkind = pick { "hash", "lru_hash", "percpu_hash", "hash" }
  local hval_rec = rnd(4) > 1
  local hval = hval_rec and VR or nil
  local hinit = ""
  if rnd(2) == 1 then
    hinit = ", init = { [" .. small_ctor(KR, function() return tostring(rnd(4) - 1) end) .. "] = "
      .. (hval_rec and small_ctor(VR, function() return pick(consts) end) or pick(consts)) .. " }"
  end
  out(0, "local hk = map." .. hkind .. " { key = KR, value = " .. (hval_rec and "R2" or pick(tnames))
    .. ", max_entries = " .. (hkind == "lru_hash" and 512 or pick { 4, 8, 64 }) .. hinit .. " }")
  lines[#lines] = lines[#lines]:gsub("key = KR", "key = R1")
  local akind = pick { "array", "percpu_array" }
  local aval_rec = rnd(2) == 1
  local amax = pick { 1, 4, 8 }
  local ainit = ""
  if rnd(2) == 1 then
    local k = rnd(amax) - 1
    ainit = ", init = { [" .. k .. "] = " .. (aval_rec and small_ctor(VR, function() return pick(consts) end) or pick(consts)) .. " }"
  end
  out(0, "local ar = map." .. akind .. " { value = " .. (aval_rec and "R2" or pick(tnames)) .. ", max_entries = "
    .. amax .. ainit .. " }")
  local lval_rec = rnd(3) == 1
  local prefixes = { "10.0.0.0/8", "0.0.0.0/0", "192.0.2.0/24", "192.0.2.1/32", "8.8.8.8/32", "10.0.0.0/16",
    "192.0.0.0/2", "128.0.0.0/1" }
  local linit = {}
  local lseen = {}
  for _ = 1, rnd(4) - 1 do
    local pfx = pick(prefixes)
    if not lseen[pfx] then
      lseen[pfx] = true
      linit[#linit + 1] = '["' .. pfx .. '"] = ' .. (lval_rec and small_ctor(VR, function() return pick(consts) end) or pick(consts))
    end
  end
  out(0, "local lp = map.lpm { value = " .. (lval_rec and "R2" or pick(tnames)) .. ", max_entries = " .. pick { 4, 16 }
    .. (#linit > 0 and (", init = { " .. table.concat(linit, ", ") .. " }") or "") .. " }")
  out(0, "local hi = map." .. pick { "hash", "percpu_hash", "hash" } .. " { key = " .. pick(tnames) .. ", value = " .. pick(tnames)
    .. ", max_entries = 16 }")
  out(0, "local ev = map.ringbuf { size = " .. pick { 4096, 8192, 65536 } .. " }")
  out(0, "local evn = map.ringbuf { size = 4096 }")
  out(0, "local evv = map.ringbuf { size = " .. pick { 4096, 16384 } .. " }")

  -- a local function using its packet's socket-buffer fields (tc callers only)
  out(0, "local function sk(p, a)")
  out(1, "p." .. pick { "mark", "priority" } .. " = p." .. pick { "mark", "priority" } .. " " .. pick { "+", "~", "*" } .. " a")
  out(1, "return p." .. pick { "mark", "priority", "protocol", "ifindex" } .. " " .. pick { "+", "-", "|" } .. " #p")
  out(0, "end")
  local vars, orecs -- integer variables, own record variables {name=, rt=}
  local is_tc = false
  local loops = 0
  local function expr(depth)
    local r = rnd(14)
    if depth <= 0 or r <= 3 then
      local q = rnd(6)
      if q == 1 then return pick(consts) end
      if q == 2 and #orecs > 0 then
        local o = pick(orecs)
        return o.name .. "." .. pick(o.rt.fields).name
      end
      if q == 3 and is_tc then return "pkt." .. pick { "mark", "priority", "ifindex", "ingress_ifindex", "protocol" } end
      if q == 4 then return "#pkt" end
      return pick(vars)
    end
    if r == 4 then return "(- " .. expr(depth - 1) .. ")" end
    if r == 5 then return "pkt:u8(" .. rnd(14) - 1 .. ")" end
    if r == 6 then return "(hi[" .. expr(depth - 1) .. " & 7] or " .. expr(depth - 1) .. ")" end
    if r == 7 and not lval_rec then return "(lp[" .. expr(depth - 1) .. "] or " .. expr(depth - 1) .. ")" end
    if r == 8 and not aval_rec then return "(ar[" .. expr(depth - 1) .. " & 7] or 5)" end
    if r == 9 and #orecs > 0 then
      local o = pick(orecs)
      return "(" .. o.name .. "." .. pick(o.rt.fields).name .. " " .. pick(binops) .. " " .. expr(depth - 1) .. ")"
    end
    if r == 10 and is_tc then return "pkt." .. pick { "mark", "priority", "protocol" } end
    return "(" .. expr(depth - 1) .. " " .. pick(binops) .. " " .. expr(depth - 1) .. ")"
  end
  local function cond(depth)
    local r = rnd(6)
    if r == 1 and depth > 0 then return "(" .. cond(depth - 1) .. " and " .. cond(depth - 1) .. ")" end
    if r == 2 and depth > 0 then return "(" .. cond(depth - 1) .. " or " .. cond(depth - 1) .. ")" end
    if r == 3 and depth > 0 then return "not (" .. cond(depth - 1) .. ")" end
    return expr(2) .. " " .. pick(cmps) .. " " .. expr(2)
  end
  local function fieldval() return expr(2) end
  -- a key of hk: a constructor with small field values, or a record variable of the key type
  local function key()
    local own = {}
    for _, o in ipairs(orecs) do if o.rt == KR then own[#own + 1] = o.name end end
    if #own > 0 and rnd(3) == 1 then return pick(own) end
    return small_ctor(KR, function() return pick { "pkt:u8(" .. rnd(14) - 1 .. ") & 3", tostring(rnd(3) - 1), "#pkt & 1" } end)
  end
  local function value_of(rt)
    if not rt then return expr(2) end
    local own = {}
    for _, o in ipairs(orecs) do if o.rt == rt then own[#own + 1] = o.name end end
    if #own > 0 and rnd(3) == 1 then return pick(own) end
    return small_ctor(rt, fieldval)
  end
  local nv = 0
  local function block(indent, depth)
    for _ = 1, rnd(5) do
      local r = rnd(22)
      nv = nv + 1
      if r <= 2 then
        local name = "v" .. nv
        out(indent, "local " .. name .. " = " .. expr(3))
        vars[#vars + 1] = name
      elseif r == 3 then
        local rt = pick(recs)
        local name = "r" .. nv
        out(indent, "local " .. name .. " = " .. small_ctor(rt, fieldval))
        orecs[#orecs + 1] = { name = name, rt = rt }
      elseif r == 4 and #orecs > 0 then
        local o = pick(orecs)
        local f = pick(o.rt.fields).name
        out(indent, o.name .. "." .. f .. " = " .. pick { expr(3), o.name .. "." .. f .. " + " .. expr(1) })
      elseif r == 5 then
        out(indent, pick(vars) .. " = " .. expr(3))
      elseif r == 6 and depth > 0 then
        out(indent, "if " .. cond(2) .. " then")
        local sv, so = #vars, #orecs
        block(indent + 1, depth - 1)
        for i = #vars, sv + 1, -1 do vars[i] = nil end; for i = #orecs, so + 1, -1 do orecs[i] = nil end
        if rnd(2) == 1 then
          out(indent, "else")
          block(indent + 1, depth - 1)
          for i = #vars, sv + 1, -1 do vars[i] = nil end; for i = #orecs, so + 1, -1 do orecs[i] = nil end
        end
        out(indent, "end")
      elseif r == 7 and depth > 0 then
        local iv = "i" .. nv
        out(indent, "for " .. iv .. " = " .. (rnd(5) - 3) .. ", " .. (rnd(8) - 2) .. pick { "", ", 1", ", 2", ", -1" } .. " do")
        local sv, so = #vars, #orecs
        vars[#vars + 1] = iv
        loops = loops + 1
        block(indent + 1, depth - 1)
        if rnd(3) == 1 then out(indent + 1, "if " .. cond(1) .. " then break end") end
        loops = loops - 1
        for i = #vars, sv + 1, -1 do vars[i] = nil end; for i = #orecs, so + 1, -1 do orecs[i] = nil end
        out(indent, "end")
      elseif r == 8 then
        -- a reference with updates in place, else a store
        local s = "s" .. nv
        out(indent, "do")
        out(indent + 1, "local " .. s .. " = hk[" .. key() .. "]")
        if hval_rec then
          local f1, f2 = pick(VR.fields).name, pick(VR.fields).name
          local t = rnd(3)
          if t == 1 then
            out(indent + 1, "if " .. s .. " then")
            out(indent + 2, s .. "." .. f1 .. " = " .. s .. "." .. f1 .. " + " .. expr(2))
            if rnd(2) == 1 then out(indent + 2, s .. "." .. f2 .. " = " .. expr(2)) end
            out(indent + 2, pick(vars) .. " = " .. s .. "." .. f2)
            out(indent + 1, "else")
            out(indent + 2, "hk[" .. key() .. "] = " .. value_of(VR))
            out(indent + 1, "end")
          elseif t == 2 then
            out(indent + 1, "if not " .. s .. " then " .. (loops > 0 and rnd(2) == 1 and "break" or ("return " .. expr(1))) .. " end")
            out(indent + 1, s .. "." .. f1 .. " = " .. s .. "." .. f2 .. " + " .. expr(2))
          else
            out(indent + 1, pick(vars) .. " = " .. pick(vars) .. " + (" .. s .. " and " .. s .. "." .. f1 .. " or 0)")
          end
        else
          out(indent + 1, "if " .. s .. " then " .. pick(vars) .. " = (" .. s .. " or 0) + 1 else hk[" .. key() .. "] = " .. expr(2) .. " end")
        end
        out(indent, "end")
      elseif r == 9 and hval_rec then
        -- `m[k] or R {...}`: the entry, or a fresh record
        local s = "q" .. nv
        out(indent, "do")
        out(indent + 1, "local " .. s .. " = hk[" .. key() .. "] or " .. small_ctor(VR, fieldval))
        local f1 = pick(VR.fields).name
        out(indent + 1, s .. "." .. f1 .. " = " .. s .. "." .. f1 .. " + 1")
        out(indent + 1, pick(vars) .. " = " .. s .. "." .. pick(VR.fields).name)
        if rnd(2) == 1 then out(indent + 1, "hk[" .. key() .. "] = " .. s) end
        out(indent, "end")
      elseif r == 10 then
        local k = rnd(3)
        if k == 1 then out(indent, "hk[" .. key() .. "] = " .. value_of(hval))
        elseif k == 2 then out(indent, "hk[" .. key() .. "] = nil")
        else out(indent, "hi[" .. expr(2) .. " & 7] = " .. expr(2)) end
      elseif r == 11 then
        if aval_rec then
          local s = "a" .. nv
          local f1 = pick(VR.fields).name
          out(indent, "do")
          out(indent + 1, "local " .. s .. " = ar[" .. expr(1) .. " & 7]")
          out(indent + 1, "if " .. s .. " then " .. s .. "." .. f1 .. " = " .. s .. "." .. f1 .. " + " .. expr(1)
            .. " else " .. pick(vars) .. " = " .. pick(vars) .. " + 1 end")
          out(indent, "end")
          if rnd(2) == 1 then out(indent, "ar[" .. expr(1) .. " & 7] = " .. value_of(VR)) end
        else
          local ix = expr(1) .. " & 7"
          out(indent, "ar[" .. ix .. "] = (ar[" .. ix .. "] or 0) + " .. expr(1))
        end
      elseif r == 12 then
        local addr = pick { "pkt:be32(" .. pick { 26, 30, 0, 2 } .. ")", "0x0a000001", "0xc0000201", "0x08080808", expr(1) }
        local len = pick { "0", "8", "16", "24", "32", "(" .. expr(1) .. ") & 31", "(pkt:u8(" .. rnd(14) - 1 .. ") & 63)" }
        if rnd(4) == 1 then
          out(indent, "lp:set(" .. addr .. ", " .. len .. ", nil)")
        else
          out(indent, "lp:set(" .. addr .. ", " .. len .. ", " .. value_of(lval_rec and VR or nil) .. ")")
        end
      elseif r == 13 and lval_rec then
        local s = "l" .. nv
        local f1 = pick(VR.fields).name
        out(indent, "do")
        out(indent + 1, "local " .. s .. " = lp[" .. pick { "pkt:be32(26)", "pkt:be32(30)", expr(1) } .. "]")
        out(indent + 1, "if " .. s .. " then " .. s .. "." .. f1 .. " = " .. s .. "." .. f1 .. " + 1; " .. pick(vars) .. " = " .. s .. "." .. f1 .. " end")
        out(indent, "end")
      elseif r == 14 then
        local own = {}
        for _, o in ipairs(orecs) do if o.rt == ER then own[#own + 1] = o.name end end
        if #own > 0 and rnd(2) == 1 then out(indent, "ev:emit(" .. pick(own) .. ")")
        else out(indent, "ev:emit(" .. small_ctor(ER, fieldval) .. ")") end
      elseif r == 15 then
        out(indent, "evn:emit(" .. expr(2) .. ")")
      elseif r == 16 and is_tc then
        local fld = pick { "mark", "priority" }
        out(indent, "pkt." .. fld .. " = " .. pick { expr(2), "pkt." .. fld .. " + " .. expr(1), "sk(pkt, " .. expr(1) .. ")" })
      elseif r == 17 and hval_rec and rnd(2) == 1 then
        local acc = pick(vars)
        local kf, vf = pick(KR.fields).name, pick(VR.fields).name
        out(indent, "for k, v in pairs(hk) do " .. acc .. " = " .. acc .. " + k." .. kf .. " * 3 + v." .. vf
          .. (rnd(2) == 1 and ("; v." .. vf .. " = v." .. vf .. " + 1") or "") .. " end")
      elseif r == 18 then
        out(indent, "if " .. cond(1) .. " then return " .. (is_tc and pick { "tc.OK", "tc.SHOT", "tc.PIPE", "tc.UNSPEC", "tc.REDIRECT", expr(1) } or expr(1)) .. " end")
      elseif r == 20 and #orecs > 0 then
        -- a record variable gets a new record (a constructor or another variable of its type)
        local o = pick(orecs)
        local same = {}
        for _, o2 in ipairs(orecs) do if o2.rt == o.rt and o2 ~= o then same[#same + 1] = o2.name end end
        if #same > 0 and rnd(2) == 1 then out(indent, o.name .. " = " .. pick(same))
        else out(indent, o.name .. " = " .. small_ctor(o.rt, fieldval)) end
      elseif r == 21 and hval_rec then
        -- a map entry's value: emitted, copied to another key, its fields combined
        local s = "w" .. nv
        local f1, f2 = pick(VR.fields).name, pick(VR.fields).name
        out(indent, "do")
        out(indent + 1, "local " .. s .. " = hk[" .. key() .. "]")
        out(indent + 1, "if " .. s .. " then")
        out(indent + 2, s .. "." .. f1 .. " = " .. s .. "." .. f2 .. " * 3 + " .. s .. "." .. f1 .. " - " .. expr(1))
        local t = rnd(3)
        if t == 1 then out(indent + 2, "evv:emit(" .. s .. ")")
        elseif t == 2 then out(indent + 2, "hk[" .. key() .. "] = " .. s)
        else out(indent + 2, "ar[" .. expr(1) .. " & 7] = " .. (aval_rec and s or (s .. "." .. f2))) end
        out(indent + 1, "end")
        out(indent, "end")
      elseif r == 22 then
        -- a local record built field by field, used as a key and an event
        local name = "k" .. nv
        out(indent, "local " .. name .. " = " .. KR.name .. " {}")
        for _, f in ipairs(KR.fields) do
          if rnd(2) == 1 then out(indent, name .. "." .. f.name .. " = " .. pick { "pkt:u8(" .. rnd(14) - 1 .. ") & 1", "#pkt & 1", "1" }) end
        end
        orecs[#orecs + 1] = { name = name, rt = KR }
        if rnd(2) == 1 then
          out(indent, "hi[" .. name .. "." .. pick(KR.fields).name .. " & 7] = (hk[" .. name .. "] and 1 or 0) + " .. expr(1))
        end
      elseif r == 19 and #orecs > 0 then
        -- `local b = a`: another name for the same record
        local o = pick(orecs)
        local name = "r" .. nv
        out(indent, "local " .. name .. " = " .. o.name)
        orecs[#orecs + 1] = { name = name, rt = o.rt }
      end
    end
  end
  for p = 1, 2 + rnd(2) do
    is_tc = rnd(2) == 1
    vars, orecs = { "x", "y" }, {}
    out(0, "function " .. (is_tc and "tc" or "xdp") .. ".p" .. p .. "(pkt)")
    out(1, "local x, y = pkt:u8(0) - 128, pkt:be16(2)")
    block(1, 3)
    if rnd(4) == 1 then
      out(1, "return " .. (is_tc and "tc.OK" or "xdp.PASS"))
    elseif rnd(3) > 1 then
      out(1, "return " .. expr(2))
    end
    out(0, "end")
  end
  return table.concat(lines, "\n") .. "\n"
end

-- generate_nest(seed): loops nested 2 or 3 deep whose bounds are affine in
-- the enclosing indices (i, i + c, c - i, 2 * i - c) or come from the
-- packet, steps of +-1, 2, 3, bodies that update an accumulator and a map
-- value and test the index at and around its bounds (== stop, == stop +- 1,
-- > stop, < start) with break, return or a count: what the JIT's range
-- proofs (jit/inline_ranges.c) drop or keep.
function M.generate_nest(seed)
  local rnd, pick = M.rng(seed * 2654435761 + 17)
  local lines = {}
  local function out(ind, s) lines[#lines + 1] = string.rep("  ", ind) .. s end
  out(0, 'license "GPL"')
  out(0, "local m = map.array { key = u32, value = u64, max_entries = 4 }")
  local function bound(outer)
    local c = rnd(7) - 3
    if not outer then return tostring(rnd(13) - 4) end
    local k = rnd(6)
    if k == 1 then return tostring(rnd(9) - 2)
    elseif k == 2 then return outer
    elseif k == 3 then return outer .. " + " .. c
    elseif k == 4 then return c + 6 .. " - " .. outer
    elseif k == 5 then return "2 * " .. outer .. " - " .. (c + 3)
    else return outer .. " // 2" end
  end
  local function body(ind, iv, lo, hi, depth, vars)
    local n = 1 + rnd(3)
    for _ = 1, n do
      local k = rnd(9)
      local other = vars[rnd(#vars)]
      if k == 1 then
        out(ind, "if " .. iv .. " == " .. hi .. " then acc = acc + " .. rnd(50) .. " end")
      elseif k == 2 then
        out(ind, "if " .. iv .. " == " .. hi .. pick { " + 1", " - 1" } .. " then acc = acc + " .. rnd(50) .. " end")
      elseif k == 3 then
        out(ind, "if " .. iv .. pick { " > ", " < " } .. pick { hi, lo } .. " then acc = acc + 1000 end")
      elseif k == 4 then
        out(ind, "if " .. iv .. " + " .. (rnd(5) - 1) .. " >= " .. other .. " + s % 4 then " ..
          pick { "break", "return acc & 0xffff", "acc = acc + 3" } .. " end")
      elseif k == 5 then
        out(ind, "m[" .. (rnd(3) - 1) .. "] = ((m[" .. (rnd(3) - 1) .. "] or 0) + " .. iv .. " * " .. rnd(9) .. ") & 0xffffff")
      elseif k == 6 and depth < 3 then
        local jv = "i" .. (#vars + 1)
        local a, b = bound(pick(vars)), bound(pick(vars))
        local step = pick { "", "", ", 2", ", 3", ", -1", ", -1", ", -2" }
        if step:find("-") then a, b = b, a end
        out(ind, "for " .. jv .. " = " .. a .. ", " .. b .. step .. " do")
        local v2 = {}
        for i, v in ipairs(vars) do v2[i] = v end
        v2[#v2 + 1] = jv
        if step:find("-") then body(ind + 1, jv, b, a, depth + 1, v2)
        else body(ind + 1, jv, a, b, depth + 1, v2) end
        out(ind, "end")
      else
        out(ind, "acc = acc + ((" .. iv .. " * " .. other .. ") ~ s) " .. pick { "+", "-", "~" } .. " " .. rnd(20))
      end
    end
  end
  for p = 1, 2 do
    out(0, "function xdp.n" .. p .. "(pkt)")
    out(1, "if #pkt < 4 then return xdp.PASS end")
    out(1, "local s, acc = pkt:u8(0) ~ pkt:u8(1), 0")
    local a, b = tostring(rnd(5) - 2), pick { tostring(rnd(12)), "pkt:u8(2) & " .. pick { "7", "15" } }
    local step = pick { "", "", ", 2", ", -1" }
    if step == ", -1" then a, b = b, a end
    out(1, "for i1 = " .. a .. ", " .. b .. step .. " do")
    local jv = "i2"
    local c, d = bound("i1"), bound("i1")
    local step2 = pick { "", "", ", 2", ", -1", ", -2", ", 3" }
    if step2:find("-") then c, d = d, c end
    out(2, "for " .. jv .. " = " .. c .. ", " .. d .. step2 .. " do")
    if step2:find("-") then body(3, jv, d, c, 2, { "i1", "i2" })
    else body(3, jv, c, d, 2, { "i1", "i2" }) end
    out(2, "end")
    out(1, "end")
    out(1, "return (acc + (m[0] or 0) + (m[1] or 0)) & 0xffff")
    out(0, "end")
  end
  return table.concat(lines, "\n") .. "\n"
end

return M
