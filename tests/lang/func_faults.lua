-- func_faults.lua: faults inside local functions end the program (verdict 0)
local function div(a, b) return a // b end
local function read_at(x) return x % 0 end

local function scan(n)
  local s = 0
  for i = 0, n do
    s = s + 100 // (i - 5)
  end
  return s
end

function xdp.div_fault(pkt)
  return div(100, pkt:u8(0) & 1) + 1
end

function xdp.mod_fault(pkt)
  if pkt:u8(0) == 0xff then return read_at(3) end
  return 4
end

function xdp.loop_fault(pkt)
  return scan(pkt:u8(1) % 8) & 0xffff
end
