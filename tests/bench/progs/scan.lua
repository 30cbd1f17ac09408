-- payload scan with early exit: offset of the first zero byte (1400 in the
-- 1500-byte bench packet), 0xffff when there is none.
license "GPL"

function xdp.scan(pkt)
  for i = 0, #pkt - 1 do
    if pkt:u8(i) == 0 then
      return i
    end
  end
  return 0xffff
end
