-- three deep, steps -3, 3 and 1, each bound from an outer index
license "GPL"

function xdp.nest3_step3(pkt)
  if #pkt < 1 then return xdp.ABORTED end
  local seed = pkt:u8(0)
  local acc = 0
  for i = 45, 0, -3 do
    for j = 0, i, 3 do
      for k = j, i do
        acc = acc + (i ~ j ~ k ~ seed)
      end
    end
  end
  return acc & 0xffffff
end
