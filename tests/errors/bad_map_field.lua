local m = map.hash { key = u32, value = u64, size = 8 }
function xdp.p(pkt) return 1 end
-- error: 1:20: this map needs max_entries
-- error: 1:46: unknown map field 'size'
