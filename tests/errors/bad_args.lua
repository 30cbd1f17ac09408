function xdp.p(pkt)
  pkt:set_u8(0)
  return pkt:u8(0, 1)
end
-- error: 2:3: pkt:set_u8 takes 2 arguments, got 1
-- error: 3:10: pkt:u8 takes 1 argument, got 2
