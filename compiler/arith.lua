-- arith.lua: Lua 5.4 integer arithmetic, for constant folding and trip
-- counts. Every function here computes exactly what the compiled eBPF
-- computes at run time (wrap-around, floor division, shifts).

local math_ult, MAXINT, MININT = math.ult, math.maxinteger, math.mininteger

_ENV = nil

local M = { MAXINT = MAXINT, MININT = MININT }

-- unsigned n / d, d ~= 0
function M.udiv(n, d)
  if d < 0 then return math_ult(n, d) and 0 or 1 end
  if n >= 0 then return n // d end
  local q = ((n >> 1) // d) << 1
  local r = n - q * d
  if not math_ult(r, d) then q = q + 1 end
  return q
end

-- a << b with Lua's rules: |b| >= 64 gives 0, negative b shifts right (logical)
function M.shl(a, b)
  if b <= -64 or b >= 64 then return 0 end
  if b >= 0 then return a << b end
  return a >> (-b)
end

function M.neg(a) return -a end

-- folds a binary arithmetic operator; nil when it would fault (x // 0, x % 0)
function M.fold(op, a, b)
  if op == "+" then return a + b
  elseif op == "-" then return a - b
  elseif op == "*" then return a * b
  elseif op == "//" then
    if b == 0 then return nil end
    if b == -1 then return -a end -- mininteger // -1 wraps to mininteger
    return a // b
  elseif op == "%" then
    if b == 0 then return nil end
    if b == -1 then return 0 end
    return a % b
  elseif op == "&" then return a & b
  elseif op == "|" then return a | b
  elseif op == "~" then return a ~ b
  elseif op == "<<" then return M.shl(a, b)
  elseif op == ">>" then
    if b == MININT then return 0 end
    return M.shl(a, -b)
  end
  return nil
end

-- iterations of `for i = a, b, c` (c ~= 0), capped at MAXINT
function M.trip_count(a, b, c)
  local count
  if c > 0 then
    if a > b then return 0 end
    count = M.udiv(b - a, c)
  else
    if a < b then return 0 end
    count = M.udiv(a - b, -(c + 1) + 1)
  end
  if count < 0 or count == MAXINT then return MAXINT end
  return count + 1
end

return M
