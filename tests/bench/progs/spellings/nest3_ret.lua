-- three deep with an early return in the innermost loop (never taken)
license "GPL"

function xdp.nest3_ret(pkt)
  if #pkt < 1 then return xdp.ABORTED end
  local seed = pkt:u8(0)
  local acc = 0
  for i = 0, 15 do
    for j = 0, i do
      for k = j, i do
        acc = acc + (i ~ j ~ k ~ seed)
        if acc > 0xfffffff then return xdp.DROP end
      end
    end
  end
  return acc & 0xffffff
end
