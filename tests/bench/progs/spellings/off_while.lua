-- an offset of its own stepped by 4 at the end of every iteration (a
-- while loop written as a for), the end tested before each read
license "GPL"

function xdp.off_while(pkt)
  local off, s = 0, 0
  for _ = 1, 1000 do
    if off + 4 > #pkt then break end
    s = s + (pkt:be32(off) ~ off)
    off = off + 4
  end
  return s & 0xffffffff
end
