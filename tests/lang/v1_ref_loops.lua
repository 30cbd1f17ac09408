-- a nil-able record reference of the function (m[k], maybe absent) tested
-- and written inside loop bodies: every iteration finds it as the lookup
-- left it (the verifiers must accept the loop)
local R = record { x = i32, n = u8 }
local m = map.hash { key = u16, value = R, max_entries = 4, init = { [1] = R { x = 5 } } }

function xdp.each(pkt)
  local s = m[pkt:u8(0) % 2]
  for i = 1, 3 do
    if s then s.x = s.x + i end
  end
  return s and s.x or 7
end

function xdp.counted(pkt)
  local s = m[pkt:u8(1) % 2]
  local n = 0
  for i = 1, 3 do
    if s then s.x = s.x + i end
    n = n + i
  end
  return (s and s.x or 0) + n
end

function xdp.two(pkt)
  local a = m[pkt:u8(2) % 2]
  local b = m[1]
  for i = 0, 2 do
    if a ~= nil and a.x > 2 then a.n = a.n + 1 end
    if not b then break end
    b.x = b.x - 1
  end
  return (b and b.x or 0) + (a and a.n or 0) * 100
end
