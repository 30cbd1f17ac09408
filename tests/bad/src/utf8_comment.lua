-- a comment with invalid UTF-8: ÿþÃ(
function xdp.f(pkt)
  return xdp.PASS
end
