-- map values updated in a nest: column sums of 16 rows of 8 bytes into
-- an array map, then the largest
license "GPL"

local col = map.array { value = u64, max_entries = 8 }

function xdp.map_cols(pkt)
  if #pkt < 128 then return xdp.ABORTED end
  for c = 0, 7 do col[c] = 0 end
  for r = 0, 15 do
    for c = 0, 7 do
      col[c] = (col[c] or 0) + pkt:u8(r * 8 + c)
    end
  end
  local best = 0
  for c = 0, 7 do
    local v = col[c] or 0
    if v > best then best = v end
  end
  return best
end
