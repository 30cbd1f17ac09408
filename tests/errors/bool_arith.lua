function xdp.p(pkt)
  local b = #pkt > 3
  return b + 1
end
-- error: 3:10: the left operand of '+' is a boolean, not an integer
