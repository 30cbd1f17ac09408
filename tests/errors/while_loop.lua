function xdp.p(pkt)
  local i = 0
  while i < 10 do i = i + 1 end
  return i
end
-- error: 3:3: 'while' loops are not allowed
