#!/bin/bash
# run_events.sh - what `bpflua run` prints for version 1 objects, in every
# engine: events after the program's line (records field by field, integer
# events as `value=`, u64 unsigned), --repeat showing the first run's events
# and counting the rest, and --dump-maps showing struct keys and values
# field by field. The object is clang's (tests/elf/events.c), so this holds
# without the compiler; LANGUAGE.md "Version 1 additions" fixes the format.
. "$(dirname "$0")/common.bash"
B=${BPFLUA_BUILD:?BPFLUA_BUILD not set}
BPFLUA=${BPFLUA:-$B/bpflua}
OBJ=$B/tests/elf/events.o
[ -f "$OBJ" ] || { echo "SKIP: no $OBJ (no clang at build time)"; exit 77; }

# Ethernet + IPv4 UDP 10.0.0.1 -> 10.0.0.2, ports 54321 -> 53, 58 bytes
PKT=000000000000000000000000080045000028000000004011
PKT=${PKT}00000a0000010a000002d43100350016000000000000000000000000000000000000
engines="interp jit"
if "$BPFLUA" run "$OBJ" --hex "$PKT" --engine kernel >/dev/null 2>&1; then
    engines="$engines kernel"
else
    echo "# the kernel engine is not available here: skipping it"
fi

strip() { sed -E "s/ ns_per_run=[0-9]+( setup_ns=[0-9]+)?//" "$tmp/out"; }

for e in $engines; do
    expect 0 "$e: run" "$BPFLUA" run "$OBJ" --hex "$PKT" --engine "$e" --dump-maps || continue
    want="name=account retval=2
event=events {saddr=16777226,len=58,diff=-5,rule=7}
event=counts value=18446744073709551615
event=counts value=42
map=flows key={saddr=16777226,dport=13568,proto=17} value={packets=1,bytes=58,delta=-3}"
    [ "$(strip)" = "$want" ] || { fail "$e: output"; diff <(echo "$want") <(strip); }

    expect 0 "$e: --repeat 4" "$BPFLUA" run "$OBJ" --hex "$PKT" --engine "$e" --repeat 4 --dump-maps || continue
    want="name=account retval=2
event=events {saddr=16777226,len=58,diff=-5,rule=7}
event=counts value=18446744073709551615
event=counts value=42
events_not_shown=9 events_dropped=0
map=flows key={saddr=16777226,dport=13568,proto=17} value={packets=4,bytes=232,delta=-12}"
    [ "$(strip)" = "$want" ] || { fail "$e: --repeat output"; diff <(echo "$want") <(strip); }

    # --quiet: no per-packet lines, so no events either
    printf "$(echo "$PKT" | sed 's/../\\x&/g')" >"$tmp/p.bin"
    expect 0 "$e: --quiet" "$BPFLUA" run "$OBJ" --input "$tmp/p.bin" --engine "$e" --quiet --dump-maps &&
        [ "$(cat "$tmp/out")" = "map=flows key={saddr=16777226,dport=13568,proto=17} value={packets=1,bytes=58,delta=-3}" ] ||
        fail "$e: --quiet prints only the dump: $(cat "$tmp/out")"
done

# --repeat: run r + 1 starts from run r's packet, mark and priority, as the
# kernel's own repeat does (the kernel engine, which reads events after
# every run, makes one test run per repetition and must chain them)
cat >"$tmp/chain.lua" <<'EOF'
local ev = map.ringbuf { size = 4096 }
function xdp.p(pkt)
  pkt:set_u8(0, pkt:u8(0) + 1)
  ev:emit(pkt:u8(0))
  return pkt:u8(0)
end
function tc.t(pkt)
  pkt:set_u8(0, pkt:u8(0) + 1)
  pkt.mark = pkt.mark + 1
  pkt.priority = pkt.priority + pkt:u8(0)
  return pkt:u8(0)
end
EOF
for e in $engines; do
    expect 0 "$e: --repeat chains runs" "$BPFLUA" run "$tmp/chain.lua" --hex "$PKT" --engine "$e" --repeat 3 --mark 7 || continue
    want="name=p retval=3
event=ev value=1
events_not_shown=2 events_dropped=0
name=t retval=3 mark=10 priority=6"
    [ "$(strip)" = "$want" ] || { fail "$e: --repeat chain output"; diff <(echo "$want") <(strip); }
done

[ "$fails" -eq 0 ] && echo "ok - run_events" || exit 1
