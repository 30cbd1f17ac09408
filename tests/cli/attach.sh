#!/bin/bash
# attach.sh - live filters on a real (virtual) interface: `bpflua attach`
# and `bpflua detach`.
#
# Creates two network namespaces of its own joined by a veth pair
# (10.199.0.1/30 <-> 10.199.0.2/30, addresses only inside them), attaches a
# counting filter (skb mode) and a dropping filter (native mode) to the veth
# end in namespace A, sends a bounded number of UDP datagrams from namespace
# B, and checks the map counts (from --json output), the drops (the
# receiver's UDP counters) and that every way out detaches the program.
# Always removes its namespaces. Exit 77 (skip) with a reason where
# namespaces or BPF are not available.
set -u

TAG=blat
NET=10.199.0
BPFFS=
extra_cleanup() {
    # whatever is still attached in our namespace goes too
    ip netns exec "$NSA" "$BPFLUA" detach --dev "$DEVA" >/dev/null 2>&1
    [ -n "$BPFFS" ] && umount "$BPFFS" 2>/dev/null
}
. "$(dirname "$0")/netns_pair.bash"
"$BPFLUA" attach --help 2>/dev/null | grep -q -- '--dev' || skip "this bpflua has no attach command"

# N UDP datagrams of 2 bytes ("x\n") from B to A port 9999
send() { inb bash -c "for i in \$(seq $1); do echo x > /dev/udp/$NET.1/9999; done" 2>/dev/null; }
has_xdp() { ip -n "$NSA" link show "$DEVA" | grep -q ' xdp'; }

# ---- the filters ---------------------------------------------------------------------
for f in count drop; do build_filter $f; done

# can this machine load and attach BPF at all?
probe_attach "$TMP/count.o"
has_xdp && fail "the probe left a program attached" || ok "--count 1 ends and detaches"

# ---- 1. counting filter, generic (skb) mode, stopped with SIGTERM ---------------------
N1=25
if start "$TMP/count.o" --dev "$DEVA" --mode skb --json --interval 0.1; then
    has_xdp && ok "count filter attached (skb mode)" || fail "no XDP program on $DEVA after attach"
    before=$(noports "$NSA")
    send $N1
    if wait_json "\"key\":0,\"value\":$N1,"; then
        ok "counts[0] == $N1 UDP datagrams sent"
    else
        fail "counts[0] never reached $N1: $(tail -1 "$TMP/out.json")"
    fi
    all=$(tail -1 "$TMP/out.json" | grep -oE '"key":1,"value":[0-9]+' | grep -oE '[0-9]+$')
    [ -n "$all" ] && [ "$all" -ge $N1 ] && ok "counts[1] (every packet) = $all >= $N1" ||
        fail "counts[1] = '$all'"
    grep -q '"rate":' "$TMP/out.json" && ok "JSON lines carry rates" || fail "no rates"
    after=$(wait_noports "$NSA" $((before + N1)))
    [ $((after - before)) -eq $N1 ] && ok "all $N1 passed to the stack" ||
        fail "the stack saw $((after - before)) of $N1"
    stop TERM && ok "SIGTERM: exit 0" || fail "SIGTERM: exit status $?"
    grep -q 'detached from' "$TMP/err.txt" && ok "SIGTERM: reports the detach" || fail "no detach message"
    has_xdp && fail "SIGTERM left the program attached" || ok "SIGTERM detaches"
else
    fail "count filter did not attach"
fi

