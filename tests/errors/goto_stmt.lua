function xdp.p(pkt)
  goto done
  ::done::
  return 1
end
-- error: 2:3: 'goto' is not allowed
-- error: 3:3: labels are not allowed
