-- a record map value updated field by field in a loop over the packet
license "GPL"

local Stats = record { bytes = u64, zeros = u64, high = u64 }
local stats = map.array { value = Stats, max_entries = 4 }

function xdp.rec_stats(pkt)
  local st = stats[0]
  if not st then return xdp.ABORTED end
  st.bytes, st.zeros, st.high = 0, 0, 0
  for i = 0, #pkt - 1 do
    local b = pkt:u8(i)
    st.bytes = st.bytes + b
    if b == 0 then
      st.zeros = st.zeros + 1
    elseif b >= 128 then
      st.high = st.high + 1
    end
  end
  return (st.bytes + st.zeros * 7 + st.high * 3) & 0xffffff
end
