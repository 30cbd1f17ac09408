local P = record { x = u32 }
local m = map.hash { key = u32, value = P, max_entries = 4 }
function xdp.p(pkt)
  local s = m[1]
  if not s then return 1 end
  m[2] = P { x = 3 }
  return s.x
end
function xdp.q(pkt)
  local s = m[1] or P { x = 0 }
  for i = 1, 3 do
    s.x = s.x + i
    m[i] = nil
  end
  return 0
end
-- error: 7:10: 's' refers into map 'm', which line 6 stores into (the entry may have been replaced)
-- error: 12:5: 's' refers into map 'm', which line 13 stores into (the entry may have been replaced)
-- error: 12:11: 's' refers into map 'm', which line 13 stores into (the entry may have been replaced)
