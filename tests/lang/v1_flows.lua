-- v1_flows.lua: flow accounting with a record key and a record value,
-- written three ways (a reference updated in place, `or` with a fresh
-- record, an early return); maps persist across the runs of a file
local Flow  = record { saddr = u32, daddr = u32, sport = u16, dport = u16, proto = u8 }
local Stats = record { packets = u64, bytes = u64, last = u64 }
local flows = map.lru_hash { key = Flow, value = Stats, max_entries = 64 }
local by_proto = map.hash { key = Flow, value = Stats, max_entries = 16 }
local totals = map.array { value = Stats, max_entries = 4 }

function xdp.account(pkt)
  if #pkt < 38 or pkt:be16(12) ~= 0x0800 then return xdp.PASS end
  local f = Flow { saddr = pkt:be32(26), daddr = pkt:be32(30), proto = pkt:u8(23) }
  if f.proto == 6 or f.proto == 17 then
    f.sport, f.dport = pkt:be16(34), pkt:be16(36)
  end
  local s = flows[f]
  if s then
    s.packets = s.packets + 1
    s.bytes = s.bytes + #pkt
  else
    flows[f] = Stats { packets = 1, bytes = #pkt, last = 7 }
  end
  return xdp.PASS
end

-- the same counts through `m[k] or R { ... }` and a store of the copy
function xdp.account_or(pkt)
  if #pkt < 24 then return xdp.DROP end
  local key = Flow { proto = pkt:u8(23), dport = #pkt & 0xff }
  local st = by_proto[key] or Stats { last = 1 }
  st.packets = st.packets + 1
  st.bytes = st.bytes + #pkt
  local n = st.packets
  by_proto[key] = st
  return n & 3
end

-- an early return proves the reference present; array values are records
function xdp.account_array(pkt)
  local t = totals[#pkt % 5]
  if not t then return 9 end
  t.packets = t.packets + 1
  t.bytes = t.bytes + pkt:u8(0)
  t.last = t.packets * 1000 + t.bytes
  return t.packets
end

-- reading the map back: pairs gives references to keys and values
function xdp.sum(pkt)
  local n, bytes = 0, 0
  for k, v in pairs(flows) do
    n = n + 1
    bytes = bytes + v.bytes + (k.proto == 17 and 1 or 0)
  end
  for i, v in pairs(totals) do
    if v.packets > 0 then n = n + i end
  end
  return (n * 100 + bytes) & 0xffff
end
