-- handle.lua - the Lua side of live filters, run by tests/cli/attach.sh
-- inside its namespace: lua5.4 handle.lua BPF_SO FILTER.o DEV SEND_CMD [COUNT.lua]
-- The functions come straight out of bpf.so (package.loadlib), so this
-- works whether or not the module's table exposes them yet.
local so, obj, dev, send = arg[1], arg[2], arg[3], arg[4]
local attach_file = assert(package.loadlib(so, "bl_lua_attach_file"))
local detach_dev = assert(package.loadlib(so, "bl_lua_detach_dev"))

local function check(cond, msg)
  if not cond then error(msg, 2) end
  print("ok - lua: " .. msg)
end

local h = attach_file(obj, dev, { mode = "skb" })
check(h.attached and h.ifname == dev and h.prog == "count_udp" and h.mode == "skb"
      and math.type(h.prog_id) == "integer", "handle fields")
check(tostring(h):find("count_udp", 1, true), "tostring names the program")
check(h.maps.counts[0] == 0, "live map starts at 0")
assert(os.execute(send))
check(h.maps.counts[0] == 5, "live map read: counts[0] == 5 after 5 datagrams")
check(h.maps.counts[1] >= 5, "counts[1] >= 5")
check(h.maps.counts[7] == nil, "an index out of range reads nil")
check(#h.maps.counts == 2, "#map is max_entries")
local seen = {}
for k, v in pairs(h.maps.counts) do seen[k] = v end
check(seen[0] == 5 and seen[1] == h.maps.counts[1], "pairs over a live map")
local ok, err = pcall(attach_file, obj, dev)
check(not ok and err:find("already has an XDP program", 1, true), "busy interface: error")
ok, err = pcall(attach_file, obj, "blat_nosuch0")
check(not ok and err:find("no such interface", 1, true), "missing interface: error")
ok, err = pcall(attach_file, obj, dev, { mode = "turbo" })
check(not ok and err:find("skb or native", 1, true), "bad mode: error")
check(h:detach() == true and not h.attached, ":detach()")
check(h:detach() == true, ":detach() twice is fine")
ok, err = pcall(function() return h.maps end)
check(not ok and err:find("detached", 1, true), "maps of a detached handle: error")
local r, msg = detach_dev(dev)
check(r == nil and msg:find("no XDP program", 1, true), "nothing left attached after :detach()")

do
  local h2 <close> = attach_file(obj, dev)
  check(h2.attached, "attached in a <close> scope")
end
r = detach_dev(dev)
check(r == nil, "<close> detaches at the end of the scope")

attach_file(obj, dev)
collectgarbage()
collectgarbage()
r = detach_dev(dev)
check(r == nil, "garbage collection detaches")
-- p:attach through the module, when it has it and the compiler works
local okb, bpf = pcall(require, "bpf")
local src = arg[5] and io.open(arg[5]):read("a")
local p = okb and src and select(2, pcall(bpf.compile, src, { name = "count.lua" }))
if type(p) == "userdata" and p.attach then
  local hp = p:attach(dev, { mode = "skb" })
  check(hp.attached and hp.prog == "count_udp", "p:attach(dev) on a compiled program")
  assert(os.execute(send))
  check(hp.maps.counts[0] == 5 and hp.maps.counts[2] == 5 * 130,
        "p:attach handle: live counts 5, payload sum 650")
  check(p.maps.counts[0] == 5 and p.maps.counts[2] == 5 * 130,
        "p.maps reads the attached program's live kernel maps")
  local o2, e2 = pcall(p.attach, p, dev)
  check(not o2 and e2:find("already has an XDP program", 1, true), "p:attach twice: busy")
  check(hp:detach() and detach_dev(dev) == nil, "p:attach handle :detach()")
  local hp2 = p:attach(dev, { mode = "native" })
  check(hp2.mode == "native" and hp2.maps.counts[0] == 5,
        "re-attach (native) of the same object keeps its kernel maps")
  hp2:detach()
else
  print("# lua: p:attach not tested (no module, compiler or p.attach here)")
end
print("lua: all passed")
