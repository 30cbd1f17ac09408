-- storing a record reference that may be nil into a map (Lua would delete
-- the entry when it is nil): test it first
local R = record { x = i32 }
local m = map.hash { key = u16, value = R, max_entries = 4 }
function xdp.p(pkt)
  m[3] = m[pkt:u8(0)]
  local s = m[1]
  m[2] = s
  return 1
end
-- error: 6:10: this record reference may be nil here (a map lookup)
-- error: 8:10: this record reference may be nil here (a map lookup)
