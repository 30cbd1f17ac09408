function xdp.f(pkt)
  local s = "abc
  return 2
end
