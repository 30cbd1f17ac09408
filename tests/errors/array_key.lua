local m = map.array { key = u64, value = u64, max_entries = 8 }
function xdp.p(pkt) return 1 end
-- error: 1:21: an array map's key is always u32
