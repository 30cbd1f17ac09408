local function f(a, b, c, d, e, g) return a end
function xdp.p(pkt) return f(1, 2, 3, 4, 5, 6) end
-- error: 1:33: a function takes at most 5 parameters
