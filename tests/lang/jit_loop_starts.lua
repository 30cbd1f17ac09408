-- Nested loops whose inner loop runs a few times only, so that starting it
-- is most of the work. The JIT keeps the inner loop's induction variable
-- (j, or a countdown from a bound of the outer index) in the register of
-- a slot that only hoisted code reads rather than in one an enclosing
-- loop holds, and the compiler's launder of a value (`lock add [slot],
-- 0`) leaves that value where it lives for a test after it. Each function
-- mixes the indices and a seed so that a variable started or stepped
-- wrong, or an enclosing index clobbered, changes the result.
local hits = map.array { key = u32, value = u64, max_entries = 4 }

local function seed(pkt)
  if #pkt < 2 then return 0 end
  return pkt:u8(0) ~ (pkt:u8(1) << 3)
end

-- counting down from i & 3: 1 to 4 iterations, j from a bound of i
function xdp.short_down(pkt)
  local s, acc = seed(pkt), 0
  for i = 99, 0, -1 do
    for j = i & 3, 0, -1 do
      acc = acc + (i ~ j ~ s)
    end
  end
  return acc & 0xffffff
end

-- counting up, with an offset, and the outer index read after the inner loop
function xdp.short_up(pkt)
  local s, acc = seed(pkt), 0
  for i = 0, 79 do
    for j = i % 3, (i % 3) + 2 do
      acc = acc + ((j * 5) ~ i ~ s)
    end
    acc = acc + i
  end
  return acc & 0xffffff
end

-- the inner value `k - j` counts down from the outer value k (an
-- induction variable whose base is an enclosing slot)
function xdp.countdown_base(pkt)
  local s, acc = seed(pkt), 0
  for i = 0, 49 do
    local k = 3 * i + s
    for j = 0, i & 3 do
      acc = acc * 3 + ((k - j) ~ s)
    end
  end
  return acc & 0xffffff
end

-- steps of -2 and 3 in the inner loop
function xdp.short_steps(pkt)
  local s, acc = seed(pkt), 0
  for i = 0, 59 do
    for j = (i & 7) + 1, 0, -2 do
      acc = acc + (i ~ j ~ s) * 2
    end
    for j = 0, i & 7, 3 do
      acc = acc ~ (j + i + s)
    end
  end
  return acc & 0xffffff
end

-- a test on the sum after its launder: returns mid-loop for some seeds
function xdp.short_ret(pkt)
  local s, acc = seed(pkt), 0
  local lim = 1000 + (s & 255) * 40
  for i = 0, 99 do
    for j = 0, i & 3 do
      acc = acc + (i ~ j ~ s)
      if acc > lim then return 1 + (acc & 0xff) end
    end
  end
  return acc & 0xffffff
end

-- the same with the test spelled the other way round and a break
function xdp.short_brk(pkt)
  local s, acc, n = seed(pkt), 0, 0
  local lim = 3000 + (s & 127) * 20
  for i = 0, 99 do
    for j = i & 3, 0, -1 do
      acc = acc + (i ~ j ~ s)
      if not (acc <= lim) then break end
      n = n + 1
    end
  end
  return (acc + n * 65536) & 0xffffff
end

-- three deep, each bound from the index outside it, counting down
function xdp.three_down(pkt)
  local s, acc = seed(pkt), 0
  for i = 9, 0, -1 do
    for j = i, 0, -1 do
      for k = j & 3, 0, -1 do
        acc = acc + (i ~ j ~ k ~ s)
      end
    end
  end
  return acc & 0xffffff
end

-- three deep with the middle index read after the innermost loop, the
-- sum starting from a map value and stored back
function xdp.three_map(pkt)
  local s = seed(pkt)
  local v = hits[1] or 0
  for i = 0, 7 do
    for j = 0, i & 3 do
      for k = j, 0, -1 do
        v = v + ((i * 7) ~ (j * 3) ~ k ~ s)
      end
      v = v + j
    end
  end
  hits[1] = v
  return v & 0xffffff
end

-- a random nest (randprog.generate_nest seed 14) whose inner loops keep
-- slots in registers with no register left to hoist into: counting down
-- must not read a hoist plan that was never made (it crashed the JIT)
function xdp.no_plan(pkt)
  if #pkt < 4 then return xdp.PASS end
  local s, acc = pkt:u8(0) ~ pkt:u8(1), 0
  for i1 = pkt:u8(2) & 7, 0, -1 do
    for i2 = i1 // 2, i1, -2 do
      if i2 == i1 // 2 + 1 then acc = acc + 30 end
      for i3 = i1 + -2, 2 * i2 - 7, 3 do
        acc = acc + ((i3 * i3) ~ s) - 15
        if i3 > i1 + -2 then acc = acc + 1000 end
        if i3 + 3 >= i3 + s % 4 then acc = acc + 3 end
      end
      for i3 = 5 - i1, 3, -1 do
        if i3 == 5 - i1 + 1 then acc = acc + 27 end
        acc = acc + ((i3 * i2) ~ s) + 15
        if i3 == 5 - i1 - 1 then acc = acc + 25 end
      end
    end
  end
  return acc & 0xffff
end

-- inner loops that count down keep their trip count in rdi, where i is
-- when the body reads it: here the body reads i (j * j, i ~ j are no
-- induction variables), so n must live elsewhere; and one whose j only
-- feeds an induction variable, with a constant trip count
function xdp.n_in_rdi(pkt)
  local s, acc = seed(pkt), 0
  for i = 0, 39 do
    for j = 0, i & 3 do
      acc = acc + ((j * j) ~ s) + (i * j)
    end
    for j = 7, 0, -1 do
      acc = acc + (j ~ s)
    end
  end
  return acc & 0xffffff
end