# ---- 2. dropping filter, native (driver) mode, stopped with SIGINT ----------------------
N2=17
if start "$TMP/drop.o" --dev "$DEVA" --mode native --json --interval 0.1; then
    ip -n "$NSA" link show "$DEVA" | grep -q ' xdp ' && ok "drop filter attached (native mode)" ||
        fail "not attached in native mode: $(ip -n "$NSA" link show "$DEVA" | head -1)"
    before=$(noports "$NSA")
    send $N2
    # key: 10.199.0.2 as the wire has it, read as a little-endian u32
    if wait_json "\"key\":33605386,\"value\":$N2,"; then
        ok "drops[10.199.0.2] == $N2"
    else
        fail "drops never reached $N2: $(tail -1 "$TMP/out.json")"
    fi
    sleep 0.2
    after=$(noports "$NSA")
    [ "$after" -eq "$before" ] && ok "none of the $N2 reached the stack" ||
        fail "$((after - before)) of $N2 got through"

    # ---- 3. an interface that already has a program ----
    ina "$BPFLUA" attach "$TMP/count.o" --dev "$DEVA" --count 1 >/dev/null 2>"$TMP/busy.err"
    rc=$?
    [ $rc -eq 1 ] && grep -q "already has an XDP program" "$TMP/busy.err" &&
        grep -q "bpflua detach --dev $DEVA" "$TMP/busy.err" &&
        ok "busy interface refused with a hint" || fail "busy interface: rc=$rc $(cat "$TMP/busy.err")"

    stop INT && ok "SIGINT: exit 0" || fail "SIGINT: exit status $?"
    has_xdp && fail "SIGINT left the program attached" || ok "SIGINT detaches"
    before=$(noports "$NSA")
    send 3
    [ $(($(wait_noports "$NSA" $((before + 3))) - before)) -eq 3 ] && ok "traffic flows again after the detach" ||
        fail "traffic still dropped after the detach"
else
    fail "drop filter did not attach"
fi

# ---- 4. errors ------------------------------------------------------------------------------
ina "$BPFLUA" attach "$TMP/count.o" --dev blat_nosuch0 >/dev/null 2>"$TMP/e.err"
rc=$?
[ $rc -eq 1 ] && grep -q "no such interface: blat_nosuch0" "$TMP/e.err" &&
    ok "missing interface: clear error" || fail "missing interface: rc=$rc $(cat "$TMP/e.err")"
ina "$BPFLUA" attach "$TMP/count.o" --dev "$DEVA" --mode turbo >/dev/null 2>"$TMP/e.err"
rc=$?
[ $rc -eq 2 ] && grep -q "skb or native" "$TMP/e.err" && ok "bad mode: usage error" ||
    fail "bad mode: rc=$rc $(cat "$TMP/e.err")"
ina "$BPFLUA" attach "$TMP/count.o" --dev "$DEVA" --prog nope >/dev/null 2>"$TMP/e.err"
rc=$?
[ $rc -eq 1 ] && grep -q "no program named 'nope'" "$TMP/e.err" && ok "unknown --prog: clear error" ||
    fail "unknown --prog: rc=$rc $(cat "$TMP/e.err")"
has_xdp && fail "a failed attach left a program" || ok "failed attaches leave nothing attached"
ina "$BPFLUA" detach --dev "$DEVA" >/dev/null 2>"$TMP/e.err"
rc=$?
[ $rc -eq 1 ] && grep -q "has no XDP program" "$TMP/e.err" && ok "detach without a program: clear error" ||
    fail "detach without a program: rc=$rc $(cat "$TMP/e.err")"
"$BPFLUA" attach >/dev/null 2>&1
[ $? -eq 2 ] && ok "attach without arguments: usage" || fail "attach without arguments"
if command -v setpriv >/dev/null; then
    chmod o+rx "$TMP" && chmod o+r "$TMP/count.o"
    ina setpriv --reuid=65534 --regid=65534 --clear-groups \
        "$BPFLUA" attach "$TMP/count.o" --dev "$DEVA" >/dev/null 2>"$TMP/e.err"
    rc=$?
    [ $rc -eq 1 ] && grep -q "permission denied: loading BPF programs needs root" "$TMP/e.err" &&
        ok "not root: clear error" || fail "not root: rc=$rc $(cat "$TMP/e.err")"
    has_xdp && fail "the unprivileged attempt attached something"
fi

