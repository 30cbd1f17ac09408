-- another name of a map reference is a map reference: after a store into
-- the map it is stale too (here the kernel replaces the entry of key 1, so
-- b.x = 7 would write the old one; Lua's m[1] also is a new table)
local P = record { x = u32 }
local m = map.hash { key = u32, value = P, max_entries = 4 }
local g = map.hash { key = u32, value = P, max_entries = 4 }
function xdp.p(pkt)
  local s = m[1]
  if s then
    local b = s
    m[1] = P { x = 5 }
    b.x = 7
  end
  return 0
end
function xdp.q(pkt)
  local a = m[1] or g[1]
  if not a then return 1 end
  local c = (a)
  g[2] = P {}
  return c.x
end
-- error: 12:5: 'b' refers into map 'm', which line 11 stores into (the entry may have been replaced)
-- error: 21:10: 'c' refers into map 'g' or 'm', which line 20 stores into (the entry may have been replaced)
