-- a triangle with a constant inner bound and a break on the outer index
license "GPL"

function xdp.tri_brk(pkt)
  if #pkt < 1 then return xdp.ABORTED end
  local seed = pkt:u8(0)
  local acc = 0
  for i = 0, 39 do
    for j = 0, 39 do
      if j > i then break end
      acc = acc + ((i * j) ~ seed)
    end
  end
  return acc & 0xffffff
end