# ---- 5. --pin leaves it attached on purpose; detach --dev removes it ---------------------------
mkdir -p "$TMP/bpffs"
if mount -t bpf bpf "$TMP/bpffs" 2>/dev/null; then
    BPFFS=$TMP/bpffs
    ina "$BPFLUA" attach "$TMP/count.o" --dev "$DEVA" --pin "$BPFFS/cnt" >/dev/null 2>"$TMP/pin.err"
    rc=$?
    [ $rc -eq 0 ] && has_xdp && [ -e "$BPFFS/cnt" ] && [ -e "$BPFFS/cnt_counts" ] &&
        ok "--pin: stays attached, program and map pinned" || fail "--pin: rc=$rc $(cat "$TMP/pin.err")"
    send 4
    if command -v bpftool >/dev/null; then
        v=$(bpftool -j map lookup pinned "$BPFFS/cnt_counts" key 0 0 0 0 2>/dev/null |
            grep -oE '"value": *[0-9]+' | grep -oE '[0-9]+$')
        [ "$v" = 4 ] && ok "pinned map counts 4 after the command ended" ||
            fail "pinned map value '$v'"
    fi
    ina "$BPFLUA" detach --dev "$DEVA" --pin "$BPFFS/cnt" >/dev/null 2>"$TMP/pin.err"
    rc=$?
    [ $rc -eq 0 ] && ! has_xdp && [ ! -e "$BPFFS/cnt" ] && [ ! -e "$BPFFS/cnt_counts" ] &&
        ok "detach --dev --pin: detached and unpinned" || fail "detach: rc=$rc $(cat "$TMP/pin.err")"
    ina "$BPFLUA" attach "$TMP/count.o" --dev "$DEVA" --pin "$TMP/not-bpffs" >/dev/null 2>"$TMP/pin.err"
    rc=$?
    [ $rc -eq 1 ] && grep -q "bpffs" "$TMP/pin.err" && ! has_xdp &&
        ok "--pin outside a bpffs: error, and detached" || fail "bad pin: rc=$rc $(cat "$TMP/pin.err")"
else
    echo "# skipping --pin: cannot mount a bpffs"
fi

# ---- 6. the terminal view (not a tty: plain blocks) -------------------------------------------
ina "$BPFLUA" attach "$TMP/count.o" --dev "$DEVA" --interval 0.1 --count 3 >"$TMP/view.txt" 2>&1
rc=$?
[ $rc -eq 0 ] && [ "$(grep -c '^counts (array' "$TMP/view.txt")" -eq 3 ] &&
    ok "text view: 3 refreshes" || fail "text view: rc=$rc $(head -5 "$TMP/view.txt")"
has_xdp && fail "the view left a program" || ok "the view detaches at --count"

# ---- 7. a bpflua object (assembly) goes through the kernel loader ---------------------------------
if start "$SRC/tests/attach/count.asm" --dev "$DEVA" --json --interval 0.1; then
    send 7
    wait_json '"prog":"count".*"key":0,"value":7,' && ok "bpflua object (count.asm): counts 7" ||
        fail "count.asm: $(tail -1 "$TMP/out.json") $(cat "$TMP/err.txt")"
    stop TERM || fail "count.asm: stop: $?"
    has_xdp && fail "count.asm left attached"
else
    fail "count.asm did not attach"
fi

# ---- 8. from Lua: the attachment handle (bpf.so) ----------------------------------------------------
SO=${BPFLUA_BUILD:-$(dirname "$BPFLUA")}/bpf.so
if command -v lua5.4 >/dev/null && [ -f "$SO" ]; then
    if ina lua5.4 "$SRC/tests/attach/handle.lua" "$SO" "$TMP/count.o" "$DEVA" \
        "ip netns exec $NSB bash -c 'for i in \$(seq 5); do echo x > /dev/udp/10.199.0.1/9999; done'" \
        "$SRC/tests/attach/count.lua" >"$TMP/lua.out" 2>&1; then
        ok "Lua handle: $(grep -c '^ok - lua' "$TMP/lua.out") checks"
        grep '^# lua' "$TMP/lua.out"
    else
        fail "Lua handle: $(cat "$TMP/lua.out")"
    fi
    has_xdp && fail "the Lua test left a program"
else
    echo "# skipping the Lua handle: no lua5.4 or no $SO"
fi

