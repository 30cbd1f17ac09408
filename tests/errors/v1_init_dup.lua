-- two init entries for one map key that are two keys of the Lua table
-- (records, or strings naming one prefix): Lua stores them in an open
-- order, so either value could win. The same integer or string twice is
-- one Lua key (the later wins) and is fine.
local R = record { a = u8, b = i32 }
local h = map.hash { key = R, value = u8, max_entries = 4, init = { [R { a = 1 }] = 1, [R { b = 0, a = 1 }] = 2 } }
local l = map.lpm { value = u8, max_entries = 4, init = { ["10.0.0.0/8"] = 1, ["10.0.0.0/8"] = 2, ["10.1.0.0/8"] = 3 } }
local g = map.hash { key = u8, value = u8, max_entries = 4, init = { [1] = 1, [0x1] = 2, 3 } }
function xdp.p(pkt) return 1 end
-- error: 6:89: this init key repeats an earlier entry's; Lua keeps both table keys in an open order, so either value could win
-- error: 7:100: this init prefix repeats an earlier entry's; Lua keeps both table keys in an open order, so either value could win
