-- interp_lua.lua: the interpreter against stock Lua 5.4, side by side in one
-- process (issue 20's measure: interpreter / Lua on every workload).
--
--   lua5.4 tests/bench/interp_lua.lua BUILD [ROUNDS [NAME...]]
--   lua5.4 tests/bench/interp_lua.lua BUILD ROUNDS --spellings [NAME...]
--
-- --spellings runs the survey of tests/bench/progs/spellings/ instead: more
-- spellings of the bench's loop shapes (one program NAME in NAME.lua, all on
-- one 256-byte packet, tcp_* on the bench's 1,500 bytes of TCP-style options;
-- 100 runs a round), to check that no other way of
-- writing them is slower than stock Lua. The last line names the worst.
--
-- Each round times one `p:run` of the interpreter (a tenth of the bench's
-- repeat count, at least 2; the first run of each counts instructions, as
-- in `bpflua bench`), then stock Lua running the same source as often
-- (tests/bench/run.lua's prelude); both on CPU time (os.clock), so a slow
-- spell of a shared machine hits both alike. The figure is the median of
-- the per-round ratios; results must agree.
local build, rounds = arg[1] or "build", tonumber(arg[2] or "15")
package.cpath = build .. "/?.so;" .. package.cpath
local bpf = require "bpf"
local here = (arg[0]:match("^(.*)/[^/]*$") or ".")
-- run.lua's workloads and Lua prelude, without its measuring part
local f = assert(io.open(here .. "/run.lua"))
local src = f:read("a")
f:close()
local head = src:sub(1, assert(src:find("%-%- %-%-%-%- measuring")) - 1)
  .. "\nreturn benches, lua_program, bytes, options\n"
local saved = arg
arg = { [0] = here .. "/run.lua" }
local benches, lua_program, bytes, options = assert(load(head, "=run.lua"))()
arg = saved

local first = 3
if arg[3] == "--spellings" then
  first = 4
  benches = {}
  local ls = assert(io.popen("ls '" .. here .. "/progs/spellings'"))
  for f in ls:lines() do
    local name = f:match("^(.*)%.lua$")
    if name then
      -- (the tcp_* programs walk TCP-style options: the bench's tcpopts packet)
      local pk = name:find("^tcp_") and options(1500, 28) or "\x5a" .. bytes(255, 6)
      benches[#benches + 1] = { name = name, file = "spellings/" .. name, repeat_ = 1000,
        packets = { pk } }
    end
  end
  ls:close()
end

local function median(t)
  table.sort(t)
  local n = #t
  return n % 2 == 1 and t[(n + 1) // 2] or (t[n // 2] + t[n // 2 + 1]) / 2
end

local want, worst = {}, nil
for i = first, #arg do want[arg[i]] = true end
for _, b in ipairs(benches) do
  if (next(want) == nil and not b.no_lua) or want[b.name] or want[b.file or ""] then
    local path = here .. "/progs/" .. (b.file or b.name) .. ".lua"
    local sf = assert(io.open(path))
    local s = sf:read("a")
    sf:close()
    local p = bpf.compile(s, { name = (b.file or b.name):gsub("^.*/", "") .. ".lua" })
    assert(p:verify())
    local lf = lua_program(s, b.name)
    for _, pk in ipairs(b.packets) do
      local rv = p:run(pk, { engine = "interp", prog = b.name })
      assert(rv == lf(pk), b.name .. ": interpreter " .. rv .. ", Lua " .. lf(pk))
    end
    local reps = math.max(2, b.repeat_ // 10)
    local ratios, it, lu = {}, {}, {}
    for _ = 1, rounds do
      local t0 = os.clock()
      for _, pk in ipairs(b.packets) do
        p:run(pk, { engine = "interp", ["repeat"] = reps, prog = b.name })
      end
      local t1 = os.clock()
      for _ = 1, reps do
        for _, pk in ipairs(b.packets) do lf(pk) end
      end
      local t2 = os.clock()
      local a = (t1 - t0) / (reps * #b.packets) * 1e9
      local c = (t2 - t1) / (reps * #b.packets) * 1e9
      ratios[#ratios + 1], it[#it + 1], lu[#lu + 1] = a / c, a, c
    end
    local r = median(ratios)
    print(string.format("%-14s interp %10.0f ns   Lua %10.0f ns   interp / Lua %.2f",
      b.name, median(it), median(lu), r))
    if not worst or r > worst.r then worst = { name = b.name, r = r } end
  end
end
if worst then
  print(string.format("worst: %s %.2f%s", worst.name, worst.r, worst.r >= 1 and "  (NOT faster than Lua)" or ""))
end
