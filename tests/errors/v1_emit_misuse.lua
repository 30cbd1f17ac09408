local P = record { x = u32 }
local Q = record { y = u8 }
local h = map.hash { key = u32, value = u32, max_entries = 8 }
local events = map.ringbuf { size = 4096 }
function xdp.p(pkt)
  h:emit(1)
  events:emit(P { x = 1 })
  events:emit(Q { y = 2 })
  events[1] = 2
  return 1
end
-- error: 6:3: 'h' is not a ring buffer; only ring buffers have :emit
-- error: 8:15: ring buffer 'events' carries P records (line 7), not Q records
-- error: 9:3: a ring buffer is not indexed
