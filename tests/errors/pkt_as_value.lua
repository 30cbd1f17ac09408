function xdp.p(pkt)
  local q = pkt
  return 1
end
-- error: 2:13: 'pkt' is the packet, not a value
