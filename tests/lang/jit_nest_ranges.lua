-- Nested loops whose inner bounds come from the outer index: the JIT drops
-- the inner loop's range test, trip-count limit and status test when the
-- outer loop's range decides them (jit/inline_ranges.c), and user tests
-- on the index with them. Each function has a test at the edge of what
-- the ranges allow (j == i at the last iteration, an empty inner loop, a
-- step that lands past the bound), which a proof one off would get wrong.
local hits = map.array { key = u32, value = u64, max_entries = 8 }

local function seed(pkt)
  if #pkt < 2 then return 0 end
  return pkt:u8(0) ~ pkt:u8(1)
end

-- j reaches i at the last inner iteration only
function xdp.tri_last(pkt)
  local s, c = seed(pkt), 0
  for i = 1, 15 do
    for j = 0, i do
      if j == i then c = c + 1 end
      if j > i then return xdp.ABORTED end
      c = c + ((i * j) ~ s)
    end
  end
  return c & 0xffff
end

-- counting down: the inner index ends at 0, never below
function xdp.down_edge(pkt)
  local s, c = seed(pkt), 0
  for i = 15, 1, -1 do
    for j = i, 1, -1 do
      if j == 1 then c = c + 3 end
      if j < 0 then return xdp.ABORTED end
      c = c + (j ~ s)
    end
  end
  return c & 0xffff
end

-- empty inner loops for i > 3: the range test must stay
function xdp.empty_inner(pkt)
  local s, c = seed(pkt), 0
  for i = 0, 7 do
    for j = i, 3 do
      c = c + (j ~ s) + 1
    end
  end
  return c & 0xffff
end

-- i == j bounds: one inner iteration each
function xdp.single_inner(pkt)
  local s, c = seed(pkt), 0
  for i = 0, 9 do
    for j = i, i do
      if j ~= i then return xdp.ABORTED end
      c = c * 3 + (j ~ s)
    end
  end
  return c & 0xffff
end

-- steps: the inner index overshoots nothing; the last value depends on
-- the parity of i
function xdp.steps(pkt)
  local s, c = seed(pkt), 0
  for i = 1, 20, 3 do
    for j = i, 0, -2 do
      if j < 2 then c = c + 7 end
      c = c + ((i * j) ~ s)
    end
  end
  return c & 0xffff
end

-- three deep, inner bounds from both outer indices, a map value updated
function xdp.deep_map(pkt)
  local s = seed(pkt)
  hits[0] = 0
  for i = 0, 5 do
    for j = 0, i do
      for k = j, i do
        if k == i then hits[0] = (hits[0] or 0) + 1 end
        hits[1] = ((hits[1] or 0) + (i ~ j ~ k ~ s)) & 0xffffff
      end
    end
  end
  return ((hits[0] or 0) + (hits[1] or 0)) & 0xffff
end

-- the outer bound from the packet (masked), the inner from the outer index
function xdp.packet_bound(pkt)
  if #pkt < 3 then return xdp.PASS end
  local n, c = pkt:u8(2) & 15, 0
  for i = 0, n do
    for j = 0, i do
      if j == n then c = c + 100 end
      c = c + j
    end
  end
  return c & 0xffff
end

-- a return from the inner loop: its status test must stay (a loop that
-- went on would return again, later, with another c)
function xdp.inner_return(pkt)
  local s, c = seed(pkt) & 3, 0
  for i = 0, 7 do
    for j = 0, i do
      if j == s and i >= 4 then return 1000 + c end
      c = c + 1
    end
  end
  return c
end

-- the inner bound an affine function of the outer index (2 * i + 1 - i0)
function xdp.affine_bound(pkt)
  local s, c = seed(pkt), 0
  for i = 2, 9 do
    for j = i - 2, 2 * i - 3 do
      if j == 2 * i - 3 then c = c + 5 end
      if j < 0 then return xdp.ABORTED end
      c = c + (j ~ s)
    end
  end
  return c & 0xffff
end

-- a value from a local function (written through the pointer it is given
-- for its result) bounds a test in the inner loop
function xdp.callee_out(pkt)
  local lim, c = seed(pkt) & 7, 0
  for i = 0, 3 do
    for j = 0, i do
      if j + lim > 6 then c = c + 10 end
      c = c + 1
    end
  end
  return c
end
