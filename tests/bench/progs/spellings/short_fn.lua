-- a short inner loop (1-4 iterations) in a local function called per outer iteration
license "GPL"

local function mix(i, seed)
  local s = 0
  for j = 0, i & 3 do
    s = s + (i ~ j ~ seed)
  end
  return s
end

function xdp.short_fn(pkt)
  if #pkt < 1 then return xdp.ABORTED end
  local seed = pkt:u8(0)
  local acc = 0
  for i = 0, 199 do
    acc = acc + mix(i, seed)
  end
  return acc & 0xffffff
end
