-- regvars.lua: variables the compiler keeps in registers (loop indexes,
-- locals private to one loop body) next to ones that live in the area
-- (read by a nested loop, written in a loop and read after it), breaks and
-- returns out of nested loops, local functions, more live variables than
-- registers, and multiplications by powers of two (shifts)
local m = map.array { value = u64, max_entries = 8 }

-- a local of the outer loop read by the inner loop; a private one next to it
function xdp.read_by_nested(pkt)
  local s = 0
  for i = 0, 5 do
    local k = i * 3 + pkt:u8(0) % 4
    local p = i + 1
    for j = 0, 3 do
      s = s + k * j
    end
    s = s + p * p + k
  end
  return s
end

-- written inside the loop (conditionally), read after it
function xdp.written_then_read(pkt)
  local last, cnt, big = -1, 0, 0
  for i = 0, #pkt - 1 do
    local b = pkt:u8(i)
    if b > 100 then
      last = i
      big = big + b
    elseif b == 0 then
      cnt = cnt + 1
    end
    cnt = cnt + (b & 1)
  end
  return (last + 1) * 1000 + cnt * 7 + big % 97
end

-- a nested loop writes an outer-loop variable that the outer loop body reads
-- before and after it
function xdp.nested_writes(pkt)
  local total = 0
  for i = 1, 4 do
    local acc = i
    acc = acc + 1
    for j = 1, i do
      acc = acc * 2 + j
    end
    acc = acc + i
    total = total + acc
  end
  return total % 100000
end

-- break and return out of nested loops while locals sit in registers
function xdp.break_nested(pkt)
  local found = 0
  for i = 0, 9 do
    local x = i * 5 + 1
    local y = x * x
    for j = 0, 9 do
      local z = j * 4
      if z + x > 30 then break end
      if y + z == 61 then found = found + 1 end
    end
    if x > 35 then break end
    found = found + y % 3
  end
  return found
end

function xdp.return_nested(pkt)
  local base = pkt:u8(1) % 8
  for i = 0, 9 do
    local a = i * 16
    for j = 0, 9 do
      local b = a + j * 8 + base
      if b > 100 and j % 2 == 1 then return b * 4 + i end
    end
  end
  return 1
end

function xdp.return_deep(pkt)
  local n = pkt:u8(2) % 5
  for i = 0, 4 do
    for j = 0, 4 do
      for k = 0, 4 do
        local v = i * 100 + j * 10 + k
        if i + j + k == n + 6 then return v end
      end
    end
  end
  return 2
end

-- local functions: parameters and locals in registers, loops inside
local function weigh(a, b)
  local w = a * 8 + b
  for i = 1, 3 do
    w = w + a * i
  end
  return w
end

local function count_over(p, lim)
  local c = 0
  for i = 0, 15 do
    if p:u8(i) > lim then c = c + 1 end
  end
  return c
end

function xdp.with_funcs(pkt)
  if #pkt < 16 then return 0 end
  local s = 0
  for i = 0, 5 do
    local t = weigh(i, pkt:u8(i))
    s = s + t + count_over(pkt, i * 20)
  end
  return s
end

-- more live variables than registers
function xdp.many_locals(pkt)
  local s = 0
  for i = 0, 7 do
    local a = i + 1
    local b = a * 2
    local c = b + a
    local d = c * c
    local e = d - b
    local f = e ~ a
    local g = f | 3
    local h = g & 255
    local k = h + a + b + c + d + e + f + g
    s = s + k + h * a - e
    s = s + (a < b and 1 or 0)
  end
  return s % 1000003
end

-- booleans and the variable on both sides of its own assignment
function xdp.self_assign(pkt)
  local x = pkt:u8(3) + 1
  local flag = false
  local acc = 7
  for i = 1, 6 do
    acc = x - acc
    acc = acc * 3 - (acc // 2)
    acc = (acc + i) * 2 + acc
    flag = not flag
    if flag then acc = acc + 1 end
    x = x + (flag and 2 or 5)
  end
  return acc % 65536 + x
end

-- multiplications by powers of two (shifts) wrap exactly as Lua does
function xdp.pow2_mul(pkt)
  local v = pkt:u8(4) + 3
  local s = 0
  for i = 0, 3 do
    local w = v + i
    s = s ~ (w * 2) ~ (w * 1024) ~ (w * 4611686018427387904) ~ (w * -8) ~ (w * 1) ~ (-w * 65536)
    s = s ~ (w * 0)
  end
  return (s >> 48) ~ (s & 0xffff)
end

-- pairs: key and value in registers
function xdp.pairs_regs(pkt)
  for i = 0, 7 do m[i] = i * 3 + pkt:u8(5) % 3 end
  local s = 0
  for k, v in pairs(m) do
    local w = k * v
    s = s + w + k
  end
  return s
end

-- nil-able values (lookups, or/and chains) evaluated into register variables
local h = map.hash { key = u32, value = u32, max_entries = 16 }
function xdp.opt_values(pkt)
  for i = 0, 5 do h[i] = pkt:u8(i) + i end
  local s, last = 0, 0
  for i = 0, 9 do
    local a = h[i] or 100
    local b = (h[i + 1] or h[i + 2]) or (i * 2)
    local c = h[i] and (h[i + 3] or 7) or 9
    last = h[i % 4] or last
    if h[i] and (h[i + 1] or 0) > 3 then s = s + 1 end
    s = s + a + b * 2 + c + last
  end
  h[3] = nil
  return s + (h[3] or 1000)
end

-- a local function whose loop keeps its parameter and a local in registers
local function window(p, start, len)
  local acc = 0
  local lim = start + len
  for i = start, lim - 1 do
    acc = acc * 31 + p:u8(i % 16)
  end
  return acc & 0xffffffff
end

function xdp.func_regs(pkt)
  if #pkt < 16 then return 3 end
  local t = 0
  for j = 0, 3 do t = t ~ window(pkt, j * 3, 5 + j) end
  return t & 0xffff
end
