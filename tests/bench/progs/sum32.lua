-- sum of the packet's big-endian 32-bit words: step 4 in the loop, a
-- word index, a constant bound with a length test.
license "GPL"

function xdp.sum32_step(pkt)
  local s = 0
  for off = 0, #pkt - 4, 4 do
    s = s + pkt:be32(off)
  end
  return s & 0xffffffff
end

function xdp.sum32_word(pkt)
  local s = 0
  for w = 0, #pkt // 4 - 1 do
    s = s + pkt:be32(w * 4)
  end
  return s & 0xffffffff
end

function xdp.sum32_brk(pkt)
  local s = 0
  for off = 0, 2044, 4 do
    if off + 4 > #pkt then break end
    s = s + pkt:be32(off)
  end
  return s & 0xffffffff
end
