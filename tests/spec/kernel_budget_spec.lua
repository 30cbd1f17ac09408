-- kernel_budget_spec.lua: the Linux verifier's cost for compiled programs
-- stays within a budget of 100,000 processed instructions, a tenth of its
-- 1,000,000 limit, for every program in tests/lang/ and every program that
-- tests/lang/randprog.lua generates for seeds 1..200 (and generate_v1,
-- the version-1 programs, for seeds 1..100). The count is the
-- kernel's own ("processed N insns" of a load at log level BPF_LOG_STATS,
-- p:kernel_cost()).
--
-- The count is the kernel's and differs between kernel versions (pruning
-- heuristics change; 6.8 began verifying bpf_loop callbacks as loops) and
-- so cannot be made machine-independent: the budget keeps a factor of ten
-- to the limit so that such differences do not decide a load, and the
-- kernel release is printed with the largest count. Without bpf(2) the
-- checks are skipped with the reason printed.
local SRC = os.getenv("BPFLUA_SRC") or "."
package.path = SRC .. "/tests/lang/?.lua;" .. package.path

local BUDGET = 100000
local SEEDS = 200
local V1_SEEDS = 100

local okb, bpf = pcall(require, "bpf")
local have_bpf = okb and type(bpf) == "table" and bpf.compile ~= nil
local difftest = require "difftest"
local ls = require("spec_util").ls
local read = require("spec_util").read

local kernel_ok, kernel_why = false, "the bpf module is not available"
if have_bpf then kernel_ok, kernel_why = difftest.kernel_available() end

local function release()
  local f = io.open("/proc/sys/kernel/osrelease")
  local r = f and f:read("l") or "?"
  if f then f:close() end
  return r
end

-- loads `source` and checks every program against the budget; returns the
-- largest count and its program
local function check(source, name)
  local p = bpf.compile(source, { name = name })
  local costs, err = p:kernel_cost()
  assert.is_nil(err, name .. ": the kernel rejected it: " .. tostring(err))
  local worst, worst_prog, n = 0, nil, 0
  for _, prog in ipairs(p:progs()) do
    local c = costs[prog]
    assert.is_table(c, name .. " " .. prog .. ": no statistics from the kernel")
    assert.is_true(c.loaded, name .. " " .. prog .. ": not loaded")
    -- a count of 0 would mean the statistics were not read
    assert.is_true(c.insns > 0, name .. " " .. prog .. ": no processed-instruction count")
    assert.is_true(c.insns <= BUDGET, string.format("%s %s: the kernel processed %d instructions (budget %d)",
      name, prog, c.insns, BUDGET))
    if c.insns > worst then worst, worst_prog = c.insns, prog end
    n = n + 1
  end
  assert.is_true(n > 0, name .. ": no programs")
  return worst, worst_prog
end

describe("the kernel verifier's cost", function()
  local function skip()
    if kernel_ok then return false end
    print("kernel budget skipped: " .. tostring(kernel_why))
    pending("kernel unavailable: " .. tostring(kernel_why))
    return true
  end

  it("stays within " .. BUDGET .. " processed insns for every tests/lang program", function()
    if skip() then return end
    local worst, at = 0, "-"
    local files = 0
    for _, f in ipairs(ls(SRC .. "/tests/lang", "%.lua$")) do
      if f ~= "prelude.lua" and f ~= "packets.lua" and f ~= "difftest.lua" and f ~= "randprog.lua" and
         f ~= "randloops.lua" then
        local w, prog = check(read(SRC .. "/tests/lang/" .. f), f)
        if w > worst then worst, at = w, f .. " " .. prog end
        files = files + 1
      end
    end
    assert.is_true(files > 40)
    print(string.format("tests/lang: %d files, largest %d insns (%s), kernel %s", files, worst, at, release()))
  end)

  it("stays within " .. BUDGET .. " processed insns for randprog seeds 1.." .. SEEDS, function()
    if skip() then return end
    local randprog = require "randprog"
    local worst, at = 0, "-"
    for seed = 1, SEEDS do
      local w, prog = check(randprog.generate(seed), "rand" .. seed .. ".lua")
      if w > worst then worst, at = w, "seed " .. seed .. " " .. prog end
    end
    print(string.format("randprog 1..%d: largest %d insns (%s), kernel %s", SEEDS, worst, at, release()))
  end)

  it("stays within " .. BUDGET .. " processed insns for version-1 randprog seeds 1.." .. V1_SEEDS, function()
    if skip() then return end
    local randprog = require "randprog"
    local worst, at = 0, "-"
    for seed = 1, V1_SEEDS do
      local w, prog = check(randprog.generate_v1(seed), "v1rand" .. seed .. ".lua")
      if w > worst then worst, at = w, "seed " .. seed .. " " .. prog end
    end
    print(string.format("randprog v1 1..%d: largest %d insns (%s), kernel %s", V1_SEEDS, worst, at, release()))
  end)
end)
