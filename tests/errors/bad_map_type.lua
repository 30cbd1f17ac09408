local m = map.hash { key = u33, value = u64, max_entries = 8 }
function xdp.p(pkt) return 1 end
-- error: 1:28: the key type must be one of u8 u16 u32 u64 i8 i16 i32 i64
