-- scopes.lua: shadowing, do blocks, declarations with fewer values
function xdp.shadow(pkt)
  local x = 1
  do
    local x = x + 10
    x = x * 2
    if x ~= 22 then return 99 end
  end
  local x = x + 100
  return x
end

function xdp.fewer(pkt)
  local a, b, c = pkt:u8(0), 5
  if c == nil then return a + b end
  return 0
end

function xdp.reuse(pkt)
  local s = 0
  do local a = 3; s = s + a end
  do local b = 4; s = s + b end
  do local c, d = 5, 6; s = s + c * d end
  return s
end
