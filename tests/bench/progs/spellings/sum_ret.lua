-- a plain sum with an early return on a packet byte (at the end)
license "GPL"

function xdp.sum_ret(pkt)
  local s = 0
  for i = 0, #pkt - 1 do
    local b = pkt:u8(i)
    if b == 0 and i > 200 then return s & 0xffff end
    s = s + b * (i & 7)
  end
  return (s + 1) & 0xffff
end
