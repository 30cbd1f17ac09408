#!/bin/bash
# attach_tc.sh - tc programs on a real (virtual) interface: `bpflua attach
# --ingress/--egress` with a clsact qdisc, and `bpflua detach`.
#
# Two network namespaces of its own joined by a veth pair (10.198.0.1/30 in
# A, 10.198.0.2/30 in B, static neighbours so that the only IPv4 traffic is
# what the test sends). tests/attach/tc_drop.c drops UDP to port 9999 and
# counts its drops in counts[0]. On egress (A's side) the drops must never
# reach B; on ingress they must never reach A's stack. Checks that the
# clsact qdisc bpflua adds goes again, that a qdisc or a filter that was
# there before stays, the refusals, and `bpflua detach` after SIGKILL.
# Always removes its namespaces; exit 77 (skip) with a reason where
# namespaces, clang or BPF are not available.
set -u

TAG=bltc
NET=10.198.0
. "$(dirname "$0")/netns_pair.bash"
command -v tc >/dev/null || skip "no tc(8) (iproute2)"
"$BPFLUA" attach --help 2>/dev/null | grep -q -- '--egress' || skip "this bpflua has no tc attach"

# N datagrams to port 9999: a_to_b from A to B, b_to_a from B to A
a_to_b() { ina bash -c "for i in \$(seq $1); do echo x > /dev/udp/$NET.2/9999; done" 2>/dev/null; }
b_to_a() { inb bash -c "for i in \$(seq $1); do echo x > /dev/udp/$NET.1/9999; done" 2>/dev/null; }
has_clsact() { tc -n "$NSA" qdisc show dev "$DEVA" | grep -q clsact; }
# bpflua's filter (handle 0xb1f) on a hook
has_ours() { tc -n "$NSA" filter show dev "$DEVA" "$1" | grep -q 'handle 0xb1f'; }

build_filter tc_drop
build_filter count
probe_attach "$TMP/tc_drop.o"
has_clsact && fail "the probe left its clsact qdisc" || ok "--count 1 ends and removes the qdisc it added"

# ---- 1. egress: drops seen as drops --------------------------------------------------------
N=9
if start "$TMP/tc_drop.o" --dev "$DEVA" --egress --json --interval 0.1; then
    has_clsact && has_ours egress && ok "egress: clsact qdisc and bpflua's filter in place" ||
        fail "egress: $(tc -n "$NSA" filter show dev "$DEVA" egress)"
    grep -q 'in tc egress mode' "$TMP/err.txt" && ok "egress: says where it is attached" ||
        fail "egress: $(cat "$TMP/err.txt")"
    before=$(noports "$NSB")
    a_to_b $N
    wait_json "\"key\":0,\"value\":$N," && ok "egress: counts[0] == $N drops" ||
        fail "egress: drops never reached $N: $(tail -1 "$TMP/out.json")"
    sleep 0.2
    [ "$(noports "$NSB")" -eq "$before" ] && ok "egress: none of the $N left A" ||
        fail "egress: $(($(noports "$NSB") - before)) of $N reached B"
    # one event per drop, live: the source address as the wire has it
    # (10.198.0.1 read as a little-endian u64 = 16827914), then the count
    n=$(grep -c '^{"event":"events","value":16827914}$' "$TMP/out.json")
    [ "$n" -eq $N ] && ok "egress: $N events, one JSON line each" ||
        fail "egress: $n event lines: $(grep event "$TMP/out.json" | head -3)"
    wait_json "\"events\":\{\"events\":\{\"received\":$N\}\}" && ok "egress: the interval line counts $N events" ||
        fail "egress: no event count: $(tail -1 "$TMP/out.json")"
    stop TERM && ok "egress: SIGTERM exits 0" || fail "egress: SIGTERM: exit $?"
    has_clsact && fail "egress: the qdisc bpflua added stayed" || ok "egress: detach removes the filter and the qdisc"
    before=$(noports "$NSB")
    a_to_b 3
    [ $(($(wait_noports "$NSB" $((before + 3))) - before)) -eq 3 ] &&
        ok "egress: traffic flows again after the detach" || fail "egress: still dropped after detach"
else
    fail "egress attach did not start"
fi

# ---- 1b. events in the text view (not a terminal: printed as they come) ------------------
if start "$TMP/tc_drop.o" --dev "$DEVA" --egress --interval 0.1; then
    a_to_b 2
    for _ in $(seq 100); do [ "$(grep -c '^event=events value=16827914$' "$TMP/out.json")" -ge 2 ] && break; sleep 0.05; done
    [ "$(grep -c '^event=events value=16827914$' "$TMP/out.json")" -eq 2 ] && ok "text view: event lines" ||
        fail "text view: $(grep -c event "$TMP/out.json") event lines: $(head -5 "$TMP/out.json")"
    for _ in $(seq 100); do grep -q '2 events received' "$TMP/out.json" && break; sleep 0.05; done
    grep -q '2 events received' "$TMP/out.json" && ok "text view: events received per ring buffer" ||
        fail "text view: no count"
    stop TERM || fail "stop: $?"
