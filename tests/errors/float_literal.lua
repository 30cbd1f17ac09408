function xdp.p(pkt)
  return 1.5
end
-- error: 2:10: float numbers are not supported
