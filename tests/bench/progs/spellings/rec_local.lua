-- a record local to the program updated field by field in a loop
license "GPL"

local Acc = record { lo = u32, hi = u32, n = u64 }

function xdp.rec_local(pkt)
  local a = Acc {}
  for i = 0, #pkt - 1 do
    local b = pkt:u8(i)
    if b < 128 then a.lo = a.lo + b else a.hi = a.hi + b end
    a.n = a.n + 1
  end
  return (a.lo + a.hi * 3 + a.n) & 0xffffff
end
