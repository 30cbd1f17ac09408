-- early return on a compare: the first offset where the packet's two
-- halves differ (0xffff: equal).
license "GPL"

function xdp.cmphalf_len(pkt)
  local half = #pkt // 2
  for i = 0, half - 1 do
    if pkt:u8(i) ~= pkt:u8(i + half) then return i end
  end
  return 0xffff
end

function xdp.cmphalf_brk(pkt)
  local half = #pkt // 2
  local at = 0xffff
  for i = 0, 1023 do
    if i >= half then break end
    if pkt:u8(i) ~= pkt:u8(half + i) then
      at = i
      break
    end
  end
  return at
end
