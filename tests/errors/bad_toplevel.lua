print("hi")
function xdp.p(pkt) return 1 end
-- error: 1:1: only declarations are allowed at the top level
