local function bump(p, by)
  p.mark = p.mark + by
  return 1
end
local function ro(p)
  p.protocol = 5
  return #p
end
local function via(q)
  return bump(q, 2)
end
function xdp.q(pkt)
  return via(pkt) + ro(pkt)
end
function tc.ok(pkt)
  return via(pkt)
end
-- error: 6:3: p.protocol is read-only
-- error: 13:10: 'via' uses the socket-buffer field mark of its packet, which only tc programs have
