-- bare_return.lua: a program that returns no value gives xdp.PASS (2)
function xdp.falls_off(pkt)
  local x = pkt:u8(0)
end

function xdp.bare(pkt)
  if pkt:u8(0) > 0x40 then return end
  return 9
end

local function noop(x)
  if x > 3 then return end
end

function xdp.void_call(pkt)
  noop(pkt:u8(0))
  noop(1)
  return 4
end
