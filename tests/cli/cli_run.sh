#!/usr/bin/env bash
# bpflua compile / verify / run / disasm on the project's example filter
# and traffic: the results of every engine match a plain-Lua oracle of the
# same file, the demo's flags work, and odd packets (empty, 64 KiB+) give a
# defined result or a clear error.
set -u
B=${BPFLUA:?set BPFLUA to the bpflua binary}
SRC=${BPFLUA_SRC:?set BPFLUA_SRC to the source tree}
. "$(dirname "$0")/common.bash"

F=$SRC/examples/filter.lua
P=$SRC/examples/traffic.pcap

# the oracle: the filter as plain Lua 5.4 under a small prelude
cat >"$tmp/oracle.lua" <<'LUA'
local file, pcap = arg[1], arg[2]
local env = setmetatable({}, { __index = _G })
env.u8, env.u16, env.u32, env.u64 = 1, 2, 4, 8
env.license = function() end
local progs = {}
env.xdp = setmetatable({ ABORTED = 0, DROP = 1, PASS = 2, TX = 3, REDIRECT = 4 },
  { __newindex = function(_, k, v) progs[#progs + 1] = { k, v } end })
local maps = {}
local function kind(k) return function(spec)
  local store, name = {}, nil
  maps[#maps + 1] = { store = store, kind = k, spec = spec }
  return setmetatable({}, {
    __index = function(_, key)
      if k == "array" then
        if key < 0 or key >= spec.max_entries then return nil end
        return store[key] or 0
      end
      return store[key]
    end,
    __newindex = function(_, key, v) store[key] = v end })
end end
env.map = { array = kind("array"), hash = kind("hash"), lru_hash = kind("hash") }
assert(loadfile(file, "t", env))()
-- map names: the locals of the chunk, in declaration order
local names = {}
for line in io.lines(file) do
  local n = line:match("^local%s+([%w_]+)%s*=%s*map%.")
  if n then names[#names + 1] = n end
end
local function get(p, o, n, fmt)
  if o < 0 or o + n > #p.s then error("fault") end
  return (string.unpack(fmt, p.s, o + 1))
end
local pmt = { __len = function(p) return #p.s end, __index = {
  u8 = function(p, o) return get(p, o, 1, "B") end,
  be16 = function(p, o) return get(p, o, 2, ">I2") end,
  be32 = function(p, o) return get(p, o, 4, ">I4") end,
  be64 = function(p, o) return get(p, o, 8, ">i8") end } }
local f = assert(io.open(pcap, "rb"))
local d = f:read("a")
f:close()
local off, n = 25, 0
while off <= #d do
  local incl = string.unpack("<I4", d, off + 8)
  off = off + 16
  local pk = setmetatable({ s = d:sub(off, off + incl - 1) }, pmt)
  off = off + incl
  n = n + 1
  for _, pr in ipairs(progs) do
    local ok, v = pcall(pr[2], pk)
    print(("name=%s retval=%d packet=%d"):format(pr[1], ok and (v & 0xffffffff) or 0, n))
  end
end
local lines = {}
for i, m in ipairs(maps) do
  local keys = {}
  for k in pairs(m.store) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, k in ipairs(keys) do
    if m.kind ~= "array" or m.store[k] ~= 0 then
      lines[#lines + 1] = ("map=%s key=%d value=%d"):format(names[i], k, m.store[k])
    end
  end
end
table.sort(lines, function(a, b)
  local an, ak = a:match("map=(%S+) key=(%d+)")
  local bn, bk = b:match("map=(%S+) key=(%d+)")
  if an ~= bn then return an < bn end
  return tonumber(ak) < tonumber(bk)
end)
for _, l in ipairs(lines) do print(l) end
LUA
lua5.4 "$tmp/oracle.lua" "$F" "$P" >"$tmp/oracle" || fail "the oracle did not run"
grep '^name=' "$tmp/oracle" >"$tmp/oracle.verdicts"
grep '^map=' "$tmp/oracle" >"$tmp/oracle.maps"
[ "$(wc -l <"$tmp/oracle.verdicts")" -eq 48 ] || fail "oracle: expected 48 verdicts"

# compile: -o and the default name
expect 0 "compile -o" "$B" compile "$F" -o "$tmp/filter.o" && has out "1 program, 3 maps" "compile summary"
[ -s "$tmp/filter.o" ] && head -c 4 "$tmp/filter.o" | grep -q ELF || fail "compile -o wrote no ELF object"
cp "$F" "$tmp/copy.lua"
expect 0 "compile default output" "$B" compile "$tmp/copy.lua"
[ -s "$tmp/copy.o" ] || fail "compile without -o did not write copy.o"

# verify, on source and object
for input in "$F" "$tmp/filter.o"; do
    expect 0 "verify $(basename "$input")" "$B" verify "$input" &&
        has out '^name=filter verified_insns=[0-9]+ max_insns=[0-9]+' "verify line"
done
expect 0 "verify --log" "$B" verify "$tmp/filter.o" --log
[ "$(wc -l <"$tmp/out")" -gt 2 ] || fail "verify --log printed no state trace"

# run over the pcap in each engine: the verdicts and maps of the oracle
engines="interp"
"$B" run "$F" --hex 000000000000000000000000000000 --engine jit >/dev/null 2>&1 && engines="$engines jit"
for e in $engines; do
    for input in "$F" "$tmp/filter.o"; do
        expect 0 "run $e $(basename "$input")" "$B" run "$input" --pcap "$P" --engine "$e" --dump-maps || continue
        sed -E 's/ ns_per_run=[0-9]+ setup_ns=[0-9]+//' "$tmp/out" | grep '^name=' >"$tmp/verdicts"
        diff -u "$tmp/oracle.verdicts" "$tmp/verdicts" >/dev/null || fail "run $e: verdicts differ from the oracle"
        grep '^map=' "$tmp/out" >"$tmp/maps"
        diff -u "$tmp/oracle.maps" "$tmp/maps" || fail "run $e: maps differ from the oracle"
    done
done

# the demo's command line: a histogram with XDP names
expect 0 "run --histogram" "$B" run "$tmp/filter.o" --pcap "$P" --histogram &&
    { has out '^histogram name=filter packets=48' "histogram header";
      has out 'XDP_DROP\(1\) +16 ' "histogram drop count";
      has out 'XDP_PASS\(2\) +32 ' "histogram pass count"; }
expect 0 "run --quiet" "$B" run "$tmp/filter.o" --pcap "$P" --histogram --quiet
# a tc program's histogram names tc's verdicts, not XDP's
cat >"$tmp/tcv.lua" <<'LUA'
function tc.v(pkt)
  if #pkt < 60 then return tc.SHOT end
  if #pkt < 100 then return tc.UNSPEC end
  return tc.OK
end
LUA
expect 0 "run --histogram (tc)" "$B" run "$tmp/tcv.lua" --pcap "$P" --histogram --quiet &&
    { has out 'TC_ACT_SHOT\(2\) ' "tc histogram: SHOT";
      grep -q 'XDP_' "$tmp/out" && fail "tc histogram uses XDP names";
      grep -Eq 'TC_ACT_(OK\(0\)|UNSPEC\(4294967295\)) ' "$tmp/out" || fail "tc histogram: OK/UNSPEC"; }
grep -q '^name=' "$tmp/out" && fail "--quiet still printed per-packet lines"

# one packet: --input, --hex, --prog, --repeat, --max-insns
cat >"$tmp/first.lua" <<'LUA'
local d = io.open(arg[1], "rb"):read("a")
local n = string.unpack("<I4", d, 25 + 8)
local f = io.open(arg[2], "wb")
f:write(d:sub(41, 40 + n))
f:close()
LUA
lua5.4 "$tmp/first.lua" "$P" "$tmp/first.bin"
expect 0 "run --input" "$B" run "$tmp/filter.o" --input "$tmp/first.bin" --engine interp &&
    has out '^name=filter retval=[0-9]+ ns_per_run=[0-9]+ setup_ns=[0-9]+$' "result line"
want=$(sed -n 1p "$tmp/oracle.verdicts" | sed -E 's/ packet=1//')
got=$(sed -E 's/ ns_per_run=[0-9]+ setup_ns=[0-9]+//' "$tmp/out")
[ "$want" = "$got" ] || fail "run --input: '$got', want '$want'"
hex=$(od -An -v -tx1 "$tmp/first.bin" | tr -d ' \n')
expect 0 "run --hex" "$B" run "$F" --hex "$hex" --prog filter --repeat 5 --engine interp
got=$(sed -E 's/ ns_per_run=[0-9]+ setup_ns=[0-9]+//' "$tmp/out")
[ "$want" = "$got" ] || fail "run --hex: '$got', want '$want'"
expect 0 "run --max-insns" "$B" run "$F" --hex "$hex" --max-insns 1000000 --engine interp
expect 2 "run --prog unknown" "$B" run "$F" --hex "$hex" --prog nosuch && has err "no program named 'nosuch'" "unknown prog"

# odd packets: empty and 64 KiB+ run to a verdict (or a clear error), never crash
expect 0 "run an empty packet" "$B" run "$F" --hex "" --engine interp && has out 'retval=2 ' "empty packet passes"
head -c 70000 /dev/zero >"$tmp/big.bin"
expect 0 "run a 70000-byte packet" "$B" run "$F" --input "$tmp/big.bin" --engine interp && has out 'retval=2 ' "big packet passes"

# trace_printk output (print in the language) is shown per run
cat >"$tmp/trace.lua" <<'LUA'
license "GPL"
function xdp.tell(pkt)
  print("len %d first %d last %d", #pkt, pkt:u8(0), 7)
  return xdp.PASS
end
LUA
expect 0 "run with print" "$B" run "$tmp/trace.lua" --hex 2a0102030405060708090a0b0c0d --engine interp &&
    { has out '^trace: len 14 first 42 last 7$' "trace line"; has out '^name=tell retval=2 ' "result after trace"; }

# disasm interleaves the source lines
expect 0 "disasm" "$B" disasm "$tmp/filter.o" && has out 'pkt:be16\(12\) ~= ETH_P_IP' "source line in disasm"
expect 0 "disasm --prog" "$B" disasm "$F" --prog filter && has out 'exit' "instructions in disasm"

# a compile error: caret layout on stderr, exit 1
printf 'license "GPL"\nfunction xdp.bad(pkt)\n  return 1.5\nend\n' >"$tmp/bad.lua"
expect 1 "compile error" "$B" compile "$tmp/bad.lua" -o "$tmp/bad.o" && { has err 'bad.lua:3:' "error names file:line"; has err '\^' "caret underline"; }
expect 1 "run a source with an error" "$B" run "$tmp/bad.lua" --hex 00
expect 1 "verify a source with an error" "$B" verify "$tmp/bad.lua"

# the kernel engine, where bpf(2) works
if "$B" run "$tmp/filter.o" --hex "$hex" --engine kernel >"$tmp/kout" 2>"$tmp/kerr"; then
    expect 0 "run --engine kernel" "$B" run "$tmp/filter.o" --pcap "$P" --engine kernel --dump-maps
    sed -E 's/ ns_per_run=[0-9]+ setup_ns=[0-9]+//' "$tmp/out" | grep '^name=' >"$tmp/verdicts"
    diff -u "$tmp/oracle.verdicts" "$tmp/verdicts" >/dev/null || fail "run kernel: verdicts differ from the oracle"
    grep '^map=' "$tmp/out" >"$tmp/maps"
    diff -u "$tmp/oracle.maps" "$tmp/maps" || fail "run kernel: the kernel's maps differ from the oracle"
    expect 1 "kernel rejects an empty packet" "$B" run "$F" --hex "" --engine kernel && has err "14 bytes" "kernel minimum size"
else
    echo "note: kernel engine unavailable here, skipped: $(head -1 "$tmp/kerr")"
fi

if [ "$fails" -ne 0 ]; then
    echo "$fails failure(s)"
    exit 1
fi
echo "cli_run: all passed (engines: $engines)"
