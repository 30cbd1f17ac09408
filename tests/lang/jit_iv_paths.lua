-- jit_iv_paths.lua: values affine in a loop's index (coef * index + base,
-- coef and base the same in every iteration) made after the first jump
-- of the body: in one arm of an if/else, after a break or a return test,
-- in both arms with different coefficients (the variable read after the
-- join holds one or the other), and on the way out of the loop. The JIT
-- keeps each in a register of its own, stepped once per iteration on
-- every path (jit/inline_hoist.c walk_rest).
license "GPL"

local function seed(pkt)
  if #pkt < 2 then return 3 end
  return pkt:u8(0) ~ pkt:u8(1)
end

-- i * j in one arm only (j the inner index + 1, i the outer's)
function xdp.one_arm(pkt)
  local s, acc, odd = seed(pkt), 0, 0
  for i = 1, 12 do
    for j = 1, i * 2 do
      if (j & 1) == 1 then
        odd = odd + 1
      else
        acc = acc + ((i * j) ~ s)
      end
    end
  end
  return (acc + odd) & 0xffffff
end

-- a different product in each arm, read after the join
function xdp.both_arms(pkt)
  local s, acc = seed(pkt), 0
  for i = 1, 9 do
    for j = 0, 20 do
      local x = 0
      if ((j + s) & 3) == 0 then
        x = i * j + 7
      else
        x = j * 5 - i
      end
      acc = acc + (x ~ s)
    end
  end
  return acc & 0xffffff
end

-- one arm sets the value, the other leaves what the top computed
function xdp.one_arm_join(pkt)
  local s, acc = seed(pkt), 0
  for i = 2, 10 do
    for j = 3, 40, 3 do
      local x = j * i
      if (j & 4) == 0 then x = j * 2 + i end
      acc = acc + (x ~ (s + j))
    end
  end
  return acc & 0xffffff
end

-- after a break on a packet byte, counting down
function xdp.after_break(pkt)
  local s, acc = seed(pkt), 0
  local n = #pkt
  for i = 0, 7 do
    for j = 60, 1, -1 do
      if n > 0 and pkt:u8((j + i) % n) == 255 then break end
      acc = acc + ((j * (i + 2)) ~ s)
    end
  end
  return acc & 0xffffff
end

-- after a return test; the value also returned on the way out
function xdp.after_return(pkt)
  local s, acc = seed(pkt), 0
  for i = 0, 11 do
    for j = 0, 30, 2 do
      if acc > 0x7ffff + s * 2048 then return (acc + j * i) & 0xffff end
      acc = acc + ((j * i + 3) ~ s)
    end
  end
  return acc & 0xffffff
end

-- a step of 4 with the product in a branch on a packet byte
function xdp.step4_branch(pkt)
  local s, acc, hi = seed(pkt), 0, 0
  local n = #pkt
  for i = 1, 6 do
    for j = 0, 96, 4 do
      local b = 0
      if n > 0 then b = pkt:u8(j % n) end
      if b > 127 then
        hi = hi + (i * j)
      else
        acc = acc + ((i * j + b) ~ s)
      end
    end
  end
  return (acc * 3 + hi) & 0xffffff
end

-- single loop: i * 6 in one arm, a nested condition
function xdp.single(pkt)
  local s, acc = seed(pkt), 0
  for i = 0, 199 do
    if (i % 3) == 0 then
      if (i & 8) ~= 0 then acc = acc + i * 6 else acc = acc - (i * 6 - s) end
    end
  end
  return acc & 0xffffff
end
