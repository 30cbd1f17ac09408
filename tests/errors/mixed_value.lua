local m = map.hash { key = u32, value = u64, max_entries = 4 }
function xdp.p(pkt)
  local x = m[1] or #pkt > 3
  if m[2] or #pkt > 3 then return 1 end
  return 2
end
-- error: 3:13: this 'and'/'or' mixes types, so it is only usable as a condition
