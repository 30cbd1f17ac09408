-- launder.lua: outer variables written inside loops. Ones only ever used in
-- their own arithmetic and in returns need no launder (the kernel widens
-- them); ones that reach a comparison, a loop bound, a map key, a call or a
-- packet offset keep it. Every program must load into the kernel.
local m = map.hash { key = u32, value = u64, max_entries = 16 }
local function twice(x) return x * 2 end

-- a plain counter, returned after the loop
function xdp.counter(pkt)
  local n = 0
  local s = 1
  for i = 1, 500 do
    n = n + 1
    s = s * 3 + n
  end
  return (n + s) & 0xffff
end

-- a counter compared inside the loop (needs the launder)
function xdp.counter_cmp(pkt)
  local n = 0
  for i = 1, 1000 do
    n = n + 1
    if n > 700 then break end
  end
  return n
end

-- a counter used as a bound of a later loop and as a map key
function xdp.counter_uses(pkt)
  local n = 0
  for i = 1, 20 do n = n + 2 end
  local c = 0
  for j = 1, n do c = c + j end
  m[n] = c
  return (m[n] or 0) + twice(n)
end

-- a constant written again and again, and a value copied to another variable
function xdp.copies(pkt)
  local k = 5
  local last = 0
  local sum = 0
  for i = 0, 300 do
    k = 7
    last = k + i
    sum = sum + last
  end
  if last > 100 then return sum & 0xffff end
  return 1
end

-- returned from inside the loop
function xdp.return_inside(pkt)
  local acc = pkt:u8(0)
  for i = 0, 99 do
    acc = acc * 5 + i
    if i == 60 then return acc & 0xffff end
  end
  return 0
end

-- shifts and power-of-two divisions keep the variable imprecise; a division
-- by a variable compares it
function xdp.shifts(pkt)
  local h = 17
  local d = pkt:u8(1) + 1
  local q = 1000
  for i = 0, 199 do
    h = (h << 5) ~ (h >> 3) ~ i
    h = h // 4 + h % 8
    q = q // d + 1000
  end
  return (h & 0xffff) + q
end

-- nested loops: the inner one writes a variable of the outer body and one of
-- the program
function xdp.nested_counters(pkt)
  local total = 0
  for i = 1, 30 do
    local row = 0
    for j = 1, 30 do
      row = row + j
      total = total + 1
    end
    total = total + row
  end
  return total
end
