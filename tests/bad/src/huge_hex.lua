function xdp.f(pkt)
  return 0x10000000000000000
end
