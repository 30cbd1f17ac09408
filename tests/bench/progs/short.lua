-- nested loops whose inner loop runs 1 to 4 times (its bound from the outer
-- index): the cost of starting and ending a loop, not of its iterations.
license "GPL"

function xdp.short_up(pkt)
  if #pkt < 1 then return xdp.ABORTED end
  local seed = pkt:u8(0)
  local acc = 0
  for i = 0, 199 do
    for j = 0, i & 3 do
      acc = acc + (i ~ j ~ seed)
    end
  end
  return acc & 0xffffff
end

function xdp.short_down(pkt)
  if #pkt < 1 then return xdp.ABORTED end
  local seed = pkt:u8(0)
  local acc = 0
  for i = 199, 0, -1 do
    for j = i & 3, 0, -1 do
      acc = acc + (i ~ j ~ seed)
    end
  end
  return acc & 0xffffff
end

-- the same with a test on acc in the inner loop (never true): the kernel
-- would track acc exactly, so the compiler launders it every iteration
function xdp.short_ret(pkt)
  if #pkt < 1 then return xdp.ABORTED end
  local seed = pkt:u8(0)
  local acc = 0
  for i = 0, 199 do
    for j = 0, i & 3 do
      acc = acc + (i ~ j ~ seed)
      if acc > 0xfffffff then return xdp.DROP end
    end
  end
  return acc & 0xffffff
end
