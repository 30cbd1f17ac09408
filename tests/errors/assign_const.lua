local K = 3
function xdp.p(pkt)
  K = 4
  return K
end
-- error: 3:3: 'K' is a constant
