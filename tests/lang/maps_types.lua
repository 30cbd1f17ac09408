-- maps_types.lua: keys and values truncate to their types and read back
-- sign- or zero-extended
local small = map.hash { key = i8, value = i8, max_entries = 16 }
local mid = map.hash { key = u16, value = i16, max_entries = 16 }
local wide = map.hash { key = i32, value = u32, max_entries = 16 }

function xdp.trunc(pkt)
  small[0x1ff] = 0x180          -- key -1, value -128
  local a = small[-1] or 0
  mid[0x10002] = 0xffff         -- key 2, value -1
  local b = mid[2] or 0
  wide[-2] = -1                 -- value 0xffffffff
  local c = wide[0xfffffffe] or 0
  return (a + b + c + 1000) & 0xffffffff
end

function xdp.signed_keys(pkt)
  small[pkt:u8(0)] = pkt:u8(1)
  local s = 0
  for k, v in pairs(small) do s = s + k * 3 + v end
  return s & 0xffff
end
