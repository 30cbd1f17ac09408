-- v1_or_operand.lua: `m[k] or R { ... }` used directly (a field of it, a stored value, an event, a condition)
local P = record { k = u16, n = u32 }
local a = map.hash { key = u16, value = P, max_entries = 8 }
local ev = map.ringbuf { size = 4096 }
function xdp.p(pkt)
  local k = pkt:u8(0) & 3
  local n = (a[k] or P { n = 7 }).n
  a[k] = a[k] or P { k = k, n = #pkt }
  ev:emit(a[k + 1] or P { k = 9 })
  if a[k] or a[k + 1] then n = n + 1 end
  return n
end
