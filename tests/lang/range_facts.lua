-- range_facts.lua: a user's length test in a loop before reads at and
-- around the bound it proves (jit/range_facts.c drops the packet checks it
-- implies): walks that end at the packet's end in every packet, reads one
-- past what the test proves (they fault on the last step), the variable
-- changed between the test and the read, a negative start.
license "GPL"

function xdp.tlv_brk(pkt)
  local opt, s = #pkt - 9, 0
  for _ = 1, 1500 do
    if opt + 2 > #pkt then break end
    local kind = pkt:u8(opt)
    if kind == 0 then break end
    local len = pkt:u8(opt + 1) % 4 + 1
    s = s + kind * len
    opt = opt + len
  end
  return (s + opt) & 0xffffff
end

function xdp.tlv_ret_ge(pkt)
  local opt, s = #pkt - 11, 0
  for _ = 1, 1500 do
    if opt >= #pkt - 1 then return (s * 3 + opt) & 0xffffff end
    s = s + pkt:u8(opt) + pkt:u8(opt + 1)
    opt = opt + 1 + pkt:u8(opt) % 3
  end
  return 1
end

function xdp.tlv_sub(pkt)
  local opt, s = #pkt - 10, 0
  for _ = 1, 1500 do
    if #pkt - opt < 2 then break end
    s = s + pkt:u8(opt + 1) * 2 + pkt:u8(opt)
    opt = opt + 2
  end
  return (s + opt) & 0xffffff
end

-- the test proves opt + 0 only: reading opt + 1 faults at the last byte
function xdp.tlv_past(pkt)
  local opt, s = #pkt - 6, 0
  for _ = 1, 1500 do
    if opt + 1 > #pkt then break end
    s = s + pkt:u8(opt) + pkt:u8(opt + 1)
    opt = opt + 1
  end
  return s & 0xffffff
end

-- opt moves between the test and the reads: the test proves nothing then
function xdp.tlv_changed(pkt)
  local opt, s = #pkt - 8, 0
  for _ = 1, 1500 do
    if opt + 2 > #pkt then break end
    opt = opt + pkt:u8(0) % 2
    s = s + pkt:u8(opt) + pkt:u8(opt + 1)
    opt = opt + 1
  end
  return s & 0xffffff
end

-- a negative start: the signed test passes, the reads fault
function xdp.tlv_negative(pkt)
  local opt, s = pkt:u8(0) % 2 - 2, 0
  for _ = 1, 1500 do
    if opt + 2 > #pkt then break end
    s = s + pkt:u8(opt)
    opt = opt + 1
  end
  return s & 0xffffff
end

function xdp.step3(pkt)
  local s = 0
  for i = 0, 2000, 3 do
    if i + 3 > #pkt then break end
    s = s + pkt:u8(i + 2) + pkt:u8(i)
  end
  return s & 0xffffff
end

function xdp.countdown(pkt)
  local s = 0
  for i = #pkt + 2, -3, -1 do
    if i >= #pkt then
      s = s + 1
    else
      if i < 0 then break end
      s = s + pkt:u8(i)
    end
  end
  return s & 0xffffff
end

local function upto(n, pkt, a)
  local s = 0
  for i = a, a + 1000 do
    if i + 1 >= n then return s end
    s = s + pkt:u8(i + 1)
  end
  return s
end

function xdp.in_function(pkt)
  return (upto(#pkt, pkt, #pkt - 7) * 5 + upto(#pkt, pkt, 3)) & 0xffffff
end

-- one past: the last step reads pkt:u8(#pkt)
function xdp.in_function_past(pkt)
  return (upto(#pkt, pkt, 3) * 5 + upto(#pkt + 1, pkt, #pkt - 7)) & 0xffffff
end
