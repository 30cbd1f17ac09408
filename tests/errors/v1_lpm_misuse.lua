local b = map.lpm { value = u32, max_entries = 8 }
local h = map.hash { key = u32, value = u32, max_entries = 8 }
function xdp.p(pkt)
  b[1] = 2
  b:set(1, 33, 2)
  h:set(1, 8, 1)
  for k, v in pairs(b) do end
  return 1
end
-- error: 4:3: an LPM map is written with :set (address, prefix length, value)
-- error: 5:12: the prefix length 33 is outside 0..32
-- error: 6:3: ':set' is the update of an LPM map; 'h' is a map.hash
-- error: 7:15: pairs cannot iterate over an LPM map
