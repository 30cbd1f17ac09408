-- Fletcher-style sums over at most 1500 bytes, the length test written
-- i >= #pkt inside a constant bound
license "GPL"

function xdp.fletch_ge(pkt)
  local a, b = 0, 0
  for i = 0, 1499 do
    if i >= #pkt then break end
    a = a + pkt:u8(i)
    b = b + a
  end
  return ((b & 0xff) << 8 | (a & 0xff))
end
