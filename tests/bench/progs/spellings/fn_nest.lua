-- a nest in a local function, called twice with different bounds
license "GPL"

local function tri(seed, a, b)
  local s = 0
  for i = a, b do
    for j = a, i do
      s = s + ((i * j) ~ seed)
    end
  end
  return s
end

function xdp.fn_nest(pkt)
  if #pkt < 1 then return xdp.ABORTED end
  local seed = pkt:u8(0)
  return (tri(seed, 0, 29) + tri(seed, 10, 39)) & 0xffffff
end
