-- a hash map updated in a loop: counts of byte values, then the largest
license "GPL"

local cnt = map.hash { key = u32, value = u64, max_entries = 256 }

function xdp.map_hash(pkt)
  local n = #pkt
  if n > 128 then n = 128 end
  for i = 0, n - 1 do
    local b = pkt:u8(i) & 31
    cnt[b] = (cnt[b] or 0) + 1
  end
  local best = 0
  for b = 0, 31 do
    local v = cnt[b] or 0
    if v > best then best = v end
    cnt[b] = nil
  end
  return best
end
