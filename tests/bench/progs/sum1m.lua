-- bpf_loop sum over a million iterations: n = be32 at offset 14 (1,000,000).
license "GPL"

function xdp.sum1m(pkt)
  if #pkt < 18 then return xdp.ABORTED end
  local n = pkt:be32(14)
  local s = 0
  for i = 0, n - 1 do
    s = s + i
  end
  return s & 0x7fffffff
end
