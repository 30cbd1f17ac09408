-- nested_scratch.lua: a random program (randprog seed 509, reduced) whose outer
-- loop body uses the slots of the inner loop's start and step as scratch after
-- the inner loop. The kernel converges only because those slots are written
-- again before every bpf_loop call (codegen fornum).
local m = map.hash { key = i32, value = i64, max_entries = 16 }
local function f(x, y)
  for i1 = -1, 0 do
  end
  return 0
end
function xdp.r1(pkt)
  local a, b, c = pkt:u8(0) - 128, pkt:be16(2) - 30000, pkt:le32(4) * 3
  for i1 = -3, 0, 1 do
    i1 = (~pkt:u8(3))
    for i2 = -2, 0, 1 do
      if (i1 < (m[pkt:u8(12) & 7] or (b // b)) or (i2 ~= (math.maxinteger | (0xff >> a)) or ((i1 << 2) % (- 0x80000000)) ~= (m[(m[i2 & 7] or i2) & 7] or f(c, b)))) then
        local b3 = (f((- 255), (- c)) ~= (m[(a & b) & 7] or (7 << i1)) and (c << c) < 3)
        if not ((~(m[c & 7] or a)) == ((a ~ b) << b)) then return (b & (c * i1)) end
      end
    end
    if ((~c) & i1) == (m[a & 7] or i1) then
    end
  end
end
