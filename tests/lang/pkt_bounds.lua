-- pkt_bounds.lua: accesses outside 0 .. #pkt-1 fault
function xdp.last_byte(pkt)
  return pkt:u8(#pkt - 1) + 1000
end

function xdp.past_end(pkt)
  return pkt:be16(#pkt - 1)
end

function xdp.negative(pkt)
  local o = pkt:u8(0) - 300
  return pkt:u8(o)
end

function xdp.huge(pkt)
  return pkt:u8(1 << 40)
end

function xdp.const_far(pkt)
  if pkt:u8(0) == 0 then return 9 end
  return pkt:be32(70) & 0xffff
end
