-- an early return inside a nest: the first 16-bit word that repeats in
-- the first 64 bytes (none in the survey's packet), inner bound from the
-- outer index
license "GPL"

function xdp.pair_ret(pkt)
  if #pkt < 66 then return xdp.ABORTED end
  for i = 0, 61 do
    local w = pkt:be16(i)
    for j = i + 2, 63 do
      if pkt:be16(j) == w then return i * 256 + j end
    end
  end
  return 1
end
