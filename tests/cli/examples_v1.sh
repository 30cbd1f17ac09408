#!/bin/bash
# examples_v1.sh - the version 1 examples on examples/traffic.pcap, checked
# against what the capture holds (read here by a small pcap reader in Lua,
# independent of bpflua): flows.lua accounts every IPv4 frame once, its
# bytes, per 5-tuple; blocklist.lua drops exactly the frames from its two
# prefixes and reports one event per drop; ratelimit.lua (tc) passes at most
# 5 frames per destination. Every engine prints the same lines.
. "$(dirname "$0")/common.bash"
SRC=${BPFLUA_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BPFLUA=${BPFLUA:?BPFLUA not set}
PCAP=$SRC/examples/traffic.pcap
command -v lua5.4 >/dev/null || { echo "SKIP: no lua5.4"; exit 77; }

# What the capture holds: per frame, "ethertype saddr daddr proto sport dport len"
lua5.4 - "$PCAP" >"$tmp/frames" <<'LUA'
local f = assert(io.open(arg[1], "rb")); local s = f:read("a"); f:close()
local pos = 25
while pos + 16 <= #s do
  local incl = string.unpack("<I4", s, pos + 8)
  local p = s:sub(pos + 16, pos + 15 + incl)
  pos = pos + 16 + incl
  local et = #p >= 14 and string.unpack(">I2", p, 13) or 0
  if et == 0x0800 and #p >= 34 then
    local proto = p:byte(24)
    local sp, dp = 0, 0
    if (proto == 6 or proto == 17) and #p >= 38 then sp, dp = string.unpack(">I2I2", p, 35) end
    print(et, string.unpack(">I4", p, 27), string.unpack(">I4", p, 31), proto, sp, dp, #p)
  else
    print(et, 0, 0, 0, 0, 0, #p)
  end
end
LUA
engines="interp jit"
"$BPFLUA" run "$SRC/examples/flows.lua" --pcap "$PCAP" --engine kernel --quiet >/dev/null 2>&1 &&
    engines="$engines kernel"

# ---- flows.lua: the map equals the capture's flows, in every engine ----
awk '$1 == 2048 { k = "key={saddr=" $2 ",daddr=" $3 ",sport=" $5 ",dport=" $6 ",proto=" $4 "}";
                  n[k]++; b[k] += $7 }
     END { for (k in n) print "map=flows " k " value={packets=" n[k] ",bytes=" b[k] "}" }' \
    "$tmp/frames" | sort >"$tmp/want_flows"
for e in $engines; do
    expect 0 "flows ($e)" "$BPFLUA" run "$SRC/examples/flows.lua" --pcap "$PCAP" --engine "$e" --quiet --dump-maps &&
        { sort "$tmp/out" | cmp -s - "$tmp/want_flows" || { fail "flows ($e): map differs from the capture";
          diff <(sort "$tmp/out") "$tmp/want_flows" | head -5; }; }
done

# ---- blocklist.lua: drops and events for 192.168.1.0/24 and 10.0.0.7/32 ----
if "$BPFLUA" run "$SRC/examples/blocklist.lua" --pcap "$PCAP" --quiet >/dev/null 2>"$tmp/lpm.err"; then
    # 192.168.1.0/24 = 3232235776..3232236031 (rule 1), 10.0.0.7 = 167772167 (rule 2)
    awk '$1 == 2048 && $2 >= 3232235776 && $2 <= 3232236031 { print NR, "event=drops {saddr=" $2 ",rule=1,len=" $7 "}" }
         $1 == 2048 && $2 == 167772167 { print NR, "event=drops {saddr=" $2 ",rule=2,len=" $7 "}" }' \
        "$tmp/frames" >"$tmp/want_drops"
    [ -s "$tmp/want_drops" ] || fail "the capture has no blocked source (the test would prove nothing)"
    for e in $engines; do
        expect 0 "blocklist ($e)" "$BPFLUA" run "$SRC/examples/blocklist.lua" --pcap "$PCAP" --engine "$e" || continue
        # each event right after its packet's line, whose verdict is DROP (1)
        awk '/^name=/ { match($0, /packet=[0-9]+/); pk = substr($0, RSTART + 7, RLENGTH - 7);
                        v = $2 } /^event=/ { if (v != "retval=1") print "NOT-DROPPED"; print pk, $0 }' \
            "$tmp/out" >"$tmp/got_drops"
        cmp -s "$tmp/got_drops" "$tmp/want_drops" || { fail "blocklist ($e): events"; diff "$tmp/got_drops" "$tmp/want_drops" | head -5; }
        [ "$(grep -c 'retval=1 ' "$tmp/out")" -eq "$(wc -l <"$tmp/want_drops")" ] ||
            fail "blocklist ($e): $(grep -c 'retval=1 ' "$tmp/out") drops, want $(wc -l <"$tmp/want_drops")"
    done
else
    echo "# skipping blocklist.lua: $(head -1 "$tmp/lpm.err")"
fi

# ---- ratelimit.lua (tc): at most 5 frames per destination pass in one second ----
RL=$SRC/examples/ratelimit.lua
if "$BPFLUA" run "$RL" --pcap "$PCAP" --quiet >/dev/null 2>"$tmp/tc.err"; then
    want=$(awk '$1 == 2048 { n[$3]++ } END { s = 0; for (d in n) if (n[d] > 5) s += n[d] - 5; print s }' "$tmp/frames")
    [ "$want" -gt 0 ] || fail "the capture has no destination over the limit (the test would prove nothing)"
    for e in $engines; do
        expect 0 "ratelimit ($e)" "$BPFLUA" run "$RL" --pcap "$PCAP" --engine "$e" || continue
        got=$(grep -c ' retval=2 ' "$tmp/out")   # tc.SHOT
        [ "$got" -eq "$want" ] || fail "ratelimit ($e): $got dropped, want $want"
    done
else
    fail "ratelimit.lua does not run: $(head -1 "$tmp/tc.err")"
fi

[ "$fails" -eq 0 ] && echo "ok - examples_v1" || exit 1
