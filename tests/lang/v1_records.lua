-- v1_records.lua: record fields of every type (truncation on write, sign
-- or zero extension on read), layout with padding, aliasing (another name
-- for the same record), constructors in loops and in conditions
local Mixed = record { a = u8, b = i16, c = u32, d = i8, e = u64, f = i32, g = u16, h = i64 }
local Small = record { x = u8 }
local store = map.hash { key = u32, value = Mixed, max_entries = 32 }
local smalls = map.array { value = Small, max_entries = 3 }

function xdp.fields(pkt)
  local m = Mixed { a = 300, b = 40000, c = -1, d = 200, e = -2, f = 3000000000, g = 70000, h = -9 }
  -- a = 44, b = -25536, c = 4294967295, d = -56, e = -2, f = -1294967296, g = 4464, h = -9
  local s = m.a + m.b + m.d + m.g + m.h
  if m.c ~= 4294967295 or m.f ~= -1294967296 or m.e ~= -2 then return 1 end
  m.b = m.b - 8000          -- wraps again to 32000
  m.d = m.d * 3             -- -168 wraps to 88
  return (s + m.b + m.d) & 0xffff
end

function xdp.alias(pkt)
  local a = Small { x = pkt:u8(1) }
  local b = a                -- the same record
  b.x = b.x + 1
  local c = Small { x = a.x }  -- a copy
  c.x = 0
  return a.x * 1000 + c.x
end

function xdp.loop_records(pkt)
  local acc = 0
  for i = 0, 7 do
    local r = Mixed { a = pkt:u8(i), b = -i, e = i * i }
    r.c = r.a + r.b
    acc = acc + r.c + r.e
    if r.a == 0xff then break end
  end
  local last = Mixed { }
  for i = 1, 3 do
    last = Mixed { a = last.a + i, g = i }
  end
  return (acc + last.a * 7 + last.g) & 0xffff
end

function xdp.store_load(pkt)
  local k = pkt:u8(0) & 7
  local v = store[k]
  if v == nil then
    store[k] = Mixed { a = k, h = -k, c = #pkt }
    return 1
  end
  v.h = v.h - 1
  v.a = v.a + 100
  local w = smalls[k % 4]
  if w ~= nil then w.x = w.x + v.a end
  return (v.a & 0xff) + ((v.h == -k - 1) and 1000 or 0)
end

function xdp.delete_some(pkt)
  local k = pkt:u8(2) & 7
  local v = store[k]
  if v and v.a > 150 then
    store[k] = nil
    return 5
  end
  return 6
end
