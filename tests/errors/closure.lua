function xdp.p(pkt)
  local f = function(x) return x end
  return 1
end
-- error: 2:13: closures are not allowed
