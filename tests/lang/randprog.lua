-- randprog.lua: a deterministic generator of random, well-typed bpflua
-- programs (integer expressions with every operator and extreme constants,
-- locals, if/else, loops with break and return, map updates), for the
-- differential oracle. randprog.generate(seed) -> source text
local M = {}

function M.generate(seed)
  local state = seed
  local function rnd(n)
    state = (state * 6364136223846793005 + 1442695040888963407)
    return ((state >> 33) % n) + 1
  end
  local function pick(t) return t[rnd(#t)] end
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

return M
