-- logic.lua: Lua truthiness (0 is true), and/or/not values
function xdp.zero_true(pkt)
  local z = pkt:u8(0) * 0
  if z then return 10 end
  return 20
end

function xdp.and_or(pkt)
  local a = pkt:u8(0) > 100
  local v = a and 7 or 9
  local w = (pkt:u8(1) < 50) and pkt:u8(2) or 1000
  local n = not a
  return v + w + (n and 100 or 0)
end

function xdp.short_circuit(pkt)
  -- the right side must not run (it would fault)
  if #pkt > 0 or pkt:u8(100000) == 1 then
    return 3
  end
  return 4
end

function xdp.and_chain(pkt)
  local a, b, c = pkt:u8(0), pkt:u8(1), pkt:u8(2)
  if a > 10 and b > 10 and c > 10 then return 1 end
  if a > 10 or b > 10 or not (c > 10) then return 2 end
  return 3
end
