local function f(p) return p:u8(0) end
local function g(x) return x end
function xdp.p(pkt)
  return f(3) + g(pkt)
end
-- error: 4:12: this argument must be the packet
-- error: 4:19: the packet is passed to a parameter that is not used as a packet
