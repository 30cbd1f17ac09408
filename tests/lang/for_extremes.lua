-- for_extremes.lua: loops near the integer limits (no overflow, Lua counts)
function xdp.huge_step(pkt)
  local c = 0
  for i = math.mininteger, math.maxinteger, 1 << 62 do c = c + 1 end
  return c
end

function xdp.top_end(pkt)
  local c = 0
  for i = math.maxinteger - 2, math.maxinteger do c = c + 1 end
  for i = math.mininteger + 2, math.mininteger, -1 do c = c + 10 end
  return c
end

function xdp.neg_big_step(pkt)
  local c = 0
  for i = math.maxinteger, math.mininteger, math.mininteger do c = c + 1 end
  return c
end
