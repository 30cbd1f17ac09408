-- offset of the last nonzero byte (0xffff: none): a negative step, or a
-- forward counter turned around.
license "GPL"

function xdp.lastnz_neg(pkt)
  for i = #pkt - 1, 0, -1 do
    if pkt:u8(i) ~= 0 then return i end
  end
  return 0xffff
end

function xdp.lastnz_rev(pkt)
  local n = #pkt
  for k = 0, n - 1 do
    local i = n - 1 - k
    if pkt:u8(i) ~= 0 then return i end
  end
  return 0xffff
end

function xdp.lastnz_brk(pkt)
  local last = 0xffff
  for i = 2047, 0, -1 do
    if i < #pkt and pkt:u8(i) ~= 0 then
      last = i
      break
    end
  end
  return last
end
