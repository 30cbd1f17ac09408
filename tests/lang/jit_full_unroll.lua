-- Inner loops with a constant trip count of 2 to 4 that never break and
-- read their index only through induction variables: the JIT writes the
-- body that many times in a row (jit/inline_loop.c emit_full_copy), the
-- induction variables stepped between the copies. Trip counts around the
-- limit (1, 5: loops as before), steps, counting down, a condition inside
-- the body (exits that go on), and a break in the loop around it.

local function seed(pkt)
  if #pkt < 2 then return 3 end
  return pkt:u8(0) ~ pkt:u8(1)
end

-- 4 iterations, k an induction variable scaled by j
function xdp.four(pkt)
  local s, acc = seed(pkt), 0
  for i = 0, 15 do
    for j = 0, 15 do
      if j > i then break end
      for k = 0, 3 do
        acc = acc + ((i + j * k) ~ s)
      end
    end
  end
  return acc & 0xffffff
end

-- 2, 3 and 5 iterations (5 stays a loop), one after the other
function xdp.two_three_five(pkt)
  local s, acc = seed(pkt), 0
  for i = 0, 30 do
    for k = 1, 2 do acc = acc + ((i * k) ~ s) end
    for k = 7, 9 do acc = acc * 3 + (k ~ i) end
    for k = 0, 4 do acc = acc + (k * i) end
  end
  return acc & 0xffffff
end

-- steps: 0, 2, 4, 6 and counting down 9, 6, 3
function xdp.steps(pkt)
  local s, acc = seed(pkt), 0
  for i = 0, 20 do
    for k = 0, 6, 2 do acc = acc + ((k + i) ~ s) end
    for k = 9, 1, -3 do acc = acc * 5 + k end
  end
  return acc & 0xffffff
end

-- a condition in the body: some copies go on early
function xdp.cond(pkt)
  local s, acc, odd = seed(pkt), 0, 0
  for i = 0, 40 do
    for k = 0, 3 do
      if ((i + k) & 1) == 1 then
        odd = odd + k
      else
        acc = acc + ((i * k) ~ s)
      end
    end
  end
  return (acc + odd * 7) & 0xffffff
end

-- one iteration, and a bound from the packet (no constant): loops
function xdp.one_and_pkt(pkt)
  local s, acc = seed(pkt), 0
  local m = #pkt & 3
  for i = 0, 20 do
    for k = 5, 5 do acc = acc + (k ~ i ~ s) end
    for k = 0, m do acc = acc + ((k * 3) ~ i) end
  end
  return acc & 0xffffff
end
