local P = record { x = u32 }
local m = map.hash { key = u32, value = P, max_entries = 4 }
function xdp.p(pkt)
  local s = m[1]
  s.x = 5
  local t = m[2]
  if t then t.x = 1 end
  t.x = 2
  return s.x
end
-- error: 5:3: 's' may be nil here (a map lookup)
-- error: 8:3: 't' may be nil here (a map lookup)
-- error: 9:10: 's' may be nil here (a map lookup)
