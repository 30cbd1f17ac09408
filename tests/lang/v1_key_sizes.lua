-- v1_key_sizes.lua: hash maps keyed by records of 3 to 40 bytes (the JIT
-- calls a lookup specialised for each map's key size): per packet, eight
-- keys that differ in their first or their last field, counted in place
-- or inserted, every third deleted again; small maps, so keys share
-- buckets and a full hash map refuses inserts (the lru_hash is never
-- full: the kernel's approximate LRU would evict other keys). The maps
-- persist across the runs of a file; their contents are compared at the end.
local K3  = record { a = u8, b = u8, c = u8 }
local K6  = record { a = u16, b = u16, c = u16 }
local K12 = record { a = u32, b = u32, c = u32 }
local K16 = record { saddr = u32, daddr = u32, sport = u16, dport = u16, proto = u8 }
local K20 = record { a = u32, b = u32, c = u32, d = u32, e = u32 }
local K24 = record { a = u64, b = u64, c = u64 }
local K40 = record { a = u64, b = u64, c = u64, d = u64, e = u64 }
local V = record { n = u64, sum = u32 }

local m3  = map.hash { key = K3,  value = V, max_entries = 16 }
local m6  = map.hash { key = K6,  value = V, max_entries = 16 }
local m12 = map.hash { key = K12, value = V, max_entries = 16 }
local m16 = map.lru_hash { key = K16, value = V, max_entries = 64 } -- never full: the kernel evicts earlier
local m20 = map.hash { key = K20, value = V, max_entries = 16 }
local m24 = map.hash { key = K24, value = V, max_entries = 16 }
local m40 = map.hash { key = K40, value = V, max_entries = 16 }

function xdp.k3(pkt)
  if #pkt < 4 then return xdp.PASS end
  local hits = 0
  for i = 0, 7 do
    local k = K3 { a = i & 1, b = pkt:u8(1), c = (i >> 1) + pkt:u8(0) }
    local v = m3[k]
    if v then
      v.n = v.n + 1
      v.sum = v.sum + #pkt
      hits = hits + 1
    else
      m3[k] = V { n = 1, sum = #pkt }
    end
    if (i + pkt:u8(0)) % 3 == 0 then m3[k] = nil end
  end
  return hits
end

function xdp.k6(pkt)
  if #pkt < 4 then return xdp.PASS end
  local hits = 0
  for i = 0, 7 do
    local k = K6 { a = pkt:u8(0) + (i & 3), b = 7, c = pkt:u8(2) + (i >> 2) }
    local v = m6[k]
    if v then
      v.n = v.n + 1
      hits = hits + 1
    else
      m6[k] = V { n = 1, sum = i }
    end
    if (i + pkt:u8(1)) % 3 == 0 then m6[k] = nil end
  end
  return hits
end

function xdp.k12(pkt)
  if #pkt < 4 then return xdp.PASS end
  local hits = 0
  for i = 0, 7 do
    local k = K12 { a = i % 3, b = 0x01020304, c = pkt:u8(0) * 4 + i // 3 }
    local v = m12[k]
    if v then
      v.n = v.n + 1
      hits = hits + 1
    else
      m12[k] = V { n = 1, sum = #pkt }
    end
    if (i + pkt:u8(3)) % 3 == 0 then m12[k] = nil end
  end
  return hits
end

function xdp.k16(pkt)
  if #pkt < 38 or pkt:be16(12) ~= 0x0800 then return xdp.PASS end
  local hits = 0
  for i = 0, 7 do
    local k = K16 { saddr = pkt:be32(26) + (i & 1), daddr = pkt:be32(30), proto = pkt:u8(23) + (i >> 1) }
    local v = m16[k]
    if v then
      v.n = v.n + 1
      v.sum = v.sum + #pkt
      hits = hits + 1
    else
      m16[k] = V { n = 1, sum = #pkt }
    end
    if (i + pkt:u8(37)) % 3 == 0 then m16[k] = nil end
  end
  return hits
end

function xdp.k20(pkt)
  if #pkt < 4 then return xdp.PASS end
  local hits = 0
  for i = 0, 7 do
    local k = K20 { a = i & 1, c = pkt:u8(0), e = pkt:u8(1) * 16 + (i >> 1) }
    local v = m20[k]
    if v then
      v.n = v.n + 1
      hits = hits + 1
    else
      m20[k] = V { n = 1, sum = i }
    end
    if (i + pkt:u8(2)) % 3 == 0 then m20[k] = nil end
  end
  return hits
end

function xdp.k24(pkt)
  if #pkt < 4 then return xdp.PASS end
  local hits = 0
  for i = 0, 7 do
    local k = K24 { a = (i & 1) << 40, b = pkt:u8(0), c = (pkt:u8(1) << 56) + (i >> 1) }
    local v = m24[k]
    if v then
      v.n = v.n + 1
      hits = hits + 1
    else
      m24[k] = V { n = 1, sum = i }
    end
    if (i + pkt:u8(0)) % 3 == 1 then m24[k] = nil end
  end
  return hits
end

function xdp.k40(pkt)
  if #pkt < 4 then return xdp.PASS end
  local hits = 0
  for i = 0, 7 do
    local k = K40 { a = i & 1, c = pkt:u8(1), e = pkt:u8(0) * 8 + (i >> 1) }
    local v = m40[k]
    if v then
      v.n = v.n + 1
      hits = hits + 1
    else
      m40[k] = V { n = 1, sum = i }
    end
    if (i + pkt:u8(1)) % 3 == 2 then m40[k] = nil end
  end
  return hits
end
