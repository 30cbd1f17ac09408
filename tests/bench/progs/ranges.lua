-- loops in local functions: byte sums of two ranges of the packet.
license "GPL"

local function sum_range(pkt, a, b)
  local s = 0
  for i = a, b - 1 do
    s = s + pkt:u8(i)
  end
  return s
end

local function sum_upto(pkt, a, n)
  local s = 0
  for i = a, a + 999 do
    if i >= n then break end
    s = s + pkt:u8(i)
  end
  return s
end

function xdp.ranges_fn(pkt)
  local half = #pkt // 2
  return (sum_range(pkt, 0, half) * 3 + sum_range(pkt, half, #pkt)) & 0xffffff
end

function xdp.ranges_brk(pkt)
  local half = #pkt // 2
  return (sum_upto(pkt, 0, half) * 3 + sum_upto(pkt, half, #pkt)) & 0xffffff
end
