-- 16-bit ones' complement checksum (the IPv4 header algorithm) over the
-- whole packet, 1000 bytes in the bench packet.
license "GPL"

function xdp.checksum(pkt)
  local words = #pkt // 2
  local s = 0
  for i = 0, words - 1 do
    s = s + pkt:be16(i * 2)
  end
  s = (s & 0xffff) + (s >> 16)
  s = (s & 0xffff) + (s >> 16)
  return ~s & 0xffff
end
