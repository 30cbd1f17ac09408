-- randprog_v1_spec.lua: the differential oracle on random programs of
-- language version 1 (tests/lang/randprog.lua, generate_v1): records of
-- every field type as hash keys and values, references with nil tests and
-- in-place updates, `m[k] or R {...}`, per-CPU, LPM and ring buffer maps,
-- `init`, tc programs with socket-buffer fields. Each program runs on every
-- packet under the prelude (stock Lua 5.4) and compiled in the interpreter
-- and the JIT (the kernel too for the first seeds, where bpf(2) works);
-- verdicts, rewritten packets, events, mark/priority and map contents must
-- agree (tests/lang/difftest.lua).
local SRC = os.getenv("BPFLUA_SRC") or "."
package.path = SRC .. "/tests/lang/?.lua;" .. package.path

local SEEDS, KERNEL_SEEDS = 80, 20

local okb, bpf = pcall(require, "bpf")
local have_bpf = okb and type(bpf) == "table" and bpf.compile ~= nil
local difftest = require "difftest"
local packets = require "packets"
local randprog = require "randprog"

local kernel_ok, kernel_why = false, "the bpf module is not available"
if have_bpf then kernel_ok, kernel_why = difftest.kernel_available() end

describe("random version 1 programs", function()
  it("cover every construct of version 1 over seeds 1.." .. SEEDS, function()
    -- a generator that stopped writing one of these would leave it untested
    local want = {
      record = "= record {", hash_key = "key = R1", percpu_array = "map.percpu_array",
      percpu_hash = "map.percpu_hash", lru = "map.lru_hash", lpm_init = 'init = { ["',
      lpm_set = "lp:set(", lpm_delete = ", nil)", ringbuf = "map.ringbuf", emit_record = "ev:emit(R3",
      emit_int = "evn:emit(", emit_ref = "evv:emit(", ref_test = "if not s", or_ctor = "] or R2 {",
      tc = "function tc.", mark_write = "pkt.mark = ", skb_read = "pkt.ingress_ifindex",
      tc_verdict = "tc.UNSPEC", pairs_rec = "in pairs(hk)", alias = "local r%d+ = r%d+\n",
      rec_init = "init = { [R1 {", field_write = "%.[%w_]+ = [%w_]+%.[%w_]+ %+",
    }
    local seen = {}
    for seed = 1, SEEDS do
      local src = randprog.generate_v1(seed)
      for k, pat in pairs(want) do
        if not seen[k] and src:find(pat, 1, not pat:find("%%")) then seen[k] = true end
      end
    end
    local missing = {}
    for k in pairs(want) do if not seen[k] then missing[#missing + 1] = k end end
    table.sort(missing)
    assert.are.same({}, missing)
  end)

  it("agree: prelude == interp == JIT on seeds 1.." .. SEEDS, function()
    if not have_bpf then pending("the bpf module is not available: " .. tostring(bpf)) return end
    local bad = {}
    for seed = 1, SEEDS do
      local src = randprog.generate_v1(seed)
      local problems = difftest.run_file(src, "v1rand" .. seed .. ".lua", packets, { "interp", "jit" })
      if #problems > 0 then bad[#bad + 1] = "seed " .. seed .. ": " .. problems[1] end
    end
    assert.are.same({}, bad)
  end)

  it("agree: prelude == kernel on seeds 1.." .. KERNEL_SEEDS, function()
    if not kernel_ok then
      print("kernel engine skipped: " .. tostring(kernel_why))
      pending("kernel engine unavailable: " .. tostring(kernel_why))
      return
    end
    local bad = {}
    for seed = 1, KERNEL_SEEDS do
      local src = randprog.generate_v1(seed)
      local problems = difftest.run_file(src, "v1rand" .. seed .. ".lua", packets, { "kernel" })
      if #problems > 0 then bad[#bad + 1] = "seed " .. seed .. ": " .. problems[1] end
    end
    assert.are.same({}, bad)
  end)
end)
