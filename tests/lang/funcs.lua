-- funcs.lua: local functions (0 to 5 parameters) calling each other
local function zero() return 7 end
local function one(a) return a * 2 end
local function five(a, b, c, d, e) return a + b * 2 + c * 3 + d * 4 + e * 5 end
local function twice(x) return one(one(x)) end
local function is_even(n) return n % 2 == 0 end
local function maybe(n)
  if n > 100 then return n end
end

function xdp.calls(pkt)
  local b = pkt:u8(0)
  return zero() + one(b) + five(1, 2, 3, 4, b) + twice(3)
end

function xdp.bool_fn(pkt)
  if is_even(pkt:u8(1)) then return 1 end
  return 2
end

function xdp.nil_fn(pkt)
  local v = maybe(pkt:u8(2))
  if v == nil then return 3 end
  return (maybe(pkt:u8(2)) or 0) + 1000
end

function xdp.in_loop(pkt)
  local s = 0
  for i = 0, 9 do s = s + five(i, i, i, i, i) + one(i) end
  return s
end
