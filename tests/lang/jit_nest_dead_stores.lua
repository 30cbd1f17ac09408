-- Stores in a nest's outer body to slots only the inner loops read: the
-- JIT drops one when no loop of the nest can read the value before it is
-- written again (the compiler's zeroing of an inner loop's start after
-- the loop); these are the ones it must keep. x is stored after the
-- inner loop and read by the inner loop of the next iteration, by the
-- outer body's next iteration, after the outer loop, or three deep.
local function seed(pkt)
  if #pkt < 2 then return 0 end
  return pkt:u8(0) ~ (pkt:u8(1) << 3)
end

-- read by the next iteration's inner loop before the body writes it
function xdp.next_inner(pkt)
  local s, acc, x = seed(pkt), 0, 7
  for i = 0, 30 do
    for j = 0, i & 3 do
      acc = acc * 3 + (x ~ j ~ s)
    end
    x = i * 5 + 1
  end
  return acc & 0xffffff
end

-- read by the next iteration's body, after the inner loop wrote it
function xdp.next_body(pkt)
  local s, acc, x = seed(pkt), 0, 3
  for i = 20, 0, -1 do
    acc = acc + x
    for j = i & 3, 0, -1 do
      x = x + (j ~ s)
      acc = acc * 5 + x
    end
    x = i
  end
  return acc & 0xffffff
end

-- read after the outer loop
function xdp.after(pkt)
  local s, acc, x = seed(pkt), 0, 0
  for i = 0, 25 do
    x = i ~ s
    for j = 0, i & 3 do
      acc = acc + (x ~ j)
    end
    x = acc & 255
  end
  return (acc + x * 7) & 0xffffff
end

-- three deep: the middle body stores what the innermost loop of its
-- next iteration reads, and the outer body reads it too
function xdp.three(pkt)
  local s, acc, x = seed(pkt), 0, 1
  for i = 0, 6 do
    for j = 0, i do
      for k = j, 0, -1 do
        acc = acc * 3 + (x ~ k ~ s)
      end
      x = x + j + 1
    end
    acc = acc + x
  end
  return acc & 0xffffff
end
