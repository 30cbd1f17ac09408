function xdp.p(pkt)
  return #pkt / 2
end
-- error: 2:10: '/' is float division
