-- func_loops.lua: loops in local functions, return from inside them
local function first_above(limit, n)
  for i = 0, n do
    if i * i > limit then return i end
  end
  return -1
end

local function count_bits(v)
  local c = 0
  for i = 0, 63 do
    if (v >> i) & 1 == 1 then c = c + 1 end
  end
  return c
end

local function nothing_found(n)
  for i = 1, n do
    if i == 1000 then return i end
  end
end

function xdp.fl(pkt)
  return first_above(pkt:u8(0), 40) + count_bits(pkt:be32(0)) * 100
end

function xdp.none(pkt)
  return nothing_found(pkt:u8(1) % 10) or 77
end

function xdp.nested_calls(pkt)
  local t = 0
  for i = 0, 3 do t = t + count_bits(pkt:u8(i)) + first_above(i * 10, 10) end
  return t
end
