-- loop_scoping.lua: locals declared in loop bodies, shadowing the control
-- variable, slots reused by later scopes
function xdp.body_locals(pkt)
  local total = 0
  for i = 0, 4 do
    local sq = i * i
    local i = sq + 1
    total = total + i
  end
  for j = 0, 2 do
    local a, b = j, j * 2
    do
      local c = a + b
      total = total + c
    end
  end
  return total
end

function xdp.outer_written(pkt)
  local last, count = -1, 0
  for i = 0, #pkt - 1 do
    if pkt:u8(i) > 0x80 then
      last = i
      count = count + 1
    end
  end
  return count * 10000 + last + 1
end
