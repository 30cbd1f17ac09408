-- a local named like a type hides the type, as in Lua: a map or field
-- declared with it is an error
local u8 = 5
local m = map.hash { key = u8, value = u32, max_entries = 4 }
function xdp.p(pkt) return 1 end
local R = record { a = u8, b = u32 }
-- error: 4:28: 'u8' is a local declared above here, not the type u8
-- error: 6:24: 'u8' is a local declared above here, not the type u8
