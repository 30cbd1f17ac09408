-- jit_stepped_slots.lua: while loops written as a bounded for, with a
-- variable of their own stepped by a constant (`off = off + 4`), the end
-- tested on it. In iteration i the variable holds its start plus
-- step * i when every way that goes on steps it once by the same amount:
-- loop versioning settles its tests before the loop (jit/loop_checks.c).
-- Ways that step it otherwise, or not at all, keep their tests.
license "GPL"

-- step 4, the test before the read, reads up to the last whole word
function xdp.words(pkt)
  local off, s = 0, 0
  for _ = 1, 1000 do
    if off + 4 > #pkt then break end
    s = s + (pkt:be32(off) ~ off)
    off = off + 4
  end
  return (s + off) & 0xffffffff
end

-- from an odd start, step 3, the test written #pkt - off < 3
function xdp.odd_start(pkt)
  local off, s = 1, 7
  for _ = 0, 600 do
    if #pkt - off < 3 then break end
    s = s * 5 + pkt:u8(off) + pkt:u8(off + 2)
    off = off + 3
  end
  return s & 0xffffff
end

-- counting down by 2 from the end, the test off < 0 (signed)
function xdp.down(pkt)
  local off, s = #pkt - 2, 0
  for _ = 1, 800 do
    if off < 0 then break end
    s = s ~ (pkt:be16(off) * (off + 1))
    off = off - 2
  end
  return s & 0xffffff
end

-- stepped by the same amount on both ways of an if
function xdp.both_ways(pkt)
  local off, a, b = 0, 0, 0
  for _ = 1, 500 do
    if off >= #pkt then break end
    local v = pkt:u8(off)
    if v > 100 then
      a = a + v
      off = off + 2
    else
      b = b + v
      off = off + 2
    end
  end
  return (a * 4096 + b + off) & 0xffffff
end

-- stepped by 1 or 2 (not a constant step): the test stays
function xdp.uneven(pkt)
  local off, s = 0, 0
  for _ = 1, 700 do
    if off + 2 > #pkt then break end
    local v = pkt:u8(off)
    s = s + v * pkt:u8(off + 1)
    if v > 127 then off = off + 2 else off = off + 1 end
  end
  return (s + off) & 0xffffff
end

-- stepped only when a byte is odd (a way that goes on without a step)
function xdp.sometimes(pkt)
  local off, s = 0, 0
  for i = 0, 300 do
    if off >= #pkt then break end
    s = s + pkt:u8(off) + i
    if (i & 1) == 1 then off = off + 1 end
  end
  return (s + off) & 0xffffff
end

-- returns from inside at a zero byte; the offset read after its step
function xdp.ret_inside(pkt)
  local off, s = 0, 0
  for _ = 1, 400 do
    if off + 1 > #pkt then return s & 0xffff end
    local v = pkt:u8(off)
    off = off + 1
    if v == 0 and off > 20 then return (s + off * 256) & 0xffffff end
    s = s + v * off
  end
  return (s + 3) & 0xffffff
end

-- two variables stepped by different amounts, the test on the second
function xdp.two_vars(pkt)
  local a, b, s = 5, 0, 0
  for _ = 1, 900 do
    if b + 2 > #pkt then break end
    s = s + pkt:be16(b) + a
    a = a + 7
    b = b + 2
  end
  return (s ~ a) & 0xffffff
end
