function xdp.p(pkt)
  return 18446744073709551616
end
-- error: 2:10: this integer does not fit in 64 bits
