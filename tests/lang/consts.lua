-- consts.lua: top-level constants and constant expressions
license "Dual MIT/GPL"

local BASE = 100
local STEP = BASE // 7 + (BASE % 7)
local MASK = (1 << 12) - 1
local BIG = math.maxinteger // 3
local NEG = -BASE * 3
local HEX = 0xff00 | 0x0f

function xdp.consts(pkt)
  return BASE + STEP + (MASK & 0x123) + (BIG & 0xff) + NEG + HEX + xdp.TX
end

function xdp.verdict_consts(pkt)
  return xdp.ABORTED + xdp.DROP * 10 + xdp.PASS * 100 + xdp.TX * 1000 + xdp.REDIRECT * 10000
end
