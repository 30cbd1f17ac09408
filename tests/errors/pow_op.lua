function xdp.p(pkt)
  return 2 ^ 3
end
-- error: 2:10: '^' is float exponentiation