# ---- 9. the same with bpflua-compiled filters, once the compiler works --------------------------
if "$BPFLUA" compile "$SRC/tests/attach/count.lua" -o "$TMP/count_lua.o" >/dev/null 2>&1; then
    for variant in "$SRC/tests/attach/count.lua" "$TMP/count_lua.o"; do
        if start "$variant" --dev "$DEVA" --json --interval 0.1; then
            send 6
            # counts[0] = 6 datagrams, counts[2] = 6 * ('x' + '\n') = 6 * 130
            wait_json '"key":0,"value":6,' && wait_json '"key":2,"value":780,' &&
                ok "bpflua filter ($(basename "$variant")): counts 6 datagrams, payload sum 780" ||
                fail "bpflua filter ($(basename "$variant")): $(tail -1 "$TMP/out.json") $(cat "$TMP/err.txt")"
            stop TERM || fail "stop: $?"
            has_xdp && fail "left attached"
        else
            fail "bpflua filter $(basename "$variant") did not attach"
        fi
    done
    if start "$SRC/tests/attach/drop.lua" --dev "$DEVA" --mode native --json --interval 0.1; then
        before=$(noports "$NSA")
        send 4
        # the key is pkt:be32(26): 10.199.0.2 = 0x0ac70002 = 180813826
        wait_json '"key":180813826,"value":4,' && ok "bpflua filter (drop.lua, native): drops 4" ||
            fail "drop.lua: $(tail -1 "$TMP/out.json") $(cat "$TMP/err.txt")"
        sleep 0.2
        [ "$(noports "$NSA")" -eq "$before" ] && ok "drop.lua: none reached the stack" ||
            fail "drop.lua: $(($(noports "$NSA") - before)) got through"
        stop TERM || fail "stop: $?"
        has_xdp && fail "drop.lua left attached"
    else
        fail "drop.lua did not attach"
    fi
else
    echo "# skipping the bpflua-compiled filters: \`bpflua compile\` does not work yet"
fi

# ---- 10a. other signals: SIGHUP ends cleanly; a fatal signal (SIGABRT) still detaches ------------
if start "$TMP/count.o" --dev "$DEVA" --json --interval 0.1; then
    stop HUP && ok "SIGHUP: exit 0" || fail "SIGHUP: exit status $?"
    has_xdp && fail "SIGHUP left the program attached" || ok "SIGHUP detaches"
fi
if start "$TMP/count.o" --dev "$DEVA" --json --interval 0.1; then
    stop ABRT
    rc=$?
    [ $rc -ne 0 ] && ! has_xdp && ok "SIGABRT (fatal): detached before dying" ||
        fail "SIGABRT: rc=$rc, attached=$(has_xdp && echo yes || echo no)"
fi

# ---- 10. taken away while running: detached by someone else, then the interface deleted ---------
if start "$TMP/count.o" --dev "$DEVA" --json --interval 0.1; then
    ina "$BPFLUA" detach --dev "$DEVA" >/dev/null 2>&1
    for _ in $(seq 40); do kill -0 "$BG" 2>/dev/null || break; sleep 0.05; done
    wait "$BG"
    rc=$?
    BG=
    [ $rc -eq 1 ] && grep -q "detached from $DEVA by someone else" "$TMP/err.txt" &&
        ok "detached from outside: reported, exit 1" || fail "detached from outside: rc=$rc $(cat "$TMP/err.txt")"
fi
if start "$TMP/count.o" --dev "$DEVA" --json --interval 0.1; then
    ip -n "$NSA" link del "$DEVA"
    for _ in $(seq 40); do kill -0 "$BG" 2>/dev/null || break; sleep 0.05; done
    wait "$BG"
    rc=$?
    BG=
    [ $rc -eq 1 ] && grep -q "interface $DEVA is gone" "$TMP/err.txt" &&
        ok "interface deleted: reported, exit 1" || fail "interface deleted: rc=$rc $(cat "$TMP/err.txt")"
fi

echo "# $PASSES passed, $FAILS failed"
[ $FAILS -eq 0 ]
