-- nested 2 deep, inner bound i * 2, a condition in the body
license "GPL"

function xdp.nest2_cond(pkt)
  if #pkt < 1 then return xdp.ABORTED end
  local seed = pkt:u8(0)
  local acc, odd = 0, 0
  for i = 1, 24 do
    for j = 1, i * 2 do
      if (j & 1) == 1 then
        odd = odd + 1
      else
        acc = acc + ((i * j) ~ seed)
      end
    end
  end
  return (acc + odd) & 0xffffff
end
