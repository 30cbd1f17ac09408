-- interp_fused_loops.lua: the interpreter's session-8 groups in compiled
-- code, every engine against stock Lua: locals updated in place by every
-- operator (the memory op), laundered ones (compared in the loop or after
-- it), inner loops of 0, 1 and a few iterations started from an outer
-- index (the first iteration's entry, a store fused with the trip count),
-- up, down and by steps, with early exits at the first and last iteration.

-- every in-place operator on outer locals, one of them compared after
function xdp.memops(pkt)
  local n = #pkt & 31
  local a, b, c, d, e, f, g, h = 1, 2, 3, 0xff, 0, 5, 1, 0x7fffffff
  for i = 0, n do
    a = a + i
    b = b - 3
    c = c * 3
    d = d & 0xfe
    e = e | i
    f = f ~ i
    g = g << 1
    h = h >> 1
  end
  if a == 7 then return 1 end
  return (a + b + c + d + e + f + g + h) & 0xffffff
end

-- laundered accumulators: compared inside the loop, and a count kept
function xdp.laundered(pkt)
  local lim = (#pkt & 63) * 3
  local s, t, n = 0, 0, 0
  for i = 0, 99 do
    s = s + i
    t = t ~ s
    n = n + 1
    if s > lim then break end
  end
  return (s * 7 + t + n) & 0xffffff
end

-- inner loops of 0 to 3 iterations, bound from the outer index, up and down
function xdp.short_nests(pkt)
  local k = #pkt & 7
  local acc, runs = 0, 0
  for i = 0, 40 do
    for j = 1, (i + k) & 3 do
      acc = acc + (i ~ j)
      runs = runs + 1
    end
    for j = (i & 3) - 1, 0, -1 do
      acc = acc + j * 3
    end
  end
  return (acc * 256 + runs) & 0xffffff
end

-- steps other than 1 with bounds from a packet byte (0 to 255): the trip
-- count's division and its store, empty loops among them
function xdp.steps(pkt)
  if #pkt < 1 then return 0 end
  local b = pkt:u8(0)
  local acc = 0
  for i = b, 300, 7 do acc = acc + i end
  for i = b, 0, -5 do acc = acc + 2 * i end
  for i = 0, b & 15 do
    for j = i, 20, 3 do acc = acc ~ j end
  end
  return acc & 0xffffff
end

-- early exits at the first and last iteration of an inner loop whose
-- accumulator is laundered
function xdp.exits(pkt)
  local k = #pkt & 3
  local acc = 0
  for i = 0, 9 do
    for j = 0, i do
      acc = acc + j + 1
      if j == k then break end
      if acc > 150 + k then return acc end
    end
  end
  return acc
end