fi

# ---- 1b'. dropped events: a compiled program counts the emits the kernel refused ------------
if start "$SRC/tests/attach/tc_flood.lua" --dev "$DEVA" --egress --json --interval 0.1; then
    a_to_b 1
    re='"events":\{"events":\{"received":([0-9]+),"dropped":([1-9][0-9]*)\}\}'
    wait_json "$re" || fail "flood: no dropped count: $(tail -1 "$TMP/out.json")"
    sleep 0.3 # every packet's events in (the stack may send a few of its own)
    last=$(grep -E "$re" "$TMP/out.json" | tail -1)
    got=$(echo "$last" | sed -E "s/.*$re.*/\1 \2/")
    set -- $got
    [ -n "${2:-}" ] && [ $((($1 + $2) % 2000)) -eq 0 ] && [ "$2" -gt 0 ] &&
        ok "flood: received $1 + dropped $2, 2000 a packet" || fail "flood: '$last'"
    stop TERM || fail "flood: stop: $?"
    grep -q '__bpflua' "$TMP/out.json" && fail "flood: bpflua's own map is listed" ||
        ok "flood: bpflua's own map is not listed"
else
    fail "flood attach did not start"
fi
if start "$SRC/tests/attach/tc_flood.lua" --dev "$DEVA" --egress --interval 0.1; then
    a_to_b 1
    re='[0-9]+ events received, [1-9][0-9]* dropped \(buffer full\)'
    for _ in $(seq 100); do grep -qE "$re" "$TMP/out.json" && break; sleep 0.05; done
    grep -qE "$re" "$TMP/out.json" &&
        ok "text view: dropped events beside those received" ||
        fail "text view: no dropped count: $(grep -v "^event=" "$TMP/out.json" | tail -5)"
    stop TERM || fail "flood text: stop: $?"
fi

SO=${BPFLUA_BUILD:-$(dirname "$BPFLUA")}/bpf.so
if command -v lua5.4 >/dev/null && [ -f "$SO" ]; then
    if ina lua5.4 "$SRC/tests/attach/flood_lua.lua" "$SO" "$SRC/tests/attach/tc_flood.lua" "$DEVA" \
        "ip netns exec $NSA bash -c 'echo x > /dev/udp/$NET.2/9999'" >"$TMP/lua.out" 2>&1; then
        ok "Lua p:poll: $(grep -c '^ok - lua' "$TMP/lua.out") checks ($(grep -o 'received.*packet' "$TMP/lua.out"))"
    else
        fail "Lua p:poll: $(cat "$TMP/lua.out")"
    fi
    has_ours egress && fail "the Lua test left its filter"
else
    echo "# skipping p:poll from Lua: no lua5.4 or no $SO"
fi

# ---- 1c. record keys and values, LPM keys: shown field by field, as --dump-maps ---------------
# 10.198.0.2 as pkt:be32 reads it is 180748290; UDP is protocol 17
if start "$SRC/tests/attach/tc_flows.lua" --dev "$DEVA" --egress --json --interval 0.1; then
    a_to_b 3
    wait_json '"key":\{"daddr":180748290,"proto":17\},"value":\{"packets":3,"bytes":[0-9]+\}' &&
        ok "record keys and values field by field (JSON)" ||
        fail "records: $(tail -1 "$TMP/out.json")"
    grep -q '"key":"10.198.0.0/30","value":7' "$TMP/out.json" && ok "LPM key as a.b.c.d/len (JSON)" ||
        fail "lpm: $(tail -1 "$TMP/out.json")"
    stop TERM || fail "stop: $?"
fi
if start "$SRC/tests/attach/tc_flows.lua" --dev "$DEVA" --egress --interval 0.1; then
    a_to_b 2
    for _ in $(seq 100); do grep -q '{daddr=180748290,proto=17}  *{packets=2,' "$TMP/out.json" && break; sleep 0.05; done
    grep -q '{daddr=180748290,proto=17}  *{packets=2,' "$TMP/out.json" && ok "record keys and values field by field (text)" ||
        fail "records (text): $(grep -A3 flows "$TMP/out.json" | tail -4)"
    grep -qE '10.198.0.0/30 +7( |$)' "$TMP/out.json" && ok "LPM key as a.b.c.d/len (text)" ||
        fail "lpm (text): $(grep -A3 nets "$TMP/out.json" | tail -4)"
    stop TERM || fail "stop: $?"
fi

