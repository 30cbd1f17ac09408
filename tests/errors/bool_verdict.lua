function xdp.p(pkt)
  return #pkt > 3
end
-- error: 2:10: a program returns an integer verdict, not a boolean
