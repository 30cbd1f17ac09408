-- windows over the packet: the outer loop by 8 up to #pkt, the inner over the window
license "GPL"

function xdp.pkt_win(pkt)
  local n = #pkt
  local acc = 0
  for i = 0, n - 8, 8 do
    local w = 0
    for j = i, i + 7 do
      w = w + pkt:u8(j)
    end
    acc = acc ~ (w * (i + 1))
  end
  return acc & 0xffffff
end
