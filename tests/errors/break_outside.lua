function xdp.p(pkt)
  break
  return 1
end
-- error: 2:3: 'break' outside a loop
