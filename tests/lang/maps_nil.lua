-- maps_nil.lua: nil-able locals, copying lookups between maps
local src = map.hash { key = u32, value = u32, max_entries = 16 }
local dst = map.hash { key = u32, value = u32, max_entries = 16 }

function xdp.nil_local(pkt)
  local v = src[pkt:u8(0)]
  if v then return 10 end
  src[pkt:u8(0)] = 4
  v = src[pkt:u8(0)]
  if v ~= nil then return 20 + (v or 0) end
  return 30
end

function xdp.copy(pkt)
  -- a nil result deletes
  dst[1] = src[pkt:u8(0)]
  dst[2] = src[999]
  local r = 0
  if dst[1] ~= nil then r = r + 1 end
  if dst[2] == nil then r = r + 2 end
  return r
end

function xdp.declared_nil(pkt)
  local first
  for i = 0, #pkt - 1 do
    if pkt:u8(i) == 0 and first == nil then first = i end
  end
  return first or 4242
end

function xdp.or_chain(pkt)
  local x = src[77] or dst[77] or src[pkt:u8(0)] or 5
  return x
end
