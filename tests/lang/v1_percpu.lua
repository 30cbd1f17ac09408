-- v1_percpu.lua: per-CPU counters (a run sees CPU 0's slot), integer and
-- record values, initial contents in every slot
local Count = record { packets = u64, small = u16 }
local hits = map.percpu_array { value = u64, max_entries = 8, init = { [1] = 100, [7] = -1 } }
local per_proto = map.percpu_hash { key = u8, value = Count, max_entries = 16,
  init = { [17] = Count { packets = 1000 } } }

function xdp.count(pkt)
  local i = #pkt & 7
  hits[i] = (hits[i] or 0) + 1
  return hits[i] or 0
end

function xdp.by_proto(pkt)
  if #pkt < 24 then return xdp.PASS end
  local c = per_proto[pkt:u8(23)]
  if c then
    c.packets = c.packets + 1
    c.small = c.small + #pkt
    return c.packets & 0xff
  end
  per_proto[pkt:u8(23)] = Count { packets = 1, small = #pkt }
  return 1
end

function xdp.drop_proto(pkt)
  if #pkt > 200 then per_proto[pkt:u8(23)] = nil end
  hits[#pkt & 7] = nil      -- array entries cannot be deleted: nothing happens
  return xdp.PASS
end
