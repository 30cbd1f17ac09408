-- v1_alias.lua: records named twice (`local b = a`, `a = c`, `a, b = b, a`, a
-- variable from a loop body kept after the loop): field writes are seen
-- through every name of the record, and a new record given to one name
-- leaves the others with the old one, as Lua's tables
local P = record { x = u32, y = i16 }
local out = map.array { value = i64, max_entries = 8 }

function xdp.reassign(pkt)
  local a = P { x = 1, y = 2 }
  local b = a
  b.x = 10                 -- seen through a
  out[0] = a.x
  a = P { x = 5 }          -- b keeps the old record
  out[1] = b.x * 100 + a.x
  a.y = 7
  out[2] = b.y
  return b.x
end

function xdp.swap(pkt)
  local a = P { x = pkt:u8(0) }
  local c = P { x = 3 }
  local b = a
  a = c                    -- a now names c's record
  c.x = 44
  out[3] = a.x * 1000 + b.x
  b = c
  b.y = -1
  out[4] = a.y
  return 0
end

function xdp.loop(pkt)
  local keep = P { x = 9 }
  for i = 1, 3 do
    local r = P { x = i }
    if i == 2 then keep = r end
    r.y = i * 10
  end
  out[5] = keep.x * 100 + keep.y
  return 0
end

function xdp.swap2(pkt)
  local a = P { x = 1 }
  local b = P { x = 2 }
  a, b = b, a
  a.y = 5
  out[6] = a.x * 100 + b.x * 10 + b.y
  local c = a
  a = P { x = a.x + 40 }
  out[7] = a.x * 1000 + c.x
  return 0
end
