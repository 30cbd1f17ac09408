-- maps_array.lua: unset entries read 0, past the end reads nil, delete does
-- nothing, keys wrap to u32
local arr = map.array { value = u32, max_entries = 16 }

function xdp.unset_zero(pkt)
  local v = arr[3]
  if v == nil then return 1 end
  return 2 + (v or 0)
end

function xdp.past(pkt)
  if arr[16] == nil and arr[-1] == nil then return 1 end
  return 2
end

function xdp.wrap(pkt)
  arr[(1 << 32) + 1] = pkt:u8(0) + 0x100000000
  arr[5] = nil
  return (arr[1] or 999) + (arr[5] or 999)
end

function xdp.accumulate(pkt)
  local i = pkt:u8(2) % 16
  arr[i] = (arr[i] or 0) + #pkt
  return arr[i] or 0
end
