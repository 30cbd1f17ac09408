-- loop_elide.lua: a #pkt guard before a loop proves constant reads inside it
function xdp.header_sum(pkt)
  if #pkt < 20 then return 1 end
  local s = 0
  for i = 0, 3 do
    s = s + pkt:u8(19) + pkt:be16(4) + pkt:u8(i)
  end
  return s
end

function xdp.in_loop_guard(pkt)
  local s = 0
  for i = 0, 9 do
    if #pkt >= 40 then s = s + pkt:u8(39) end
  end
  return s
end
