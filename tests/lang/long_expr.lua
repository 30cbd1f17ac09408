-- long_expr.lua: deep expressions (more temporaries than registers)
local function f(a, b, c, d, e) return a - b + c - d + e end

function xdp.deep(pkt)
  local a, b, c = pkt:u8(0), pkt:u8(1), pkt:u8(2)
  local v = a + (b * (c + (a - (b + (c * (a + (b - (c + (a * (b + c))))))))))
  local w = (a + 1) * ((b + 2) * ((c + 3) * ((a + 4) * ((b + 5) + (c + 6) * (a + 7)))))
  local x = f(a + (b + (c + 1)), b * (c * (a + 2)), f(a, b, c, a, b), c // (a + 1), (b % 7) << (c % 5))
  return (v ~ w ~ x) & 0x7fffffff
end

function xdp.deep_cmp(pkt)
  local a, b = pkt:u8(0), pkt:u8(1)
  if (a + (b + (a + (b + (a + 1))))) > (b + (a + (b + (a + (b + 2))))) then return 1 end
  return 2
end
