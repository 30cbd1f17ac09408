-- init contents in the order Lua's table constructor stores them:
-- positional values in batches of 50 (flushed before the field after the
-- 50th and at the end), keyed ones at once; the later of two fields with
-- one key wins
local a = map.array { value = u16, max_entries = 60, init = { 3, 6, 9, 12, 15, 18, 21, 24, 27, 30, 33, 36, 39, 42, 45, 48, 51, 54, 57, 60, 63, 66, 69, 72, 75, 78, 81, 84, 87, 90, 93, 96, 99, 102, 105, 108, 111, 114, 117, 120, 123, 126, 129, 132, 135, 138, 141, 144, 147, 150, 153, [1] = 1000, [51] = 5100, [52] = 5200 } }
local h = map.hash { key = i32, value = i64, max_entries = 8, init = { 5, 6, [1] = 7, [-2] = 1, [-2] = 2, [0x2] = 9 } }
local g = map.hash { key = u8, value = u8, max_entries = 4, init = { [3] = 30, 10, [1] = 11 } }
local l = map.lpm { value = u8, max_entries = 4, init = { ["10.0.0.0/8"] = 1, ["10.0.0.0/8"] = 2 } }

function xdp.p(pkt)
  return (a[1] or 0) + (a[51] or 0) + (a[52] or 0) + (h[1] or 0) * 100 + (h[2] or 0) + (h[-2] or 0) * 10000 + (g[1] or 0) + (l[0x0a000001] or 0)
end
