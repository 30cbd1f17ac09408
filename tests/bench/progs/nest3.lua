-- three nested loops, each bound from the index outside it.
license "GPL"

function xdp.nest3_up(pkt)
  if #pkt < 1 then return xdp.ABORTED end
  local seed = pkt:u8(0)
  local acc = 0
  for i = 0, 15 do
    for j = 0, i do
      for k = 0, j do
        acc = acc + (i ~ j ~ k ~ seed)
      end
    end
  end
  return acc & 0xffffff
end

function xdp.nest3_down(pkt)
  if #pkt < 1 then return xdp.ABORTED end
  local seed = pkt:u8(0)
  local acc = 0
  for i = 15, 0, -1 do
    for j = i, 0, -1 do
      for k = j, 0, -1 do
        acc = acc + (i ~ j ~ k ~ seed)
      end
    end
  end
  return acc & 0xffffff
end
