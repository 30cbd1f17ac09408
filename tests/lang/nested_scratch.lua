-- nested_scratch.lua: random programs (randprog seed 509, reduced) whose loop
-- bodies reuse the area after an inner loop. The kernel converges on them only
-- because the inner loop's start/step/index slots get fresh values before
-- every bpf_loop call and an if without else still ends with a jump to its
-- end (codegen: fornum, reset_private_slots, If). On Linux 6.18 r1 took the
-- kernel more than 1M instructions (rejected) until shifts, floor divisions
-- and comparison values became branch-free and callbacks zeroed their
-- scratch on exit (docs/compiler.md, Loops): about 40,000 now, within the
-- budget of tests/spec/kernel_budget_spec.lua.
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
        local v4 = ((i2 - pkt:u8(11)) % pkt:u8(10))
      end
    end
    if ((~c) & i1) == (m[a & 7] or i1) then
      local n5 = m[(-2 * a) & 7]
    end
  end
end

function xdp.r1_full(pkt)
  local a, b, c = pkt:u8(0) - 128, pkt:be16(2) - 30000, pkt:le32(4) * 3
  for i1 = -3, 0, 1 do
    i1 = (~pkt:u8(3))
    for i2 = -2, 0, 1 do
      if (i1 < (m[pkt:u8(12) & 7] or (b // b)) or (i2 ~= (math.maxinteger | (0xff >> a)) or ((i1 << 2) % (- 0x80000000)) ~= (m[(m[i2 & 7] or i2) & 7] or f(c, b)))) then
        local b3 = (f((- 255), (- c)) ~= (m[(a & b) & 7] or (7 << i1)) and (c << c) < 3)
        if not ((~(m[c & 7] or a)) == ((a ~ b) << b)) then return (b & (c * i1)) end
        local v4 = ((i2 - pkt:u8(11)) % pkt:u8(10))
      end
      i2 = pkt:u8(11)
    end
    if ((~c) & i1) == (m[a & 7] or i1) then
      local n5 = m[(-2 * a) & 7]
    end
    m[pkt:u8(11) & 7] = nil
  end
  return a
end
