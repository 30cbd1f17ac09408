-- v1_lpm.lua: longest-prefix match on IPv4 addresses, prefixes from init
-- strings and from m:set with constant and computed lengths, deletes
local Rule = record { action = u8, hits = u32 }
local blocked = map.lpm { value = u32, max_entries = 16,
  init = { ["10.0.0.0/8"] = 1, ["192.0.2.0/24"] = 2, ["192.0.2.4/30"] = 3, ["0.0.0.0/0"] = 9 } }
local rules = map.lpm { value = Rule, max_entries = 8,
  init = { ["192.0.2.1/32"] = Rule { action = 1 }, ["8.8.0.0/16"] = Rule { action = 2, hits = 5 } } }

function xdp.lookup(pkt)
  if #pkt < 34 then return xdp.PASS end
  local v = blocked[pkt:be32(26)] or 0
  local w = blocked[pkt:be32(30)] or 0
  return v * 10 + w
end

function xdp.learn(pkt)
  if #pkt < 34 then return 0 end
  local len = pkt:u8(22) & 31      -- the TTL picks a prefix length
  blocked:set(pkt:be32(30), len, len + 100)
  blocked:set(pkt:be32(26), 30 + (pkt:u8(22) & 7), 1)  -- lengths above 32 are dropped
  if pkt:u8(23) == 6 then blocked:set(0x0a000000, 8, nil) end
  return blocked[pkt:be32(30)] or 0
end

function xdp.rule(pkt)
  if #pkt < 34 then return 0 end
  local r = rules[pkt:be32(30)]
  if not r then
    rules:set(pkt:be32(30), 24, Rule { action = 7 })
    return 1
  end
  r.hits = r.hits + 1
  return r.action * 100 + r.hits
end
