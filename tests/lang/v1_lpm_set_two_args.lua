-- m:set(addr, len) with the value left out is m:set(addr, len, nil) in Lua:
-- it deletes the prefix
local l = map.lpm { value = u16, max_entries = 8, init = { ["10.0.0.0/8"] = 1, ["10.1.0.0/16"] = 2, ["0.0.0.0/0"] = 3 } }
function xdp.p(pkt)
  local before = (l[0x0a010203] or 0) * 100
  l:set(0x0a010000 + pkt:u8(0), 16)
  if pkt:u8(1) % 2 == 1 then l:set(0, 0) end
  return before + (l[0x0a010203] or 0) * 10 + (l[0x0b000001] or 0)
end
