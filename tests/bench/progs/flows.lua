-- flow accounting: packets and bytes per IPv4 5-tuple (a record key of five
-- fields, a record value updated in place), as examples/flows.lua.
license "GPL"

local Flow  = record { saddr = u32, daddr = u32, sport = u16, dport = u16, proto = u8 }
local Stats = record { packets = u64, bytes = u64 }
local by_flow = map.hash { key = Flow, value = Stats, max_entries = 4096 }

function xdp.flows(pkt)
  if #pkt < 34 or pkt:be16(12) ~= 0x0800 then return xdp.PASS end
  local f = Flow { saddr = pkt:be32(26), daddr = pkt:be32(30), proto = pkt:u8(23) }
  if (f.proto == 6 or f.proto == 17) and #pkt >= 38 then
    f.sport, f.dport = pkt:be16(34), pkt:be16(36)
  end
  local s = by_flow[f]
  if s then
    s.packets = s.packets + 1
    s.bytes = s.bytes + #pkt
  else
    by_flow[f] = Stats { packets = 1, bytes = #pkt }
  end
  return xdp.PASS
end
