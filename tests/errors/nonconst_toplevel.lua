local n = random()
function xdp.p(pkt) return n end
-- error: 1:11: 'n' must be a constant integer expression
