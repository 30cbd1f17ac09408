-- offset of the first zero byte among the first 1500 (0xffff: none),
-- with the length test inside the loop or in the bound.
license "GPL"

function xdp.zscan_brk(pkt)
  for i = 0, 1499 do
    if i >= #pkt then break end
    if pkt:u8(i) == 0 then return i end
  end
  return 0xffff
end

function xdp.zscan_ret(pkt)
  for i = 0, 1499 do
    if i + 1 > #pkt then return 0xffff end
    if pkt:u8(i) == 0 then return i end
  end
  return 0xffff
end

function xdp.zscan_len(pkt)
  local n = #pkt
  if n > 1500 then n = 1500 end
  for i = 0, n - 1 do
    if pkt:u8(i) == 0 then return i end
  end
  return 0xffff
end
