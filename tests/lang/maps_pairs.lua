-- maps_pairs.lua: pairs over hash and array maps (order-independent sums),
-- break and return inside
local h = map.hash { key = u32, value = u32, max_entries = 32 }
local a = map.array { value = u64, max_entries = 8 }

function xdp.fill(pkt)
  for i = 0, 9 do h[pkt:u8(i)] = i end
  a[pkt:u8(0) % 8] = pkt:u8(1)
  return 1
end

function xdp.sum_hash(pkt)
  local n, s = 0, 0
  for k, v in pairs(h) do
    n = n + 1
    s = s + k + v * 1000
  end
  return n * 100000 + (s & 0xffff)
end

function xdp.sum_array(pkt)
  local n, s = 0, 0
  for k, v in pairs(a) do
    n = n + 1
    s = s + k * v
  end
  return n * 1000000 + s
end

function xdp.find_big(pkt)
  for k, v in pairs(h) do
    if k > 0xfe then return 5 end
  end
  return 6
end

function xdp.key_only(pkt)
  local c = 0
  for k in pairs(a) do
    c = c + k
    if c > 100 then break end
  end
  return c
end
