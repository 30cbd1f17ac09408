-- a data-dependent stride: walk TCP-style options (kind, len, data...;
-- kind 0 ends, kind 1 is one byte) with `opt = opt + len` in a bounded
-- for that breaks; sum kind * len.
license "GPL"

function xdp.tcpopts_brk(pkt)
  local opt, s = 0, 0
  for _ = 1, 1500 do
    if opt + 2 > #pkt then break end
    local kind = pkt:u8(opt)
    if kind == 0 then break end
    if kind == 1 then
      opt = opt + 1
    else
      local len = pkt:u8(opt + 1)
      if len < 2 then break end
      s = s + kind * len
      opt = opt + len
    end
  end
  return s & 0xffffff
end

function xdp.tcpopts_ret(pkt)
  local opt, s = 0, 0
  for _ = 1, 1500 do
    if opt + 2 > #pkt then return s & 0xffffff end
    local kind = pkt:u8(opt)
    if kind == 0 then return s & 0xffffff end
    local len = 1
    if kind ~= 1 then
      len = pkt:u8(opt + 1)
      if len < 2 then return s & 0xffffff end
      s = s + kind * len
    end
    opt = opt + len
  end
  return s & 0xffffff
end
