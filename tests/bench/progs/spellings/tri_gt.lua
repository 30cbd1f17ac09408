-- two deep, the inner index from the outer one, a break written with >
-- on their sum, packet bytes read at both
license "GPL"

function xdp.tri_gt(pkt)
  if #pkt < 32 then return xdp.ABORTED end
  local acc = 0
  for i = 0, 31 do
    local a = pkt:u8(i)
    for j = i, 31 do
      if i + j > 40 then break end
      acc = acc + (a ~ pkt:u8(j)) * (j - i + 1)
    end
  end
  return acc & 0xffffff
end
