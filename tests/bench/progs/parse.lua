-- header parsing filter: Ethernet (with one optional VLAN tag), IPv4 or
-- IPv6, then TCP/UDP ports. Drops telnet and SMB, counts packets per
-- verdict class, passes the rest.
license "GPL"

local ETH_P_IP = 0x0800
local ETH_P_IPV6 = 0x86DD
local ETH_P_8021Q = 0x8100

local seen = map.array { value = u64, max_entries = 8 }

local function blocked(port)
  if port == 23 or port == 445 then return true end
  return false
end

function xdp.parse(pkt)
  if #pkt < 14 then return xdp.ABORTED end
  local off = 12
  local proto = pkt:be16(off)
  if proto == ETH_P_8021Q then
    if #pkt < 18 then return xdp.DROP end
    off = 16
    proto = pkt:be16(off)
  end
  off = off + 2
  local l4proto = 0
  if proto == ETH_P_IP then
    if off + 20 > #pkt then return xdp.DROP end
    l4proto = pkt:u8(off + 9)
    off = off + (pkt:u8(off) & 0x0f) * 4
  elseif proto == ETH_P_IPV6 then
    if off + 40 > #pkt then return xdp.DROP end
    l4proto = pkt:u8(off + 6)
    off = off + 40
  else
    seen[0] = (seen[0] or 0) + 1
    return xdp.PASS
  end
  if l4proto ~= 6 and l4proto ~= 17 then
    seen[1] = (seen[1] or 0) + 1
    return xdp.PASS
  end
  if off + 4 > #pkt then return xdp.DROP end
  local dport = pkt:be16(off + 2)
  if blocked(dport) then
    seen[2] = (seen[2] or 0) + 1
    return xdp.DROP
  end
  seen[3] = (seen[3] or 0) + 1
  return xdp.PASS
end
