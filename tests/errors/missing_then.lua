function xdp.p(pkt)
  if #pkt > 3 return 1 end
  return 2
end
-- error: 2:14: expected 'then'
