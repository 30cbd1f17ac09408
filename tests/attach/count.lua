-- count.lua: the counting filter of tests/cli/attach.sh, in bpflua.
-- counts[0]: IPv4 UDP packets to port 9999; counts[1]: every packet;
-- counts[2]: the sum of those packets' payload bytes (a loop: bpf_loop).
license "GPL"

local counts = map.array { value = u64, max_entries = 4 }

function xdp.count_udp(pkt)
  counts[1] = (counts[1] or 0) + 1
  if #pkt < 42 then return xdp.PASS end
  if pkt:be16(12) ~= 0x0800 or pkt:u8(14) ~= 0x45 or pkt:u8(23) ~= 17 then
    return xdp.PASS
  end
  if pkt:be16(36) ~= 9999 then return xdp.PASS end
  counts[0] = (counts[0] or 0) + 1
  local sum = 0
  for i = 42, #pkt - 1 do
    sum = sum + pkt:u8(i)
  end
  counts[2] = (counts[2] or 0) + sum
  return xdp.PASS
end
