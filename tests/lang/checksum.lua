-- checksum.lua: the IPv4 header checksum, verified and recomputed
local function fold(s)
  s = (s & 0xffff) + (s >> 16)
  s = (s & 0xffff) + (s >> 16)
  return s
end

function xdp.ip_csum_ok(pkt)
  if #pkt < 34 or pkt:be16(12) ~= 0x0800 then return xdp.PASS end
  local ihl = (pkt:u8(14) & 0x0f) * 4
  if ihl < 20 or 14 + ihl > #pkt then return xdp.DROP end
  local s = 0
  for i = 0, ihl // 2 - 1 do
    s = s + pkt:be16(14 + i * 2)
  end
  if fold(s) == 0xffff then return xdp.TX end
  return xdp.DROP
end

function xdp.sum16(pkt)
  local s = 0
  for i = 0, #pkt // 2 - 1 do s = s + pkt:be16(i * 2) end
  if #pkt % 2 == 1 then s = s + (pkt:u8(#pkt - 1) << 8) end
  return ~fold(s) & 0xffff
end
