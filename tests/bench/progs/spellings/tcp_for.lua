-- TCP options in a bounded for used as a while: `len` 1 for a NOP, else
-- the option's length byte; `opt = opt + len` after it, the end tested
-- with >= against #pkt - 1 (runs on a packet of options, see
-- side_spellings.sh)
license "GPL"

function xdp.tcp_for(pkt)
  local opt, n, mss = 0, 0, 0
  for _ = 1, 1500 do
    if opt >= #pkt - 1 then break end
    local kind = pkt:u8(opt)
    if kind == 0 then break end
    local len = 1
    if kind ~= 1 then
      len = pkt:u8(opt + 1)
      if len < 2 then break end
      if kind == 2 and len == 4 then mss = mss + pkt:u8(opt + 2) end
    end
    n = n + 1
    opt = opt + len
  end
  return (n * 4096 + mss) & 0xffffff
end
