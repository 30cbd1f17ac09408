function xdp.p(pkt)
  if #pkt == true then return 1 end
  return 2
end
-- error: 2:6: comparing an integer with a boolean is always false
