local m = map.hash { key = u32, value = u64, max_entries = 8 }
function xdp.p(pkt)
  local x = 0
  x = m[1]
  return x
end
-- error: 4:7: cannot assign a value that may be nil to 'x', an integer variable
