-- loops reading and writing map values: copy 64 bytes into an array
-- map, then prefix sums in place.
license "GPL"

local st = map.array { value = u64, max_entries = 64 }

function xdp.prefix_map(pkt)
  if #pkt < 64 then return xdp.ABORTED end
  for i = 0, 63 do
    st[i] = pkt:u8(i)
  end
  for i = 1, 63 do
    st[i] = (st[i] or 0) + (st[i - 1] or 0)
  end
  return (st[63] or 0) & 0xffff
end

function xdp.prefix_acc(pkt)
  if #pkt < 64 then return xdp.ABORTED end
  local s = 0
  for i = 0, 63 do
    s = s + pkt:u8(i)
    st[i] = s
  end
  return (st[63] or 0) & 0xffff
end
