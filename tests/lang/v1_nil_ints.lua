-- v1_nil_ints.lua: nil-able integer locals used as integers where a test
-- proves them present (if n then ... n + 1, if not m then return end,
-- a ~= nil and a > 2, after n = 7, in loops), as Lua runs them
local counts = map.hash { key = u32, value = u64, max_entries = 16 }
local last = map.array { value = i32, max_entries = 4 }

function xdp.count(pkt)
  local k = pkt:u8(0) & 7
  local n = counts[k]
  if n then
    counts[k] = n + 1
  else
    counts[k] = 1
  end
  local m = counts[k + 1]
  if not m then return 3 end
  return m * 2
end

function xdp.tests(pkt)
  local a = counts[pkt:u8(1) & 7]
  local b = counts[2]
  local r = 0
  if a ~= nil and a > 2 then r = a end
  if b == nil then b = 7 end
  r = r + b
  local c = last[pkt:u8(2) & 7]
  if c and c < 0 then r = r - c end
  for i = 0, 3 do
    local d = last[i]
    if d then last[i] = d + i else break end
  end
  local e
  if pkt:u8(3) > 100 then e = 5 end
  if e then r = r + e end
  return r
end
