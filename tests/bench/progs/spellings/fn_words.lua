-- a while loop in a local function: its offset argument stepped by 2,
-- called twice (even and odd offsets)
license "GPL"

local function sum_words(pkt, off, stop)
  local s = 0
  for _ = 1, 1000 do
    if off + 2 > stop then break end
    s = s + pkt:be16(off)
    off = off + 2
  end
  return s
end

function xdp.fn_words(pkt)
  return (sum_words(pkt, 0, #pkt) * 3 + sum_words(pkt, 1, #pkt)) & 0xffffff
end
