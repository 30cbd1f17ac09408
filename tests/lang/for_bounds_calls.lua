-- for_bounds_calls.lua: loop bounds from calls and map lookups, evaluated once
local limits = map.array { value = u32, max_entries = 4 }
local function lim(x) return x % 5 + 1 end

function xdp.bounds(pkt)
  limits[0] = pkt:u8(0) % 6
  local c = 0
  for i = lim(pkt:u8(1)), (limits[0] or 0) + lim(2) do
    limits[0] = 100           -- does not change the trip count
    c = c + 1
  end
  return c
end
