-- A reproducer for the verifier (not registered as a test): tests/lang/randprog.lua seed 60.
-- bpflua verifier: a run goes past the verifier's proven bound ("instruction limit ... reached")
-- Run all programs in order on tests/lang/packets.lua packet 1 (udp_dns).
local m = map.hash { key = i32, value = i64, max_entries = 16 }
local function f(x, y)
  local n1 = m[y & 7]
  for i2 = 3, 7, 1 do
    if ((~y) & (0 & -1)) > (~(x // x)) then
      m[((x + math.mininteger) % (x >> -7)) & 7] = ((m[math.mininteger & 7] or math.mininteger) & (x - -1))
      m[(i2 | y) & 7] = nil
    end
  end
  x = (- x)
  return x
end
function xdp.r1(pkt)
  local a, b, c = pkt:u8(0) - 128, pkt:be16(2) - 30000, pkt:le32(4) * 3
  local v1 = (- (255 % c))
  a = b
  if (~(~c)) == f((math.maxinteger & v1), (m[v1 & 7] or c)) then return (b << (c ~ b)) end
  return (m[(a % a) & 7] or v1)
end
function xdp.r2(pkt)
  local a, b, c = pkt:u8(0) - 128, pkt:be16(2) - 30000, pkt:le32(4) * 3
  local b2 = (m[a & 7] or pkt:u8(0)) > 7
  b = (m[a & 7] or a)
  local v3 = (m[((~65) - a) & 7] or b)
  local v4 = (- ((c << b) >> (m[7 & 7] or b)))
  return pkt:u8(6)
end
function xdp.r3(pkt)
  local a, b, c = pkt:u8(0) - 128, pkt:be16(2) - 30000, pkt:le32(4) * 3
  return a
end
