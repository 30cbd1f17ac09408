-- builtins.lua: ktime, random, cpu
function xdp.clocks(pkt)
  local t = ktime()
  local r = random()
  local c = cpu()
  local ok = 0
  if t > 0 then ok = ok + 1 end
  if r >= 0 and r <= 0xffffffff then ok = ok + 2 end
  if c >= 0 then ok = ok + 4 end
  if ktime() >= t then ok = ok + 8 end
  return ok
end
