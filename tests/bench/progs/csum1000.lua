-- 16-bit ones' complement checksum over the first 1000 bytes of the
-- packet, three ways a user writes it: a constant bound with a length
-- test that breaks, a bound derived from #pkt, a word index.
license "GPL"

local function fold(s)
  s = (s & 0xffff) + (s >> 16)
  s = (s & 0xffff) + (s >> 16)
  return ~s & 0xffff
end

function xdp.csum1000_brk(pkt)
  local s = 0
  for i = 0, 998, 2 do
    if i + 2 > #pkt then break end
    s = s + pkt:be16(i)
  end
  return fold(s)
end

function xdp.csum1000_len(pkt)
  local n = #pkt
  if n > 1000 then n = 1000 end
  local s = 0
  for i = 0, n - 2, 2 do
    s = s + pkt:be16(i)
  end
  return fold(s)
end

function xdp.csum1000_word(pkt)
  local s = 0
  for w = 0, 499 do
    if w * 2 + 2 > #pkt then break end
    s = s + pkt:be16(w * 2)
  end
  return fold(s)
end
