-- 32-bit words from the end of the packet, stepping by -4
license "GPL"

function xdp.step4_down(pkt)
  local s, n = 0, 0
  for i = #pkt - 4, 0, -4 do
    s = s ~ pkt:be32(i)
    n = n + 1
  end
  return (s ~ n) & 0xffffffff
end
