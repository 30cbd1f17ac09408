function xdp.p(pkt) return 1 end
function xdp.p(pkt) return 2 end
-- error: 2:10: program 'p' is defined twice
