-- drop.lua: the dropping filter of tests/cli/attach.sh, in bpflua.
-- Drops IPv4 UDP packets to port 9999, counted per source address.
license "GPL"

local drops = map.hash { key = u32, value = u64, max_entries = 64 }

function xdp.drop_udp(pkt)
  if #pkt < 42 then return xdp.PASS end
  if pkt:be16(12) ~= 0x0800 or pkt:u8(14) ~= 0x45 or pkt:u8(23) ~= 17 then
    return xdp.PASS
  end
  if pkt:be16(36) ~= 9999 then return xdp.PASS end
  local src = pkt:be32(26)
  drops[src] = (drops[src] or 0) + 1
  return xdp.DROP
end
