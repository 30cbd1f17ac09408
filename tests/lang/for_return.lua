-- for_return.lua: return (with and without value) from inside loops
function xdp.find(pkt)
  for i = 0, #pkt - 1 do
    if pkt:u8(i) == 0x11 then return i end
  end
  return 1000
end

function xdp.bare_in_loop(pkt)
  for i = 0, 10 do
    if i == pkt:u8(0) then return end
  end
  return 7
end

function xdp.fault_in_loop(pkt)
  local s = 0
  for i = 0, 200 do
    s = s + pkt:u8(i)
  end
  return s & 0xff
end
