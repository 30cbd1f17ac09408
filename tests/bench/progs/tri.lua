-- nested loops, the inner bound from the outer index (a triangle).
license "GPL"

function xdp.tri_up(pkt)
  if #pkt < 1 then return xdp.ABORTED end
  local seed = pkt:u8(0)
  local acc = 0
  for i = 0, 47 do
    for j = 0, i do
      acc = acc + ((i * j) ~ seed)
    end
  end
  return acc & 0xffffff
end

function xdp.tri_down(pkt)
  if #pkt < 1 then return xdp.ABORTED end
  local seed = pkt:u8(0)
  local acc = 0
  for i = 47, 0, -1 do
    for j = i, 0, -1 do
      acc = acc + ((i * j) ~ seed)
    end
  end
  return acc & 0xffffff
end
