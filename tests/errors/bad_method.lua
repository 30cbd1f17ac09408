function xdp.p(pkt)
  return pkt:u24(0)
end
-- error: 2:10: unknown packet method 'u24'
