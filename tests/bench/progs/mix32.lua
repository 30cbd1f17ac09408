-- a 32 x 32 nested loop mixing a hash: multiply, xor, shift.
license "GPL"

function xdp.mix32_two(pkt)
  if #pkt < 1 then return xdp.ABORTED end
  local acc = pkt:u8(0)
  for i = 0, 31 do
    for j = 0, 31 do
      acc = acc * 31 + (i ~ j)
      acc = acc ~ (acc >> 7)
    end
  end
  return acc & 0xffffff
end

function xdp.mix32_tmp(pkt)
  if #pkt < 1 then return xdp.ABORTED end
  local acc = pkt:u8(0)
  for i = 0, 31 do
    for j = 0, 31 do
      local t = acc * 31 + (i ~ j)
      acc = t ~ (t >> 7)
    end
  end
  return acc & 0xffffff
end
