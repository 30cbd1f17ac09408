function xdp.p(pkt)
  local i = 0
  repeat i = i + 1 until i > 3
  return i
end
-- error: 3:3: 'repeat' loops are not allowed
