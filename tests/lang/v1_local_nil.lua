-- `local s = nil` (and `local a, b = nil, m[1]`) is `local s` in Lua: the
-- variable takes the record type of its first assignment
local R = record { x = i32 }
local m = map.hash { key = u16, value = R, max_entries = 4, init = { [1] = R { x = 5 } } }

function xdp.p(pkt)
  local s = nil
  if pkt:u8(0) % 2 == 0 then s = m[1] else s = m[2] end
  local a, b = nil, m[1]
  if b then a = b end
  local r = 0
  if s then r = s.x end
  if a then r = r + a.x * 10 end
  return r
end

function xdp.q(pkt)
  local t = (nil)
  for i = 1, 2 do
    t = m[i]
    if t then t.x = t.x + 1 end
  end
  local n = nil
  n = (t and t.x or 0) + 1
  return n
end
