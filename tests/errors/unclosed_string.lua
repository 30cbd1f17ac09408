function xdp.p(pkt)
  print("abc)
  return 1
end
-- error: 2:14: unfinished string
