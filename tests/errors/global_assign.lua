function xdp.p(pkt)
  x = 4
  return 1
end
-- error: 2:3: assignment to undeclared variable 'x'
