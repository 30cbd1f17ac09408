-- filter.lua: a small firewall for the edge of a LAN, in the bpflua language.
--
--   bpflua compile examples/filter.lua -o build/filter.o
--   bpflua verify build/filter.o
--   bpflua run build/filter.o --pcap examples/traffic.pcap --histogram --dump-maps
--
-- For every IPv4 packet it counts packets per protocol and bytes per source
-- address. It drops UDP to ports that have no business crossing the edge
-- (telnet, SMB, SSDP, X11) and DNS queries for names under a blocklisted
-- domain, found with a loop over the payload.
license "GPL"

local ETH_P_IP = 0x0800
local IPPROTO_UDP = 17
local DNS_PORT = 53
local TRACKER_LABEL = 0x07747261636b6572   -- "\7tracker" as a big-endian u64

-- reasons a packet was dropped, as indices of `drops`
local DROP_PORT = 1
local DROP_DNS = 2     -- a blocklisted DNS name
local DROP_SHORT = 3

local protocols = map.array { value = u64, max_entries = 256 }              -- packets per IP protocol
local talkers = map.hash { key = u32, value = u64, max_entries = 1024 }     -- bytes per IPv4 source
local drops = map.array { value = u64, max_entries = 4 }                    -- packets per drop reason

local function blocked_port(port)
  if port == 23 or port == 445 or port == 1900 then return 1 end
  if port >= 6000 and port <= 6010 then return 1 end
  return 0
end

function xdp.filter(pkt)
  if #pkt < 34 or pkt:be16(12) ~= ETH_P_IP then
    return xdp.PASS
  end
  local proto = pkt:u8(23)
  protocols[proto] = (protocols[proto] or 0) + 1
  local src = pkt:be32(26)
  talkers[src] = (talkers[src] or 0) + #pkt
  if proto ~= IPPROTO_UDP then
    return xdp.PASS
  end
  local udp = 14 + (pkt:u8(14) & 0x0f) * 4
  if udp + 8 > #pkt then
    drops[DROP_SHORT] = (drops[DROP_SHORT] or 0) + 1
    return xdp.DROP
  end
  local dport = pkt:be16(udp + 2)
  if blocked_port(dport) == 1 then
    drops[DROP_PORT] = (drops[DROP_PORT] or 0) + 1
    return xdp.DROP
  end
  if dport == DNS_PORT then
    -- a blocklisted name anywhere in the query: scan the payload for the
    -- label "\7tracker" (length byte 7, then the letters), 8 bytes at a time
    for i = udp + 8 + 12, #pkt - 8 do
      if pkt:be64(i) == TRACKER_LABEL then
        drops[DROP_DNS] = (drops[DROP_DNS] or 0) + 1
        return xdp.DROP
      end
    end
  end
  return xdp.PASS
end
