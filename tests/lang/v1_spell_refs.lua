-- v1_spell_refs.lua: (m[k] or R{}).f, s and s.f or x, a stored record
-- changed after the store (the map keeps the copy), nested field arithmetic,
-- a record local declared without a value and assigned in branches
local S = record { a = i16, b = u8, c = u32, d = i64 }
local m = map.hash { key = u32, value = S, max_entries = 8 }
local o = map.array { value = i64, max_entries = 8 }
local n = map.lru_hash { key = u32, value = S, max_entries = 8 }

function xdp.p(pkt)
  local k = pkt:u8(0) & 3
  local c = (m[k] or S {}).c
  o[0] = c
  local s = m[k]
  o[1] = s and s.a or -5
  if not s then
    local r = S { a = -3, b = 300, c = k, d = -1 }
    m[k] = r
    r.c = 99
    return r.b
  end
  s.a = s.b * s.c + (s.d >> 62)
  s.d = s.d - 1
  return s.a
end
function xdp.branches(pkt)
  local k = pkt:u8(0) & 3
  local s
  if pkt:u8(1) > 10 then s = m[k] else s = n[k] end
  if s then
    s.a = s.a + 1
    return s.a
  end
  m[k] = S { a = k }
  n[k + 1] = S { b = k }
  return 0
end
function xdp.best(pkt)
  local best
  local t = 0
  for i = 0, 3 do
    local v = m[i]
    if v and v.a > t then t = v.a; best = i end
  end
  local r
  if best then r = m[best] or S { a = -1 } else r = S { b = 2 } end
  r.b = r.b + 1
  return r.a * 10 + r.b
end
