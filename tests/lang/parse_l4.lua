-- parse_l4.lua: a header walk with a run-time IHL, ports and a block list
local blocked = map.hash { key = u16, value = u8, max_entries = 16 }
local ETH_P_IP = 0x0800
local IPPROTO_UDP, IPPROTO_TCP = 17, 6

local function l4_offset(ihl_byte) return 14 + (ihl_byte & 0x0f) * 4 end

function xdp.setup(pkt)
  blocked[23] = 1
  blocked[6003] = 1
  return xdp.PASS
end

function xdp.filter(pkt)
  if #pkt < 34 then return xdp.PASS end
  if pkt:be16(12) ~= ETH_P_IP then return xdp.PASS end
  local proto = pkt:u8(23)
  if proto ~= IPPROTO_UDP and proto ~= IPPROTO_TCP then return xdp.PASS end
  local l4 = l4_offset(pkt:u8(14))
  if l4 + 4 > #pkt then return xdp.ABORTED end
  local dport = pkt:be16(l4 + 2)
  if blocked[dport] then return xdp.DROP end
  return 100 + proto
end
