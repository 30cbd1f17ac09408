-- for_faults.lua: step 0 and too many iterations are faults
function xdp.step_zero(pkt)
  local st = pkt:u8(0) & 0x01
  local c = 0
  for i = 1, 10, st do c = c + 1 end
  return 5 + c
end

function xdp.too_many(pkt)
  local c = 0
  for i = 0, #pkt * 200000 do
    c = c + 1
    if c > 3 then break end
  end
  return c
end

function xdp.limit_exact(pkt)
  local c = 0
  for i = 1, 8388608 do
    c = c + 1
    if i > 5 then break end
  end
  return c
end

function xdp.const_step_zero(pkt)
  if pkt:u8(0) == 0x52 then
    for i = 1, 2, 0 do return 1 end
  end
  return 3
end
