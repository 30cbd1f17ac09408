-- record variables that are sometimes a map entry, sometimes their own
-- record (`m[k] or R { ... }`), read and written inside loops: the loop
-- body dispatches on which one it holds, a number of the caller's stack no
-- iteration writes (the verifiers must keep it known in the body)
local R = record { i = u16, s = i32 }
local m = map.hash { key = u16, value = R, max_entries = 16, init = { [1] = R { i = 1, s = 10 } } }

function xdp.walk(pkt)
  local acc = m[pkt:u8(0) % 3] or R { s = 7 }
  for i = 1, 3 do
    acc.s = acc.s + i
  end
  return acc.s
end

function xdp.count(pkt)
  local acc = m[pkt:u8(0) % 3] or R { s = 7 }
  local n = 0
  for i = 1, 3 do
    acc.s = acc.s + i
    n = n + acc.i
  end
  return acc.s + n
end

function xdp.nested(pkt)
  local a = m[pkt:u8(1) % 2] or R { i = 5 }
  local b = m[2] or R { s = -1 }
  for i = 0, 2 do
    for j = 0, 1 do
      a.s = a.s + j
      b.i = b.i + a.i
    end
    if a.s > 100 then break end
  end
  return a.s * 1000 + b.i
end

function xdp.inner(pkt)
  local t = 0
  for k = 0, 3 do
    local q = m[k] or R { s = k * 100 }
    for i = 1, 2 do q.s = q.s - i end
    t = t + q.s
  end
  return t
end

function xdp.store(pkt)
  if pkt:u8(2) % 2 == 0 then m[2] = R { i = 2, s = 20 } end
  return 0
end
