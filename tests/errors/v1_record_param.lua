local P = record { x = u32 }
local function f(r) return 1 end
local function g() return P { x = 1 } end
function xdp.p(pkt)
  local a = P { x = 1 }
  return f(a)
end
-- error: 3:27: records cannot be returned from functions
-- error: 6:12: records cannot be passed to functions
