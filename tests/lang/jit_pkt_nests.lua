-- Window loops over the packet, written the ways users write them. The
-- JIT copies such a nest for packets of at most 65,528 bytes, where the
-- compiler's `j > 65527` before each read cannot fire once the read lies
-- in the packet (jit/inline_loop.c, the packet's length versioned before
-- the outermost loop), and writes inner loops of 2 to 8 iterations out
-- whole. tests/spec/lang_spec.lua also runs this file on packets of
-- 65,520 to 65,536 bytes, where the last windows reach byte 65,528 and the
-- check must fire (XDP packets reach 65,536 bytes).

-- 16-byte windows, the outer bound a constant, a break on the length
function xdp.win16_brk(pkt)
  local acc = 0
  for i = 0, 65535, 16 do
    if i + 16 > #pkt then break end
    local w = 0
    for j = 0, 15 do
      w = w + pkt:u8(i + j)
    end
    acc = acc ~ (w * (i + 3))
  end
  return acc & 0xffffff
end

-- 16-bit words two by two in 8-byte windows (inner step 2)
function xdp.win8_words(pkt)
  local n = #pkt
  local acc = 0
  for i = 0, n - 8, 8 do
    local w = 0
    for j = i, i + 6, 2 do
      w = w + pkt:be16(j)
    end
    acc = acc * 31 + w
  end
  return acc & 0xffffff
end

-- every start, a 4-byte window (step 1 outside: the last window ends at
-- #pkt - 1, so a 65,529-byte packet reads byte 65,528)
function xdp.slide4(pkt)
  local acc = 0
  for i = 0, #pkt - 4 do
    local h = 0
    for j = 0, 3 do
      h = h * 7 + pkt:u8(i + j)
    end
    acc = acc + (h ~ i)
  end
  return acc & 0xffffff
end

-- the window ends at the outer index (inner bounds from it), outer step 4
function xdp.win_back(pkt)
  local acc = 0
  for i = 4, #pkt, 4 do
    for j = i - 4, i - 1 do
      acc = acc + (pkt:u8(j) ~ (j & 7))
    end
  end
  return acc & 0xffffff
end

-- counting down: windows from the end, each read backwards
function xdp.win_down(pkt)
  local acc = 0
  for i = #pkt - 8, 0, -8 do
    local w = 0
    for j = i + 7, i, -1 do
      w = w * 3 + pkt:u8(j)
    end
    acc = acc ~ w
  end
  return acc & 0xffffff
end

-- the window in a local function, the outer loop by 2
local function win3(pkt, i)
  local s = 0
  for j = i, i + 2 do
    s = s + pkt:u8(j)
  end
  return s
end

function xdp.win_fn(pkt)
  local acc = 0
  for i = 0, #pkt - 3, 2 do
    acc = acc + win3(pkt, i) * (i + 1)
  end
  return acc & 0xffffff
end

-- three deep: 32-byte blocks of four 8-byte windows
function xdp.blocks(pkt)
  local acc = 0
  for b = 0, #pkt - 32, 32 do
    for k = 0, 3 do
      local w = 0
      for j = b + k * 8, b + k * 8 + 7 do
        w = w + pkt:u8(j)
      end
      acc = acc ~ (w << k)
    end
  end
  return acc & 0xffffff
end

-- a window one byte past the end when #pkt % 4 == 0: the check stays
function xdp.win5_over(pkt)
  local acc = 0
  for i = 0, #pkt - 4, 4 do
    for j = i, i + 4 do
      acc = acc + pkt:u8(j)
    end
  end
  return acc & 0xffffff
end

-- every start, a 5-byte window: the last one reads one byte past the end
function xdp.slide5_over(pkt)
  local acc = 0
  for i = 0, #pkt - 4 do
    for j = 0, 4 do
      acc = acc + (pkt:u8(i + j) ~ j)
    end
  end
  return acc & 0xffffff
end

-- windows up to 8 * the first byte; the test on j holds only at the very
-- last byte of 255 windows (the ff100 packet): the relation of the bounds
-- (j <= 8 * pkt[0] - 1) must not decide it
function xdp.win_edge(pkt)
  if #pkt < 1 then return 1 end
  local n = pkt:u8(0) * 8
  local acc = 0
  for i = 0, n - 8, 8 do
    for j = i, i + 7 do
      if j >= 2039 then return (acc + 7) & 0xffffff end
      acc = acc + j
    end
  end
  return acc & 0xffffff
end

-- a condition in the window: j is read after the branch (the copy puts it
-- in its own register there, which the enclosing loop's i shares)
function xdp.win_cond(pkt)
  local n = #pkt
  local acc = 0
  for i = 0, n - 8, 8 do
    local w = 0
    for j = i, i + 7 do
      local b = pkt:u8(j)
      if b > 100 then w = w + j end
      w = w + b
    end
    acc = acc ~ (w * (i + 1))
  end
  return acc & 0xffffff
end

-- counting down, each window one byte too wide: the first reads past the
-- end (the relation `i <= #pkt - 4` must not be taken one tighter)
function xdp.win_down_over(pkt)
  local acc = 0
  for i = #pkt - 4, 0, -4 do
    for j = i + 4, i, -1 do
      acc = acc + pkt:u8(j)
    end
  end
  return acc & 0xffffff
end
