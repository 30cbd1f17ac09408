-- compiler_spec.lua: the compiler's passes (parser, checker, codegen) and
-- every case of the negative corpus tests/errors/*.lua.
local SRC = os.getenv("BPFLUA_SRC") or "."
require("spec_util").use_source_compiler(SRC)

local compiler = require "bpflua.compiler"
local grammar = require "bpflua.grammar"
local arith = require "bpflua.arith"

local function compile(src, name) return compiler.compile(src, name or "t.lua") end

local function must(src)
  local r, msg = compile(src)
  assert(r, msg)
  return r
end

-- decode a program's instructions
local function insns(p)
  local out = {}
  for i = 1, #p.insns, 8 do
    local code, regs, off, imm = string.unpack("<BBhi", p.insns, i)
    out[#out + 1] = { code = code, dst = regs & 0xf, src = regs >> 4, off = off, imm = imm }
  end
  return out
end

local function count(list, pred)
  local n = 0
  for _, i in ipairs(list) do if pred(i) then n = n + 1 end end
  return n
end

local ls = require("spec_util").ls

describe("grammar", function()
  it("builds nodes with positions", function()
    local t = grammar.parse("function xdp.a(pkt)\n  return 1 + 2\nend\n")
    assert.are.equal("Chunk", t.tag)
    local f = t.body[1]
    assert.are.equal("Function", f.tag)
    assert.are.equal(1, f.pos)
    local ret = f.body[1]
    assert.are.equal("Return", ret.tag)
    assert.are.equal(23, ret.pos)
    assert.are.equal("Op", ret[1].tag)
    assert.are.equal(30, ret[1].pos)
    assert.are.equal(35, ret[1].end_pos)
  end)

  it("parses precedence and associativity like Lua", function()
    local cases = {
      { "1 + 2 * 3", 7 }, { "2 - 3 - 4", -5 }, { "1 << 2 + 1", 8 }, { "-7 // 2", -4 },
      { "7 % -3", -2 }, { "1 | 2 ~ 3 & 6", 1 | 2 ~ 3 & 6 }, { "~0 >> 60", 15 },
      { "-2 * -3", 6 }, { "(1 + 2) * 3", 9 }, { "1 < 2 and 3 or 4", 3 },
    }
    for _, c in ipairs(cases) do
      local r = must("local K = (" .. c[1] .. ")\nfunction xdp.p(pkt) return K end")
      assert.is_table(r, c[1])
    end
    -- the folded values, through a constant program
    for _, c in ipairs(cases) do
      local src = "function xdp.p(pkt) return " .. c[1] .. " end"
      local tree = grammar.parse(src)
      local errs = {}
      local check = require "bpflua.check"
      check.check(tree, errs, src)
      assert.are.same({}, errs)
      local k = tree.body[1].body[1][1].k
      if k == true then k = 3 end
      assert.are.equal(c[2], k, c[1])
    end
  end)

  it("reports syntax errors with position and the opener of a block", function()
    local r, msg, errs = compile("function xdp.p(pkt)\n  for i = 1, 3 do\n    x = 1\n  \nend\n", "s.lua")
    assert.is_nil(r)
    assert.are.equal(1, #errs)
    assert.are.equal("expected 'end' (to close 'function' at line 1)", errs[1].msg)
    assert.truthy(msg:find("^s%.lua:%d+:%d+: error: expected 'end'"))
  end)

  it("refuses too-deep nesting with a clear message", function()
    local r, msg = compile("function xdp.f(pkt) return " .. ("("):rep(500) .. "1" .. (")"):rep(500) .. " end")
    assert.is_nil(r)
    assert.truthy(msg:find("nests too deeply", 1, true))
    r, msg = compile("function xdp.f(pkt) return 0" .. (" + 1"):rep(5000) .. " end")
    assert.is_nil(r)
    assert.truthy(msg:find("too complex", 1, true))
    -- 30 levels of brackets inside 8 blocks are fine
    assert.is_table(must("function xdp.f(pkt) do do do do do do do return " .. ("("):rep(30) .. "1"
      .. (")"):rep(30) .. " end end end end end end end end"))
  end)

  it("never crashes on garbage", function()
    local seed = 12345
    local function rnd(n) seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n end
    local alphabet = { "function", "xdp", ".", "(", ")", "pkt", "end", "for", "i", "=", "1", ",", "do",
      "if", "then", "return", "local", "x", "+", "//", "[", "]", "{", "}", "\"", "'", "--", "\n", " ",
      "map", "hash", "..", "0x", "#", ":", "u8", "or", "and", "not", "nil", "<<", "~=", "[[", "1.5" }
    for _ = 1, 300 do
      local parts = {}
      for j = 1, 1 + rnd(30) do parts[j] = alphabet[1 + rnd(#alphabet)] end
      local src = table.concat(parts, " ")
      local ok, r, msg = pcall(compile, src)
      assert.is_true(ok, "crash on: " .. src .. "\n" .. tostring(r))
      if not r then assert.is_string(msg) end
    end
  end)
end)

describe("arith (constant folding)", function()
  it("matches Lua 5.4 integer semantics", function()
    local vals = { 0, 1, -1, 2, -2, 3, 7, -7, 63, 64, 65, -63, -64, -65, 1 << 40,
      math.maxinteger, math.mininteger, math.maxinteger - 1, math.mininteger + 1 }
    for _, a in ipairs(vals) do
      for _, b in ipairs(vals) do
        assert.are.equal(a + b, arith.fold("+", a, b))
        assert.are.equal(a * b, arith.fold("*", a, b))
        assert.are.equal(a << b, arith.fold("<<", a, b), a .. " << " .. b)
        assert.are.equal(a >> b, arith.fold(">>", a, b), a .. " >> " .. b)
        if b ~= 0 then
          assert.are.equal(a // b, arith.fold("//", a, b), a .. " // " .. b)
          assert.are.equal(a % b, arith.fold("%", a, b), a .. " % " .. b)
        else
          assert.is_nil(arith.fold("//", a, b))
        end
      end
    end
  end)

  it("counts loop trips like Lua's for", function()
    local function lua_count(a, b, c)
      local n = 0
      for _ in function(_, i)
        if i == nil then i = a else
          local nx = i + c
          if (c > 0 and (nx < i or nx > b)) or (c < 0 and (nx > i or nx < b)) then return nil end
          i = nx
        end
        if (c > 0 and i > b) or (c < 0 and i < b) then return nil end
        return i
      end do n = n + 1; if n > 100 then break end end
      return n
    end
    local cases = { { 1, 10, 1 }, { 10, 1, -3 }, { 5, 1, 1 }, { 1, 5, -1 }, { 3, 3, 7 },
      { math.mininteger, math.maxinteger, 1 << 62 }, { math.maxinteger - 2, math.maxinteger, 1 },
      { math.maxinteger, math.mininteger, math.mininteger }, { -5, 5, 4 } }
    for _, c in ipairs(cases) do
      assert.are.equal(lua_count(c[1], c[2], c[3]), arith.trip_count(c[1], c[2], c[3]))
    end
    assert.are.equal(8388609, arith.trip_count(0, 8388608, 1))
  end)
end)

describe("negative corpus (tests/errors)", function()
  local dir = SRC .. "/tests/errors"
  local files = ls(dir, "%.lua$")
  it("has at least 30 cases", function() assert.is_true(#files >= 30) end)
  for _, f in ipairs(files) do
    it(f, function()
      local src = assert(io.open(dir .. "/" .. f)):read("a")
      local want = {}
      for l, c, m in src:gmatch("%-%- error: (%d+):(%d+): ([^\n]+)") do
        want[#want + 1] = { line = tonumber(l), col = tonumber(c), msg = m }
      end
      assert.is_true(#want > 0, "no '-- error:' expectation in " .. f)
      local r, msg, errs = compile(src, f)
      assert.is_nil(r)
      local got = {}
      for i, e in ipairs(errs) do got[i] = { line = e.line, col = e.col, msg = e.msg } end
      assert.are.same(want, got)
      -- the formatted message: location, source line, carets, hint
      local first = want[1]
      assert.truthy(msg:find(f .. ":" .. first.line .. ":" .. first.col .. ": error: " .. first.msg, 1, true))
      local lines = {}
      for l in (src .. "\n"):gmatch("([^\n]*)\n") do lines[#lines + 1] = l end
      assert.truthy(msg:find("\n  " .. lines[first.line] .. "\n", 1, true), "quotes the source line")
      assert.truthy(msg:find("\n  " .. (" "):rep(first.col - 1) .. "%^"), "underlines the column")
      -- version 1's malformed declarations and forbidden uses each say what to write instead
      if f:match("^v1_") then
        local hints = 0
        for _ in msg:gmatch("\n  hint: ") do hints = hints + 1 end
        assert.are.equal(#want, hints, "one hint per error")
      end
    end)
  end
end)

describe("codegen", function()
  it("produces the documented output table", function()
    local r = must([[
license "Dual MIT/GPL"
local hits = map.hash { key = u32, value = i16, max_entries = 64 }
function xdp.a(pkt)
  hits[1] = (hits[1] or 0) + 1
  return xdp.PASS
end
function xdp.b(pkt) return 1 end
]])
    assert.are.equal("Dual MIT/GPL", r.license)
    assert.are.equal("t.lua", r.source_name)
    assert.are.same({ name = "hits", type = 1, key_size = 4, value_size = 2, max_entries = 64, flags = 0,
      key_signed = false, value_signed = true }, r.maps[1])
    assert.are.equal(2, #r.progs)
    for _, p in ipairs(r.progs) do
      assert.are.equal("xdp", p.section)
      assert.are.equal(0, #p.insns % 8)
      assert.are.equal(0, p.funcs[1].insn)
      assert.are.equal(p.name, p.funcs[1].name)
      local last = -1
      for _, l in ipairs(p.lines) do
        assert.is_true(l.insn >= last)
        last = l.insn
      end
    end
    local ins = insns(r.progs[1])
    -- map references are lddw with src 1 and the map's index
    assert.is_true(count(ins, function(i) return i.code == 0x18 and i.src == 1 and i.imm == 0 end) >= 2)
  end)

  it("compiles a for loop to one bpf_loop call with a callback subprogram", function()
    local r = must("function xdp.s(pkt)\n  local n = 0\n  for i = 1, 10 do n = n + i end\n  return n\nend\n")
    local p = r.progs[1]
    assert.are.equal(2, #p.funcs)
    assert.are.equal("s__for_L3", p.funcs[2].name)
    local ins = insns(p)
    assert.are.equal(1, count(ins, function(i) return i.code == 0x85 and i.src == 0 and i.imm == 181 end))
    -- the callback address: lddw src 4, pc-relative to the callback start
    for n, i in ipairs(ins) do
      if i.code == 0x18 and i.src == 4 then
        assert.are.equal(p.funcs[2].insn, (n - 1) + 1 + i.imm)
      end
    end
    -- the callback returns a constant 0 or 1
    for n = p.funcs[2].insn + 1, #ins do
      if ins[n].code == 0x95 then
        local prev = ins[n - 1]
        assert.are.equal(0xb7, prev.code)
        assert.is_true(prev.imm == 0 or prev.imm == 1)
      end
    end
  end)

  it("uses for_each_map_elem for pairs and BPF-to-BPF calls for local functions", function()
    local r = must([[
local m = map.array { value = u64, max_entries = 4 }
local function f(a, b)
  if a > 100 then return a end -- an early return: not inlined
  return a + b
end
function xdp.p(pkt)
  local s = 0
  for k, v in pairs(m) do s = s + v end
  return f(s, 1)
end
]])
    local p = r.progs[1]
    local ins = insns(p)
    assert.are.equal(1, count(ins, function(i) return i.code == 0x85 and i.src == 0 and i.imm == 164 end))
    local names = {}
    for _, fi in ipairs(p.funcs) do names[#names + 1] = fi.name end
    table.sort(names)
    assert.are.same({ "p", "p__f", "p__pairs_L8" }, names)
    local calls = 0
    for n, i in ipairs(ins) do
      if i.code == 0x85 and i.src == 1 then
        calls = calls + 1
        local target = (n - 1) + 1 + i.imm
        local ok = false
        for _, fi in ipairs(p.funcs) do if fi.insn == target and fi.name == "p__f" then ok = true end end
        assert.is_true(ok)
      end
    end
    assert.are.equal(1, calls)
  end)

  it("inlines small local functions (inline.lua) and leaves the others calls", function()
    local r = must([[
local function mix(i, seed)
  local s = 0
  for j = 0, i & 3 do s = s + (i ~ j ~ seed) end
  return s
end
local function early(a)
  if a > 9 then return 1 end
  return 2
end
function xdp.p(pkt)
  local acc = 0
  for i = 0, 9 do acc = acc + mix(i, 7) end
  return acc + early(acc)
end
]])
    local p = r.progs[1]
    local names = {}
    for _, fi in ipairs(p.funcs) do names[#names + 1] = fi.name end
    table.sort(names)
    -- mix's loop is a callback of the program's loop body, from mix's line
    assert.are.same({ "p", "p__early", "p__for_L12", "p__for_L3" }, names)
    assert.are.equal(1, count(insns(p), function(i) return i.code == 0x85 and i.src == 1 end))
  end)

  it("asks the inliner first whether it would inline (inline.wanted), without changing the tree", function()
    local inline = require "bpflua.inline"
    local function dump(t, seen)
      if type(t) ~= "table" then return tostring(t) end
      local keys = {}
      for k in pairs(t) do keys[#keys + 1] = tostring(k) end
      table.sort(keys)
      local out = {}
      for _, k in ipairs(keys) do
        local v = t[k] ~= nil and t[k] or t[tonumber(k)]
        out[#out + 1] = k .. "=" .. dump(v)
      end
      return "{" .. table.concat(out, ",") .. "}"
    end
    local with_call = [[
local function add3(a) return a + 3 end
local function early(a)
  if a > 9 then return 1 end
  return 2
end
function xdp.p(pkt)
  local x = add3(#pkt)
  return x + early(x)
end
]]
    local only_early = with_call:gsub("add3%(#pkt%)", "#pkt")
    local map_first = [[
local m = map.array { value = u64, max_entries = 4 }
local function bump(k) m[k] = (m[k] or 0) + 1 return 1 end
function xdp.p(pkt)
  local y = (m[1] or 0) + bump(1)
  return y
end
]]
    for _, case in ipairs({ { with_call, true }, { only_early, false }, { map_first, false } }) do
      local tree = assert(compiler.parse(case[1], "t.lua"))
      local before = dump(tree)
      assert.are.equal(case[2], inline.wanted(tree))
      assert.are.equal(before, dump(tree)) -- the probe changed nothing
      assert.are.equal(case[2], inline.run(inline.copy(tree)) > 0)
    end
  end)

  it("elides packet checks proven by an earlier #pkt test", function()
    local guarded = must([[
function xdp.p(pkt)
  if #pkt < 34 then return end
  return pkt:u8(0) + pkt:be16(12) + pkt:be32(26) + pkt:u8(33)
end
]])
    local unguarded = must([[
function xdp.p(pkt)
  return pkt:u8(0) + pkt:be16(12) + pkt:be32(26) + pkt:u8(33)
end
]])
    local function pkt_cmps(r)
      return count(insns(r.progs[1]), function(i) return i.code == 0x2d or i.code == 0xbd end)
    end
    assert.are.equal(1, pkt_cmps(guarded))     -- only the guard itself
    -- unguarded: each check proves the next smaller ones (u8(0) first, then 14, 30, 34)
    assert.is_true(pkt_cmps(unguarded) >= 3)
  end)

  it("emits floor division with sdiv/smod and a zero check", function()
    local r = must("function xdp.p(pkt) local a, b = pkt:u8(0), pkt:u8(1) return a // b end")
    local ins = insns(r.progs[1])
    assert.is_true(count(ins, function(i) return i.code == 0x3f and i.off == 1 end) == 1)
    assert.is_true(count(ins, function(i) return i.code == 0x9f and i.off == 1 end) == 1)
    assert.is_true(count(ins, function(i) return i.code == 0x15 and i.imm == 0 end) >= 1)
  end)

  it("folds constants and shifts by constants", function()
    local r = must("function xdp.p(pkt) return (7 // -2) * 1000 + (1 << 64) + (5 >> -1) end")
    local ins = insns(r.progs[1])
    assert.are.equal(1, count(ins, function(i) return i.code == 0xb7 and i.imm == -4000 + 10 end))
  end)

  it("records line info for statements", function()
    local r = must("function xdp.p(pkt)\n  local a = 1\n  local b = 2\n  return a + b\nend\n")
    local lines = {}
    for _, l in ipairs(r.progs[1].lines) do lines[#lines + 1] = l.line end
    assert.are.same({ 1, 2, 3, 4 }, lines)
    assert.are.equal(3, r.progs[1].lines[2].col)
  end)

  it("rejects a loop with a constant trip count over 8388608 but accepts exactly that many", function()
    assert.is_table(must("function xdp.p(pkt) for i = 1, 8388608 do break end return 1 end"))
    local r, msg = compile("function xdp.p(pkt) for i = 0, 8388608 do break end return 1 end")
    assert.is_nil(r)
    assert.truthy(msg:find("8388609 times", 1, true))
  end)
end)

describe("loop code", function()
  -- the instructions of function number k (1-based) of a program
  local function func_insns(p, k)
    local ins = insns(p)
    local first = p.funcs[k].insn + 1
    local last = p.funcs[k + 1] and p.funcs[k + 1].insn or #ins
    return table.move(ins, first, last, 1, {})
  end
  local function cb_of(src, name)
    local p = must(src).progs[1]
    for k, fi in ipairs(p.funcs) do
      if fi.name == name then return func_insns(p, k), p end
    end
    error("no function " .. name)
  end
  local STXDW, LDXDW, LOCK_ADD, MOV_REG, MOV_IMM, LSH_IMM, MUL_IMM, MUL_REG = 0x7b, 0x79, 0xdb, 0xbf, 0xb7, 0x67, 0x27, 0x2f

  it("keeps the index in a register and loads an outer variable once", function()
    local cb = cb_of([[
function xdp.s(pkt)
  local n = pkt:u8(0)
  local s = 0
  for i = 0, n - 1 do s = s + i end
  return s
end
]], "s__for_L4")
    -- the shape the JIT recognises: ctx moved to R9 first
    assert.are.same({ MOV_REG, 9, 2 }, { cb[1].code, cb[1].dst, cb[1].src })
    -- the index is never stored to the area, s loaded and stored once
    assert.are.equal(0, count(cb, function(i) return i.code == STXDW and i.src == 1 end))
    assert.are.equal(1, count(cb, function(i) return i.code == LDXDW end))
    assert.are.equal(1, count(cb, function(i) return i.code == STXDW end))
    -- s is used only in its own sum and the return: no launder
    assert.are.equal(0, count(cb, function(i) return i.code == LOCK_ADD end))
    assert.is_true(#cb <= 7, "callback of " .. #cb .. " instructions")
  end)

  it("launders a variable that a comparison reads", function()
    local cb = cb_of([[
function xdp.s(pkt)
  local n = 0
  for i = 1, 100 do
    n = n + 1
    if n > 3 then break end
  end
  return n
end
]], "s__for_L3")
    assert.are.equal(1, count(cb, function(i) return i.code == LOCK_ADD end))
    -- still the pattern the JIT elides: mov r0, 0; lock add [r9+off], r0
    for k, i in ipairs(cb) do
      if i.code == LOCK_ADD then
        assert.are.same({ MOV_IMM, 0, 0 }, { cb[k - 1].code, cb[k - 1].dst, cb[k - 1].imm })
        assert.are.same({ 9, 0 }, { i.dst, i.src })
      end
    end
  end)

  it("stores the index where a nested loop reads it", function()
    local cb = cb_of([[
function xdp.s(pkt)
  local s = 0
  for i = 0, 3 do
    for j = 0, 3 do s = s + i * j end
  end
  return s
end
]], "s__for_L3")
    assert.are.equal(1, count(cb, function(i) return i.code == STXDW and i.dst == 9 and i.src == 1 end))
    -- constant bounds: the trip count is a constant, no bounds arithmetic
    assert.are.equal(1, count(cb, function(i) return i.code == MOV_IMM and i.dst == 1 and i.imm == 4 end))
    assert.are.equal(0, count(cb, function(i) return i.code == 0x6d or i.code == 0x3f or i.code == 0x37 end))
  end)

  it("multiplies by a power of two with a shift", function()
    local cb = cb_of([[
function xdp.s(pkt)
  local s = 0
  for i = 0, 9 do s = s + pkt:u8(i * 4) + i * 1 + i * -8 end
  return s
end
]], "s__for_L3")
    assert.are.equal(1, count(cb, function(i) return i.code == LSH_IMM and i.imm == 2 end))
    assert.are.equal(1, count(cb, function(i) return i.code == MUL_IMM and i.imm == -8 end))
    assert.are.equal(0, count(cb, function(i) return (i.code == MUL_IMM and i.imm ~= -8) or i.code == MUL_REG end))
  end)

  it("leaves temporaries enough registers and reuses loaded values within a block", function()
    local cb = cb_of([[
function xdp.s(pkt)
  local a, b = pkt:u8(0), pkt:u8(1)
  local s = 0
  for i = 0, 9 do
    s = s + a * b + (a ~ b) + (a & i)
  end
  return s
end
]], "s__for_L4")
    -- a (read three times) loaded once per iteration; no temporary spilled
    assert.is_true(count(cb, function(i) return i.code == LDXDW end) <= 4)
    assert.are.equal(1, count(cb, function(i) return i.code == STXDW end))
  end)
end)

describe("random programs (tests/lang/randprog.lua)", function()
  local randprog = dofile(SRC .. "/tests/lang/randprog.lua")
  -- seeds whose programs once did not compile: a nil-able variable stored in
  -- a boolean one (2996, 3573, ...), 14101 over the 512 bytes of stack
  local once = { 272, 612, 980, 1367, 2644, 2938, 2996, 3560, 3561, 3571, 3573, 4575, 4732, 5630,
    5701, 7026, 7169, 8839, 9007, 9063, 9340, 9711, 10381, 11022, 11061, 11441, 11558, 11739, 12091,
    12790, 13290, 13440, 14101, 14926, 15775, 15940, 16752, 16903, 17522, 17746, 17752, 17767, 18484,
    18772, 18797, 19310, 19934 }

  it("all compile (seeds 1..1000 and those that once failed)", function()
    local seeds = {}
    for s = 1, 1000 do seeds[#seeds + 1] = s end
    for _, s in ipairs(once) do seeds[#seeds + 1] = s end
    for _, s in ipairs(seeds) do
      local r, msg = compile(randprog.generate(s), "rand" .. s .. ".lua")
      assert(r, msg)
    end
  end)

  it("mutated, fail with file:line:col messages and never crash", function()
    local state = 4242
    local function rnd(n) state = (state * 1103515245 + 12345) % 2147483648; return state % n + 1 end
    local words = { "nil", "true", "m[1]", "#pkt", "pkt", "f", "f(1)", "f(1, 2, 3)", "xdp.PASS", "break",
      "return", "end", "local", "(", ")", "and", "not", "-", "//", "..", "1.5", "x", "a", "b1", "n1", "i1",
      "m", "=", ",", "pairs(m)", "math.mininteger", "9223372036854775807", "do", "then" }
    local failed = 0
    for s = 1, 200 do
      local src = randprog.generate(s)
      local lines = {}
      for l in src:gmatch("[^\n]*\n") do lines[#lines + 1] = l end
      local k = rnd(3)
      if k == 1 then -- replace a word
        local a, b = src:find("[%w_%.]+", rnd(#src))
        if a then src = src:sub(1, a - 1) .. words[rnd(#words)] .. src:sub(b + 1) end
      elseif k == 2 then -- drop a line
        table.remove(lines, rnd(#lines))
        src = table.concat(lines)
      else -- a line copied elsewhere (out of its scope)
        table.insert(lines, rnd(#lines), lines[rnd(#lines)])
        src = table.concat(lines)
      end
      local ok, r, msg = pcall(compile, src, "mut.lua")
      assert(ok, "crash on:\n" .. src .. "\n" .. tostring(r))
      if not r then
        failed = failed + 1
        assert.truthy(msg:match("^mut%.lua:%d+:%d+: error: "), msg)
        assert.falsy(msg:find("traceback", 1, true), msg)
        assert.falsy(msg:find("internal error", 1, true), msg)
      end
    end
    assert.is_true(failed > 100)
  end)
end)

describe("verifier acceptance", function()
  local ok, bpf = pcall(require, "bpf")
  it("every tests/lang program and example passes bpflua's verifier", function()
    if not ok or type(bpf) ~= "table" or not bpf.compile then
      pending("the bpf module is not available: " .. tostring(bpf))
      return
    end
    local files = {}
    for _, f in ipairs(ls(SRC .. "/tests/lang", "%.lua$")) do
      if f ~= "prelude.lua" and f ~= "packets.lua" and f ~= "difftest.lua" and f ~= "randprog.lua" and
         f ~= "randloops.lua" then
        files[#files + 1] = SRC .. "/tests/lang/" .. f
      end
    end
    assert.is_true(#files >= 40)
    for _, path in ipairs(files) do
      local src = assert(io.open(path)):read("a")
      local p = bpf.compile(src, { name = path:match("[^/]+$") })
      local good, info = p:verify()
      assert.is_true(good, path .. ": " .. tostring(info))
    end
  end)
end)
