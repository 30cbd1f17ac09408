-- run.lua: the bpflua benchmark suite.
--
--   lua5.4 tests/bench/run.lua [--quick] [--only NAME] [--out DIR] [--native PATH] [--build DIR]
--
-- Every workload is one program in tests/bench/progs/, run side by side in
-- one process on the same packets: the bpflua interpreter and JIT, the
-- kernel's JIT (BPF_PROG_TEST_RUN on the same object, where bpf(2) works),
-- native C (tests/bench/native, clang -O2) and the same program under stock
-- Lua 5.4. Each engine gives SAMPLES samples; we report the median and the
-- spread, and ratios to native C. Every engine must return the same value
-- as native C: a mismatch is reported and makes the run fail.
--
-- Output: a table on the terminal, DIR/bench.csv, and DIR/bench.svg.
-- `bpflua bench` runs this script.

local bpf = require "bpf"

local here = (arg and arg[0] or "tests/bench/run.lua"):match("^(.*)/[^/]*$") or "."

-- ---- options --------------------------------------------------------------

local opts = { quick = false, out = nil, only = nil, native = nil, build = nil, samples = 7 }
do
  local i = 1
  while arg and i <= #arg do
    local a = arg[i]
    if a == "--quick" then opts.quick = true; opts.samples = 1
    elseif a == "--only" then i = i + 1; opts.only = arg[i]
    elseif a == "--out" then i = i + 1; opts.out = arg[i]
    elseif a == "--native" then i = i + 1; opts.native = arg[i]
    elseif a == "--build" then i = i + 1; opts.build = arg[i]
    elseif a == "--samples" then i = i + 1; opts.samples = tonumber(arg[i]) or 7
    elseif a == "--packets" then i = i + 1; opts.packets = arg[i]
    elseif a == "--help" or a == "-h" then
      print("usage: bpflua bench [--quick] [--only NAME] [--samples N] [--out DIR] [--native PATH] [--build DIR]\n"
        .. "       bpflua bench --packets DIR   (write each workload's packets to DIR/NAME.K.bin, run nothing)")
      os.exit(0)
    else
      io.stderr:write("bench: unknown option '" .. tostring(a) .. "' (try --help)\n")
      os.exit(2)
    end
    i = i + 1
  end
end
opts.build = opts.build or os.getenv("BPFLUA_BUILD") or "build"
opts.out = opts.out or (opts.build .. "/bench")
opts.native = opts.native or (opts.build .. "/bench_native")

-- ---- packets ----------------------------------------------------------------

local function zeros(n) return string.rep("\0", n) end
local function be16(v) return string.pack(">I2", v) end
local function be32(v) return string.pack(">I4", v) end

-- deterministic pseudo-random bytes (xorshift32), so every run sees the same data
local function bytes(n, seed, avoid_zero)
  local x, t = seed, {}
  for i = 1, n do
    x = x ~ (x << 13) & 0xffffffff
    x = x ~ (x >> 17)
    x = x ~ (x << 5) & 0xffffffff
    local b = x & 0xff
    if avoid_zero and b == 0 then b = 0x5a end
    t[i] = string.char(b)
  end
  return table.concat(t)
end

local function eth(ethertype) return bytes(12, 7) .. be16(ethertype) end
local function ipv4(proto, len)
  return string.char(0x45, 0) .. be16(len) .. zeros(4) .. string.char(64, proto) .. zeros(2)
      .. be32(0x0a000001) .. be32(0x0a000002)
end
local function l4(sport, dport) return be16(sport) .. be16(dport) .. zeros(16) end

local mixed = {
  eth(0x0800) .. ipv4(6, 60) .. l4(40000, 80) .. bytes(20, 3),
  eth(0x0800) .. ipv4(17, 40) .. l4(5353, 53) .. bytes(12, 4),
  eth(0x0800) .. ipv4(6, 60) .. l4(40001, 23) .. bytes(20, 5),
  eth(0x86dd) .. bytes(6, 9) .. string.char(17, 64) .. bytes(32, 10) .. l4(1000, 445),
  eth(0x0806) .. bytes(28, 11),
  eth(0x8100) .. be16(5) .. be16(0x0800) .. ipv4(1, 28) .. bytes(8, 12),
}

