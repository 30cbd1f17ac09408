-- for_nested.lua: nested loops, break in the inner loop, return from inside
function xdp.nested_sum(pkt)
  local s = 0
  for i = 0, 3 do
    for j = 0, 3 do
      s = s + pkt:u8(i * 4 + j)
    end
  end
  return s
end

function xdp.inner_break(pkt)
  local c = 0
  for i = 1, 10 do
    for j = 1, 10 do
      if j > i then break end
      c = c + 1
    end
  end
  return c
end

function xdp.return_inner(pkt)
  for i = 0, 5 do
    for j = 0, 5 do
      if i * j == 12 then return 100 + i * 10 + j end
    end
  end
  return 1
end

function xdp.four_deep(pkt)
  local c = 0
  for a = 1, 3 do
    for b = 1, 3 do
      for d = 1, 3 do
        for e = 1, 3 do
          c = c + a * b + d * e
        end
      end
    end
  end
  return c
end
