-- Inner loops of a nest versioned at each of their starts on tests of
-- the index that exit (jit/inline_loop.c, emit_checks_limit): the range
-- [T0, T1) of iterations no test exits in is computed before the loop,
-- the first test's t taken as it is, later ones' through min (T1) or max
-- (T0). Bounds from the outer index and the packet put the exits at,
-- before and after every iteration, so that a t one off, or a later
-- test's min skipped, runs the copy without tests one iteration too far.
local function seed(pkt)
  if #pkt < 2 then return 0 end
  return (pkt:u8(0) ~ (pkt:u8(1) << 3)) & 15
end

-- one strict test on the sum of the indices (tri_gt's shape)
function xdp.sum_gt(pkt)
  local s, acc = seed(pkt), 0
  for i = 0, 31 do
    for j = i, 31 do
      if i + j > 36 + s then break end
      acc = acc + ((i ~ j) + 1) * (j - i + 1)
    end
  end
  return acc & 0xffffff
end

-- the same, non-strict, stepping by 2 and by 4 (t by a shift)
function xdp.sum_ge_steps(pkt)
  local s, acc = seed(pkt), 0
  for i = 0, 31 do
    for j = i, 63, 2 do
      if i + j >= 40 + s then break end
      acc = acc * 3 + (i ~ j)
    end
    for j = 0, 63, 4 do
      if j + i >= 45 - s then break end
      acc = acc + (j ~ s) + i
    end
  end
  return acc & 0xffffff
end

-- two tests: the second's exit comes first for some i, the first's for
-- others (T1 the min of both)
function xdp.two_tests(pkt)
  local s, acc = seed(pkt), 0
  for i = 0, 23 do
    for j = 0, 40 do
      if j > 30 - i then break end
      if j + s >= i + 9 then break end
      acc = acc + (j + 1) * (i ~ s)
    end
    acc = acc ~ (i << 4)
  end
  return acc & 0xffffff
end

-- an early return on one test and a break on another, counting down
function xdp.down_ret(pkt)
  local s, acc = seed(pkt), 0
  for i = 0, 19 do
    for j = 30, 0, -1 do
      if j < i - s then return acc + 7 end
      if j + i < 12 then break end
      acc = acc + (j ~ i)
    end
  end
  return acc & 0xffffff
end

-- a test that holds at the first iterations and not after them (T0 > 0:
-- the loop exits at its first iteration, in the copy with the tests),
-- next to one that holds from some iteration on
function xdp.holds_first(pkt)
  local s, acc = seed(pkt), 0
  for i = 0, 23 do
    for j = 0, 30 do
      if i + 6 - j > s then break end
      if j + i > 38 then break end
      acc = acc + (j ~ i) + 1
    end
    for j = i, 40, 2 do
      if 20 - j > s then break end
      acc = acc * 5 + j
    end
  end
  return acc & 0xffffff
end

