-- v1_refs.lua: record references written other ways: `or` chains, a
-- variable that is sometimes a map entry and sometimes a fresh record,
-- reassignment after a store, records in loops and local functions,
-- pairs with record keys
local P = record { k = u16, n = u32, s = i32 }
local a = map.hash { key = u16, value = P, max_entries = 8 }
local b = map.lru_hash { key = u16, value = P, max_entries = 8 }
local byrec = map.hash { key = P, value = u32, max_entries = 8 }

local function weight(x, y) return x * 3 + y end

function xdp.either(pkt)
  local k = pkt:u8(0) & 3
  local r = a[k] or b[k]
  if r == nil then
    a[k] = P { k = k, n = 1 }
    r = a[k]
    if not r then return 99 end
  end
  r.n = r.n + 1
  r.s = r.s - weight(k, #pkt)
  return r.n
end

function xdp.maybe_fresh(pkt)
  local k = pkt:u8(1) & 3
  local r = b[k]
  if not r then r = P { k = 100 + k } end
  r.n = r.n + #pkt
  if r.k >= 100 then
    b[k] = r                       -- store the fresh one
    return 1
  end
  return 2 + r.n % 5
end

function xdp.nested(pkt)
  local best = P { s = -1 }
  for i = 0, 3 do
    local cur = a[i]
    if cur then
      for j = 0, 1 do
        if cur.n + j > best.n then
          best = P { k = i, n = cur.n + j, s = j }
        end
      end
    end
  end
  byrec[best] = (byrec[best] or 0) + 1
  return best.k * 10 + best.s
end

function xdp.scan(pkt)
  local total = 0
  for key, cnt in pairs(byrec) do
    total = total + key.k * 100 + key.n + cnt
  end
  for k, v in pairs(a) do
    v.s = v.s + 1                  -- writes through pairs' value change the entry
    total = total + k
  end
  return total & 0xffff
end
