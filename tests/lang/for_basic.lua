-- for_basic.lua: numeric for with steps, empty loops, the control variable
function xdp.steps(pkt)
  local s = 0
  for i = 1, 10 do s = s + i end              -- 55
  for i = 10, 1, -3 do s = s + i * 100 end    -- 10+7+4+1 = 22 -> 2200
  for i = 5, 1 do s = s + 100000 end          -- empty
  for i = 1, 5, -1 do s = s + 100000 end      -- empty
  for i = 3, 3 do s = s + 7 end               -- once
  return s
end

function xdp.var_bounds(pkt)
  local n = pkt:u8(0) % 20
  local c = 0
  for i = n, 2 * n + 1, 2 do c = c + 1 end
  for i = n, 0, -1 do c = c + 10 end
  return c
end

function xdp.control_copy(pkt)
  -- assigning the control variable does not change the iteration
  local c = 0
  for i = 1, 5 do
    i = i * 10
    c = c + i
  end
  return c
end

function xdp.var_step(pkt)
  local step = pkt:u8(1) % 7 - 3
  if step == 0 then step = 2 end
  local c = 0
  for i = 0, 20 * step, step do c = c + 1 end
  return c
end
