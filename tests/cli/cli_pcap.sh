#!/usr/bin/env bash
# The pcap reader behind `bpflua run --pcap`: both byte orders, microsecond
# and nanosecond magics, zero packets; truncated, corrupt, pcapng and
# garbage files are refused with a clear message and exit 2.
set -u
B=${BPFLUA:?set BPFLUA to the bpflua binary}
. "$(dirname "$0")/common.bash"

# a program whose verdict is the packet length, so each packet is told apart
cat >"$tmp/len.asm" <<'ASM'
ldxw %r2, [%r1+4]
ldxw %r1, [%r1]
mov %r0, %r2
sub %r0, %r1
exit
ASM
expect 0 "the length program runs" "$B" run "$tmp/len.asm" --hex 00112233445566778899aabbccdd --engine interp ||
    { echo "the assembler/engine cannot run the probe program; skipped"; exit 77; }

# writer: make_pcap ORDER(<|>) MAGIC OUT LEN...
cat >"$tmp/mk.lua" <<'LUA'
local order, magic, out = arg[1], tonumber(arg[2]), arg[3]
local f = assert(io.open(out, "wb"))
f:write(string.pack(order .. "I4I2I2i4I4I4I4", magic, 2, 4, 0, 0, 65535, 1))
for i = 4, #arg do
  local n = tonumber(arg[i])
  f:write(string.pack(order .. "I4I4I4I4", 1700000000 + i, 999, n, n), ("\170"):rep(n))
end
f:close()
LUA
mk() { lua5.4 "$tmp/mk.lua" "$@"; }

for order in "<" ">"; do
    for magic in 0xa1b2c3d4 0xa1b23c4d; do
        mk "$order" "$magic" "$tmp/t.pcap" 14 60 1514 20
        expect 0 "pcap $order $magic" "$B" run "$tmp/len.asm" --pcap "$tmp/t.pcap" --engine interp || continue
        got=$(sed -E 's/.*retval=([0-9]+).*packet=([0-9]+).*/\2:\1/' "$tmp/out" | tr '\n' ' ')
        [ "$got" = "1:14 2:60 3:1514 4:20 " ] || fail "pcap $order $magic: got '$got'"
    done
done

mk "<" 0xa1b2c3d4 "$tmp/empty.pcap"
expect 0 "a pcap with no packets" "$B" run "$tmp/len.asm" --pcap "$tmp/empty.pcap" --histogram &&
    has out 'packets=0' "empty histogram"

mk "<" 0xa1b2c3d4 "$tmp/full.pcap" 60 60
size=$(stat -c %s "$tmp/full.pcap")
head -c $((size - 10)) "$tmp/full.pcap" >"$tmp/cut.pcap"
expect 2 "truncated packet" "$B" run "$tmp/len.asm" --pcap "$tmp/cut.pcap" && has err "truncated pcap file: record 2" "truncation message"
head -c $((24 + 16 + 60 + 7)) "$tmp/full.pcap" >"$tmp/cuthdr.pcap"
expect 2 "truncated record header" "$B" run "$tmp/len.asm" --pcap "$tmp/cuthdr.pcap" && has err "header cut short" "header truncation message"
head -c 10 "$tmp/full.pcap" >"$tmp/short.pcap"
expect 2 "short global header" "$B" run "$tmp/len.asm" --pcap "$tmp/short.pcap" && has err "not a pcap file" "short file message"
head -c 4000 /dev/urandom | tr '\324' '\000' >"$tmp/garbage.pcap"
expect 2 "garbage" "$B" run "$tmp/len.asm" --pcap "$tmp/garbage.pcap" && has err "bad magic" "garbage message"
printf '\n\r\r\n\034\000\000\000\115\074\053\032' >"$tmp/ng.pcap"; head -c 40 /dev/zero >>"$tmp/ng.pcap"
expect 2 "pcapng" "$B" run "$tmp/len.asm" --pcap "$tmp/ng.pcap" && has err "pcapng" "pcapng message"
lua5.4 -e 'io.write(string.pack("<I4I2I2i4I4I4I4I4I4I4I4", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1, 0, 0, 0x7fffffff, 60))' >"$tmp/huge.pcap"
expect 2 "absurd record length" "$B" run "$tmp/len.asm" --pcap "$tmp/huge.pcap" && has err "corrupt pcap file" "huge record message"
expect 2 "missing pcap" "$B" run "$tmp/len.asm" --pcap "$tmp/none.pcap" && has err "cannot open" "missing pcap message"

if [ "$fails" -ne 0 ]; then
    echo "$fails failure(s)"
    exit 1
fi
echo "cli_pcap: all passed"
