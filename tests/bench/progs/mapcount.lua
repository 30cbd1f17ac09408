-- map counting: count the first 64 bytes of the packet in a hash map.
license "GPL"

local counts = map.hash { key = u32, value = u64, max_entries = 1024 }

function xdp.mapcount(pkt)
  if #pkt < 64 then return xdp.ABORTED end
  for i = 0, 63 do
    local k = pkt:u8(i)
    counts[k] = (counts[k] or 0) + 1
  end
  return xdp.PASS
end
