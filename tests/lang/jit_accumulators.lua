-- jit_accumulators.lua: loops whose check-free copy the JIT unrolls, with
-- a sum that only accumulates (s = s + x): the second body of each trip
-- adds into a register of its own, added back after the loop. Sums read
-- for something else, scaled, compared, or not the only thing written
-- must stay one chain; odd and even lengths end in the single copy.
license "GPL"

-- a byte sum over [a, b) in a local function, as ranges_fn
local function sum_range(pkt, a, b)
  local s = 0
  for i = a, b - 1 do
    s = s + pkt:u8(i)
  end
  return s
end

function xdp.two_ranges(pkt)
  local half = #pkt // 2
  return (sum_range(pkt, 0, half) * 3 + sum_range(pkt, half, #pkt)) & 0xffffff
end

-- a sum starting from a value, subtracting, adding a constant too
function xdp.sub_const(pkt)
  local s = 1000 + #pkt
  for i = 0, 1499 do
    if i >= #pkt then break end
    s = s - pkt:u8(i) + 3
  end
  return s & 0xffffff
end

-- only some bytes added
function xdp.cond_add(pkt)
  local s = 7
  for i = 0, 1499 do
    if i + 1 > #pkt then break end
    local b = pkt:u8(i)
    if b > 40 then s = s + b * 2 end
  end
  return s & 0xffffff
end

-- the sum read by another statement each iteration: no split
function xdp.read_elsewhere(pkt)
  local s, t = 0, 0
  for i = 0, 1499 do
    if i >= #pkt then break end
    s = s + pkt:u8(i)
    t = t + (s & 0xff)
  end
  return (s * 65536 + t) & 0xffffff
end

-- scaled each iteration (a hash, not a sum): no split
function xdp.scaled(pkt)
  local s = 5
  for i = 0, 1499 do
    if i >= #pkt then break end
    s = s * 3 + pkt:u8(i)
  end
  return s & 0xffffff
end

-- two sums in one loop, one of them also xored: only a pure sum splits
function xdp.two_sums(pkt)
  local s, x = 0, 0
  for i = 0, 1499 do
    if i + 1 > #pkt then break end
    local b = pkt:u8(i)
    s = s + b
    x = (x ~ b) + 1
  end
  return (s * 256 + x) & 0xffffff
end

-- 16-bit words with a stride of 2, the sum folded after the loop
function xdp.words(pkt)
  local s = 0
  for i = 0, 1498, 2 do
    if i + 2 > #pkt then break end
    s = s + pkt:be16(i)
  end
  s = (s & 0xffff) + (s >> 16)
  s = (s & 0xffff) + (s >> 16)
  return s
end
