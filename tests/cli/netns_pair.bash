# netns_pair.bash - what the live attach tests share (sourced, not a test:
# ctest runs tests/cli/*.sh only). Before sourcing, set TAG (a short name
# for the namespaces and links), NET (the /30's first three octets, e.g.
# 10.199.0) and, if the test needs more, extra_cleanup(). Gives:
#   skip / ok / fail, FAILS and PASSES counts, $TMP (removed on exit)
#   namespaces NSA and NSB joined by a veth pair DEVA <-> DEVB, $NET.1 in A
#   and $NET.2 in B, static neighbours (the only IPv4 traffic is the test's)
#   ina / inb CMD...         run CMD in namespace A / B
#   noports NS               UDP datagrams NS's stack saw for closed ports
#   wait_noports NS N        waits (5 s at most) until that reaches N; prints it
#   start ARGS...            `bpflua attach ARGS` in A, in the background ($BG)
#   stop SIGNAL              stops it; returns its exit status
#   wait_json REGEX          waits until its JSON output has a matching line
#   build_filter NAME        tests/attach/NAME.c -> $TMP/NAME.o (skips without clang)
#   probe_attach OBJ         a one-shot attach that skips where BPF cannot load
# Exit 77 (skip) with a reason where namespaces or BPF are not available.

SRC=${BPFLUA_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BPFLUA=${BPFLUA:-$SRC/build/bpflua}

skip() { echo "SKIP: $*"; exit 77; }

[ "$(id -u)" = 0 ] || skip "needs root to create network namespaces and load BPF"
command -v ip >/dev/null || skip "no ip(8) (iproute2)"
command -v clang >/dev/null || skip "no clang to build the test filters"
[ -x "$BPFLUA" ] || skip "no bpflua binary at $BPFLUA"

TMP=$(mktemp -d "/tmp/bpflua-$TAG.XXXXXX")
NSA=$TAG$$a
NSB=$TAG$$b
DEVA=$TAG$$x
DEVB=$TAG$$y
BG=

cleanup() {
    if [ -n "$BG" ]; then kill -TERM "$BG" 2>/dev/null; wait "$BG" 2>/dev/null; fi
    declare -F extra_cleanup >/dev/null && extra_cleanup
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
ip -n "$NSA" addr add "$NET.1/30" dev "$DEVA"
ip -n "$NSB" addr add "$NET.2/30" dev "$DEVB"
for ns in "$NSA" "$NSB"; do ip -n "$ns" link set lo up; done
ip -n "$NSA" link set "$DEVA" up
ip -n "$NSB" link set "$DEVB" up
mac() { ip -n "$1" -o link show "$2" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p'; }
ip -n "$NSA" neigh replace "$NET.2" lladdr "$(mac "$NSB" "$DEVB")" dev "$DEVA" nud permanent
ip -n "$NSB" neigh replace "$NET.1" lladdr "$(mac "$NSA" "$DEVA")" dev "$DEVB" nud permanent

ina() { ip netns exec "$NSA" "$@"; }
inb() { ip netns exec "$NSB" "$@"; }
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

build_filter() {
    clang -O2 -g -target bpf -I/usr/include/"$(uname -m)"-linux-gnu \
        -c "$SRC/tests/attach/$1.c" -o "$TMP/$1.o" 2>"$TMP/clang.err" ||
        skip "clang cannot build BPF objects: $(head -3 "$TMP/clang.err")"
}

probe_attach() {
    ina "$BPFLUA" attach "$1" --dev "$DEVA" --count 1 --interval 0.01 --json \
        >/dev/null 2>"$TMP/probe.err"
    if [ $? -ne 0 ]; then
        if grep -qiE 'permission denied|no BPF support|Operation not permitted|Function not implemented' "$TMP/probe.err"; then
            skip "cannot load BPF programs here: $(head -1 "$TMP/probe.err")"
        fi
        fail "probe attach failed: $(cat "$TMP/probe.err")"
        exit 1
    fi
}

start() {
    : >"$TMP/out.json"
    : >"$TMP/err.txt"
    # not through ina: $! must be the process that becomes bpflua
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
