-- floordiv.lua: // and % floor toward minus infinity; by zero is a fault
function xdp.signs(pkt)
  local a = pkt:u8(5) - 128
  local b = pkt:u8(6) % 9 - 4
  if b == 0 then b = 3 end
  return ((a // b) * 1000 + (a % b)) & 0xffffff
end

function xdp.by_zero(pkt)
  local d = pkt:u8(12) & 1
  return 100 // d
end

function xdp.mod_zero(pkt)
  local d = pkt:u8(0) & 0
  return 7 % d
end

function xdp.minint(pkt)
  local m = math.mininteger + pkt:u8(0) * 0
  local q = m // -1
  local r = m % -1
  local neg = -1 - pkt:u8(0) * 0
  if q == math.mininteger and r == 0 and m // neg == m and m % neg == 0 then return 5 end
  return 6
end

function xdp.const_divs(pkt)
  local v = pkt:u8(3) - 100
  return ((v // 4) + (v % 4) * 10 + (v // -3) * 100 + (v % -3) * 1000 + (v // 1) + (v % 8)) & 0xffff
end

function xdp.big_divisor(pkt)
  local v = pkt:be32(2) * 0x10001 - 77
  return ((v // 0x123456789) + (v % 0x123456789)) & 0xffffffff
end
