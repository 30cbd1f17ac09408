-- bpf_spec.lua: the Lua module `bpf` (lua/bpf_module.c) from stock lua5.4.
-- Run with: busted --lua=lua5.4 tests/spec/bpf_spec.lua (LUA_CPATH must
-- reach bpf.so; ctest sets it).
local bpf = require "bpf"

local SRC = os.getenv("BPFLUA_SRC") or "."

local PKT60 = string.char(
  0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00,         -- Ethernet, IPv4
  0x45, 0, 0, 0x2e, 0, 1, 0x40, 0, 0x40, 17, 0x6e, 0xf7,              -- IPv4 header
  192, 168, 1, 30, 10, 0, 0, 1,
  0xc3, 0x50, 0, 53, 0, 0x1a, 0, 0) .. "hello, bpf" .. ("\0"):rep(8)  -- UDP to port 53

local COUNTER = [[
license "Dual MIT/GPL"
local hits = map.hash { key = u32, value = u64, max_entries = 16 }
local lens = map.array { value = u64, max_entries = 4 }
local vals = map.array { value = i32, max_entries = 4 }
local small = map.hash { key = u16, value = u8, max_entries = 4 }

function xdp.count(pkt)
  if #pkt < 24 then return xdp.ABORTED end
  local proto = pkt:u8(23)
  hits[proto] = (hits[proto] or 0) + 1
  lens[0] = #pkt
  vals[1] = -5
  small[3] = 300
  if (hits[1000] or 0) > 0 then return xdp.DROP end
  return xdp.PASS
end

function xdp.stamp(pkt)
  if #pkt < 1 then return xdp.ABORTED end
  pkt:set_u8(0, 0xab)
  return xdp.TX
end
]]

local function tmpname()
  local n = os.tmpname()
  os.remove(n)
  return n
end

