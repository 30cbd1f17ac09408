-- jit_narrow_slots.lua: records local to a program with 4-byte fields
-- updated in loops. The JIT keeps such a field (a 4-byte ctx slot
-- accessed only as those 4 bytes) in a register holding it
-- zero-extended: a store truncates, an i32 field reads sign-extended, two
-- fields sharing 8 bytes are written back 4 bytes each, the value stored
-- is still the full 64-bit one where it is read again.
license "GPL"

local Acc = record { lo = u32, hi = u32, n = u64 }
local S = record { a = i32, b = u32, c = u16 }

-- two u32 fields side by side, one 8-byte field
function xdp.halves(pkt)
  local a = Acc {}
  for i = 0, #pkt - 1 do
    local b = pkt:u8(i)
    if b < 128 then a.lo = a.lo + b else a.hi = a.hi + b end
    a.n = a.n + 1
  end
  return (a.lo + a.hi * 3 + a.n) & 0xffffff
end

-- wrapping at 2^32 (the sum scaled far past it)
function xdp.wraps(pkt)
  local a = Acc { lo = 0xfffffff0 }
  for i = 0, #pkt - 1 do
    a.lo = a.lo * 7 + pkt:u8(i) + 0x10000000
  end
  return a.lo & 0xffffffff
end

-- an i32 field read sign-extended, going negative
function xdp.signed(pkt)
  local s = S { a = 5 }
  local neg = 0
  for i = 0, #pkt - 1 do
    s.a = s.a - pkt:u8(i) * 3
    if s.a < 0 then neg = neg + 1 end
  end
  return (neg * 65536 + (s.a & 0xffff)) & 0xffffffff
end

-- the value stored is used again after the store (its 64 bits)
function xdp.reused(pkt)
  local s = S {}
  local t = 0
  for i = 0, #pkt - 1 do
    local v = s.b + pkt:u8(i) * 0x1000000
    s.b = v
    t = t + (v >> 32)
  end
  return (t * 256 + (s.b & 0xff)) & 0xffffff
end

-- a u16 field (not kept in a register) next to them
function xdp.mixed(pkt)
  local s = S { c = 65530 }
  for i = 0, #pkt - 1 do
    s.c = s.c + pkt:u8(i)
    s.b = s.b + s.c
  end
  return (s.b ~ s.c) & 0xffffffff
end

-- nested: the outer field read and written in the inner loop, a break
function xdp.nested(pkt)
  local a = Acc {}
  for i = 0, 15 do
    for j = 0, i do
      if i + j >= #pkt then break end
      a.lo = a.lo + pkt:u8(i + j) * (j + 1)
    end
    a.hi = a.hi ~ a.lo
  end
  return (a.lo + a.hi) & 0xffffffff
end

-- returned from inside the loop at a byte
function xdp.ret_inside(pkt)
  local a = Acc { hi = 1 }
  for i = 0, #pkt - 1 do
    local b = pkt:u8(i)
    if b == 0 and i > 2 then return (a.lo + i) & 0xffffff end
    a.lo = a.lo + b * a.hi
    a.hi = a.hi + 2
  end
  return (a.lo * 3) & 0xffffff
end
