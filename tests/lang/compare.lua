-- compare.lua: signed comparisons, equality of integers and booleans
function xdp.signed(pkt)
  local a = pkt:u8(0) - 128
  local b = pkt:u8(1) - 128
  local r = 0
  if a < b then r = r + 1 end
  if a <= b then r = r + 2 end
  if a > b then r = r + 4 end
  if a >= b then r = r + 8 end
  if a == b then r = r + 16 end
  if a ~= b then r = r + 32 end
  if -1 < 0 then r = r + 64 end
  if math.mininteger < math.maxinteger then r = r + 128 end
  return r
end

function xdp.bool_eq(pkt)
  local x = pkt:u8(3) > 10
  local y = pkt:u8(4) > 10
  if x == y then return 1 end
  if x ~= not y then return 3 end
  return 2
end

function xdp.big_consts(pkt)
  local v = pkt:be32(0) << 20
  if v > 0x7fffffffffff then return 1 end
  if v == 0x123456789abc then return 3 end
  return 2
end
