-- const_fold.lua: constant expressions folded at compile time agree with
-- the run-time results
local A = 7 // -2
local B = -7 % 3
local C = math.mininteger // -1
local D = 1 << 64
local E = 1 >> -1
local F = (-1) >> 1
local G = math.maxinteger + 1

function xdp.folded(pkt)
  local z = pkt:u8(0) * 0
  local r = 0
  if A == (7 + z) // (-2 + z) then r = r + 1 end
  if B == (-7 + z) % (3 + z) then r = r + 2 end
  if C == (math.mininteger + z) // (-1 + z) then r = r + 4 end
  if D == (1 + z) << (64 + z) then r = r + 8 end
  if E == (1 + z) >> (-1 + z) then r = r + 16 end
  if F == (-1 + z) >> (1 + z) then r = r + 32 end
  if G == math.mininteger then r = r + 64 end
  return r
end
