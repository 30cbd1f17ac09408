-- short inner loops stepping down by 2 from a bound of the outer index
license "GPL"

function xdp.short_step(pkt)
  if #pkt < 1 then return xdp.ABORTED end
  local seed = pkt:u8(0)
  local acc = 0
  for i = 0, 299 do
    for j = i & 7, 0, -2 do
      acc = acc + (i ~ j ~ seed)
    end
  end
  return acc & 0xffffff
end
