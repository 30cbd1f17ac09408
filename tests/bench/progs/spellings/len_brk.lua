-- a constant bound with a length test that breaks, stepping by 4
license "GPL"

function xdp.len_brk(pkt)
  local s = 0
  for i = 0, 4000, 4 do
    if i + 3 >= #pkt then break end
    s = s ~ (pkt:u8(i) + pkt:u8(i + 3) * 3)
  end
  return s & 0xffff
end
