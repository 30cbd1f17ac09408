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

-- Map contents of a compiled object as the prelude's obj:dump_maps() gives
-- them ("map=NAME key=K value=V", --dump-maps' format), read through the
-- Lua module's p.maps. Keys and values may come as integers, as raw bytes
-- (decoded with the compiler's record layouts) or as tables of fields;
-- per-CPU maps as a list of slots (CPU 0's is compared, as `bpflua run`).
local function fmt_int(size, signed, v)
  if size == 8 and not signed then return string.format("%u", v) end
  return tostring(v)
end

local function fmt_rec(rec, v)
  local parts = {}
  if math.type(v) == "integer" then v = string.pack("<i8", v):sub(1, rec.size) end
  for _, f in ipairs(rec.fields) do
    local x
    if type(v) == "string" then
      x = string.unpack("<" .. (f.signed and "i" or "I") .. f.size, v, f.offset + 1)
    else
      x = v[f.name]
    end
    parts[#parts + 1] = f.name .. "=" .. fmt_int(f.size, f.signed, x)
  end
  return "{" .. table.concat(parts, ",") .. "}"
end

local function fmt_prefix(k)
  if type(k) == "string" and k:match("^%d+%.%d+%.%d+%.%d+/%d+$") then return k end
  local len, a, b, c, d = string.unpack("<I4BBBB", k)
  return string.format("%d.%d.%d.%d/%d", a, b, c, d, len)
end

local function compiled_dump(obj, model)
  local out = {}
  for _, m in ipairs(model.maps) do
    -- ring buffers are compared as events; bpflua's own maps (the drops
    -- count) are not the program's
    if m.type ~= 27 and m.name:sub(1, 8) ~= "__bpflua" then
      local recs = model.records or {}
      local krec, vrec = m.key_record and recs[m.key_record], m.value_record and recs[m.value_record]
      local list = {}
      for k, v in pairs(obj.maps[m.name]) do
        if (m.type == 5 or m.type == 6) and type(v) == "table" and v[1] ~= nil then v = v[1] end
        local ks
        if m.type == 11 then ks = fmt_prefix(k)
        elseif krec then ks = fmt_rec(krec, k)
        else ks = fmt_int(m.key_size, m.key_signed, k) end
        local vs = vrec and fmt_rec(vrec, v) or fmt_int(m.value_size, m.value_signed, v)
        list[#list + 1] = "map=" .. m.name .. " key=" .. ks .. " value=" .. vs
      end
      for _, l in ipairs(list) do out[#out + 1] = l end
    end
  end
  table.sort(out)
  return out
end

-- The kernel's BPF_PROG_TEST_RUN of socket-buffer programs refuses (EINVAL)
-- an IPv4 frame shorter than its IP header (34 bytes) and an IPv6 one shorter
-- than 54 (Linux 6.18, measured): such packets are left out of a tc file's
-- runs, prelude included, when the kernel is among the engines, so the map
-- contents still evolve alike. interp and JIT run them in their own call.
local function kernel_refuses(bytes)
  if #bytes < 14 then return true end
  local et = bytes:byte(13) * 256 + bytes:byte(14)
  return (et == 0x0800 and #bytes < 34) or (et == 0x86DD and #bytes < 54)
end

local function sorted_copy(t)
  local c = {}
  for i, v in ipairs(t) do c[i] = v end
  table.sort(c)
  return c
end

-- events of a compiled run (info.events, once the module returns them) in
-- the prelude's text form
local function compiled_events(info, model)
  if type(info) ~= "table" or type(info.events) ~= "table" then return nil end
  local out = {}
  for _, e in ipairs(info.events) do
    local m
    for _, mm in ipairs(model.maps) do if mm.name == e.map then m = mm end end
    local rec = m and m.value_record and (model.records or {})[m.value_record]
    if rec then
      out[#out + 1] = "event=" .. tostring(e.map) .. " " .. fmt_rec(rec, e.fields or e)
    else
      out[#out + 1] = "event=" .. tostring(e.map) .. " value=" .. string.format("%u", e.value or 0)
    end
  end
  return out
end

-- events grouped by buffer in the order the buffers first appear, each
-- buffer's in emit order
local function by_buffer(list)
  local groups, order = {}, {}
  for _, e in ipairs(list) do
    local m = e:match("^event=(%S+)")
    if not groups[m] then groups[m] = {}; order[#order + 1] = m end
    local g = groups[m]
    g[#g + 1] = e
  end
  table.sort(order)
  local out = {}
  for _, m in ipairs(order) do for _, e in ipairs(groups[m]) do out[#out + 1] = e end end
  return out
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
  -- the compiler's output: map declarations and record layouts
  local model = require("bpflua.compiler").compile(source, name)
  local opts_tc = { mark = 0x2a, priority = 3, ifindex = 1 }
  local with_kernel = false
  for _, eng in ipairs(engines) do with_kernel = with_kernel or eng == "kernel" end
  for _, prog in ipairs(oracle.order) do
    local is_tc = oracle.kinds[prog] == "tc"
    for _, pk in ipairs(packets) do
      if not (is_tc and with_kernel and kernel_refuses(pk.bytes)) then
        local want, want_pkt, want_info = oracle:run(prog, pk.bytes, is_tc and opts_tc or nil)
        local want_events = {}
        for _, e in ipairs(want_info.events) do want_events[#want_events + 1] = e.text end
        for _, eng in ipairs(engines) do
          runs = runs + 1
          local ropts = { engine = eng, prog = prog }
          if is_tc then for k, v in pairs(opts_tc) do ropts[k] = v end end
          local ok, got, _, info = pcall(objs[eng].run, objs[eng], pk.bytes, ropts)
          local where = string.format("%s %s on %s [%s]", name, prog, pk.name, eng)
          if not ok then
            problems[#problems + 1] = where .. ": " .. tostring(got)
          elseif got ~= want then
            problems[#problems + 1] = string.format("%s: verdict %d, prelude says %d", where, got, want)
          elseif info.packet ~= want_pkt then
            problems[#problems + 1] = string.format("%s: packet after the run differs\n  got  %s\n  want %s",
              where, hex(info.packet), hex(want_pkt))
          else
            local ev = compiled_events(info, model)
            local want_ev = want_events
            -- the kernel engine reads its ring buffers one after the other
            -- (libbpf's ring_buffer): events in emit order within a buffer
            if ev and eng == "kernel" then ev, want_ev = by_buffer(ev), by_buffer(want_events) end
            if ev and table.concat(ev, "\n") ~= table.concat(want_ev, "\n") then
              problems[#problems + 1] = string.format("%s: events differ\n  got  %s\n  want %s", where,
                table.concat(ev, "; "), table.concat(want_ev, "; "))
            end
            -- dropped events (full buffers): compiled programs count their
            -- own, so every engine, the kernel too, reports them
            if want_info.dropped and info.events_dropped ~= want_info.dropped then
              problems[#problems + 1] = string.format("%s: %s events dropped, prelude says %d", where,
                tostring(info.events_dropped), want_info.dropped)
            end
            if is_tc and info.mark ~= nil and (info.mark ~= want_info.mark or info.priority ~= want_info.priority) then
              problems[#problems + 1] = string.format("%s: mark=%s priority=%s, prelude says mark=%d priority=%d",
                where, tostring(info.mark), tostring(info.priority), want_info.mark, want_info.priority)
            end
          end
        end
      end
    end
  end
  -- map contents after all runs (every engine ran the same sequence)
  if model then
    local want = table.concat(sorted_copy(oracle:dump_maps()), "\n")
    for _, eng in ipairs(engines) do
      local ok, got = pcall(compiled_dump, objs[eng], model)
      if not ok then
        problems[#problems + 1] = string.format("%s [%s]: reading the maps: %s", name, eng, tostring(got))
      elseif table.concat(got, "\n") ~= want then
        problems[#problems + 1] = string.format("%s [%s]: map contents differ\n  got  %s\n  want %s", name, eng,
          table.concat(got, "\n       "), want:gsub("\n", "\n       "))
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
