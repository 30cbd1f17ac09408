local Big = record { a = u64, b = u64, c = u64, d = u64, e = u64, f = u64, g = u64, h = u64,
  i = u64, j = u64, k = u64, l = u64, m = u64, n = u64, o = u64, p = u64,
  a1 = u64, b1 = u64, c1 = u64, d1 = u64, e1 = u64, f1 = u64, g1 = u64, h1 = u64,
  i1 = u64, j1 = u64, k1 = u64, l1 = u64, m1 = u64, n1 = u64, o1 = u64, p1 = u64,
  a2 = u64, b2 = u64, c2 = u64, d2 = u64, e2 = u64, f2 = u64, g2 = u64, h2 = u64,
  i2 = u64, j2 = u64, k2 = u64, l2 = u64, m2 = u64, n2 = u64, o2 = u64, p2 = u64,
  a3 = u64, b3 = u64, c3 = u64, d3 = u64, e3 = u64, f3 = u64, g3 = u64, h3 = u64,
  i3 = u64, j3 = u64, k3 = u64, l3 = u64, m3 = u64, n3 = u64, o3 = u64, p3 = u64, q3 = u8 }
local r1 = map.ringbuf { size = 5000 }
local r2 = map.ringbuf { size = 2048 }
local a = map.array { value = u32, max_entries = 4, init = { [4] = 1 } }
local h = map.hash { key = u8, value = u32, max_entries = 4, init = { [256] = 1, [-1] = 2 } }
local l = map.lpm { value = u32, max_entries = 4, init = { ["10.0.0/8"] = 1, ["10.0.0.0/33"] = 2, ["300.0.0.0/8"] = 3 } }
function xdp.p(pkt) return 1 end
-- error: 1:13: record Big takes 520 bytes; the kernel's stack holds 512
-- error: 9:33: a ring buffer's size must be a power of two from 4096 to 1073741824
-- error: 10:33: a ring buffer's size must be a power of two from 4096 to 1073741824
-- error: 11:63: init key 4 is outside the keys of map 'a' (0 to 3)
-- error: 12:72: init key 256 is outside the keys of map 'h' (0 to 255)
-- error: 12:83: init key -1 is outside the keys of map 'h' (0 to 255)
-- error: 13:61: '10.0.0/8' is not an IPv4 prefix a.b.c.d/len (not of the form a.b.c.d/len)
-- error: 13:79: '10.0.0.0/33' is not an IPv4 prefix a.b.c.d/len (the prefix length is above 32)
-- error: 13:100: '300.0.0.0/8' is not an IPv4 prefix a.b.c.d/len (an address byte is above 255)
