function xdp.p(pkt)
  if #pkt > 3 then
    return 1
  return 2
end
-- error: 3:13: expected 'end' (to close 'if' at line 2)
