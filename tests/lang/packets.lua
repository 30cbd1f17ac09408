-- packets.lua: the packets every program in tests/lang/ runs on.
-- Returns a list of { name = "...", bytes = "..." } (deterministic).
local function flat(t, out)
  out = out or {}
  for _, x in ipairs(t) do
    if type(x) == "table" then flat(x, out)
    elseif type(x) == "string" then for i = 1, #x do out[#out + 1] = x:byte(i) end
    else out[#out + 1] = x & 0xff end
  end
  return out
end
local function be16(v) return { v >> 8, v } end
local function be32(v) return { v >> 24, v >> 16, v >> 8, v } end
local ETH = { { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 }, { 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef } }
local function ipv4(proto, ttl, src, dst, l4, ihl)
  l4 = flat(l4)
  ihl = ihl or 5
  local opts = {}
  for i = 1, (ihl - 5) * 4 do opts[i] = 1 end
  local h = flat { 0x40 | ihl, 0, be16(ihl * 4 + #l4), be16(7), be16(0), ttl, proto, 0, 0, be32(src), be32(dst), opts }
  local s = 0
  for i = 1, #h, 2 do s = s + (h[i] << 8) + h[i + 1] end
  while s > 0xffff do s = (s & 0xffff) + (s >> 16) end
  s = ~s & 0xffff
  h[11], h[12] = s >> 8, s & 0xff
  return { h, l4 }
end
local function udp(sp, dp, data) return { be16(sp), be16(dp), be16(8 + #data), be16(0), data } end
local function tcp(sp, dp, flags) return { be16(sp), be16(dp), be32(1), be32(0), 0x50, flags, be16(1024), be16(0), be16(0) } end
local function pattern(n, f) local t = {} for i = 0, n - 1 do t[#t + 1] = f(i) end return t end

local list = {
  { "udp_dns", { ETH, be16(0x0800), ipv4(17, 64, 0xc0000201, 0x08080808, udp(33000, 53, "\1\2query\255\0")) } },
  { "udp_telnet", { ETH, be16(0x0800), ipv4(17, 1, 0xc0000202, 0xc0000203, udp(40001, 23, "hi there")) } },
  { "udp_opts", { ETH, be16(0x0800), ipv4(17, 30, 0x0a000001, 0x0a000002, udp(40002, 6003, ("x"):rep(30)), 7) } },
  { "tcp_http", { ETH, be16(0x0800), ipv4(6, 57, 0xc0000206, 0xc0000207, tcp(50000, 80, 0x02)) } },
  { "ipv6_udp", { ETH, be16(0x86DD), { 0x60, 0, 0, 0 }, be16(13), 17, 64, pattern(16, function(i) return i * 17 end),
    pattern(16, function(i) return 255 - i end), udp(5353, 5353, "abcde") } },
  { "arp", { { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, ETH[2], be16(0x0806), be16(1), be16(0x0800), 6, 4, be16(1),
    ETH[2], be32(0xc0000201), { 0, 0, 0, 0, 0, 0 }, be32(0xc0000202) } },
  { "short14", { ETH, be16(0x0800) } },
  { "zeros60", pattern(60, function() return 0 end) },
  { "ramp256", pattern(256, function(i) return i end) },
  { "ff100", pattern(100, function() return 0xff end) },
  { "mix1500", pattern(1500, function(i) return (i * 7 + (i >> 3)) & 0xff end) },
  { "odd33", pattern(33, function(i) return (0x80 + i * 13) & 0xff end) },
}
local out = {}
for _, p in ipairs(list) do
  local b = flat(p[2])
  out[#out + 1] = { name = p[1], bytes = string.char(table.unpack(b)) }
end
return out
