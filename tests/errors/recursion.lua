local function f(n)
  if n == 0 then return 0 end
  return f(n - 1)
end
function xdp.p(pkt) return f(3) end
-- error: 3:10: recursion is not allowed
