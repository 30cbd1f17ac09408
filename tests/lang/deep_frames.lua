-- deep_frames.lua: six nested loops calling a local function: 8 eBPF frames,
-- the kernel's limit
local function add(a, b) return a + b end
function xdp.deep7(pkt)
  local c = 0
  for a = 1, 2 do for b = 1, 2 do for d = 1, 2 do for e = 1, 2 do
  for f = 1, 2 do for g = 1, 2 do c = add(c, a + g) end end end end end end
  return c
end
