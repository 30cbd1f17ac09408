-- tc_flows.lua: counts IPv4 packets per (destination, protocol) in a map
-- with record keys and values, beside an LPM map with initial contents
-- (attach_tc.sh checks that the live view shows both field by field)
local Flow = record { daddr = u32, proto = u8 }
local Cnt = record { packets = u64, bytes = u32 }
local flows = map.hash { key = Flow, value = Cnt, max_entries = 64 }
local nets = map.lpm { value = u32, max_entries = 4, init = { ["10.198.0.0/30"] = 7 } }

function tc.acct(pkt)
  if #pkt < 34 or pkt.protocol ~= 0x0800 then return tc.OK end
  local f = Flow { daddr = pkt:be32(30), proto = pkt:u8(23) }
  local s = flows[f]
  if s then
    s.packets = s.packets + 1
    s.bytes = s.bytes + #pkt
  else
    flows[f] = Cnt { packets = 1, bytes = #pkt }
  end
  return tc.OK
end
