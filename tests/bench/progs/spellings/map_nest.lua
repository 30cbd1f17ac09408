-- map values read and written in a nested loop: a histogram of pair sums
license "GPL"

local hist = map.array { value = u64, max_entries = 64 }

function xdp.map_nest(pkt)
  if #pkt < 16 then return xdp.ABORTED end
  for k = 0, 63 do
    hist[k] = 0
  end
  for i = 0, 15 do
    for j = i, 15 do
      local k = (pkt:u8(i) + pkt:u8(j)) & 63
      hist[k] = (hist[k] or 0) + 1
    end
  end
  local best = 0
  for k = 0, 63 do
    local v = hist[k] or 0
    if v > best then best = v end
  end
  return best
end
