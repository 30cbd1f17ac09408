-- A reproducer for the verifier: tests/lang/randprog.lua seed 16517, registered as accepted (tests/unit/test_verifier.c).
-- bpflua verifier once rejected it: "callback changes ... in a way the next iteration cannot start from"
-- (the kernel loads it); the callback's snapshot is now widened to a fixpoint.
local m = map.hash { key = i32, value = i64, max_entries = 16 }
local function f(x, y)
  for i1 = 2, 1, -1 do
    if not ((i1 // (x + (1 << 62))) == (m[63 & 7] or (~-64))) then return ((x >> i1) ~ (x // y)) end
    x = (~y)
    local b2 = y ~= (~3)
    if not (b2) then
      x = (((x << x) << (m[x & 7] or x)) | (3 & (i1 % x)))
    else
      b2 = (~math.mininteger) >= ((0x7fffffff + 0x80000000) | (m[x & 7] or 63))
    end
  end
  local v3 = (~((- 64) | (-1 << x)))
  for i4 = -3, 7, -1 do
    for i5 = 3, 0, -1 do
      local n6 = m[(- x) & 7]
      y = ((n6 or (0 | -64)) % 0xff)
    end
    for i7 = 0, 5, -1 do
      if not (((0x123456789 & -1) // ((1 << 62) * x)) > (~(y - v3))) then break end
      local v8 = i7
    end
  end
  return ((~x) << (y % v3))
end
function xdp.r1(pkt)
  local a, b, c = pkt:u8(0) - 128, pkt:be16(2) - 30000, pkt:le32(4) * 3
  m[-2 & 7] = nil
  a = f(f(0x123456789, (c >> b)), a)
  return f(((m[-64 & 7] or b) ~ (c & b)), (- (b * 3)))
end
function xdp.r2(pkt)
  local a, b, c = pkt:u8(0) - 128, pkt:be16(2) - 30000, pkt:le32(4) * 3
  if 63 < b then
    local n1
    if (n1 == nil) then
      for i2 = -1, 3, -2 do
        local n3
      end
      c = (n1 or (b - b))
      for i4 = -3, 1, -1 do
      end
      c = -2
    else
      for i5 = 3, 7, 3 do
        pkt:set_be16(3, (m[64 & 7] or (~c)))
      end
      n1 = c
      local b6 = (n1 ~= nil)
    end
    if (m[pkt:u8(4) & 7] or b) <= (n1 or (b & 100)) then
      b = pkt:u8(12)
      if f(pkt:u8(1), pkt:u8(9)) ~= c then
      end
    else
      if 65 ~= (-1 // f(b, a)) then return (m[f(a, -64) & 7] or (m[b & 7] or -1)) end
      local v7 = (~c)
      a = (- a)
      b = (v7 ~ (- a))
    end
    if (pkt:u8(1) > 7 and (n1 == nil)) then
    end
  else
    for i8 = -1, 7 do
      local b9 = (pkt:u8(13) | c) > (~pkt:u8(8))
    end
    pkt:set_u8(7, -7)
    local b10 = ((0x80000000 | 0x80000000) - 0x80000000) >= f((- -7), b)
    local n11
  end
  local v12 = pkt:u8(6)
  if f((~100), (255 >> v12)) <= pkt:u8(8) then return a end
  return (m[(~(0 * (1 << 62))) & 7] or ((m[b & 7] or b) | (~0)))
end
function xdp.r3(pkt)
  local a, b, c = pkt:u8(0) - 128, pkt:be16(2) - 30000, pkt:le32(4) * 3
  if a >= f((a & a), (- c)) then
    local v13 = 63
  end
  a = (- pkt:u8(12))
  return pkt:u8(9)
end
