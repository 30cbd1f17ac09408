function xdp.p(pkt)
  return LIMIT
end
local LIMIT = 3
-- error: 2:10: 'LIMIT' is used before its declaration
