-- v1_tc_funcs.lua: socket-buffer fields read and written inside local
-- functions (also in their loops, through a function that only passes
-- the packet on, and from several tc programs)
local seen = map.hash { key = u32, value = u32, max_entries = 8 }

local function bump(p, by)
  p.mark = p.mark + by
  return p.mark
end

local function classify(p)
  if p.protocol ~= 0x0800 or #p < 24 then return 0 end
  local n = 0
  for i = 0, 3 do
    n = n + p.ifindex + i
    p.priority = p.priority + 1
  end
  return p:u8(23) + bump(p, n) * 0
end

local function outer(q, k)
  return classify(q) + k + q.ingress_ifindex
end

function tc.fields(pkt)
  local c = outer(pkt, 7)
  seen[c] = (seen[c] or 0) + 1
  for i = 1, 2 do
    bump(pkt, i)
  end
  return c
end

function tc.mark_only(pkt)
  return bump(pkt, 0x100) & 0xff
end

local function pass(p, k)
  return outer(p, k) + bump(p, 1)
end

function tc.passed(pkt)
  if #pkt < 14 then return tc.SHOT end
  pkt.priority = pass(pkt, pkt:u8(12))
  return tc.PIPE
end
