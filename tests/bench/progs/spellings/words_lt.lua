-- 16-bit words stepped by 2, the length test written #pkt - i < 2
license "GPL"

function xdp.words_lt(pkt)
  local s = 0
  for i = 0, 1998, 2 do
    if #pkt - i < 2 then break end
    s = s + pkt:be16(i)
  end
  s = (s & 0xffff) + (s >> 16)
  return s & 0xffff
end
