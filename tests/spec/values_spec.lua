-- values_spec.lua: version 1 values through the Lua module: a run's events
-- (records as tables keyed by field name, integer events as integers),
-- struct keys and values of p.maps field by field, p.records, init
-- contents before the first run. tests/elf/events.c (clang) is the object
-- when the build made it; compiled sources cover the rest.
local bpf = require "bpf"

local BUILD = os.getenv("BPFLUA_BUILD") or "build"
local EVENTS_O = BUILD .. "/tests/elf/events.o"
local have_obj = io.open(EVENTS_O) ~= nil

local function hex(s) return (s:gsub("%x%x", function(h) return string.char(tonumber(h, 16)) end)) end
-- Ethernet + IPv4 UDP 10.0.0.1 -> 10.0.0.2, ports 54321 -> 53, 58 bytes (as run_events.sh)
local PKT = hex("000000000000000000000000080045000028000000004011" ..
                "00000a0000010a000002d43100350016000000000000000000000000000000000000")

local function engines()
  local t = { "interp" }
  if bpf.jit_available() then t[#t + 1] = "jit" end
  if bpf.kernel_available() then t[#t + 1] = "kernel" end
  return t
end

describe("events from p:run", function()
  it("come back in order, records by field name, integers as integers", function()
    if not have_obj then pending("no " .. EVENTS_O) return end
    for _, eng in ipairs(engines()) do
      local p = bpf.load(EVENTS_O)
      local v, events, info = p:run(PKT, { engine = eng })
      assert.equal(2, v)
      assert.equal(3, #events, eng)
      assert.same({ saddr = 16777226, len = 58, diff = -5, rule = 7 }, events[1])
      assert.equal(-1, events[2])        -- the u64 0xffff...ff as a Lua integer
      assert.equal(42, events[3])
      assert.equal("events", info.events[1].map)
      assert.same(events[1], info.events[1].fields)
      assert.equal("counts", info.events[3].map)
      assert.equal(42, info.events[3].value)
      assert.equal(0, info.events_not_shown)
      -- --repeat: the first run's events, the rest counted
      local _, ev2, info2 = p:run(PKT, { engine = eng, ["repeat"] = 3 })
      assert.equal(3, #ev2)
      assert.equal(6, info2.events_not_shown)
    end
  end)
end)

describe("record keys and values in p.maps", function()
  it("read and write field by field", function()
    if not have_obj then pending("no " .. EVENTS_O) return end
    local p = bpf.load(EVENTS_O)
    p:run(PKT, { engine = "interp" })
    local n = 0
    for k, v in pairs(p.maps.flows) do
      n = n + 1
      assert.same({ saddr = 16777226, dport = 13568, proto = 17 }, k)
      assert.same({ packets = 1, bytes = 58, delta = -3 }, v)
    end
    assert.equal(1, n)
    local key = { saddr = 16777226, dport = 13568, proto = 17 }
    assert.equal(58, p.maps.flows[key].bytes)
    -- a plain table or a p.records constructor; left-out fields are 0
    p.maps.flows[p.records.flow { saddr = 7, proto = 6 }] = { packets = 5, delta = -9 }
    assert.same({ packets = 5, bytes = 0, delta = -9 }, p.maps.flows[{ saddr = 7, proto = 6 }])
    assert.is_nil(p.maps.flows[{ saddr = 8 }])
    p.maps.flows[{ saddr = 7, proto = 6 }] = nil
    assert.is_nil(p.maps.flows[{ saddr = 7, proto = 6 }])
    -- the run sees what Lua stored: the existing flow goes on from 5 packets
    p.maps.flows[key] = { packets = 5, bytes = 100 }
    p:run(PKT, { engine = "interp" })
    assert.same({ packets = 6, bytes = 158, delta = -3 }, p.maps.flows[key])
    assert.has_error(function() p.maps.flows[{ saddr = 1, port = 2 }] = { packets = 1 } end,
      "key: record flow has no field 'port'")
    assert.has_error(function() p.maps.flows[key] = { packets = 1.5 } end,
      "value field packets must be an integer (got a float)")
    assert.has_error(function() p.maps.flows[key] = 3 end, "value must be a table of fields (got number)")
    assert.has_error(function() p.records.flow { nope = 1 } end)
  end)
end)

describe("a compiled program's records, events and init", function()
  local SRC = [[
local Flow = record { saddr = u32, dport = u16, proto = u8 }
local Stats = record { packets = u64, bytes = u64 }
local flows = map.hash { key = Flow, value = Stats, max_entries = 16 }
local seed = map.hash { key = u32, value = i64, max_entries = 4, init = { [1] = -7, [3] = 30 } }
local events = map.ringbuf { size = 4096 }

function xdp.acc(pkt)
  local f = Flow { saddr = pkt:be32(26), dport = pkt:be16(36), proto = pkt:u8(23) }
  local s = flows[f]
  if s then
    s.packets = s.packets + 1
  else
    flows[f] = Stats { packets = 1, bytes = #pkt }
  end
  events:emit(f)
  events:emit(f)
  return (seed[1] or 0) + (seed[3] or 0)
end
]]
  it("shows init before the first run and events after it, in every engine", function()
    local ok, p0 = pcall(bpf.compile, SRC, { name = "v1.lua" })
    if not ok then pending("the compiler does not take this yet: " .. tostring(p0)) return end
    assert.equal(-7, p0.maps.seed[1])   -- before any run
    assert.equal(30, p0.maps.seed[3])
    for _, eng in ipairs(engines()) do
      local p = bpf.compile(SRC, { name = "v1.lua" })
      local v, events = p:run(PKT, { engine = eng })
      assert.equal(23, v, eng)
      assert.equal(2, #events)
      assert.same({ saddr = 0x0a000001, dport = 53, proto = 17 }, events[1])
      local Flow = p.records.Flow
      assert.same({ packets = 1, bytes = 58 }, p.maps.flows[Flow { saddr = 0x0a000001, dport = 53, proto = 17 }])
    end
  end)
end)

describe("a run stopped between a ring buffer reserve and its submit", function()
  local RESERVE_O = BUILD .. "/tests/elf/reserve.o"
  it("leaves no busy record behind: later runs' events still come out", function()
    if io.open(RESERVE_O) == nil then pending("no " .. RESERVE_O) return end
    local p = bpf.load(RESERVE_O)
    -- the reserve is the 7th instruction run and the submit comes after the
    -- stores: 8 instructions stop the run with the record reserved
    local ok, err = pcall(p.run, p, PKT, { engine = "interp", max_insns = 8 })
    assert.is_false(ok)
    assert.matches("max%-insns", tostring(err))
    for _, eng in ipairs({ "interp", "jit" }) do
      if eng == "interp" or bpf.jit_available() then
        local v, events = p:run(PKT, { engine = eng })
        assert.equal(2, v)
        assert.equal(1, #events, eng)
        -- no BTF names the record (no signature carries the typedef): raw bytes
        assert.equal("string", type(events[1]))
        local len, first, tag = string.unpack("<I8I8I8", events[1])
        assert.same({ #PKT, 0, 7 }, { len, first, tag }, eng)
      end
    end
  end)
end)
