-- three deep, constant bounds, the middle loop broken on the outer index
license "GPL"

function xdp.nest3_brk(pkt)
  if #pkt < 1 then return xdp.ABORTED end
  local seed = pkt:u8(0)
  local acc = 0
  for i = 0, 15 do
    for j = 0, 15 do
      if j > i then break end
      for k = 0, 3 do
        acc = acc + ((i + j * k) ~ seed)
      end
    end
  end
  return acc & 0xffffff
end
