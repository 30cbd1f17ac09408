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

SRC=${BPFLUA_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BPFLUA=${BPFLUA:-$SRC/build/bpflua}

skip() { echo "SKIP: $*"; exit 77; }

[ "$(id -u)" = 0 ] || skip "needs root to create network namespaces and load BPF"
command -v ip >/dev/null || skip "no ip(8) (iproute2)"
command -v tc >/dev/null || skip "no tc(8) (iproute2)"
command -v clang >/dev/null || skip "no clang to build the test filter"
[ -x "$BPFLUA" ] || skip "no bpflua binary at $BPFLUA"
"$BPFLUA" attach --help 2>/dev/null | grep -q -- '--egress' || skip "this bpflua has no tc attach"

TMP=$(mktemp -d /tmp/bpflua-tc.XXXXXX)
NSA=bltc$$a
NSB=bltc$$b
DEVA=bltc$$x
DEVB=bltc$$y
BG=

cleanup() {
    if [ -n "$BG" ]; then kill -TERM "$BG" 2>/dev/null; wait "$BG" 2>/dev/null; fi
    ip netns del "$NSA" 2>/dev/null
    ip netns del "$NSB" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

FAILS=0
PASSES=0
ok()   { PASSES=$((PASSES + 1)); echo "ok - $*"; }
fail() { FAILS=$((FAILS + 1)); echo "FAIL - $*"; }

ip netns add "$NSA" 2>"$TMP/ns.err" || skip "cannot create a network namespace: $(cat "$TMP/ns.err")"
ip netns add "$NSB" 2>"$TMP/ns.err" || skip "cannot create a network namespace: $(cat "$TMP/ns.err")"
ip link add "$DEVA" netns "$NSA" type veth peer name "$DEVB" netns "$NSB" 2>"$TMP/ns.err" ||
    skip "cannot create a veth pair: $(cat "$TMP/ns.err")"
ip -n "$NSA" addr add 10.198.0.1/30 dev "$DEVA"
ip -n "$NSB" addr add 10.198.0.2/30 dev "$DEVB"
for ns in "$NSA" "$NSB"; do ip -n "$ns" link set lo up; done
ip -n "$NSA" link set "$DEVA" up
ip -n "$NSB" link set "$DEVB" up
mac() { ip -n "$1" -o link show "$2" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p'; }
ip -n "$NSA" neigh replace 10.198.0.2 lladdr "$(mac "$NSB" "$DEVB")" dev "$DEVA" nud permanent
ip -n "$NSB" neigh replace 10.198.0.1 lladdr "$(mac "$NSA" "$DEVA")" dev "$DEVB" nud permanent

ina() { ip netns exec "$NSA" "$@"; }
inb() { ip netns exec "$NSB" "$@"; }
# N datagrams to port 9999: a_to_b from A to B, b_to_a from B to A
a_to_b() { ina bash -c "for i in \$(seq $1); do echo x > /dev/udp/10.198.0.2/9999; done" 2>/dev/null; }
b_to_a() { inb bash -c "for i in \$(seq $1); do echo x > /dev/udp/10.198.0.1/9999; done" 2>/dev/null; }
# UDP datagrams a namespace's stack received for a closed port
noports() { ip netns exec "$1" awk '/^Udp:/ { n++; if (n == 2) print $3 }' /proc/net/snmp; }
wait_noports() {
    local v
    for _ in $(seq 100); do
        v=$(noports "$1")
        [ "$v" -ge "$2" ] && break
        sleep 0.05
    done
    echo "$v"
}
has_clsact() { tc -n "$NSA" qdisc show dev "$DEVA" | grep -q clsact; }
# bpflua's filter (handle 0xb1f) on a hook
has_ours() { tc -n "$NSA" filter show dev "$DEVA" "$1" | grep -q 'handle 0xb1f'; }

clang -O2 -g -target bpf -I/usr/include/"$(uname -m)"-linux-gnu \
    -c "$SRC/tests/attach/tc_drop.c" -o "$TMP/tc_drop.o" 2>"$TMP/clang.err" ||
    skip "clang cannot build BPF objects: $(head -3 "$TMP/clang.err")"
clang -O2 -g -target bpf -I/usr/include/"$(uname -m)"-linux-gnu \
    -c "$SRC/tests/attach/count.c" -o "$TMP/count.o" 2>"$TMP/clang.err" ||
    skip "clang cannot build BPF objects: $(head -3 "$TMP/clang.err")"

ina "$BPFLUA" attach "$TMP/tc_drop.o" --dev "$DEVA" --count 1 --interval 0.01 --json \
    >/dev/null 2>"$TMP/probe.err"
if [ $? -ne 0 ]; then
    if grep -qiE 'permission denied|no BPF support|Operation not permitted|Function not implemented' "$TMP/probe.err"; then
        skip "cannot load BPF programs here: $(head -1 "$TMP/probe.err")"
    fi
    fail "probe attach failed: $(cat "$TMP/probe.err")"
    exit 1
fi
has_clsact && fail "the probe left its clsact qdisc" || ok "--count 1 ends and removes the qdisc it added"

start() {
    : >"$TMP/out.json"
    : >"$TMP/err.txt"
    ip netns exec "$NSA" "$BPFLUA" attach "$@" >"$TMP/out.json" 2>"$TMP/err.txt" &
    BG=$!
    for _ in $(seq 200); do
        grep -q 'attached to' "$TMP/err.txt" && return 0
        kill -0 "$BG" 2>/dev/null || break
        sleep 0.05
    done
    echo "attach did not start: $(cat "$TMP/err.txt")"
    return 1
}
stop() {
    kill "-$1" "$BG"
    { wait "$BG"; } 2>/dev/null
    local rc=$?
    BG=
    return $rc
}
wait_json() {
    for _ in $(seq 200); do
        grep -qE "$1" "$TMP/out.json" && return 0
        sleep 0.05
    done
    return 1
}

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
