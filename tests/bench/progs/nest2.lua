-- nested 2 deep with steps other than 1 and bounds affine in the outer index
-- (empty inner loops for some outer values).
license "GPL"

function xdp.nest2_step(pkt)
  if #pkt < 1 then return xdp.ABORTED end
  local seed = pkt:u8(0)
  local acc = 0
  for i = 0, 60, 2 do
    for j = i, 90, 3 do
      acc = acc + ((i + j) ~ seed)
    end
  end
  return acc & 0xffffff
end

function xdp.nest2_affine(pkt)
  if #pkt < 1 then return xdp.ABORTED end
  local seed = pkt:u8(0)
  local acc = 0
  for i = 40, 1, -1 do
    for j = 40 - i, 2 * i, 2 do
      acc = acc + ((i * j) ~ seed)
    end
  end
  return acc & 0xffffff
end
