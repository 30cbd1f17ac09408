-- rdiff.lua: long differential hunts over the random program generators,
-- outside the test suite (which runs the first seeds of each): every
-- program of seeds LO..HI runs under the prelude and in the given engines
-- (tests/lang/difftest.lua), and each disagreement is printed with its seed.
--
--   LUA_CPATH='BUILD/?.so;;' lua5.4 tests/fuzz/rdiff.lua KIND LO HI [ENGINE...]
--
-- KIND: v0 (randprog.generate), v1 (generate_v1), nest (generate_nest),
-- loops (randloops.generate); nestlong, loopslong: those programs on
-- packets of 65,520 to 65,536 bytes, interpreter against JIT (the JIT's
-- copies for longer packets than 65,528 bytes; no prelude: it does not
-- model the compiler's `x > 65527` checks). ENGINE: interp, jit, kernel
-- (default interp jit). Exit status 1 when any seed disagrees. Known: a few v1 seeds (867,
-- 1452, 1807, 1926) need more than 512 bytes of stack and are refused.
local SRC = os.getenv("BPFLUA_SRC") or "."
package.path = SRC .. "/tests/lang/?.lua;" .. SRC .. "/lua/?.lua;" .. SRC .. "/compiler/?.lua;" ..
  package.path

local kind, lo, hi = arg[1], tonumber(arg[2]), tonumber(arg[3])
local generators = { v0 = "generate", v1 = "generate_v1", nest = "generate_nest", loops = "loops",
  nestlong = "generate_nest", loopslong = "loops" }
if not (kind and generators[kind] and lo and hi) then
  io.stderr:write("usage: lua5.4 tests/fuzz/rdiff.lua v0|v1|nest|loops|nestlong|loopslong LO HI " ..
    "[interp|jit|kernel ...]\n")
  os.exit(2)
end
local engines = {}
for i = 4, #arg do engines[#engines + 1] = arg[i] end
if #engines == 0 then engines = { "interp", "jit" } end

local difftest = require "difftest"
local randprog = require "randprog"
local randloops = require "randloops"
local packets = require "packets"

local pkts = packets
local kernel = false
for _, e in ipairs(engines) do kernel = kernel or e == "kernel" end
-- the kernel test-runs XDP only on packets of 14 bytes or more
if kind == "loops" then pkts = randloops.packets(kernel and 14 or nil) end
if kind == "v0" then pkts = { packets[1], packets[2], packets[7], packets[9], packets[12] } end
if kind == "nest" then pkts = { packets[1], packets[2], packets[9], packets[12] } end

-- interpreter against JIT on long packets: verdicts and rewritten packets
local long
if kind == "nestlong" or kind == "loopslong" then
  long = {}
  for _, n in ipairs({ 65520, 65527, 65528, 65529, 65531, 65536 }) do
    local t = {}
    for i = 0, n - 1 do t[#t + 1] = string.char((i * 13 + (i >> 7)) & 0xff) end
    long[#long + 1] = { name = "len" .. n, bytes = table.concat(t) }
  end
end
local function run_long(src, name)
  local prelude, bpf = require "prelude", require "bpf"
  local order = assert(prelude.load(src, name)).order
  -- (an object per engine: maps evolve alike)
  local pi, pj = bpf.compile(src, { name = name }), bpf.compile(src, { name = name })
  local problems = {}
  for _, pk in ipairs(long) do
    for _, prog in ipairs(order) do
      local vi, _, ii = pi:run(pk.bytes, { engine = "interp", prog = prog })
      local vj, _, ij = pj:run(pk.bytes, { engine = "jit", prog = prog })
      if vi ~= vj or ii.packet ~= ij.packet then
        problems[#problems + 1] = ("%s on %s: interp %d, jit %d"):format(prog, pk.name, vi, vj)
      end
    end
  end
  return problems
end

local bad = 0
for seed = lo, hi do
  local src = kind:sub(1, 5) == "loops" and randloops.generate(seed) or randprog[generators[kind]](seed)
  local ok, problems
  if long then
    ok, problems = pcall(run_long, src, kind .. seed .. ".lua")
  else
    ok, problems = pcall(difftest.run_file, src, kind .. seed .. ".lua", pkts, engines)
  end
  if not ok then problems = { tostring(problems) } end
  if #problems > 0 then
    bad = bad + 1
    print(("seed %d: %s"):format(seed, problems[1]))
  end
end
print(("%s %d..%d on %s: %d passed, %d failed"):format(kind, lo, hi,
  long and "interp jit" or table.concat(engines, " "),
  hi - lo + 1 - bad, bad))
os.exit(bad == 0 and 0 or 1)
