-- pkt_writes.lua: writes (truncating) in both byte orders, read back
function xdp.write_read(pkt)
  if #pkt < 32 then return 1 end
  pkt:set_u8(0, 0x1ff)
  pkt:set_be16(2, 0x12345)
  pkt:set_le16(4, 0xabcd)
  pkt:set_be32(6, -2)
  pkt:set_le32(10, 0x11223344)
  pkt:set_be64(14, 0x0102030405060708)
  pkt:set_le64(22, -3)
  return pkt:u8(0) + pkt:be16(2) + pkt:be16(4) + pkt:le32(6) + pkt:u8(13) + pkt:le16(14) + pkt:u8(29)
end

function xdp.reverse(pkt)
  -- reverse the first 16 bytes in place
  if #pkt < 16 then return 1 end
  for i = 0, 7 do
    local a, b = pkt:u8(i), pkt:u8(15 - i)
    pkt:set_u8(i, b)
    pkt:set_u8(15 - i, a)
  end
  return 3
end

function xdp.write_fault(pkt)
  pkt:set_u8(0, 7)
  pkt:set_be32(#pkt - 3, 1)
  return 2
end
