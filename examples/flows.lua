-- flows.lua: packets and bytes per IPv4 flow (the 5-tuple), in a hash map.
--
--   bpflua run examples/flows.lua --pcap examples/traffic.pcap --quiet --dump-maps
license "GPL"

local Flow  = record { saddr = u32, daddr = u32, sport = u16, dport = u16, proto = u8 }
local Stats = record { packets = u64, bytes = u64 }
local flows = map.hash { key = Flow, value = Stats, max_entries = 4096 }

function xdp.account(pkt)
  if #pkt < 34 or pkt:be16(12) ~= 0x0800 then return xdp.PASS end
  local f = Flow { saddr = pkt:be32(26), daddr = pkt:be32(30), proto = pkt:u8(23) }
  -- ports of TCP and UDP (an IPv4 header without options)
  if (f.proto == 6 or f.proto == 17) and #pkt >= 38 then
    f.sport, f.dport = pkt:be16(34), pkt:be16(36)
  end
  local s = flows[f]
  if s then
    s.packets = s.packets + 1          -- in place, in the map's own value
    s.bytes = s.bytes + #pkt
  else
    flows[f] = Stats { packets = 1, bytes = #pkt }
  end
  return xdp.PASS
end
