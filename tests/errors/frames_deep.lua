function xdp.p(pkt)
  for a = 1, 2 do for b = 1, 2 do for c = 1, 2 do for d = 1, 2 do
  for e = 1, 2 do for f = 1, 2 do for g = 1, 2 do for h = 1, 2 do
  end end end end end end end end
  return 1
end
-- error: 1:10: program 'p' nests loops and calls 9 frames deep; the kernel allows 8
