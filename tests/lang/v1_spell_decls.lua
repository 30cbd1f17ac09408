-- declarations spelled as Lua allows: record({ ... }) and map.KIND({ ... })
-- with parentheses, ';' separators and trailing separators, fields over
-- several lines with comments (one reads 'source = address'), R({ ... })
-- and R{...} constructors
local Flow = record {
  saddr = u32,   -- source = address
  dport = u16,   --[[ long comment, with x = y inside ]]
  proto = u8,
}
local Stats = record
{
  packets = u64; bytes = u64
}
local flows = map.lru_hash {
  key = Flow,
  value = Stats,
  max_entries = 64,
  init = {
    [Flow { saddr = 1, dport = 2, proto = 3 }] = Stats { packets = 9 },
  },
}

function xdp.count(pkt)
  if #pkt < 38 then return xdp.PASS end
  local f = Flow {
    saddr = pkt:be32(26),
    dport = pkt:be16(36),
    proto = pkt:u8(23),
  }
  local s = flows[f]
  if s then
    s.packets = s.packets + 1
    s.bytes = s.bytes + #pkt
  else
    flows[f] = Stats { packets = 1, bytes = #pkt }
  end
  return xdp.PASS
end

local R = record({ a = u8; b = i16, })
local Q = record{c=u32}
local m = map.hash({ key = R; value = Q; max_entries = 4; init = { [R{a=1;b=2}] = Q({ c = 3 }); } })
local ev = map.ringbuf({ size = 4096 })
function xdp.p(pkt)
  local r = R({ a = pkt:u8(0); b = -1 })
  m[r] = Q{ c = 7, }
  local q = m[R{a=1;b=2}]
  ev:emit(R({ a = 2 }))
  ev:emit((r))
  if q then return q.c end
  return 0
end
