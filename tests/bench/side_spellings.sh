#!/usr/bin/env bash
# side_spellings.sh - the JIT against native C on the survey of other
# spellings of the bench's loop shapes (tests/bench/progs/spellings, twins
# in tests/bench/native/spellings.c), in-process like side_all.sh: the
# median of per-round ratios, on the packet interp_lua.lua --spellings
# uses (0x5a then 255 pseudo-random bytes; for the tcp_* programs 1,500
# bytes of TCP-style options, the bench's tcpopts packet).
#
#   bash tests/bench/side_spellings.sh [BUILD [ROUNDS [NAME...]]]
set -eu
cd "$(dirname "$0")/../.."
B=${1:-build}; R=${2:-21}; shift $(( $# > 2 ? 2 : $# ))
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
LUA_CPATH="$B/?.so;;" lua5.4 - "$tmp/pk.bin" <<'LUA'
local f = assert(io.open("tests/bench/run.lua"))
local src = f:read("a")
f:close()
local head = src:sub(1, assert(src:find("%-%- %-%-%-%- measuring")) - 1) ..
  "\nreturn bytes, options\n"
local out = arg[1]
arg = { [0] = "tests/bench/run.lua" }
local bytes, options = assert(load(head, "=run.lua"))()
local o = assert(io.open(out, "wb"))
o:write("\x5a" .. bytes(255, 6))
o:close()
o = assert(io.open(out:gsub("pk%.bin$", "tcp.bin"), "wb"))
o:write(options(1500, 28))
o:close()
LUA
all=$(ls tests/bench/progs/spellings | sed -n 's/\.lua$//p')
for n in ${*:-$all}; do
  "$B/bpflua" compile "tests/bench/progs/spellings/$n.lua" -o "$tmp/$n.o" >/dev/null
  pk=$tmp/pk.bin; case $n in tcp_*) pk=$tmp/tcp.bin ;; esac
  "$B/side_bench" "$tmp/$n.o" "$n" "$n" "$R" 200 "$pk"
done
