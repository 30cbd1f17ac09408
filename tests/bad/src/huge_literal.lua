function xdp.f(pkt)
  return 99999999999999999999999
end
