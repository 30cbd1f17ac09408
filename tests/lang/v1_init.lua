-- v1_init.lua: initial contents of every kind of map (positional and
-- keyed integers, negative keys, record keys and values, values that
-- truncate)
local Key = record { a = u16, b = i8 }
local Val = record { x = u32, y = i64 }
local arr = map.array { value = u16, max_entries = 8, init = { 5, 6, 7, [0] = 70000 } }
local h = map.hash { key = i16, value = i32, max_entries = 8, init = { [-3] = 30, [200] = -1, [7] = 1 << 40 } }
local rk = map.hash { key = Key, value = Val, max_entries = 4,
  init = { [Key { a = 1, b = -1 }] = Val { x = 10, y = -10 }, [Key { a = 2 }] = Val { y = 1 << 40 } } }
local lru = map.lru_hash { key = u64, value = u8, max_entries = 4, init = { [1] = 257 } }

function xdp.read(pkt)
  local s = (arr[0] or 0) + (arr[1] or 0) + (arr[3] or 0)
  s = s + (h[-3] or 0) + (h[200] or 0) + (h[7] or 0)
  local v = rk[Key { a = 1, b = -1 }]
  if v then s = s + v.x + v.y end
  local w = rk[Key { a = 2, b = pkt:u8(0) & 1 }]
  if w then s = s + (w.y >> 40) end
  return s + (lru[1] or 0)
end

function xdp.bump(pkt)
  local i = pkt:u8(0) & 7
  arr[i] = (arr[i] or 0) + 1
  local v = rk[Key { a = 1, b = -1 }]
  if v then v.x = v.x + #pkt end
  return arr[i] or 0
end
