-- short inner loops whose bound is a packet byte, the outer bound from #pkt
license "GPL"

function xdp.short_pkt(pkt)
  local acc = 0
  for i = 0, #pkt - 1 do
    for j = 0, pkt:u8(i) & 3 do
      acc = acc + (i ~ j)
    end
  end
  return acc & 0xffffff
end
