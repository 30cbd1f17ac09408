-- nested loops: 32 x 32 arithmetic seeded by the first packet byte.
license "GPL"

function xdp.nested(pkt)
  if #pkt < 1 then return xdp.ABORTED end
  local seed = pkt:u8(0)
  local acc = 0
  for i = 0, 31 do
    for j = 0, 31 do
      acc = acc + ((i * j) ~ seed)
    end
  end
  return acc & 0xffffff
end
