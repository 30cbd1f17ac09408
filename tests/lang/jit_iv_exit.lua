-- Inner loops that count down to 0, `for j = x, 0, -1`: the JIT ends such
-- a loop by the sign of j's own step (`add $-1, j; jns top`) when the
-- ranges show j = x - index stays >= 0 up to the last iteration and goes
-- below 0 right after it (n = x + 1). Loops that stop elsewhere (at 1,
-- at a bound from the packet) or step by 2 or 3 must keep their count.
-- Each function mixes the indices and a seed, so an iteration too many or
-- too few changes the result.
local function seed(pkt)
  if #pkt < 2 then return 0 end
  return pkt:u8(0) ~ (pkt:u8(1) << 3)
end

-- 1 to 4 iterations, the bound from the outer index (x = 0 runs once)
function xdp.to_zero(pkt)
  local s, acc = seed(pkt), 0
  for i = 60, 0, -1 do
    for j = i & 3, 0, -1 do
      acc = acc + (i ~ j ~ s) * (j + 1)
    end
  end
  return acc & 0xffffff
end

-- three deep, each bound from the one outside it
function xdp.three(pkt)
  local s, acc = seed(pkt), 0
  for i = 9, 0, -1 do
    for j = i, 0, -1 do
      for k = j, 0, -1 do
        acc = acc * 3 + (i ~ j ~ k ~ s)
      end
    end
  end
  return acc & 0xffffff
end

-- stops at 1 (j = 0 must not run), at 2 and at -1 (j = -1 must run)
function xdp.to_one(pkt)
  local s, acc = seed(pkt), 0
  for i = 0, 40 do
    for j = (i & 3) + 1, 1, -1 do
      acc = acc * 3 + (j ~ s) + 1
    end
    for j = (i & 3) + 2, 2, -1 do
      acc = acc * 5 + j
    end
    for j = i & 3, -1, -1 do
      acc = acc * 7 + (j & 15) + 1
    end
  end
  return acc & 0xffffff
end

-- steps -2 and -3 to 0: the last j is 0, 1 or 2
function xdp.steps(pkt)
  local s, acc = seed(pkt), 0
  for i = 0, 30 do
    for j = i % 7, 0, -2 do
      acc = acc * 7 + (j ~ s)
    end
    for j = i % 8, 0, -3 do
      acc = acc + j * 11 + 1
    end
  end
  return acc & 0xffffff
end

-- the start from the packet, the stop from the outer index
function xdp.from_pkt(pkt)
  local s, acc = seed(pkt), 0
  local top = 0
  if #pkt > 2 then top = pkt:u8(2) & 7 end
  for i = 0, 5 do
    for j = top, 0, -1 do
      acc = acc * 3 + (j ~ i ~ s)
    end
    for j = top + i, i, -1 do
      acc = acc + (j ~ s) + 2
    end
  end
  return acc & 0xffffff
end

-- j read after its loop's own values (an empty range when x < 0)
function xdp.maybe_empty(pkt)
  local s, acc = seed(pkt), 0
  for i = 0, 20 do
    for j = (i & 3) - 2, 0, -1 do
      acc = acc * 3 + (j ~ s) + 1
    end
  end
  return acc & 0xffffff
end

-- in a local function called from a loop
local function down(x, s)
  local a = 0
  for j = x, 0, -1 do
    a = a * 5 + (j ~ s)
  end
  return a
end

function xdp.in_function(pkt)
  local s, acc = seed(pkt), 0
  for i = 0, 30 do
    acc = (acc + down(i & 7, s)) & 0xffffffff
  end
  return acc & 0xffffff
end
