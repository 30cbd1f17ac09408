local P = record { x = u32 }
local Q = record { p = P, y = u8 }
local R = record { z = u128, z = u8 }
function xdp.p(pkt) return 1 end
-- error: 2:24: records cannot be nested (field 'p' is a P record)
-- error: 3:24: unknown field type 'u128'
-- error: 3:30: field 'z' is declared twice in record R
