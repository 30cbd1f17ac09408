function tc.p(pkt)
  pkt.mark = 1
  pkt.ifindex = 2
  pkt.protocol = 3
  return tc.OK
end
function xdp.q(pkt)
  return pkt.mark
end
function tc.r(pkt)
  return nil
end
-- error: 3:3: pkt.ifindex is read-only
-- error: 4:3: pkt.protocol is read-only
-- error: 8:10: pkt.mark is a field of tc programs' socket buffer
-- error: 11:10: a tc program may not return nil
