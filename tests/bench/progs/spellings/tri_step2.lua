-- a triangle counted by 2 up and by -2 down, inner bound from the outer index
license "GPL"

function xdp.tri_step2(pkt)
  if #pkt < 1 then return xdp.ABORTED end
  local seed = pkt:u8(0)
  local acc = 0
  for i = 0, 94, 2 do
    for j = i, 0, -2 do
      acc = acc + ((i + j) ~ seed)
    end
  end
  return acc & 0xffffff
end
