-- v1_spell_flows.lua: flow accounting written another way: ';' between
-- fields, comments in the record, a key built field by field, a
-- multiple assignment of fields, 's == nil' then early return, pairs that
-- copies record keys into another map, emits map values, deletes while iterating
local Flow = record { saddr = u32; daddr = u32; sport = u16; dport = u16; proto = u8; }
local Stats = record {
  packets = u64,   -- packets seen
  bytes = u64,
  first = i32,
}
local flows = map.hash { key = Flow, value = Stats, max_entries = 64 }
local top = map.hash { key = Flow, value = u64, max_entries = 64 }
local events = map.ringbuf { size = 4096 }

function xdp.acct(pkt)
  if #pkt < 38 then return xdp.PASS end
  local f = Flow {}
  f.saddr = pkt:be32(26)
  f.daddr = pkt:be32(30)
  f.proto = pkt:u8(23)
  f.sport, f.dport = pkt:be16(34), pkt:be16(36)
  local s = flows[f]
  if s == nil then
    flows[f] = Stats { packets = 1, bytes = #pkt, first = -1 }
    return xdp.PASS
  end
  s.packets = s.packets + 1
  s.bytes = s.bytes + #pkt
  return xdp.PASS
end

function xdp.sweep(pkt)
  local n = 0
  for k, v in pairs(flows) do
    if v.packets > 1 then
      top[k] = v.packets
      events:emit(v)
      n = n + 1
    end
  end
  return n
end

function xdp.prune(pkt)
  for k, v in pairs(flows) do
    if v.bytes > 100 then flows[k] = nil end
  end
  return 0
end
