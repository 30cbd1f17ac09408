local m = map.hash { key = u32, value = u64, max_entries = 4 }
local m = map.array { value = u64, max_entries = 4 }
function xdp.p(pkt) return (m[0] or 1) end
-- error: 2:7: map 'm' is declared twice
