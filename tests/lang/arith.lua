-- arith.lua: + - * with wrap-around, unary minus, bitwise not/and/or/xor
function xdp.wrap_add(pkt)
  local x = math.maxinteger
  x = x + pkt:u8(0) + 1
  if x < 0 then return 1 end
  return 2
end

function xdp.mul_wrap(pkt)
  local a = 0x100000001 * (pkt:u8(1) + 3)
  local b = a * a * a
  return (b >> 40) ~ (b & 0xffff)
end

function xdp.neg_bnot(pkt)
  local v = pkt:u8(2)
  local n = -v
  local m = ~v
  return (n - m) + 100 + (-math.mininteger == math.mininteger and 1000 or 0)
end

function xdp.bitops(pkt)
  local a, b = pkt:be16(0), pkt:be16(2)
  return ((a & b) | (a ~ b) << 3) & 0xfffff
end
