-- compile_bench.lua: compile speed of the bpflua compiler.
-- Generates a 1,000-line program (constants, a map, local functions, several
-- programs with loops, packet reads and map updates), compiles it N times
-- and reports the median time per compile in ms (target: < 100 ms).
--
--   lua5.4 tests/bench/compile_bench.lua [runs]      (from the source tree)
local SRC = os.getenv("BPFLUA_SRC") or (arg[0]:match("^(.*)/tests/bench/") or ".")
package.path = SRC .. "/tests/spec/?.lua;" .. package.path
require("spec_util").use_source_compiler(SRC)
local compiler = require "bpflua.compiler"

local function generate(target_lines)
  local out = { 'license "GPL"', "local counts = map.hash { key = u32, value = u64, max_entries = 1024 }" }
  for i = 1, 20 do out[#out + 1] = string.format("local K%d = %d * 3 + (1 << %d)", i, i, i % 30) end
  for i = 1, 10 do
    out[#out + 1] = string.format("local function helper%d(a, b)", i)
    out[#out + 1] = "  local s = a"
    out[#out + 1] = "  for j = 0, b % 8 do s = s + j * K" .. i .. " end"
    out[#out + 1] = "  return s // 3 + (a % 7)"
    out[#out + 1] = "end"
  end
  local prog = 0
  while #out < target_lines - 30 do
    prog = prog + 1
    out[#out + 1] = string.format("function xdp.prog%d(pkt)", prog)
    out[#out + 1] = "  if #pkt < 34 then return xdp.PASS end"
    out[#out + 1] = "  local total = 0"
    for b = 1, 6 do
      out[#out + 1] = string.format("  local v%d = pkt:u8(%d) + pkt:be16(%d)", b, b, 10 + b)
      out[#out + 1] = string.format("  if v%d > %d then total = total + v%d * K%d else total = total - %d end",
        b, b * 10, b, (b % 20) + 1, b)
      out[#out + 1] = string.format("  for i = 0, %d do total = total + (i ~ v%d) end", b + 3, b)
      out[#out + 1] = string.format("  counts[v%d] = (counts[v%d] or 0) + helper%d(v%d, %d)", b, b, (b % 10) + 1, b, b)
    end
    out[#out + 1] = "  return total & 0xff"
    out[#out + 1] = "end"
  end
  while #out < target_lines do out[#out + 1] = "-- padding" end
  return table.concat(out, "\n") .. "\n", #out, prog
end

local runs = tonumber(arg and arg[1]) or 9
local src, lines, progs = generate(1000)
local r, msg = compiler.compile(src, "bench.lua")
assert(r, msg)
local insns = 0
for _, p in ipairs(r.progs) do insns = insns + #p.insns // 8 end
local times = {}
for i = 1, runs do
  local t0 = os.clock()
  compiler.compile(src, "bench.lua")
  times[i] = (os.clock() - t0) * 1000
end
table.sort(times)
local median = times[(runs + 1) // 2]
print(string.format("compile_bench: %d lines, %d programs, %d instructions: median %.1f ms (min %.1f, max %.1f, %d runs; target < 100 ms)",
  lines, progs, insns, median, times[1], times[runs], runs))
