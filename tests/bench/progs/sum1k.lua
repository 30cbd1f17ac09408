-- bpf_loop sum: add 0 .. n-1, n read from the packet (1000 in the bench packet)
-- so that no engine can fold the loop away.
license "GPL"

function xdp.sum1k(pkt)
  if #pkt < 16 then return xdp.ABORTED end
  local n = pkt:be16(14)
  local s = 0
  for i = 0, n - 1 do
    s = s + i
  end
  return s & 0x7fffffff
end
