-- v1_spell_maps.lua: LPM with record values (init /0 and /32), LPM reads
-- feeding m:set, percpu_array in a loop, percpu_hash via m[k] or R{},
-- pairs over per-CPU maps, tc mark arithmetic with events
local Rule = record { action = u8, hits = u32 }
local nets = map.lpm { value = Rule, max_entries = 8, init = { ["0.0.0.0/0"] = Rule { action = 1 }, ["192.0.2.1/32"] = Rule { action = 9, hits = 100 } } }
local plain = map.lpm { value = u16, max_entries = 8 }
local pc = map.percpu_array { value = u64, max_entries = 4, init = { [0] = 5, [3] = 7 } }
local ph = map.percpu_hash { key = u16, value = Rule, max_entries = 8 }
local ev = map.ringbuf { size = 4096 }
local Ev = record { addr = u32, len = u16 }

function xdp.classify(pkt)
  if #pkt < 34 then return xdp.ABORTED end
  local src = pkt:be32(26)
  local r = nets[src]
  if not r then return xdp.PASS end
  r.hits = r.hits + 1
  plain:set(src, 24, (plain[src] or 0) + 1)
  plain:set(src, 0, 77)
  if r.action == 9 then
    ev:emit(Ev { addr = src, len = #pkt })
    return xdp.DROP
  end
  return r.action
end

function xdp.counters(pkt)
  for i = 0, 3 do
    pc[i] = (pc[i] or 0) + i + 1
  end
  local k = pkt:u8(0) & 3
  local e = ph[k] or Rule { action = 3 }
  e.hits = e.hits + #pkt
  ph[k] = e
  local total = 0
  for key, v in pairs(ph) do total = total + key + v.hits end
  for key, v in pairs(pc) do total = total + v end
  return total & 0xff
end

function tc.marker(pkt)
  if pkt.protocol ~= 0x0800 then
    pkt.mark = pkt.mark | 0x100
    return tc.OK
  end
  local p = pkt:u8(23)
  pkt.priority = p * 2
  pkt.mark = (pkt.mark << 4) + p
  if p == 17 then return tc.SHOT end
  if p == 6 then return tc.UNSPEC end
  ev:emit(Ev { addr = pkt.mark, len = pkt.ifindex })
end
