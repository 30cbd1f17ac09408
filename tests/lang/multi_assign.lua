-- multi_assign.lua: multiple assignment evaluates every value first
local m = map.hash { key = u32, value = u32, max_entries = 8 }

function xdp.rotate(pkt)
  local a, b, c = 1, 2, 3
  a, b, c = c, a, b
  return a * 100 + b * 10 + c
end

function xdp.swap_map(pkt)
  m[1], m[2] = 10, 20
  m[1], m[2] = m[2] or 0, m[1] or 0
  return (m[1] or 0) * 1000 + (m[2] or 0)
end

function xdp.extra_values(pkt)
  local x, y = 5, 6, pkt:u8(0)
  local z
  x, z = y
  return x + (z or 100)
end
