local P = record { x = u32 }
function xdp.p(pkt)
  local a, b = P { x = 1 }, P { x = 1 }
  if a == b then return 1 end
  return 2
end
-- error: 4:6: records cannot be compared
