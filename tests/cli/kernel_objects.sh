#!/usr/bin/env bash
# Objects the kernel engine once could not load, run there and in the
# sandbox alike (docs/progtypes.md "Objects as found in the wild"):
#  - a program named like a map (the ELF writer renames the program's
#    symbol; the engine finds it under that name);
#  - tests/progtypes/legacy_maps.c: legacy `maps` definitions and programs
#    without a global symbol, which libbpf 1.x refuses: the engine creates
#    the maps (global data included, .rodata frozen) and loads the programs
#    with bpf(2) itself;
#  - tests/progtypes/perf_events.c: bpf_perf_event_output records reach the
#    command's events from the kernel (a perf buffer per perf_event_array),
#    with the kernel's raw-sample padding, as from the sandbox;
#  - tests/progtypes/map_values.c: `.values = { ... }` initial slots of an
#    array of maps and a prog_array, placed by the sandbox and by the kernel
#    engine (as fds) alike.
# Skips (77) with the reason without clang, root or bpf(2).
set -u
SRC=${BPFLUA_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
B=${BPFLUA:-$SRC/build/bpflua}
. "$SRC/tests/cli/common.bash"
need_clang
need_root
pkt=000000000000aabbccddeeff08004500002800010000400600000a0000010a000002303900500000000100000000

cat >"$tmp/same.lua" <<'LUA'
license "GPL"
local hits = map.array { key = u32, value = u64, max_entries = 4 }
function xdp.hits(pkt)
  hits[0] = (hits[0] or 0) + #pkt
  return xdp.PASS
end
LUA
"$B" run "$tmp/same.lua" --engine kernel --hex "$pkt" >/dev/null 2>"$tmp/kerr" ||
    { grep -q "not available" "$tmp/kerr" && skip "$(cat "$tmp/kerr")"; }
for e in kernel interp jit; do
    expect 0 "program named like its map: $e" "$B" run "$tmp/same.lua" --engine $e --hex "$pkt" \
        --repeat 2 --dump-maps || continue
    has out '^name=hits retval=2 ' "$e: the program ran"
    has out '^map=hits key=0 value=92$' "$e: two runs of 46 bytes counted"
done
expect 0 "verify --kernel of the same" "$B" verify "$tmp/same.lua" --kernel
has out '^name=hits kernel=accepted' "the kernel's cost is read under the written name"

"${CL[@]}" -c "$SRC/tests/progtypes/legacy_maps.c" -o "$tmp/lm.o" || { fail "cannot build legacy_maps.c"; exit 1; }
for e in kernel interp jit; do
    expect 0 "legacy maps: $e" "$B" run "$tmp/lm.o" --engine $e --hex "$pkt" --dump-maps || continue
    grep -v '^trace:' "$tmp/out" | sed 's/ ns_per_run=.*//' >"$tmp/$e"
done
has kernel '^name=count_len retval=38 ' "the kernel ran the socket1 program"
has kernel '^map=.rodata key=0 value=3$' "the kernel's .rodata holds the file's bytes"
cmp -s "$tmp/kernel" "$tmp/interp" || { fail "interp differs from the kernel"; diff "$tmp/kernel" "$tmp/interp" | head; }
cmp -s "$tmp/kernel" "$tmp/jit" || { fail "jit differs from the kernel"; diff "$tmp/kernel" "$tmp/jit" | head; }

"${CL[@]}" -c "$SRC/tests/progtypes/perf_events.c" -o "$tmp/pe.o" || { fail "cannot build perf_events.c"; exit 1; }
for e in kernel interp jit; do
    expect 0 "perf events: $e" "$B" run "$tmp/pe.o" --engine $e --hex "$pkt" --repeat 3 || continue
    sed 's/ ns_per_run=.*//' "$tmp/out" >"$tmp/$e"
done
# struct rec {len 46, proto 0x0800, first 0, pad}, then 5 bytes of the u64 46: each padded
# to a 12-byte raw sample; the two later runs' 4 records counted
has kernel '^event=perf value=0x2e0000000008000000000000$' "the record, from the kernel"
has kernel '^event=perf value=0x2e0000000000000000000000$' "the 5-byte record, padded"
has kernel '^events_not_shown=4 ' "later runs' records counted"
cmp -s "$tmp/kernel" "$tmp/interp" || { fail "perf: interp differs from the kernel"; diff "$tmp/kernel" "$tmp/interp" | head; }
cmp -s "$tmp/kernel" "$tmp/jit" || { fail "perf: jit differs from the kernel"; diff "$tmp/kernel" "$tmp/jit" | head; }

"${CL[@]}" -c "$SRC/tests/progtypes/map_values.c" -o "$tmp/mv.o" || { fail "cannot build map_values.c"; exit 1; }
for e in kernel interp jit; do
    : >"$tmp/$e"
    for h in 00 01 03; do
        expect 0 "map values: $e $h" "$B" run "$tmp/mv.o" --engine $e --hex "${h}${pkt:2}" --dump-maps ||
            continue
        # slots of maps of maps and prog arrays read back as kernel ids there, indexes here
        grep -v '^map=by_parity\|^map=jumps' "$tmp/out" | sed 's/ ns_per_run=.*//' >>"$tmp/$e"
    done
done
has interp '^map=even key=0 value=1$' "packet 00 counted in the inner map of slot 0"
has interp '^map=odd key=3 value=1$' "packet 03 counted in the inner map of slot 1"
[ "$(grep -c '^name=jump retval=3$' "$tmp/interp")" = 1 ] || fail "jump: slot 0 tail-calls target (XDP_TX)"
[ "$(grep -c '^name=jump retval=1$' "$tmp/interp")" = 2 ] || fail "jump: slot 1 is empty (XDP_DROP)"
cmp -s "$tmp/kernel" "$tmp/interp" || { fail "map values: interp differs from the kernel"; diff "$tmp/kernel" "$tmp/interp" | head; }
cmp -s "$tmp/kernel" "$tmp/jit" || { fail "map values: jit differs from the kernel"; diff "$tmp/kernel" "$tmp/jit" | head; }
# runs repeated (--repeat 3): the tail call taken in each, also from the
# JIT's loop of runs (engine/run.c: the fast entry's loop, left at a tail call)
for e in kernel interp jit; do
    : >"$tmp/r3_$e"
    for h in 00 01; do
        expect 0 "map values, 3 runs: $e $h" "$B" run "$tmp/mv.o" --engine $e --hex "${h}${pkt:2}" \
            --repeat 3 --dump-maps || continue
        grep -v '^map=by_parity\|^map=jumps' "$tmp/out" | sed 's/ ns_per_run=.*//' >>"$tmp/r3_$e"
    done
done
has r3_jit '^map=even key=0 value=3$' "3 runs of packet 00 counted"
[ "$(grep -c '^name=jump retval=3$' "$tmp/r3_jit")" = 1 ] || fail "jump x3: slot 0 tail-calls target"
cmp -s "$tmp/r3_kernel" "$tmp/r3_interp" || { fail "3 runs: interp differs from the kernel"; diff "$tmp/r3_kernel" "$tmp/r3_interp" | head; }
cmp -s "$tmp/r3_kernel" "$tmp/r3_jit" || { fail "3 runs: jit differs from the kernel"; diff "$tmp/r3_kernel" "$tmp/r3_jit" | head; }
[ "$fails" = 0 ] && echo "kernel objects: all checks passed"
exit $((fails > 0))
