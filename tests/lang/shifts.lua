-- shifts.lua: shifts by >= 64 give 0, negative counts shift the other way,
-- >> is logical
function xdp.const_shifts(pkt)
  local v = pkt:u8(0) | 0x80
  local s = 0
  if v << 64 == 0 then s = s + 1 end
  if v >> 64 == 0 then s = s + 2 end
  if v << -1 == v >> 1 then s = s + 4 end
  if v >> -2 == v << 2 then s = s + 8 end
  if -1 >> 1 == math.maxinteger then s = s + 16 end
  if (v << 63) < 0 then s = s + 32 end
  if v << -64 == 0 then s = s + 64 end
  return s
end

function xdp.var_shifts(pkt)
  local total = 0
  for i = 0, 13 do
    local c = pkt:u8(i) % 150 - 75
    local x = 0x0123456789abcdef
    total = total ~ (x << c) ~ ((x >> c) * 3)
  end
  return total & 0x7fffffff
end
