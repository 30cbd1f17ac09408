function xdp.p(pkt)
  print("%s", 1)
  return 1
end
-- error: 2:9: unsupported conversion in print's format
