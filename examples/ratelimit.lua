-- ratelimit.lua: an egress rate limiter (tc): at most LIMIT IPv4 packets per
-- destination address in each one-second window; the rest are dropped.
-- Every engine runs it (tests/cli/examples_v1.sh checks the drops against
-- the capture):
--
--   bpflua run examples/ratelimit.lua --pcap examples/traffic.pcap   (retval=2: tc.SHOT)
--   bpflua attach examples/ratelimit.lua --dev eth0 --egress
license "GPL"

local LIMIT = 5
local SECOND = 1000000000

local Window = record { start = u64, sent = u32 }
local windows = map.lru_hash { key = u32, value = Window, max_entries = 1024 }

function tc.ratelimit(pkt)
  if #pkt < 34 or pkt.protocol ~= 0x0800 then return tc.OK end
  local dst = pkt:be32(30)
  local now = ktime()
  local w = windows[dst]
  if w and now - w.start < SECOND then
    if w.sent >= LIMIT then return tc.SHOT end
    w.sent = w.sent + 1
    return tc.OK
  end
  windows[dst] = Window { start = now, sent = 1 }
  return tc.OK
end
