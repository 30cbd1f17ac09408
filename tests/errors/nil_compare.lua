local m = map.hash { key = u32, value = u64, max_entries = 4 }
function xdp.p(pkt)
  local v = m[1]
  if v > 3 then return 1 end
  return 2
end
-- error: 4:6: the left operand of '>' may be nil
