-- tc_flood.lua: 2000 events a packet into a 4096-byte ring buffer (room for
-- 255 of them): the kernel refuses the rest, the program counts each refused
-- emit, and `bpflua attach` shows the count beside the events received
-- (tests/cli/attach_tc.sh)
local events = map.ringbuf { size = 4096 }

function tc.flood(pkt)
  for i = 1, 2000 do
    events:emit(i)
  end
  return tc.OK
end
