-- maps_hash.lua: hash map counters, nil results, deletion (maps persist
-- across the runs of a file)
local counts = map.hash { key = u32, value = u64, max_entries = 64 }
local last = map.hash { key = u64, value = i64, max_entries = 8 }

function xdp.count(pkt)
  local k = pkt:u8(0)
  counts[k] = (counts[k] or 0) + 1
  return counts[k] or 0
end

function xdp.missing(pkt)
  if counts[123456] == nil then return 1 end
  return 2
end

function xdp.delete(pkt)
  local k = pkt:u8(0)
  local before = counts[k] ~= nil
  counts[k] = nil
  if before and counts[k] == nil then return 3 end
  return 4
end

function xdp.negative_values(pkt)
  last[-1] = -5 - pkt:u8(1)
  local v = last[-1] or 0
  last[(1 << 40) + 7] = v * 2
  return (last[(1 << 40) + 7] or 1) & 0xfff
end
