function xdp.f(pkt)
  local ÿþ = 1
  return 2
end
