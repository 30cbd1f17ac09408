-- pkt_elide.lua: length tests that prove later reads (checks are elided)
function xdp.guard_return(pkt)
  if #pkt < 34 then return end
  return pkt:u8(33) + pkt:be16(12) + pkt:be32(26)
end

function xdp.guard_ge(pkt)
  if #pkt >= 42 then
    return pkt:be16(40) + pkt:u8(0)
  end
  return 5
end

function xdp.guard_flip(pkt)
  if 20 > #pkt then return 6 end
  if #pkt <= 25 then return pkt:u8(19) end
  return pkt:u8(25) + pkt:u8(19)
end

function xdp.guard_or(pkt)
  if #pkt < 60 or pkt:u8(59) == 0 then return 7 end
  local s = 0
  for i = 0, 3 do s = s + pkt:u8(56 + i) + pkt:u8(10) end
  return s
end

function xdp.guard_gt(pkt)
  if #pkt > 99 then return pkt:u8(99) end
  return 8
end
