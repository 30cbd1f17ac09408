-- pkt_funcs.lua: local functions that take the packet (a parameter read with
-- p:u8(...) or #p), called from programs, loops and other functions
local function ip_proto(p)
  if #p < 34 then return -1 end
  return p:u8(23)
end
local function sum(p, n)
  local s = 0
  for i = 0, n - 1 do s = s + p:u8(i) end
  return s
end
local function port(off, q)
  return q:be16(off)
end
function xdp.pf(pkt)
  local pr = ip_proto(pkt)
  if pr == 17 then return 1000 + port(36, pkt) end
  local s = 0
  for i = 1, 2 do s = s + sum(pkt, 10) end
  return pr + s
end

local function udp_dport(p)
  if ip_proto(p) ~= 17 then return 0 end
  local l4 = 14 + (p:u8(14) & 0x0f) * 4
  return p:be16(l4 + 2)
end

local function stamp(p, v)
  p:set_be16(0, v)
end

function xdp.nested_pkt(pkt)
  stamp(pkt, udp_dport(pkt))
  return pkt:be16(0) + 5
end
