-- top-level names that hide earlier ones, as Lua's locals do: a map name
-- reused for a record type and back, a constant then a record, a record
-- named like the tc namespace, and a record named like a type (the map
-- declared after it holds that record, as the prelude's Lua sees it)
local m = map.hash { key = u32, value = u32, max_entries = 4 }
local m = record { a = u8 }
local h = map.hash { key = u32, value = m, max_entries = 4 }
local R = record { a = u8 }
local R = map.array { value = i16, max_entries = 4 }
local x = 5
local x = record { a = u8, b = i8 }
local tc = record { a = u8 }
local u32 = record { v = u8, w = u16 }
local g = map.hash { key = u16, value = u32, max_entries = 4 }

function xdp.p(pkt)
  h[1] = m { a = 7 + pkt:u8(0) }
  local r = h[1]
  R[1] = (R[1] or 0) - 9
  local t = tc { a = 2 }
  g[pkt:u8(1)] = u32 { v = 300, w = #pkt }
  local q = g[pkt:u8(1)]
  local w = q and q.w or 0
  return (r and r.a or 0) + (R[1] or 0) + x { a = 3, b = -1 }.b + t.a + w
end
