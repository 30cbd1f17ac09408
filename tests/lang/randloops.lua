-- randloops.lua: a deterministic generator of random loops over the packet
-- with the user's own length tests, for the differential oracle: TLV walks
-- (`opt = opt + len`), index loops with any step, loops in local functions
-- with the arguments in any order. Each test bounds a linear function of
-- the index or of a variable carried across iterations against #pkt, in
-- one of many spellings, with reads at and around the bound after it (one
-- too far on either side), sometimes with the variable changed between
-- the test and the read: what the JIT's range facts (jit/range_facts.c)
-- and loop versioning (jit/loop_checks.c) must get right.
-- randloops.generate(seed) -> source text
local randprog = require "randprog"
local M = {}

function M.generate(seed)
  local rnd, pick = randprog.rng(seed * 2654435761 + 12345)
  local out = { 'license "GPL"', "" }
  local function emit(s) out[#out + 1] = s end

  -- an exit test on x (an expression) against the packet's length: exits
  -- when x + c > #pkt (ge: x + c >= #pkt), spelled one of many ways
  local function test(x, c, exit)
    local gt = {
      "if X + C > #pkt then E end", "if C + X > #pkt then E end", "if #pkt < X + C then E end",
      "if X > #pkt - C then E end", "if #pkt - X < C then E end", "if not (X + C <= #pkt) then E end",
      "if X + C <= #pkt then else E end", "if #pkt - C < X then E end",
    }
    local ge = {
      "if X + C >= #pkt then E end", "if X >= #pkt - C then E end", "if #pkt - X <= C then E end",
      "if #pkt <= X + C then E end", "if X + C < #pkt then else E end",
    }
    local t = rnd(3) == 1 and pick(ge) or pick(gt)
    return (t:gsub("X", x):gsub("C", tostring(c)):gsub("E", exit))
  end
  local function exit_of(acc)
    return pick { "break", "return " .. acc .. " & 0xffffff", "return 7" }
  end

  local n_fn = 0
  local function tlv()
    n_fn = n_fn + 1
    emit("function xdp.f" .. n_fn .. "(pkt)")
    emit("  local opt, s = " .. pick { "0", "0", "1", "2", "#pkt - 3", "#pkt // 2" } .. ", 0")
    emit("  for _ = 1, " .. pick { "1500", "40", "3", "#pkt" } .. " do")
    emit("    " .. test("opt", rnd(4) - 1, exit_of("s")))
    if rnd(4) == 1 then emit("    " .. test("opt", rnd(4) - 1, exit_of("s"))) end
    if rnd(5) == 1 then emit("    opt = opt + " .. pick { "1", "pkt:u8(0) % 3", "-1" }) end
    emit("    local kind = pkt:u8(opt" .. pick { "", "", "", " + 1", " - 1", " + 2" } .. ")")
    emit("    if kind == 0 then " .. exit_of("s") .. " end")
    emit("    if kind " .. pick { "== 1", "< 3", "& 1 == 1" } .. " then")
    emit("      opt = opt + 1")
    emit("    else")
    local len_first = rnd(2) == 1
    emit("      local len = pkt:u8(opt + " .. pick { "1", "1", "1", "2", "0" } .. ")")
    if len_first then emit("      if len < 2 then " .. exit_of("s") .. " end") end
    emit("      s = s + kind * len")
    if rnd(3) == 1 then emit("      s = s + pkt:u8(opt + " .. pick { "1", "2", "len - 1", "len" } .. ")") end
    if not len_first then emit("      if len < 2 then " .. exit_of("s") .. " end") end
    emit("      opt = opt + len")
    emit("    end")
    emit("  end")
    emit("  return s & 0xffffff")
    emit("end")
  end

  local function index_loop()
    n_fn = n_fn + 1
    local m = pick { "1", "1", "2", "4" }
    local x = m == "1" and "i" or "i * " .. m
    local step = pick { "", "", ", 2", ", 3", ", -1", ", -2" }
    local a, b = pick { "0", "1", "2" }, pick { "1000", "#pkt", "#pkt - 1", "#pkt + 1", "#pkt // 2", "7" }
    if step:find("-") then a, b = b, a end
    emit("function xdp.f" .. n_fn .. "(pkt)")
    emit("  local s = 0")
    emit("  for i = " .. a .. ", " .. b .. step .. " do")
    emit("    " .. test(x, rnd(5) - 1, exit_of("s")))
    if rnd(5) == 1 then
      emit("    s = s + pkt:u8(" .. x .. pick { "", " + 1", " - 1" } .. ")")
    end
    emit("    s = s + pkt:u8(" .. x .. pick { "", "", " + 1", " + 2", " - 1" } .. ")")
    emit("  end")
    emit("  return s & 0xffffff")
    emit("end")
  end

  local function in_function()
    n_fn = n_fn + 1
    local g = "g" .. n_fn
    local order = pick { { "pkt", "a", "b" }, { "a", "b", "pkt" }, { "b", "pkt", "a" }, { "a", "pkt", "b" } }
    local with_test = rnd(2) == 1
    local d = pick { "", "", " + 1", " - 1" }
    emit("local function " .. g .. "(" .. table.concat(order, ", ") .. ")")
    emit("  local s = 0")
    emit("  for i = a, b" .. pick { " - 1", "", " - 2" } .. pick { "", "", ", 2" } .. " do")
    if with_test then emit("    " .. test("i", rnd(3) - 1, "break")) end
    emit("    s = s + pkt:u8(i" .. d .. ")")
    emit("  end")
    emit("  return s")
    emit("end")
    local function call(a, b)
      local args = {}
      for k, v in ipairs(order) do args[k] = v == "pkt" and "pkt" or v == "a" and a or b end
      return g .. "(" .. table.concat(args, ", ") .. ")"
    end
    local bounds = { "0", "1", "#pkt // 2", "#pkt - 1", "#pkt", "#pkt + 1", "3" }
    local a, b, c = pick(bounds), pick(bounds), pick(bounds)
    emit("function xdp.f" .. n_fn .. "(pkt)")
    emit("  return (" .. call(a, b) .. " * 3 + " .. call(b, c) .. ") & 0xffffff")
    emit("end")
  end

  for _ = 1, 3 do
    local r = rnd(3)
    if r == 1 then tlv() elseif r == 2 then index_loop() else in_function() end
    emit("")
  end
  return table.concat(out, "\n")
end

-- packets for these programs: every short length, lengths around the
-- options' ends, TLV-shaped ones; those of at least min_len bytes (the
-- kernel runs XDP programs on 14 or more)
function M.packets(min_len)
  local list = {}
  local function add(name, bytes) list[#list + 1] = { name = name, bytes = bytes } end
  for n = 0, 4 do
    local t = {}
    for i = 1, n do t[i] = string.char((i * 37 + 2) & 0xff) end
    add("len" .. n, table.concat(t))
  end
  local function tlvs(parts) return string.char(table.unpack(parts)) end
  add("opts", tlvs { 2, 4, 5, 180, 1, 1, 3, 3, 7, 4, 2, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 })
  add("opts_cut", tlvs { 2, 4, 5, 180, 1, 3, 3 })
  add("opts_end", tlvs { 1, 1, 2, 2, 5, 3, 9, 9 })
  add("opts_long", tlvs { 8, 200, 1, 2, 3 })
  add("opts14", tlvs { 1, 3, 4, 1, 2, 2, 5, 3, 7, 1, 1, 1, 2, 9 })
  add("opts16", tlvs { 2, 6, 1, 1, 1, 1, 3, 2, 1, 4, 5, 1, 1, 1, 1, 2 })
  local t = {}
  for i = 1, 64 do t[i] = string.char((i * 7 + (i >> 2)) % 9 + 1) end
  add("walk64", table.concat(t))
  t = {}
  for i = 1, 300 do t[i] = string.char((i * 13) & 0xff) end
  add("ramp300", table.concat(t))
  local keep = {}
  for _, p in ipairs(list) do
    if #p.bytes >= (min_len or 0) then keep[#keep + 1] = p end
  end
  return keep
end

return M
