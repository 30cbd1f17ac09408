function xdp.p(pkt)
  return foo + 1
end
-- error: 2:10: undefined name 'foo'