local benches = {
  { name = "sum1k", what = "bpf_loop sum, 1000 iterations", repeat_ = 2000,
    packets = { zeros(14) .. be16(1000) .. zeros(48) } },
  { name = "sum1m", what = "bpf_loop sum, 1,000,000 iterations", repeat_ = 3,
    packets = { zeros(14) .. be32(1000000) .. zeros(46) } },
  { name = "checksum", what = "16-bit checksum over 1000 bytes", repeat_ = 2000,
    packets = { bytes(1000, 1) } },
  { name = "scan", what = "scan 1500 bytes for a zero at 1400", repeat_ = 500,
    packets = { bytes(1400, 2, true) .. "\0" .. bytes(99, 2, true) } },
  { name = "nested", what = "nested 32 x 32 arithmetic", repeat_ = 1000,
    packets = { "\x5a" .. bytes(63, 6) } },
  { name = "mapcount", what = "hash map counting, 64 updates", repeat_ = 1000,
    packets = { bytes(64, 8) } },
  { name = "parse", what = "header-parsing filter, mixed traffic", repeat_ = 5000,
    packets = mixed },
  -- stock Lua has no records (the prelude's emulation would measure itself)
  { name = "flows", what = "flow accounting (record key, record value, hash map)", repeat_ = 5000,
    packets = mixed, no_lua = true },
}

-- Loops as users write them (issue 20): each file holds one workload in
-- several spellings that compute the same thing; every spelling is a row
-- of its own, NAME_SPELLING, with its own native twin written the same
-- way in C (tests/bench/native/algos.c).
local function half_differs(n, at, seed)
  local a = bytes(n, seed)
  local c = string.char((a:byte(at + 1) + 1) & 0xff)
  return a .. a:sub(1, at) .. c .. a:sub(at + 2)
end

-- TCP-style options (kind, len, data; kind 1 one byte) filling n bytes, a 0 after them
local function options(n, seed)
  local x, t, used = seed, {}, 0
  local function rnd(m)
    x = x ~ (x << 13) & 0xffffffff
    x = x ~ (x >> 17)
    x = x ~ (x << 5) & 0xffffffff
    return x % m
  end
  while used < n - 12 do
    if rnd(5) == 0 then
      t[#t + 1] = "\1"
      used = used + 1
    else
      local len = 2 + rnd(9)
      t[#t + 1] = string.char(2 + rnd(29), len) .. bytes(len - 2, seed + used)
      used = used + len
    end
  end
  local s = table.concat(t)
  return s .. zeros(n - #s)
end

local seeded = "\x5a" .. bytes(63, 6)
local user_loops = {
  { file = "csum1000", what = "checksum, first 1000 bytes", repeat_ = 2000,
    spellings = { "brk", "len", "word" }, packets = { bytes(1000, 21) } },
  { file = "zscan", what = "first zero of 1500 bytes", repeat_ = 500,
    spellings = { "brk", "ret", "len" }, packets = { bytes(1400, 22, true) .. "\0" .. bytes(99, 22, true) } },
  { file = "sum32", what = "sum of be32 words, step 4", repeat_ = 2000,
    spellings = { "step", "word", "brk" }, packets = { bytes(1024, 23) } },
  { file = "lastnz", what = "last nonzero byte, negative step", repeat_ = 500,
    spellings = { "neg", "rev", "brk" }, packets = { bytes(300, 24, true) .. zeros(1200) } },
  { file = "cmphalf", what = "first difference of two halves", repeat_ = 500,
    spellings = { "len", "brk" }, packets = { half_differs(700, 650, 25) } },
  { file = "tri", what = "nested 2 deep, inner bound from outer", repeat_ = 1000,
    spellings = { "up", "down" }, packets = { seeded } },
  { file = "nest2", what = "nested 2 deep, steps, affine bounds", repeat_ = 1000,
    spellings = { "step", "affine" }, packets = { seeded } },
  { file = "nest3", what = "nested 3 deep, bounds from outer", repeat_ = 1000,
    spellings = { "up", "down" }, packets = { seeded } },
  { file = "short", what = "nested, inner loops of 1-4", repeat_ = 1000,
    spellings = { "up", "down", "ret" }, packets = { seeded } },
  { file = "mix32", what = "nested 32 x 32 hash mix", repeat_ = 1000,
    spellings = { "two", "tmp" }, packets = { seeded } },
  { file = "ranges", what = "loops in local functions", repeat_ = 2000,
    spellings = { "fn", "brk" }, packets = { bytes(1000, 26) } },
  { file = "prefix", what = "map values read and written", repeat_ = 1000,
    spellings = { "map", "acc" }, packets = { bytes(64, 27) } },
  { file = "tcpopts", what = "TCP options, data-dependent stride", repeat_ = 1000,
    spellings = { "brk", "ret" }, packets = { options(1500, 28) } },
}
for _, w in ipairs(user_loops) do
  for _, sp in ipairs(w.spellings) do
    benches[#benches + 1] = { name = w.file .. "_" .. sp, file = w.file, what = w.what .. " (" .. sp .. ")",
      repeat_ = w.repeat_, packets = w.packets }
  end
end

if opts.packets then
  os.execute("mkdir -p '" .. opts.packets .. "'")
  for _, b in ipairs(benches) do
    for k, pk in ipairs(b.packets) do
      local f = assert(io.open(string.format("%s/%s.%d.bin", opts.packets, b.name, k), "wb"))
      f:write(pk)
      f:close()
    end
  end
  os.exit(0)
end

-- ---- stock Lua 5.4: the same source, plain numeric for loops -----------------

local FAULT = {}
local function lua_env()
  local env = { math = math }
  env.license = function() end
  env.print = function() end
  env.ktime = function() return 0 end
  env.random = function() return 4 end
  env.cpu = function() return 0 end
  for _, t in ipairs { "u8", "u16", "u32", "u64", "i8", "i16", "i32", "i64" } do env[t] = t end
  env.xdp = { ABORTED = 0, DROP = 1, PASS = 2, TX = 3, REDIRECT = 4 }
  -- a record type: a constructor of tables, fields left out 0
  env.record = function(fields)
    return function(init)
      local r = {}
      for f in pairs(fields) do r[f] = init[f] or 0 end
      return r
    end
  end
  -- an array's entries exist from the start (0, or a zeroed record, kept)
  local function array(spec)
    local max, value = spec.max_entries, spec.value
    return setmetatable({}, { __index = function(t, k)
      if k >= 0 and k < max then
        if type(value) ~= "function" then return 0 end
        local r = value {}
        rawset(t, k, r)
        return r
      end
    end })
  end
  env.map = { hash = function() return {} end, lru_hash = function() return {} end, array = array }
  return env
end

local byte = string.byte
local pkt_methods = {}
local function rd(s, o, n)
  if o < 0 or o + n > #s then error(FAULT, 0) end
end
function pkt_methods:u8(o) local s = self.s; rd(s, o, 1); return byte(s, o + 1) end
function pkt_methods:be16(o) local s = self.s; rd(s, o, 2); local a, b = byte(s, o + 1, o + 2); return a << 8 | b end
function pkt_methods:be32(o)
  local s = self.s; rd(s, o, 4)
  local a, b, c, d = byte(s, o + 1, o + 4)
  return a << 24 | b << 16 | c << 8 | d
end
function pkt_methods:le16(o) local s = self.s; rd(s, o, 2); local a, b = byte(s, o + 1, o + 2); return b << 8 | a end
function pkt_methods:le32(o)
  local s = self.s; rd(s, o, 4)
  local a, b, c, d = byte(s, o + 1, o + 4)
  return d << 24 | c << 16 | b << 8 | a
end
local pkt_mt = { __index = pkt_methods, __len = function(p) return #p.s end }

local function lua_program(src, name)
  local env = lua_env()
  local chunk = assert(load(src, "=" .. name, "t", env))
  chunk()
  local fn = assert(env.xdp[name], "no xdp." .. name)
  return function(packet)
    local ok, r = pcall(fn, setmetatable({ s = packet }, pkt_mt))
    if not ok then
      if r == FAULT then return 0 end
      error(r, 0)
    end
    return (r or 2) & 0xffffffff
  end
end

-- ---- measuring ---------------------------------------------------------------

local function median(t)
  local s = {}
  for i, v in ipairs(t) do s[i] = v end
  table.sort(s)
  local n = #s
  if n == 0 then return nil end
  if n % 2 == 1 then return s[(n + 1) // 2] end
  return (s[n // 2] + s[n // 2 + 1]) / 2
end

local function spread(t)
  local lo, hi = math.huge, -math.huge
  for _, v in ipairs(t) do lo = math.min(lo, v); hi = math.max(hi, v) end
  return lo, hi
end

-- Each engine is a sampler: one call takes one sample (ns per run, and
-- the results as "r1,r2,..."). The run takes sample k of every engine
-- before sample k + 1 of any, so a slow spell of this shared machine (it
-- comes and goes for seconds) hits every column alike, and each ratio to
-- native C is the median of the ratios of samples taken side by side.
-- Samples are short and of about the same length in every column (native
-- and JIT run `repeat_` times, the interpreter and stock Lua a tenth of
-- that): on a loaded VM a sample longer than a scheduler slice is cut by
-- other jobs, so a column with long samples (native C used to run ten
-- times more often than the JIT) measured the load, not the code.

local function bpflua_sampler(p, b, engine, reps)
  return function()
    local total, result = 0, {}
    for i, pk in ipairs(b.packets) do
      local rv, _, info = p:run(pk, { engine = engine, ["repeat"] = reps, prog = b.name })
      result[i] = rv
      total = total + info.ns_per_run
    end
    return total / #b.packets, table.concat(result, ",")
  end
end

-- stock Lua's samples are CPU time (os.clock): they are long (the same
-- source is 10-300x slower than the engines), and on a loaded VM a long
-- sample on the wall clock measures the other jobs (one run: checksum
-- 92 us on CPU time, 851 us on the wall clock)
local function clock_ns() return os.clock() * 1e9 end

local function lua_sampler(src, b, reps)
  local f = lua_program(src, b.name)
  return function()
    local result = {}
    for i, pk in ipairs(b.packets) do result[i] = f(pk) end
    local t0 = clock_ns()
    for _ = 1, reps do
      for _, pk in ipairs(b.packets) do f(pk) end
    end
    return (clock_ns() - t0) / (reps * #b.packets), table.concat(result, ",")
  end
end

-- bench_native once per sample (it times its own loop: the process start
-- is not in the figure); the packets go to temporary files, removed by
-- the returned cleanup function
local function native_sampler(b, reps)
  local f = io.open(opts.native, "rb")
  if not f then return nil, "native baseline not built (" .. opts.native .. ")" end
  f:close()
  local files = {}
  for i, pk in ipairs(b.packets) do
    local path = os.tmpname()
    local out = assert(io.open(path, "wb"))
    out:write(pk)
    out:close()
    files[i] = path
  end
  local cmd = string.format("%s %s %d 1 %s", opts.native, b.name, reps, table.concat(files, " "))
  local function cleanup() for _, path in ipairs(files) do os.remove(path) end end
  return function()
    local pipe = assert(io.popen(cmd))
    local line = pipe:read("a")
    pipe:close()
    local ns, result = line:match("ns=([%d.]+)"), line:match("result=([%d,]+)")
    if not ns or not result then error("bench_native failed: " .. line, 0) end
    return tonumber(ns), result
  end, cleanup
end

-- ---- the run ---------------------------------------------------------------------

local engines = { "native", "jit", "kernel", "interp", "lua" }
local available = {
  native = true,
  interp = true,
  jit = bpf.jit_available and bpf.jit_available() or false,
  kernel = bpf.kernel_available and bpf.kernel_available() or false,
  lua = true,
}

local function read_file(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local rows, failures = {}, 0
local compile_ms, verify_us = {}, {}

for _, b in ipairs(benches) do
  if not opts.only or opts.only == b.name or opts.only == b.file then
    local path = here .. "/progs/" .. (b.file or b.name) .. ".lua"
    local src = read_file(path)
    local reps = opts.quick and 1 or b.repeat_
    if opts.quick and b.name == "sum1m" then goto continue end
    local t0 = os.clock()
    local p = bpf.compile(src, { name = (b.file or b.name) .. ".lua" })
    compile_ms[b.name] = (os.clock() - t0) * 1e3
    local ok, info = p:verify()
    if not ok then error(b.name .. ": rejected by the verifier: " .. tostring(info)) end
    verify_us[b.name] = (info.verify_ns or 0) / 1e3
    local row = { bench = b, results = {} }
    local samplers, cleanups = {}, {}
    for _, e in ipairs(engines) do
      row.results[e] = { samples = {}, result = nil }
      if not available[e] or (e == "lua" and b.no_lua) then
        row.results[e] = { result = "unavailable" }
      elseif e == "native" then
        local f, c = native_sampler(b, reps)
        if f then samplers[e], cleanups[#cleanups + 1] = f, c else row.results[e] = { result = c } end
      elseif e == "lua" then
        samplers[e] = lua_sampler(src, b, math.max(1, reps // 10))
      else
        samplers[e] = bpflua_sampler(p, b, e, e == "interp" and math.max(2, reps // 10) or reps)
      end
    end
    for _ = 1, opts.samples do
      for _, e in ipairs(engines) do
        if samplers[e] then
          local okr, ns, result = pcall(samplers[e])
          if okr then
            local r = row.results[e]
            r.samples[#r.samples + 1], r.result = ns, result
          else
            row.results[e], samplers[e] = { result = tostring(ns) }, nil
          end
        end
      end
    end
    for _, c in ipairs(cleanups) do c() end
    local ref = row.results.native.samples and row.results.native.result
    for _, e in ipairs(engines) do
      local r = row.results[e]
      if r.samples and ref and r.result ~= ref then
        failures = failures + 1
        io.stderr:write(string.format("bench %s: %s returned %s, native C returned %s\n",
          b.name, e, r.result, ref))
      end
    end
    rows[#rows + 1] = row
  end
  ::continue::
end

-- ---- reporting -------------------------------------------------------------------

local function fmt_ns(v)
  if not v then return "-" end
  if v >= 100 then
    local s = string.format("%d", math.floor(v + 0.5))
    return (s:reverse():gsub("(%d%d%d)", "%1,"):reverse():gsub("^,", ""))
  end
  return string.format("%.1f", v)
end

os.execute("mkdir -p '" .. opts.out .. "'")
local csv = assert(io.open(opts.out .. "/bench.csv", "w"))
csv:write("benchmark,engine,median_ns,min_ns,max_ns,ratio_to_native,result\n")

local machine = "unknown machine"
do
  local f = io.open("/proc/cpuinfo")
  if f then
    local model = f:read("a"):match("model name%s*:%s*([^\n]+)")
    f:close()
    local n = 0
    local p = io.popen("nproc")
    if p then n = tonumber(p:read("l")) or 0; p:close() end
    local k = io.popen("uname -r")
    local kr = k and k:read("l") or "?"
    if k then k:close() end
    machine = string.format("%s, %d cores, Linux %s", model or "?", n, kr)
  end
end

print(string.format("bpflua benchmarks, %s (%s); ns per run, median of %d; (x) = ratio to native C"
  .. " (median of the ratios of samples taken side by side)", os.date("!%Y-%m-%d"), machine, opts.samples))
print(string.format("%-14s %16s %16s %16s %16s %16s", "workload", "native C", "bpflua JIT",
  "kernel JIT", "bpflua interp", "Lua 5.4"))
for _, row in ipairs(rows) do
  local nat = row.results.native.samples
  local cells = {}
  for _, e in ipairs(engines) do
    local r = row.results[e]
    if r.samples then
      local m = median(r.samples)
      local lo, hi = spread(r.samples)
      local ratio
      if nat and #nat == #r.samples then
        local q = {}
        for k = 1, #nat do q[k] = r.samples[k] / nat[k] end
        ratio = median(q)
      end
      cells[#cells + 1] = ratio and string.format("%s (%.1fx)", fmt_ns(m), ratio) or fmt_ns(m)
      csv:write(string.format("%s,%s,%.1f,%.1f,%.1f,%s,%s\n", row.bench.name, e, m, lo, hi,
        ratio and string.format("%.3f", ratio) or "", r.result))
      r.median, r.ratio = m, ratio
    else
      cells[#cells + 1] = "n/a"
      csv:write(string.format("%s,%s,,,,,%s\n", row.bench.name, e, r.result or ""))
    end
  end
  print(string.format("%-14s %16s %16s %16s %16s %16s", row.bench.name, table.unpack(cells)))
end
csv:close()

-- per-iteration cost of a bpf_loop iteration, from the 1M-iteration sum
for _, row in ipairs(rows) do
  if row.bench.name == "sum1m" then
    local parts = {}
    for _, e in ipairs(engines) do
      local r = row.results[e]
      if r.median then parts[#parts + 1] = string.format("%s %.2f ns", e, r.median / 1e6) end
    end
    print("per loop iteration (sum1m): " .. table.concat(parts, ", "))
  end
end

local cparts = {}
for _, row in ipairs(rows) do
  local n = row.bench.name
  cparts[#cparts + 1] = string.format("%s %.1f ms / %.0f us", n, compile_ms[n] or 0, verify_us[n] or 0)
end
print("compile / verify time: " .. table.concat(cparts, ", "))

-- ---- SVG: one group of bars per workload, log-scale ratio to native C ------------

local function write_svg(path)
  local colors = { native = "#555555", jit = "#1b9e77", kernel = "#d95f02", interp = "#7570b3", lua = "#e7298a" }
  local labels = { native = "native C", jit = "bpflua JIT", kernel = "kernel JIT", interp = "bpflua interp", lua = "Lua 5.4" }
  local W, left, bar, gap = 820, 110, 12, 14
  local H = 60 + #rows * (#engines * bar + gap) + 40
  local maxlog = 0
  for _, row in ipairs(rows) do
    for _, e in ipairs(engines) do
      local r = row.results[e].ratio
      if r and r > 0 then maxlog = math.max(maxlog, math.log(r, 10)) end
    end
  end
  maxlog = math.max(1, math.ceil(maxlog))
  local scale = (W - left - 120) / (maxlog + 1) -- one decade below 1x for faster-than-native
  local function x(r) return left + (math.log(r, 10) + 1) * scale end
  local out = {}
  local function w(s) out[#out + 1] = s end
  w(string.format('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="11">', W, H))
  w(string.format('<text x="%d" y="18" font-size="14">bpflua: time per run relative to native C (log scale, lower is better)</text>', left))
  w(string.format('<text x="%d" y="34" fill="#666">%s, %s</text>', left, os.date("!%Y-%m-%d"),
    machine:gsub("&", "&amp;"):gsub("<", "&lt;")))
  for d = -1, maxlog do
    local xx = x(10 ^ d)
    w(string.format('<line x1="%.1f" y1="44" x2="%.1f" y2="%d" stroke="#ddd"/>', xx, xx, H - 30))
    w(string.format('<text x="%.1f" y="%d" text-anchor="middle" fill="#666">%sx</text>', xx, H - 16,
      d < 0 and "0.1" or string.format("%d", math.floor(10 ^ d + 0.5))))
  end
  local y = 54
  for _, row in ipairs(rows) do
    w(string.format('<text x="%d" y="%d" text-anchor="end">%s</text>', left - 8, y + (#engines * bar) / 2 + 4, row.bench.name))
    for _, e in ipairs(engines) do
      local r = row.results[e]
      if r.ratio then
        w(string.format('<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"><title>%s %s: %s ns (%.2fx)</title></rect>',
          left, y, math.max(1, x(r.ratio) - left), bar - 2, colors[e], row.bench.name, labels[e], fmt_ns(r.median), r.ratio))
        w(string.format('<text x="%.1f" y="%d" fill="#333">%.1fx</text>', math.max(left, x(r.ratio)) + 3, y + bar - 3, r.ratio))
      end
      y = y + bar
    end
    y = y + gap
  end
  local lx = W - 110
  for i, e in ipairs(engines) do
    w(string.format('<rect x="%d" y="%d" width="10" height="10" fill="%s"/><text x="%d" y="%d">%s</text>',
      lx, 44 + i * 14, colors[e], lx + 14, 53 + i * 14, labels[e]))
  end
  w("</svg>")
  local f = assert(io.open(path, "w"))
  f:write(table.concat(out, "\n"), "\n")
  f:close()
end
write_svg(opts.out .. "/bench.svg")
print("wrote " .. opts.out .. "/bench.csv and " .. opts.out .. "/bench.svg")

-- ---- the component benchmarks: verifier, JIT compile time, maps, compiler -------

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

local function section(title, cmd)
  print("\n== " .. title .. " ==")
  local pipe = io.popen(cmd .. " 2>&1")
  if not pipe then print("(could not run " .. cmd .. ")") return end
  local text = pipe:read("a")
  local ok = pipe:close()
  io.write(text)
  local f = io.open(opts.out .. "/" .. title:gsub("[^%w]+", "_"):lower() .. ".txt", "w")
  if f then f:write(text) f:close() end
  if not ok then print("(" .. cmd .. " failed)") end
end

if not opts.quick and not opts.only then
  local function tool(name) return opts.build .. "/" .. name end
  if exists(tool("verifier_bench")) then
    section("verification time: bpflua vs the kernel", tool("verifier_bench"))
  end
  if exists(tool("jit_bench")) then
    section("JIT compile time and engines on hand-written eBPF", tool("jit_bench"))
  end
  if exists(tool("map_bench")) then
    section("hash map operations: bpflua vs the kernel", tool("map_bench"))
  end
  local src_dir = here:match("^(.*)/tests/bench$") or (here .. "/../..")
  section("compile time of a 1,000-line program",
    string.format("BPFLUA_SRC='%s' lua5.4 '%s/compile_bench.lua'", src_dir, here))
end

-- ---- the cost of one event: 64 emits a run, minus the same loop without them ----
-- (each run's events are drained after it, as `bpflua run` does: the figure
-- is emit + reading the event back, per event)

local function emit_cost()
  local N = 64
  local with = ([[
local events = map.ringbuf { size = 65536 }
function xdp.emit(pkt)
  local s = 0
  for i = 1, %d do s = s + i; events:emit(s) end
  return s & 3
end]]):format(N)
  local without = with:gsub("; events:emit%(s%)", "")
  local reps = opts.quick and 10 or 20000
  local pe, pb = bpf.compile(with, { name = "emit.lua" }), bpf.compile(without, { name = "noemit.lua" })
  local pkt = string.rep("\0", 64)
  local out = {}
  for _, eng in ipairs { "jit", "interp", "kernel" } do
    if available[eng] then
      local de = {}
      for k = 1, opts.samples do
        local _, _, ie = pe:run(pkt, { engine = eng, ["repeat"] = reps })
        local _, _, ib = pb:run(pkt, { engine = eng, ["repeat"] = reps })
        de[k] = (ie.ns_per_run - ib.ns_per_run) / N
      end
      out[#out + 1] = string.format("%s %.1f ns", eng, median(de))
      csv = io.open(opts.out .. "/bench.csv", "a")
      if csv then csv:write(string.format("emit,%s,%.1f,,,,\n", eng, median(de))) csv:close() end
    end
  end
  print("one event (emit + drain), per event: " .. table.concat(out, ", "))
end
if not opts.only or opts.only == "emit" then emit_cost() end

if failures > 0 then
  io.stderr:write(string.format("bench: %d result mismatches\n", failures))
  os.exit(1)
end
