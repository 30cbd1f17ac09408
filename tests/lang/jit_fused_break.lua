-- `if flag then break end` as the first test of a loop body: the JIT folds
-- the compiler's `jeq flag, 0, +1; ja out` into one jump, and the values
-- the rest of the body reads (here i, a copy of R1) must still be where
-- they were. It once tested the caller's register instead of i: the fault
-- of `c // i` at i = 0 was skipped and the loop broke at once.
local m = map.array { key = u32, value = u64, max_entries = 4 }

function xdp.first_iteration(pkt)
  if #pkt < 8 then return xdp.PASS end
  local a = pkt:u8(0) - 128
  local flag = a > 100
  for i = 0, 4 do
    if flag then break end
    if i == 0 then return xdp.TX end
  end
  return xdp.DROP
end

function xdp.fault_in_body(pkt)
  if #pkt < 8 then return xdp.PASS end
  local a, b, c = pkt:u8(0) - 128, pkt:be16(2) - 30000, pkt:le32(4) * 3
  local flag = a > c
  for i = 0, 4 do
    if flag then break end
    if c // i == b then break end
  end
  return xdp.DROP
end

function xdp.flag_from_map(pkt)
  if #pkt < 2 then return xdp.PASS end
  local n = pkt:u8(1) + 1
  local flag = (m[0] or 0) ~= 0
  local s = 0
  for i = 1, 6 do
    if flag then break end
    s = s + i * n
    m[1] = s
  end
  if s == 21 * n then return xdp.TX end
  return xdp.DROP
end
