-- Windows over the packet: an outer loop by a stride up to #pkt minus the
-- window, an inner loop over the window reading each byte. The JIT drops
-- the inner loop's packet checks when the relation of the bounds proves
-- every read inside the packet (j <= i + 7 <= n - 1 with i <= n - 8,
-- jit/inline_ranges.c's facts); windows one byte too wide, lengths not
-- from #pkt, and bounds where n - w is negative (short packets) keep them.
-- The packets (tests/lang/packets.lua) are 14 to 1,500 bytes, odd and
-- multiples of 8.

-- as in the bench's survey: 8-byte windows over all of #pkt
function xdp.win8(pkt)
  local n = #pkt
  local acc = 0
  for i = 0, n - 8, 8 do
    local w = 0
    for j = i, i + 7 do
      w = w + pkt:u8(j)
    end
    acc = acc ~ (w * (i + 1))
  end
  return acc & 0xffffff
end

-- one byte too wide: the last window reads pkt[n] when #pkt % 8 == 0
function xdp.win9_over(pkt)
  local n = #pkt
  local acc = 0
  for i = 0, n - 8, 8 do
    for j = i, i + 8 do
      acc = acc + pkt:u8(j) + j
    end
  end
  return acc & 0xffffff
end

-- n well below #pkt: n - 8 < 0 for the short packets (empty loop)
function xdp.win_short(pkt)
  local n = #pkt - 10
  local acc = 1
  for i = 0, n - 8, 8 do
    for j = i, i + 7 do
      acc = acc * 3 + pkt:u8(j + 9)
    end
  end
  return acc & 0xffffff
end

-- windows of 4 from an odd start, the last one ending at #pkt - 1
function xdp.win4_odd(pkt)
  local acc = 0
  for i = 1, #pkt - 4, 4 do
    for j = i, i + 3 do
      acc = acc + (pkt:u8(j) ~ j)
    end
  end
  return acc & 0xffffff
end

-- the window's end from the packet's first byte, not #pkt: checks stay
function xdp.win_byte(pkt)
  if #pkt < 1 then return xdp.PASS end
  local n = pkt:u8(0) * 8
  local acc = 0
  for i = 0, n - 8, 8 do
    for j = i, i + 7 do
      acc = acc + pkt:u8(j)
    end
  end
  return acc & 0xffffff
end

-- the stride larger than the window: bytes between windows skipped; the
-- window's last byte at i + 5 <= #pkt - 1
function xdp.win_gap(pkt)
  local acc = 0
  for i = 0, #pkt - 6, 16 do
    for j = i + 2, i + 5 do
      acc = acc * 5 + pkt:u8(j)
    end
  end
  return acc & 0xffffff
end

-- the window's index from 0, the read at i + j
function xdp.win_rel(pkt)
  local acc = 0
  for i = 0, #pkt - 16, 16 do
    local w = 0
    for j = 0, 15 do
      w = w + pkt:u8(i + j)
    end
    acc = acc ~ w
  end
  return acc & 0xffffff
end

-- the count of windows from #pkt // 8, the start from the window number
function xdp.win_count(pkt)
  local acc = 0
  for b = 1, #pkt // 8 do
    local base = (b - 1) * 8
    for j = base, base + 7 do
      acc = acc + pkt:u8(j)
    end
  end
  return acc & 0xffffff
end

-- one window more than fits: the last one reads past the end
function xdp.win_count_over(pkt)
  local acc = 0
  for b = 0, #pkt // 8 do
    for j = b * 8, b * 8 + 7 do
      acc = acc + pkt:u8(j)
    end
  end
  return acc & 0xffffff
end
