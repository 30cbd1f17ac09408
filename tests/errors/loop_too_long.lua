function xdp.p(pkt)
  local s = 0
  for i = 0, 10000000 do s = s + 1 end
  return s
end
-- error: 3:3: this loop runs 10000001 times; bpf_loop allows at most 8388608
