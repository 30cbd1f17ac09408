-- A reproducer for the verifier (not registered as a test): tests/lang/randprog.lua seed 169.
-- bpflua verifier: a run goes past the verifier's proven bound ("instruction limit ... reached")
-- Run all programs in order on tests/lang/packets.lua packet 1 (udp_dns).
local m = map.hash { key = i32, value = i64, max_entries = 16 }
local function f(x, y)
  local v1 = y
  for i2 = -2, 1, 3 do
  end
  x = (- v1)
  return y
end
function xdp.r1(pkt)
  local a, b, c = pkt:u8(0) - 128, pkt:be16(2) - 30000, pkt:le32(4) * 3
  local b1 = (m[b & 7] or (a ~ -2)) < b
  for i2 = -1, 3, 3 do
    local v3 = c
    if (1 << 62) >= 2 then break end
  end
  return a
end
function xdp.r2(pkt)
  local a, b, c = pkt:u8(0) - 128, pkt:be16(2) - 30000, pkt:le32(4) * 3
  b = pkt:u8(3)
  if (- math.mininteger) == a then return (m[a & 7] or pkt:u8(6)) end
  return (b // ((m[c & 7] or b) & 2))
end
function xdp.r3(pkt)
  local a, b, c = pkt:u8(0) - 128, pkt:be16(2) - 30000, pkt:le32(4) * 3
  for k, v in pairs(m) do c = c + k * 3 + v end
  m[(m[(~a) & 7] or a) & 7] = f((m[math.mininteger & 7] or 0), f(0, b))
  return c
end
