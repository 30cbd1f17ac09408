-- TCP options searched for a kind in a local function with returns in
-- the loop (the kind is absent: the walk reaches the end), the start
-- and the kind passed in (runs on a packet of options)
license "GPL"

local function find_opt(pkt, start, want)
  local opt = start
  for _ = 1, 1500 do
    if opt + 2 > #pkt then return 0 end
    local kind = pkt:u8(opt)
    if kind == want then return opt end
    if kind == 0 then return 0 end
    if kind == 1 then
      opt = opt + 1
    else
      local len = pkt:u8(opt + 1)
      if len < 2 then return 0 end
      opt = opt + len
    end
  end
  return 0
end

function xdp.tcp_find(pkt)
  return (find_opt(pkt, 0, 31) + find_opt(pkt, 0, 3) * 65536) & 0xffffffff
end
