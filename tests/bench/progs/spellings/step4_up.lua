-- little-endian 32-bit words stepping by 4 up to a constant, the length
-- test written off + 4 > #pkt
license "GPL"

function xdp.step4_up(pkt)
  local acc = 0
  for off = 0, 1496, 4 do
    if off + 4 > #pkt then break end
    acc = acc + (pkt:le32(off) ~ off)
  end
  return acc & 0xffffffff
end
