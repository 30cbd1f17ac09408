-- `b = f(a)` where a's and b's slots live in registers: the JIT computes
-- f(a) in b's register when the store follows (past code that emits
-- nothing), as a nest's inner start `for j = i & 3, ...` is. What held
-- b's old value, what the operand is, and b read before the store must
-- all still see the right values.
local function seed(pkt)
  if #pkt < 2 then return 0 end
  return pkt:u8(0) ~ (pkt:u8(1) << 3)
end

-- the old b read after the store (a copy of b's register)
function xdp.old_value(pkt)
  local s, acc, b = seed(pkt), 0, 5
  for i = 0, 40 do
    local t = b
    b = (i ~ s) & 7
    acc = acc * 3 + t + b
    for j = b, 0, -1 do
      acc = acc + (j ~ t)
    end
  end
  return acc & 0xffffff
end

-- the operand is b itself, and b's old value feeds the new one
function xdp.self_operand(pkt)
  local s, acc, b = seed(pkt), 0, 3
  for i = 0, 40 do
    b = (i + b) & 15
    acc = acc * 5 + b
    for j = b & 3, 0, -1 do
      acc = acc + (j ~ s)
    end
  end
  return acc & 0xffffff
end

-- two slots swapped through a temporary
function xdp.swap(pkt)
  local s, acc, a, b = seed(pkt), 0, 1, 2
  for i = 0, 30 do
    local t = a
    a = b + (i & 1)
    b = t ~ s
    acc = acc * 7 + a * 3 + b
    for j = a & 3, 0, -1 do
      acc = acc + j
    end
  end
  return acc & 0xffffff
end

-- the operand is the slot stored to: b = a ~ b reads b before b changes
function xdp.operand_is_target(pkt)
  local s, acc, a, b = seed(pkt), 0, 6, 9
  for i = 0, 30 do
    a = (i ~ s) & 15
    b = a ~ b
    acc = acc * 3 + b
    for j = b & 3, 0, -1 do
      acc = acc + (j ~ a)
    end
  end
  return acc & 0xffffff
end
