-- v1_events.lua: events into ring buffers (records and integers), a small
-- buffer that fills up (dropped events are counted, the program goes on)
local Drop = record { saddr = u32, len = u16, proto = u8 }
local drops = map.ringbuf { size = 65536 }
local lens = map.ringbuf { size = 4096 }
local count = map.array { value = u64, max_entries = 1 }

function xdp.report(pkt)
  if #pkt < 34 or pkt:be16(12) ~= 0x0800 then
    lens:emit(#pkt)
    return xdp.PASS
  end
  local d = Drop { saddr = pkt:be32(26), len = #pkt, proto = pkt:u8(23) }
  if d.proto == 17 then
    drops:emit(d)
    return xdp.DROP
  end
  d.len = d.len + 1000
  drops:emit(d)
  drops:emit(Drop { saddr = 1 })
  return xdp.PASS
end

function xdp.flood(pkt)
  for i = 1, 400 do
    lens:emit(i * 1000 + pkt:u8(0))
  end
  count[0] = (count[0] or 0) + 1
  return xdp.TX
end
