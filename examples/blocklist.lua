-- blocklist.lua: drop IPv4 packets from blocked prefixes (a longest-prefix
-- match on the source address) and report each drop as an event.
--
--   bpflua run examples/blocklist.lua --pcap examples/traffic.pcap
license "GPL"

local Drop = record { saddr = u32, rule = u32, len = u16 }
local blocked = map.lpm { value = u32, max_entries = 1024,
                          init = { ["192.168.1.0/24"] = 1, ["10.0.0.7/32"] = 2 } }
local drops = map.ringbuf { size = 4096 }

function xdp.blocklist(pkt)
  if #pkt < 34 or pkt:be16(12) ~= 0x0800 then return xdp.PASS end
  local src = pkt:be32(26)
  local rule = blocked[src] or 0     -- rules are numbered from 1
  if rule ~= 0 then
    drops:emit(Drop { saddr = src, rule = rule, len = #pkt })
    return xdp.DROP
  end
  return xdp.PASS
end
