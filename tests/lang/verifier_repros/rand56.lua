-- A reproducer for the verifier: tests/lang/randprog.lua seed 56, registered as accepted (tests/unit/test_verifier.c).
-- bpflua verifier once rejected it: "callback changes fp-16 of frame 0 in a way the next iteration cannot start from"
-- (the kernel loads it: bpftool prog loadall); the callback's snapshot is now widened to a fixpoint.
-- Run all programs in order on tests/lang/packets.lua packet 1 (udp_dns).
local m = map.hash { key = i32, value = i64, max_entries = 16 }
local function f(x, y)
  if (m[(~64) & 7] or (m[y & 7] or y)) >= (- (-64 // -2)) then
    y = (~(m[(~x) & 7] or (x % 65)))
  end
  if (y & (x - -64)) <= ((- x) * (m[y & 7] or y)) then return x end
  y = (- (~(m[y & 7] or y)))
  for i1 = 3, 2, -1 do
    if (((m[(y >> i1) & 7] or (x << i1)) >= ((m[63 & 7] or y) // (255 & 0x7fffffff)) or (~y) ~= ((x // -1) >> y)) or ((x - y) + (m[i1 & 7] or x)) ~= ((~x) >> (- i1))) then
      i1 = (((math.mininteger | y) | (0x123456789 ~ i1)) + i1)
      local b2 = ((- i1) >= (y % (x + y)) and i1 ~= (y | (i1 >> 255)))
      local v3 = (x + (- (y // i1)))
    end
    if not (y < (i1 << x)) then break end
    local v4 = ((m[(m[x & 7] or 0x80000000) & 7] or (-1 ~ i1)) << ((- (1 << 62)) & (x * -7)))
  end
  return x
end
function xdp.r1(pkt)
  local a, b, c = pkt:u8(0) - 128, pkt:be16(2) - 30000, pkt:le32(4) * 3
  if (m[(c | a) & 7] or (m[65 & 7] or c)) >= pkt:u8(4) then
    local v1 = f(0x7fffffff, f((- c), c))
    if f((a ~ 0xff), (0 - 3)) >= ((1 << 62) + c) then
      v1 = v1
    else
      pkt:set_be16(3, (f(-7, a) % pkt:u8(11)))
      m[(m[(- c) & 7] or pkt:u8(5)) & 7] = (- c)
      local v2 = (f(63, v1) >> ((~v1) >> (0x123456789 & c)))
    end
    local n3 = m[(- -7) & 7]
    n3 = v1
  else
    for i4 = -3, 2, 2 do
      m[0x80000000 & 7] = (~pkt:u8(13))
      if i4 <= (pkt:u8(12) * (c + a)) then return (pkt:u8(2) | (m[c & 7] or 64)) end
    end
    local n5
    c = (0xff & c)
    n5 = (~(m[100 & 7] or 64))
  end
  local b6 = a < (b + (m[-2 & 7] or b))
  return (- pkt:u8(2))
end
function xdp.r2(pkt)
  local a, b, c = pkt:u8(0) - 128, pkt:be16(2) - 30000, pkt:le32(4) * 3
  if (b > (- c) and ((- math.maxinteger) > c and ((a + c) // (m[c & 7] or a)) > (pkt:u8(11) & (b + 1)))) then
    local v7 = ((m[b & 7] or (- 0x7fffffff)) - (~b))
    local n8 = m[(- c) & 7]
    for i9 = 2, 3, -2 do
      pkt:set_be16(5, ((- b) * (m[b & 7] or -64)))
      if not (((n8) or (n8 or (n8 or v7)) == math.mininteger)) then
        m[f((~c), (m[v7 & 7] or b)) & 7] = math.mininteger
        local v10 = (- (pkt:u8(2) ~ (n8 or i9)))
        m[f((n8 or b), (-7 * b)) & 7] = (- (~a))
      end
    end
  end
  a = pkt:u8(13)
  return -2
end
function xdp.r3(pkt)
  local a, b, c = pkt:u8(0) - 128, pkt:be16(2) - 30000, pkt:le32(4) * 3
  if ((- a) + (~c)) <= c then
    a = (((a | c) + (a & math.mininteger)) % (c | (- a)))
    for i11 = -3, 5, -2 do
      c = a
      b = (m[pkt:u8(1) & 7] or 100)
      m[c & 7] = pkt:u8(0)
      local v12 = (~((0xff & b) * (a * 0x80000000)))
    end
  end
  local n13 = m[(- a) & 7]
  return 0
end