# ---- 2. ingress is the default for a tc program ----------------------------------------------
N=6
if start "$TMP/tc_drop.o" --dev "$DEVA" --json --interval 0.1; then
    has_ours ingress && ! has_ours egress && ok "ingress: the default hook" ||
        fail "ingress: $(tc -n "$NSA" filter show dev "$DEVA" ingress)"
    before=$(noports "$NSA")
    b_to_a $N
    wait_json "\"key\":0,\"value\":$N," && ok "ingress: counts[0] == $N drops" ||
        fail "ingress: $(tail -1 "$TMP/out.json")"
    sleep 0.2
    [ "$(noports "$NSA")" -eq "$before" ] && ok "ingress: none reached A's stack" ||
        fail "ingress: $(($(noports "$NSA") - before)) of $N got through"

    # ---- 3. a second bpflua program on the same hook is refused ----
    ina "$BPFLUA" attach "$TMP/tc_drop.o" --dev "$DEVA" --ingress --count 1 >/dev/null 2>"$TMP/busy.err"
    rc=$?
    [ $rc -eq 1 ] && grep -q "ingress already has a bpflua tc program" "$TMP/busy.err" &&
        ok "busy hook refused" || fail "busy hook: rc=$rc $(cat "$TMP/busy.err")"
    has_ours ingress && ok "the refusal left the first program attached" || fail "the refusal removed it"
    stop INT && ok "ingress: SIGINT exits 0" || fail "ingress: SIGINT: exit $?"
    has_clsact && fail "ingress: qdisc left" || ok "ingress: SIGINT detaches"
else
    fail "ingress attach did not start"
fi

# ---- 4. what was there before stays: a clsact qdisc and someone else's filter ---------------
tc -n "$NSA" qdisc add dev "$DEVA" clsact
# a classic BPF filter that matches nothing (returns 0): packets go on to ours
tc -n "$NSA" filter add dev "$DEVA" egress pref 7 bpf bytecode '1,6 0 0 0,'
if start "$TMP/tc_drop.o" --dev "$DEVA" --egress --json --interval 0.1; then
    before=$(noports "$NSB")
    a_to_b 4
    wait_json '"key":0,"value":4,' && ok "with a foreign filter: our drops counted" ||
        fail "with a foreign filter: $(tail -1 "$TMP/out.json")"
    stop TERM || fail "stop: $?"
    has_clsact && tc -n "$NSA" filter show dev "$DEVA" egress | grep -q 'pref 7 bpf' &&
        ! has_ours egress && ok "detach keeps the qdisc and the filter that were there" ||
        fail "foreign state: $(tc -n "$NSA" filter show dev "$DEVA" egress)"
fi
tc -n "$NSA" qdisc del dev "$DEVA" clsact

# ---- 5. SIGKILL leaves it attached; bpflua detach removes it -------------------------------
if start "$TMP/tc_drop.o" --dev "$DEVA" --egress --json --interval 0.1; then
    stop KILL
    has_ours egress && ok "SIGKILL: still attached (as documented)" || fail "SIGKILL: not attached?"
    ina "$BPFLUA" detach --dev "$DEVA" >/dev/null 2>"$TMP/d.err"
    rc=$?
    [ $rc -eq 0 ] && ! has_ours egress && ! has_clsact && ok "detach --dev removes filter and empty qdisc" ||
        fail "detach: rc=$rc $(cat "$TMP/d.err")"
fi

# ---- 6. errors -----------------------------------------------------------------------------------
ina "$BPFLUA" attach "$TMP/tc_drop.o" --dev "$DEVA" --mode native >/dev/null 2>"$TMP/e.err"
rc=$?
[ $rc -eq 1 ] && grep -q "is a tc program" "$TMP/e.err" && ok "tc program with --mode native: clear error" ||
    fail "native tc: rc=$rc $(cat "$TMP/e.err")"
ina "$BPFLUA" attach "$TMP/count.o" --dev "$DEVA" --egress >/dev/null 2>"$TMP/e.err"
rc=$?
[ $rc -eq 1 ] && grep -q "is not a tc program" "$TMP/e.err" && ok "XDP program with --egress: clear error" ||
    fail "xdp egress: rc=$rc $(cat "$TMP/e.err")"
ina "$BPFLUA" attach "$TMP/tc_drop.o" --dev "$DEVA" --ingress --egress >/dev/null 2>"$TMP/e.err"
[ $? -eq 2 ] && ok "--ingress with --egress: usage error" || fail "--ingress --egress: $(cat "$TMP/e.err")"
ina "$BPFLUA" attach "$TMP/tc_drop.o" --dev "$DEVA" --mode egress >/dev/null 2>"$TMP/e.err"
[ $? -eq 2 ] && ok "--mode egress: usage error" || fail "--mode egress: $(cat "$TMP/e.err")"
has_clsact && fail "failed attaches left a qdisc" || ok "failed attaches leave nothing behind"
ina "$BPFLUA" detach --dev "$DEVA" >/dev/null 2>"$TMP/e.err"
[ $? -eq 1 ] && grep -q "has no XDP program attached" "$TMP/e.err" && ok "detach with nothing there: clear error" ||
    fail "empty detach: $(cat "$TMP/e.err")"

echo "# $PASSES passed, $FAILS failed"
[ "$FAILS" -eq 0 ]
