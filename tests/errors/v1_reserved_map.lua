-- map names starting with __bpflua are bpflua's own (the hidden count of
-- dropped events lives in __bpflua_drops)
local events = map.ringbuf { size = 4096 }
local __bpflua_drops = map.array { value = u64, max_entries = 1 }
function xdp.p(pkt)
  events:emit(#pkt)
  __bpflua_drops[0] = 1
  return xdp.PASS
end
-- error: 4:7: map names starting with '__bpflua' are bpflua's own
