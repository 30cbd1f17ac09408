-- pkt_reads.lua: every read width and byte order
function xdp.widths(pkt)
  if #pkt < 20 then return 1 end
  local a = pkt:u8(1) + pkt:be16(2) + pkt:be32(4) + pkt:le16(2) + pkt:le32(4)
  return a & 0x7fffffff
end

function xdp.be64_signed(pkt)
  if #pkt < 16 then return 1 end
  local v = pkt:be64(8)
  local w = pkt:le64(8)
  local r = 0
  if v < 0 then r = r + 1 end
  if w < 0 then r = r + 2 end
  return r + ((v ~ w) & 0xffff) * 4
end

function xdp.var_offsets(pkt)
  local s = 0
  for i = 0, #pkt - 8, 3 do
    s = s + pkt:be16(i) + pkt:le32(i + 1) + (pkt:be64(i) & 0xff)
  end
  return s & 0x7fffffff
end
