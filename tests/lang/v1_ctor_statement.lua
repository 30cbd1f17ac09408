-- a record constructor as a statement (a call statement in Lua): its
-- fields are evaluated, so a packet read out of bounds in one faults
local u32 = record { a = u8 }
local R = record { x = u16, y = i8 }
local h = map.hash { key = u16, value = u32, max_entries = 4 }
function xdp.p(pkt)
  u32 { a = 300 }
  R { x = pkt:u8(0) * 1000, y = pkt:u8(1) }
  R { y = pkt:u8(#pkt - 1 + pkt:u8(2) % 2) }
  local r = h[1]
  return r and r.a or 3
end
function tc.t(pkt)
  R {}
  R { x = 1 // (pkt:u8(3) % 2) }
  return tc.OK
end
