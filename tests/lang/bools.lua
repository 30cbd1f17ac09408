-- bools.lua: boolean locals, not, comparisons of booleans
local function both(a, b) return a > 0 and b > 0 end

function xdp.flags(pkt)
  local big = pkt:u8(0) > 0x7f
  local odd = pkt:u8(1) % 2 == 1
  local x = big ~= odd
  local y = not big and not odd
  local r = 0
  if big then r = r + 1 end
  if odd then r = r + 2 end
  if x then r = r + 4 end
  if y then r = r + 8 end
  if x == y then r = r + 16 end
  if both(pkt:u8(2), pkt:u8(3)) then r = r + 32 end
  local t = true
  local f = false
  if t and not f then r = r + 64 end
  return r
end

function xdp.bool_loop(pkt)
  local seen = false
  for i = 0, 13 do
    if pkt:u8(i) == 0 then seen = true end
  end
  return seen and 1 or 0
end
