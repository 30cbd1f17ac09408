function xdp.p(pkt)
  local x = 1
  return x .. x
end
-- error: 3:10: '..' concatenates strings, which bpflua does not have
