-- flood_lua.lua - the Lua side of dropped events, run by tests/cli/attach_tc.sh
-- inside its namespace: lua5.4 flood_lua.lua BPF_SO tc_flood.lua DEV SEND_CMD
-- p:poll() gives the events read and, per ring buffer, the emits the
-- program could not make (it counts them itself: the kernel does not).
local so, src, dev, send = arg[1], arg[2], arg[3], arg[4]
local bpf = assert(package.loadlib(so, "luaopen_bpf"))()

local function check(cond, msg)
  if not cond then error(msg, 2) end
  print("ok - lua: " .. msg)
end

local p = bpf.load(src)
local received = 0
p:on_event("events", function(e) received = received + 1 end)
local h = p:attach(dev, { mode = "egress" })
check(h.attached, "p:attach(dev, {mode = 'egress'})")
check(h.maps.__bpflua_drops == nil and h.maps.events ~= nil, "bpflua's own map is not among h.maps")
local n, dropped = p:poll(0)
-- (the stack may have sent packets of its own already: counts, not zeros)
check(math.type(n) == "integer" and math.type(dropped.events) == "integer",
  "p:poll() gives the events read and {events = dropped}")
assert(os.execute(send))
local total
for _ = 1, 50 do
  n, dropped = p:poll(20)
  total = received + dropped.events
  if total >= 2000 and n == 0 then break end
end
check(total % 2000 == 0 and total >= 2000 and dropped.events > 0,
  string.format("received %d + dropped %d, 2000 a packet", received, dropped.events))
check(h:detach() == true, ":detach()")
