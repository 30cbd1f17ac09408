function xdp.f(pkt)
  return (1
end