local engines = { "interp" }
if bpf.jit_available() then engines[#engines + 1] = "jit" end

describe("the bpf module", function()
  it("has a version and the XDP verdicts", function()
    assert.is_string(bpf.version)
    assert.matches("^%d+%.%d+%.%d+", bpf.version)
    assert.same({ ABORTED = 0, DROP = 1, PASS = 2, TX = 3, REDIRECT = 4 }, bpf.xdp)
    assert.is_boolean(bpf.jit_available())
    local ok, why = bpf.kernel_available()
    assert.is_boolean(ok)
    if not ok then assert.is_string(why) end
  end)

  describe("compile", function()
    it("builds an object with programs, maps and a license", function()
      local p = bpf.compile(COUNTER, { name = "counter.lua" })
      assert.same({ "count", "stamp" }, p:progs())
      assert.equal("Dual MIT/GPL", p:license())
      assert.matches("counter.lua: 2 programs, 4 maps", tostring(p))
      assert.truthy(p.maps.hits)
      assert.is_nil(p.maps.nosuch)
    end)

    it("accepts a name string or no options", function()
      assert.same({ "count", "stamp" }, bpf.compile(COUNTER, "x.lua"):progs())
      assert.same({ "count", "stamp" }, bpf.compile(COUNTER):progs())
    end)

    it("raises the compiler's formatted message on errors", function()
      local ok, err = pcall(bpf.compile, 'license "GPL"\nfunction xdp.f(pkt)\n  return 1.5\nend\n',
        { name = "bad.lua" })
      assert.is_false(ok)
      assert.matches("bad.lua:3:%d+:", err)
      assert.matches("%^", err)
    end)

    it("rejects bad arguments", function()
      assert.has_error(function() bpf.compile() end)
      assert.has_error(function() bpf.compile({}) end)
      assert.has_error(function() bpf.compile("", { name = {} }) end)
    end)
  end)

  describe("verify", function()
    it("returns true and the bounds", function()
      local p = bpf.compile(COUNTER, { name = "counter.lua" })
      local ok, info = p:verify()
      assert.is_true(ok)
      assert.is_true(info.max_insns > 0)
      assert.is_true(info.verified_insns > 0)
      assert.is_true(info.verify_ns >= 0)
      assert.is_table(info.progs.count)
      assert.is_table(info.progs.stamp)
      local ok1, one = p:verify("stamp")
      assert.is_true(ok1)
      assert.same({ "stamp" }, (function() local t = {} for k in pairs(one.progs) do t[#t + 1] = k end return t end)())
    end)

    it("returns false and the error line for a rejected program", function()
      local p = bpf.asm("mov %r0, 1\nmov %r0, %r3\nexit\n", "bad.asm")
      local ok, msg = p:verify()
      assert.is_false(ok)
      assert.matches("^error: .*at insn 1", msg)
    end)

    it("gives the state trace with log = true", function()
      local p = bpf.asm("mov %r0, 2\nexit\n")
      local ok, info = p:verify(nil, { log = true })
      assert.is_true(ok)
      assert.is_string(info.log)
      assert.is_true(#info.log > 0)
    end)

    it("rejects an unknown program name", function()
      local p = bpf.compile(COUNTER)
      assert.has_error(function() p:verify("nosuch") end, "no program named 'nosuch'")
    end)
  end)

  describe("run", function()
    for _, engine in ipairs(engines) do
      it("runs programs in the " .. engine .. " engine", function()
        local p = bpf.compile(COUNTER)
        local ret, _, info = p:run(PKT60, { engine = engine })
        assert.equal(bpf.xdp.PASS, ret)
        assert.is_true(info.ns_per_run >= 0)
        assert.equal(PKT60, info.packet)
        assert.equal("", info.trace)
        assert.equal(engine, info.engine)
        assert.equal(bpf.xdp.ABORTED, (p:run("short", { engine = engine })))
      end)

      it("returns the rewritten packet (" .. engine .. ")", function()
        local p = bpf.compile(COUNTER)
        local ret, _, info = p:run(PKT60, { engine = engine, prog = "stamp" })
        assert.equal(bpf.xdp.TX, ret)
        assert.equal("\xab" .. PKT60:sub(2), info.packet)
      end)
    end

    it("keeps map contents across runs and repeats", function()
      local p = bpf.compile(COUNTER)
      p:run(PKT60, { engine = "interp", ["repeat"] = 3 })
      p:run(PKT60, { engine = "interp" })
      assert.equal(4, p.maps.hits[17])
    end)

    it("sees map writes made from Lua", function()
      local p = bpf.compile(COUNTER)
      p.maps.hits[1000] = 1
      assert.equal(bpf.xdp.DROP, (p:run(PKT60, { engine = "interp" })))
    end)

    it("runs on empty and 64 KiB+ packets", function()
      local p = bpf.compile(COUNTER)
      assert.equal(bpf.xdp.ABORTED, (p:run("", { engine = "interp" })))
      local big = ("\0"):rep(70000)
      local ret, _, info = p:run(big, { engine = "interp" })
      assert.equal(bpf.xdp.PASS, ret)
      assert.equal(70000, #info.packet)
      -- an XDP program sees at most 65536 bytes (core/insn.h BL_XDP_MAX_PACKET:
      -- the verifier bounds #pkt by it); the rest of the packet is kept
      assert.equal(65536, p.maps.lens[0])
    end)

    it("rejects bad options", function()
      local p = bpf.compile(COUNTER)
      assert.has_error(function() p:run(PKT60, { engine = "warp" }) end,
        "unknown engine 'warp' (use interp, jit or kernel)")
      assert.has_error(function() p:run(PKT60, { ["repeat"] = 0 }) end, "repeat must be at least 1")
      assert.has_error(function() p:run(PKT60, { prog = "nosuch" }) end, "no program named 'nosuch'")
      assert.has_error(function() p:run(PKT60, { prog = 3 }) end, "no program #3")
      assert.has_error(function() p:run({}) end)
      assert.has_error(function() p:run(PKT60, "interp") end)
    end)

    it("passes mark, priority and ifindex to tc programs and reports mark and priority", function()
      local p = bpf.compile([[
function tc.m(pkt) pkt.mark = pkt.mark + pkt.ifindex; pkt.priority = pkt.priority * 2 end
function xdp.x(pkt) return 2 end]])
      local eng = { "interp" }
      if bpf.kernel_available() then eng[2] = "kernel" end
      for _, e in ipairs(eng) do
        local ret, _, info = p:run(PKT60, { engine = e, prog = "m", mark = 40, priority = 5, ifindex = 2 })
        assert.equal(0, ret)
        assert.equal(42, info.mark, e)
        assert.equal(10, info.priority, e)
      end
      local _, _, info = p:run(PKT60, { engine = "interp", prog = "x" })
      assert.is_nil(info.mark)
      assert.has_error(function() p:run(PKT60, { prog = "m", mark = -1 }) end,
        "mark must be a 32-bit number (0 to 4294967295)")
      assert.has_error(function() p:run(PKT60, { prog = "m", ifindex = 1 << 32 }) end)
    end)

    it("collects trace_printk output", function()
      local p = bpf.compile('license "GPL"\nfunction xdp.t(pkt)\n  print("n %d %d %d", #pkt, 2, 3)\n  return 2\nend\n')
      local _, _, info = p:run(PKT60, { engine = "interp" })
      assert.matches("^n 60 2 3\n?$", info.trace)
      assert.matches("^n 60 2 3", p:trace())
    end)

    it("raises for a program the verifier rejects", function()
      local p = bpf.asm("mov %r0, %r3\nexit\n", "bad")
      local ok, err = pcall(p.run, p, PKT60, { engine = "interp" })
      assert.is_false(ok)
      assert.matches("R3", err)
    end)

    it("agrees with the kernel where bpf(2) works", function()
      if not bpf.kernel_available() then return end
      local p = bpf.compile(COUNTER)
      assert.equal(bpf.xdp.PASS, (p:run(PKT60, { engine = "kernel" })))
      local ret, _, info = p:run(PKT60, { engine = "kernel", prog = "stamp" })
      assert.equal(bpf.xdp.TX, ret)
      assert.equal("\xab" .. PKT60:sub(2), info.packet)
      -- the maps are the kernel's once it ran the object
      assert.equal(1, p.maps.hits[17])
      assert.equal(-5, p.maps.vals[1])
      p.maps.hits[1000] = 1
      assert.equal(bpf.xdp.DROP, (p:run(PKT60, { engine = "kernel" })))
      assert.equal(2, p.maps.hits[17])
    end)

    it("gives the kernel the maps as the Lua module left them before its first run", function()
      if not bpf.kernel_available() then return end
      local p = bpf.compile([[
local R = record { a = u32, b = i16 }
local h = map.hash { key = R, value = R, max_entries = 8, init = { [R { a = 1 }] = R { b = -1 } } }
local l = map.lpm { value = u32, max_entries = 8, init = { ["10.0.0.0/8"] = 1, ["11.0.0.0/8"] = 3 } }
local pc = map.percpu_array { value = u64, max_entries = 4, init = { [1] = 5 } }
function xdp.p(pkt)
  local s = h[R { a = 2 }]
  local t = h[R { a = 1 }]
  local r = (l[0x0a010203] or 0) * 1000 + (l[0x0b000001] or 0) * 100 + (pc[2] or 0) * 10 + (pc[1] or 0)
  if s and not t then return r + s.b * 100000 end
  return 1
end]])
      p.maps.h[p.records.R { a = 2 }] = { b = 7 }
      p.maps.h[p.records.R { a = 1 }] = nil
      p.maps.l["10.1.2.3/16"] = 9         -- host bits cleared, as m:set and init do
      p.maps.l["11.0.0.0/8"] = nil
      p.maps.pc[2] = 4
      p.maps.pc[1] = 0
      for _, e in ipairs { "kernel", "interp" } do
        assert.equal(709040, (p:run(PKT60, { engine = e })), e)
      end
      local keys = {}
      for k in pairs(p.maps.l) do keys[#keys + 1] = k end
      table.sort(keys)
      assert.same({ "10.0.0.0/8", "10.1.0.0/16" }, keys)
    end)
  end)

  describe("maps", function()
    it("read, write, delete, iterate and count", function()
      local p = bpf.compile(COUNTER)
      local hits = p.maps.hits
      assert.is_nil(hits[5])
      hits[5] = 50
      hits[6] = 60
      assert.equal(50, hits[5])
      assert.equal(2, #hits)
      local seen = {}
      for k, v in pairs(hits) do seen[k] = v end
      assert.same({ [5] = 50, [6] = 60 }, seen)
      hits[5] = nil
      assert.is_nil(hits[5])
      hits[5] = nil -- deleting a missing key is fine
      assert.equal(1, #hits)
      assert.equal("hits", hits:name())
      assert.same({ name = "hits", type = 1, key_size = 4, value_size = 8, max_entries = 16,
        flags = 0, key_signed = false, value_signed = false }, hits:spec())
      assert.equal("bpf.map (hits)", tostring(hits))
    end)

    it("convert keys and values by size and signedness", function()
      local p = bpf.compile(COUNTER)
      p:run(PKT60, { engine = "interp" })
      assert.equal(-5, p.maps.vals[1])         -- i32 read back sign-extended
      assert.equal(44, p.maps.small[3])        -- u8 value: 300 truncated
      p.maps.small[0x10003] = 7                -- u16 key wraps to 3
      assert.equal(7, p.maps.small[3])
      p.maps.vals[2] = 0xffffffff              -- truncated to i32 -1
      assert.equal(-1, p.maps.vals[2])
      p.maps.hits[1.0] = 3                     -- integral floats are integers
      assert.equal(3, p.maps.hits[1])
    end)

    it("array maps read 0 when unset and nil out of range", function()
      local p = bpf.compile(COUNTER)
      local lens = p.maps.lens
      assert.equal(0, lens[3])
      assert.is_nil(lens[4])
      lens[3] = 9
      lens[3] = nil -- array entries cannot be deleted: a no-op
      assert.equal(9, lens[3])
      local n = 0
      for _ in pairs(lens) do n = n + 1 end
      assert.equal(4, n)
    end)

    it("reject keys and values of the wrong type", function()
      local hits = bpf.compile(COUNTER).maps.hits
      assert.has_error(function() return hits[1.5] end)
      assert.has_error(function() return hits["ab"] end)
      assert.has_error(function() return hits[{}] end)
      assert.has_error(function() hits[1] = "x" end)
      assert.has_error(function() hits[1] = true end)
      assert.has_error(function() return hits["\1\0\0\0"] end, "key must be an integer (got string)")
      assert.has_error(function() hits[2] = 2.5 end, "value must be an integer (got a float)")
    end)

    it("report a full hash map", function()
      local small = bpf.compile(COUNTER).maps.small
      for k = 1, 4 do small[k] = k end
      assert.has_error(function() small[5] = 5 end, "cannot update map 'small': map is full")
    end)

    it("show every CPU's slot of a per-CPU map", function()
      -- pc[0] += 1 on the CPU of the run; key 1 set from Lua: every slot
      local p = bpf.asm(".map pc percpu_hash key=4 value=8 entries=4\n" ..
        "stw [%r10-4], 0\nlddw %r1, map:pc\nmov %r2, %r10\nadd %r2, -4\ncall 1\n" ..
        "jne %r0, 0, +10\nstdw [%r10-16], 1\nlddw %r1, map:pc\nmov %r2, %r10\nadd %r2, -4\n" ..
        "mov %r3, %r10\nadd %r3, -16\nmov %r4, 0\ncall 2\nja +3\n" ..
        "ldxdw %r1, [%r0]\nadd %r1, 1\nstxdw [%r0], %r1\nmov %r0, 2\nexit\n", "pc")
      local n = bpf.num_possible_cpus()
      assert.is_true(n >= 1)
      local last = n - 1
      p:run(PKT60, { engine = "interp" })
      p:run(PKT60, { engine = "interp", cpu = last })
      p:run(PKT60, { engine = "interp", cpu = last })
      local slots = p.maps.pc:cpus(0)
      assert.equal(n, #slots)
      if n > 1 then
        assert.equal(1, slots[1])
        assert.equal(2, slots[n])
      else
        assert.equal(3, slots[1])
      end
      assert.equal(slots[1], p.maps.pc[0])      -- plain indexing: CPU 0's slot
      p.maps.pc[1] = 7                           -- a write from Lua: every slot
      for _, v in ipairs(p.maps.pc:cpus(1)) do assert.equal(7, v) end
      assert.is_nil(p.maps.pc:cpus(2))
      assert.has_error(function() p:run(PKT60, { cpu = n }) end)
    end)

    it("hand queue values to Lua; perf_event_output succeeds on the run's CPU", function()
      -- push 5 and 6 to a queue; a perf record of 8 bytes on the run's CPU
      local p = bpf.asm(".map q queue key=0 value=8 entries=4\n" ..
        ".map ev perf_event_array key=4 value=4 entries=0\n" ..
        "mov %r6, %r1\nstdw [%r10-8], 5\nlddw %r1, map:q\nmov %r2, %r10\nadd %r2, -8\n" ..
        "mov %r3, 0\ncall 87\nstdw [%r10-8], 6\nlddw %r1, map:q\nmov %r2, %r10\n" ..
        "add %r2, -8\nmov %r3, 0\ncall 87\nstdw [%r10-8], 0x41424344\nmov %r1, %r6\n" ..
        "lddw %r2, map:ev\nlddw %r3, 0xffffffff\nmov %r4, %r10\nadd %r4, -8\nmov %r5, 8\n" ..
        "call 25\nexit\n", "ev")
      local ok, r = pcall(function() return p:run(PKT60, { engine = "interp" }) end)
      assert.is_true(ok, r)
      assert.equal(0, r)   -- perf_event_output's result (the record goes to the event log)
      assert.equal(5, p.maps.q:pop())
      assert.equal(6, p.maps.q:pop())
      assert.is_nil(p.maps.q:pop())
    end)

    it("keep their object alive", function()
      local hits = bpf.compile(COUNTER).maps.hits
      collectgarbage()
      collectgarbage()
      hits[1] = 2
      assert.equal(2, hits[1])
    end)
  end)

  describe("disasm, elf, write and load", function()
    it("disassembles with source lines", function()
      local p = bpf.compile(COUNTER, { name = "counter.lua" })
      local all = p:disasm()
      assert.matches("local proto = pkt:u8%(23%)", all)
      assert.matches("exit", all)
      local one = p:disasm("stamp")
      assert.matches("pkt:set_u8%(0, 0xab%)", one)
      assert.not_matches("pkt:u8%(23%)", one)
      assert.has_error(function() p:disasm("nosuch") end)
    end)

    it("round-trips through an ELF image", function()
      local p = bpf.compile(COUNTER, { name = "counter.lua" })
      local image = p:elf()
      assert.equal("\127ELF", image:sub(1, 4))
      local q = bpf.elf(image, "counter.o")
      assert.same({ "count", "stamp" }, q:progs())
      assert.equal("Dual MIT/GPL", q:license())
      assert.equal(bpf.xdp.PASS, (q:run(PKT60, { engine = "interp" })))
      assert.equal(1, q.maps.hits[17])
      assert.equal(-5, q.maps.vals[1])        -- signedness survives BTF
    end)

    it("writes and loads object files", function()
      local path = tmpname() .. ".o"
      local p = bpf.compile(COUNTER)
      assert.is_true(p:write(path))
      local q = bpf.load(path)
      os.remove(path)
      assert.same({ "count", "stamp" }, q:progs())
      assert.is_true((q:verify()))
    end)

    it("loads .lua sources", function()
      local q = bpf.load(SRC .. "/examples/filter.lua")
      assert.same({ "filter" }, q:progs())
    end)

    it("raises clear errors for bad files", function()
      assert.has_error(function() bpf.load("/nonexistent/x.o") end)
      assert.has_error(function() bpf.load("/nonexistent/x.lua") end)
      local path = tmpname()
      local f = assert(io.open(path, "wb"))
      f:write(("garbage"):rep(100))
      f:close()
      local ok, err = pcall(bpf.load, path)
      os.remove(path)
      assert.is_false(ok)
      assert.is_string(err)
      assert.has_error(function() bpf.elf("\127ELF and then nothing") end)
      assert.has_error(function() bpf.compile(COUNTER):write("/nonexistent/dir/x.o") end)
    end)
  end)

  describe("asm", function()
    it("assembles a program with maps", function()
      local p = bpf.asm(".map m array key=4 value=8 entries=2\nmov %r0, 3\nexit\n", "three")
      assert.same({ "three" }, p:progs())
      assert.equal(3, (p:run(PKT60, { engine = "interp" })))
      assert.equal(0, p.maps.m[1])
    end)

    it("raises on bad assembly", function()
      local ok, err = pcall(bpf.asm, "frobnicate %r0\nexit\n")
      assert.is_false(ok)
      assert.matches("frobnicate", err)
      assert.has_error(function() bpf.asm() end)
    end)
  end)
end)
