-- maps_lru.lua: an LRU hash used below its capacity (eviction order is not
-- compared: the kernel's LRU is approximate)
local recent = map.lru_hash { key = u32, value = u32, max_entries = 64 }

function xdp.remember(pkt)
  local k = pkt:be16(6)
  local seen = recent[k] ~= nil
  recent[k] = (recent[k] or 0) + 1
  if seen then return 10 + (recent[k] or 0) end
  return 1
end
