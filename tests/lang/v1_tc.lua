-- v1_tc.lua: tc classifiers: socket-buffer fields (mark and priority
-- written, the rest read), tc verdicts, no return (tc.OK), a fault
-- (tc.SHOT), loops and local functions in tc programs
local seen = map.hash { key = u32, value = u64, max_entries = 16 }

local function classify(p, proto)
  if proto ~= 0x0800 or #p < 24 then return 0 end
  return p:u8(23)
end

function tc.mark_ipv4(pkt)
  if pkt.protocol == 0x0800 then
    pkt.mark = pkt.mark + 1
    pkt.priority = pkt:u8(22)
    return tc.OK
  end
  if pkt.protocol == 0x86DD then return tc.SHOT end
  pkt.mark = 0xffffffff + pkt.ifindex      -- wraps to u32
end

function tc.by_proto(pkt)
  local proto = classify(pkt, pkt.protocol)
  seen[proto] = (seen[proto] or 0) + 1
  if proto == 17 then
    pkt.priority = pkt.priority * 3 + pkt.ingress_ifindex
    return tc.PIPE
  elseif proto == 6 then
    return tc.UNSPEC
  end
  return tc.RECLASSIFY + (seen[proto] or 0) % 3
end

function tc.loop_mark(pkt)
  local n = 0
  for i = 0, #pkt - 1, 64 do
    n = n + pkt:u8(i)
    if n > 300 then
      pkt.mark = n
      return tc.STOLEN
    end
  end
  pkt.priority = n
  return pkt:u8(40) & 1        -- faults on short packets: tc.SHOT
end

function tc.rewrite(pkt)
  if #pkt < 16 then return tc.SHOT end
  pkt:set_be16(14, pkt.mark & 0xffff)
  pkt.mark = pkt:be16(12)
  return tc.REDIRECT
end
