-- nested_pairs.lua: pairs inside a numeric for, a numeric for inside pairs
local m = map.hash { key = u32, value = u32, max_entries = 16 }

function xdp.fill_scan(pkt)
  for i = 0, 4 do m[pkt:u8(i) % 8] = i end
  local total = 0
  for r = 1, 3 do
    for k, v in pairs(m) do total = total + (k + v) * r end
  end
  for k, v in pairs(m) do
    for j = 0, k do total = total + 1 end
  end
  return total
end
