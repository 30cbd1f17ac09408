-- kernel_cost.lua: what the Linux verifier spends on compiled programs. For
-- every seed of a range, tests/lang/randprog.lua's program is compiled and
-- loaded into the kernel (p:kernel_cost(): a fresh load at log level
-- BPF_LOG_STATS); each program's "processed N insns" and "verification
-- time" are collected and the distribution printed. A benchmark, not a test
-- (tests/spec/kernel_budget_spec.lua holds the budget). Needs root and
-- bpf(2); a seed whose program the compiler rejects is counted and skipped.
--
--   lua5.4 tests/bench/kernel_cost.lua [FIRST [LAST]]     (default 1 20000)
--   BPFLUA_COMPILER_DIR=<dir> ...    measure another compiler (before/after)
--   KERNEL_COST_OUT=file             also write "seed prog insns usec" lines
local SRC = os.getenv("BPFLUA_SRC") or (arg[0]:match("^(.*)/tests/bench/") or ".")
local BUILD = os.getenv("BPFLUA_BUILD") or (SRC .. "/build-dev")
package.cpath = BUILD .. "/?.so;" .. package.cpath
package.path = SRC .. "/tests/lang/?.lua;" .. package.path
local bpf = require "bpf"
local randprog = require "randprog"

local first, last = tonumber(arg[1] or 1), tonumber(arg[2] or 20000)
local ok, why = bpf.kernel_available()
if not ok then
  print("kernel_cost: skipped: " .. tostring(why))
  os.exit(0)
end
local out = os.getenv("KERNEL_COST_OUT") and assert(io.open(os.getenv("KERNEL_COST_OUT"), "w"))

local insns, usecs, worst = {}, {}, {}
local not_compiled, rejected = 0, {}
for seed = first, last do
  local cok, p = pcall(bpf.compile, randprog.generate(seed), { name = "rand" .. seed .. ".lua" })
  if not cok then
    not_compiled = not_compiled + 1
  else
    local costs, err = p:kernel_cost()
    if err then rejected[#rejected + 1] = seed .. " (" .. err .. ")" end
    for name, c in pairs(costs) do
      insns[#insns + 1] = c.insns
      usecs[#usecs + 1] = c.usec
      worst[#worst + 1] = { insns = c.insns, seed = seed, name = name }
      if out then out:write(string.format("%d %s %d %d\n", seed, name, c.insns, c.usec)) end
    end
  end
  if (seed - first + 1) % 1000 == 0 then io.stderr:write(seed, "\n") end
end
if out then out:close() end

local function pct(t, p)
  table.sort(t)
  if #t == 0 then return 0 end
  local i = math.max(1, math.min(#t, math.ceil(#t * p)))
  return t[i]
end
local function row(label, t, unit)
  print(string.format("%-28s median %9d  p90 %9d  p99 %9d  max %9d %s", label,
    pct(t, 0.5), pct(t, 0.9), pct(t, 0.99), pct(t, 1), unit))
end
local f = io.open("/proc/sys/kernel/osrelease")
print(string.format("randprog seeds %d..%d: %d programs (%d seeds not compiled), kernel %s", first, last,
  #insns, not_compiled, f and f:read("l") or "?"))
row("processed insns", insns, "")
row("verification time", usecs, "us")
table.sort(worst, function(a, b) return a.insns > b.insns end)
for i = 1, math.min(5, #worst) do
  print(string.format("  %d. seed %d %s: %d insns", i, worst[i].seed, worst[i].name, worst[i].insns))
end
print(#rejected .. " seeds rejected by the kernel" .. (#rejected > 0 and (": " .. table.concat(rejected, ", ", 1, math.min(#rejected, 10))) or ""))
