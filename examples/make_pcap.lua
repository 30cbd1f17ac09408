-- make_pcap.lua: writes examples/traffic.pcap, the mixed traffic that
-- examples/filter.lua is demonstrated on. Deterministic: the same bytes on
-- every run (no clock, no randomness beyond a fixed-seed generator).
--
--   lua5.4 examples/make_pcap.lua [OUT.pcap]
--
-- Classic pcap, little endian, microsecond timestamps, link type Ethernet.

local out_path = arg and arg[1] or "examples/traffic.pcap"

local seed = 20261125
local function rand(n) -- 0 .. n-1, a small LCG
  seed = (seed * 1103515245 + 12345) & 0x7fffffff
  return seed % n
end

local function be16(v) return string.pack(">I2", v) end
local function be32(v) return string.pack(">I4", v) end

local function ip(a, b, c, d) return (a << 24) | (b << 16) | (c << 8) | d end

local function checksum(s)
  local sum = 0
  for i = 1, #s - 1, 2 do
    sum = sum + (s:byte(i) << 8) + s:byte(i + 1)
  end
  if #s % 2 == 1 then sum = sum + (s:byte(#s) << 8) end
  while sum > 0xffff do sum = (sum & 0xffff) + (sum >> 16) end
  return (~sum) & 0xffff
end

local SRC_MAC = "\x02\x00\x00\x00\x00\x01"
local DST_MAC = "\x02\x00\x00\x00\x00\x02"

local function ether(ethertype, payload)
  return DST_MAC .. SRC_MAC .. be16(ethertype) .. payload
end

local ip_id = 0
local function ipv4(proto, src, dst, payload, ttl)
  ip_id = ip_id + 1
  local hdr = string.char(0x45, 0) .. be16(20 + #payload) .. be16(ip_id) .. be16(0x4000)
      .. string.char(ttl or 64, proto) .. be16(0) .. be32(src) .. be32(dst)
  hdr = hdr:sub(1, 10) .. be16(checksum(hdr)) .. hdr:sub(13)
  return ether(0x0800, hdr .. payload)
end

local function udp(src, dst, sport, dport, data)
  return ipv4(17, src, dst, be16(sport) .. be16(dport) .. be16(8 + #data) .. be16(0) .. data)
end

local function tcp(src, dst, sport, dport, flags, data)
  local hdr = be16(sport) .. be16(dport) .. be32(1000 + rand(100000)) .. be32(0)
      .. string.char(0x50, flags) .. be16(64240) .. be16(0) .. be16(0)
  return ipv4(6, src, dst, hdr .. data)
end

local function icmp_echo(src, dst, seq)
  local body = string.char(8, 0) .. be16(0) .. be16(0x1234) .. be16(seq) .. ("abcdefgh"):rep(4)
  body = body:sub(1, 2) .. be16(checksum(body)) .. body:sub(5)
  return ipv4(1, src, dst, body)
end

-- a DNS query for the name made of `labels` ({"www", "example", "com"})
local function dns_query(labels, qtype)
  local q = be16(rand(65536)) .. be16(0x0100) .. be16(1) .. be16(0) .. be16(0) .. be16(0)
  for _, l in ipairs(labels) do q = q .. string.char(#l) .. l end
  return q .. "\0" .. be16(qtype or 1) .. be16(1)
end

local function split(name)
  local t = {}
  for l in name:gmatch("[^.]+") do t[#t + 1] = l end
  return t
end

local function arp(src, dst)
  local body = be16(1) .. be16(0x0800) .. string.char(6, 4) .. be16(1)
      .. SRC_MAC .. be32(src) .. ("\0"):rep(6) .. be32(dst)
  return ("\xff"):rep(6) .. SRC_MAC .. be16(0x0806) .. body .. ("\0"):rep(18)
end

local function ipv6_udp(dport, data)
  local src = "\xfe\x80" .. ("\0"):rep(13) .. "\x01"
  local dst = "\xff\x02" .. ("\0"):rep(13) .. "\xfb"
  local u = be16(5353) .. be16(dport) .. be16(8 + #data) .. be16(0) .. data
  local hdr = be32(0x60000000) .. be16(#u) .. string.char(17, 255) .. src .. dst
  return DST_MAC .. SRC_MAC .. be16(0x86dd) .. hdr .. u
end

local lan = { ip(10, 0, 0, 2), ip(10, 0, 0, 3), ip(10, 0, 0, 7), ip(192, 168, 1, 20) }
local server = ip(10, 0, 0, 1)
local resolver = ip(10, 0, 0, 53)

local packets = {}
local function add(p) packets[#packets + 1] = p end

local names = { "www.example.com", "mail.example.org", "bpf.io", "a.b.c.d.example.net",
                "lua.org", "kernel.org" }
for i = 1, 48 do
  local src = lan[rand(#lan) + 1]
  local kind = i % 12
  if kind == 0 then
    add(tcp(src, server, 40000 + rand(20000), 80, 0x18, "GET /index.html HTTP/1.1\r\nHost: example.com\r\n\r\n"))
  elseif kind == 1 then
    add(udp(src, resolver, 30000 + rand(30000), 53, dns_query(split(names[rand(#names) + 1]))))
  elseif kind == 2 then
    add(tcp(src, server, 40000 + rand(20000), 22, 0x02, ""))
  elseif kind == 3 then
    add(udp(src, server, 30000 + rand(30000), 23, "login: root\r\n"))           -- telnet: blocked
  elseif kind == 4 then
    add(icmp_echo(src, server, i))
  elseif kind == 5 then
    add(udp(src, ip(239, 255, 255, 250), 1900, 1900, "M-SEARCH * HTTP/1.1\r\n\r\n")) -- SSDP: blocked
  elseif kind == 6 then
    add(arp(src, server))
  elseif kind == 7 then
    add(udp(src, resolver, 30000 + rand(30000), 53, dns_query(split("ads.tracker.net")))) -- blocklisted
  elseif kind == 8 then
    add(udp(src, server, 30000 + rand(30000), 6001, ("\0"):rep(24)))        -- X11: blocked
  elseif kind == 9 then
    add(ipv6_udp(5353, dns_query(split("printer.local"))))
  elseif kind == 10 then
    add(udp(src, server, 30000 + rand(30000), 123, ("\x1b") .. ("\0"):rep(47))) -- NTP
  else
    add(tcp(src, server, 40000 + rand(20000), 443, 0x10, ("\x17\x03\x03"):rep(10)))
  end
end

local f = assert(io.open(out_path, "wb"))
f:write(string.pack("<I4I2I2i4I4I4I4", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
local t = 1764028800 -- 2025-11-25 00:00:00 UTC, fixed
for i, p in ipairs(packets) do
  f:write(string.pack("<I4I4I4I4", t + i // 10, (i * 73421) % 1000000, #p, #p), p)
end
f:close()
print(("%s: %d packets"):format(out_path, #packets))
