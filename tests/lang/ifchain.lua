-- ifchain.lua: if / elseif / else
function xdp.classify(pkt)
  local b = pkt:u8(13)
  if b == 0 then
    return 10
  elseif b < 0x10 then
    return 11
  elseif b == 0xdd then
    return 12
  elseif b == 0x06 then
    return 13
  else
    if b > 0x80 then return 14 else return 15 end
  end
end

function xdp.nested_if(pkt)
  local r = 0
  if pkt:u8(0) > 0 then
    if pkt:u8(1) > 0 then r = 1 else r = 2 end
  else
    if pkt:u8(1) > 0 then r = 3 end
  end
  return r
end
