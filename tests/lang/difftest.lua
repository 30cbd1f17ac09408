-- difftest.lua: the differential oracle. Runs every program of a bpflua file
-- on every packet under the prelude (stock Lua) and through the compiled
-- object in the given engines, in the same order (so map contents evolve
-- alike), and lists every disagreement in verdict or rewritten packet.
--
--   local d = require "difftest"
--   local problems, runs = d.run_file(source, name, packets, { "interp", "kernel" })
local prelude = require "prelude"

local M = {}

local function hex(s)
  return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

function M.run_file(source, name, packets, engines)
  local bpf = require "bpf"
  local problems, runs = {}, 0
  local oracle, err = prelude.load(source, name)
  if not oracle then return { name .. ": prelude: " .. tostring(err) }, 0 end
  local objs = {}
  for _, eng in ipairs(engines) do
    local ok, obj = pcall(bpf.compile, source, { name = name })
    if not ok then return { name .. ": compile: " .. tostring(obj) }, 0 end
    objs[eng] = obj
  end
  for _, prog in ipairs(oracle.order) do
    for _, pk in ipairs(packets) do
      local want, want_pkt = oracle:run(prog, pk.bytes)
      for _, eng in ipairs(engines) do
        runs = runs + 1
        local ok, got, info = pcall(objs[eng].run, objs[eng], pk.bytes, { engine = eng, prog = prog })
        local where = string.format("%s %s on %s [%s]", name, prog, pk.name, eng)
        if not ok then
          problems[#problems + 1] = where .. ": " .. tostring(got)
        elseif got ~= want then
          problems[#problems + 1] = string.format("%s: verdict %d, prelude says %d", where, got, want)
        elseif info.packet ~= want_pkt then
          problems[#problems + 1] = string.format("%s: packet after the run differs\n  got  %s\n  want %s",
            where, hex(info.packet), hex(want_pkt))
        end
      end
    end
  end
  return problems, runs
end

-- is the kernel engine usable here? (true, or false and the reason)
function M.kernel_available()
  local bpf = require "bpf"
  local ok, p = pcall(bpf.compile, "function xdp.k(pkt) return 7 end", { name = "probe.lua" })
  if not ok then return false, "the compiler failed on the probe: " .. tostring(p) end
  local ok2, r = pcall(p.run, p, ("\0"):rep(64), { engine = "kernel" })
  if not ok2 then return false, tostring(r) end
  if r ~= 7 then return false, "the kernel returned " .. tostring(r) .. " for the probe" end
  return true
end

return M
