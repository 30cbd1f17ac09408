-- func_copies.lua: a local function is compiled once and copied into each
-- later program that calls it; a copy of a function that calls another
-- local function must find that callee's copy in its own program, also when
-- the callee was itself copied (bump below: compiled for first, copied into
-- second, where get is compiled; third copies get). The early returns keep
-- every call a real call (the inliner takes only functions whose one
-- return is their last statement).
local m = map.hash { key = u32, value = u64, max_entries = 16 }

local function bump(k)
  if k > 1000 then return 0 end
  local v = (m[k] or 0) + 1
  m[k] = v
  return v
end

local function get(k)
  if k > 1000 then return 0 end
  bump(k)
  return (m[k] or 0) * 2
end

local function deep(k)
  if k > 1000 then return 0 end
  return get(k) + bump(k + 1)
end

function xdp.first(pkt)
  return bump(pkt:u8(0) & 3)
end

function xdp.second(pkt)
  return get(pkt:u8(1) & 3) + bump(5)
end

function xdp.third(pkt)
  return get(pkt:u8(2) & 3) + 1
end

function xdp.fourth(pkt)
  return deep(pkt:u8(3) & 3) & 0xffff
end
