-- filter.lua: a small firewall for the edge of a LAN, in the bpflua language.
--
--   bpflua compile examples/filter.lua -o build/filter.o
--   bpflua verify build/filter.o
--   bpflua run build/filter.o --pcap examples/traffic.pcap --histogram --dump-maps
--
-- For every IPv4 packet it counts packets per protocol and bytes per source
-- address. It drops UDP to ports that have no business crossing the edge
-- (telnet, SMB, SSDP, X11) and DNS queries whose name is malformed: the
-- query name is walked label by label with a loop over the payload.
license "GPL"

local ETH_P_IP = 0x0800
local IPPROTO_UDP = 17
local DNS_PORT = 53

-- reasons a packet was dropped, as indices of `drops`
local DROP_PORT = 1
local DROP_DNS = 2
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
    -- walk the query name: labels of 1 to 63 bytes, at most 16 of them,
    -- ended by a zero byte inside the packet
    local next_label = udp + 8 + 12
    local labels = 0
    local ended = 0
    for i = next_label, #pkt - 1 do
      if i == next_label then
        local len = pkt:u8(i)
        if len == 0 then
          ended = 1
          break
        end
        if len > 63 then
          ended = 2
          break
        end
        labels = labels + 1
        next_label = i + len + 1
      end
    end
    if ended ~= 1 or labels == 0 or labels > 16 then
      drops[DROP_DNS] = (drops[DROP_DNS] or 0) + 1
      return xdp.DROP
    end
  end
  return xdp.PASS
end
