local P = record { x = u32 }
function xdp.p(pkt)
  local a = P { x = 1 }
  return a
end
-- error: 4:10: a program returns a verdict, not a record
