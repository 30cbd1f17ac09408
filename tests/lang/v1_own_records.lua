-- record variables that hold their own record (a constructor's, swapped,
-- shadowed names) next to map references: a store into a map leaves a
-- variable reassigned to R { ... } usable; pairs writing through values
local R = record { x = u32, y = i16, z = u8 }
local m = map.hash { key = u32, value = R, max_entries = 8 }
local k2 = map.hash { key = R, value = u64, max_entries = 256 }
local ev = map.ringbuf { size = 4096 }

function xdp.a(pkt)
  local k = pkt:u8(0) % 4
  local s = m[k]
  if s == nil then
    s = R { x = k }
    m[k] = s
    s.x = 99              -- s is the local record; the map keeps the copy
    return s.x
  end
  if s ~= nil and s.x < 100 then s.y = s.y - 1 end
  return s.x
end

function xdp.b(pkt)
  local a, b = R { x = 1 }, R { x = 2 }
  a, b = b, a
  a.y, a.z = a.z + 300, a.y
  a.x, b.x = b.x, a.x
  local m = 5                 -- shadows the map
  local R = m + 1             -- shadows the record type
  return a.x * 1000 + b.x * 100 + a.y + R
end

function xdp.c(pkt)
  for k, v in pairs(m) do
    v.z = v.z + 1
    k2[v] = (k2[v] or 0) + k

  end
  local total = 0
  for k, n in pairs(k2) do
    total = total + n + k.x
  end
  k2[R { x = 1 }] = nil
  local absent = not m[7]
  if absent then total = total + 1 end
  return total
end

function xdp.d(pkt)
  local acc = R {}
  for i = 1, 5 do
    local t = R { x = i, y = -i }
    acc.x = acc.x + t.x
    acc.y = acc.y + t.y
    if i == 3 then ev:emit(t) end
  end
  ev:emit(acc)
  local r = m[acc.x % 4] or R { z = 200 }
  r.z = r.z + 1
  return r.z
end
