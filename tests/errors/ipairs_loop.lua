function xdp.p(pkt)
  for i, v in ipairs(pkt) do end
  return 1
end
-- error: 2:15: only 'for k, v in pairs(m)' over a map is supported
