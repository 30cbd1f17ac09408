function xdp.p(pkt)
  local a = 1.0
  while true do end
  return b
end
-- error: 2:13: float numbers are not supported
-- error: 3:3: 'while' loops are not allowed
-- error: 4:10: undefined name 'b'
