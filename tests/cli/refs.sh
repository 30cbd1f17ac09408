#!/usr/bin/env bash
# References and locks against the kernel (docs/progtypes.md "References"):
#  1. tests/progtypes/refs_cases.c, one program per case: the kernel and
#     `bpflua verify` both give the verdict the case's name says (OK_*
#     loads, BAD_* is refused: leaks, double release, use after release,
#     missing null checks, locks held at exit or across calls, ...);
#  2. tests/progtypes/refs.c (ring buffer records reserved in place,
#     socket lookups, a spin-locked counter) runs alike in the interpreter,
#     the JIT and the kernel: verdicts, events and map contents.
# Skips (77) with the reason when clang, bpftool or bpf(2) is missing.
set -u
SRC=${BPFLUA_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
B=${BPFLUA:-$SRC/build/bpflua}
. "$SRC/tests/cli/common.bash"
need_clang
need_bpftool
need_root
"${CL[@]}" -c "$SRC/tests/progtypes/refs.c" -o "$tmp/refs.o" || { fail "cannot build refs.c"; exit 1; }
rm -rf "$pin"; mkdir -p "$pin"
bpftool prog loadall "$tmp/refs.o" "$pin" >/dev/null 2>&1 ||
    skip "the kernel does not load refs.o here (bpf(2) unavailable, or a kernel without these helpers)"
rm -rf "$pin"

# 1. verdicts
cases=$(grep -o 'CASE_[A-Z_]*[A-Z]' "$SRC/tests/progtypes/refs_cases.c" | sort -u)
n=0
for c in $cases; do
    "${CL[@]}" -D"$c" -c "$SRC/tests/progtypes/refs_cases.c" -o "$tmp/c.o" 2>/dev/null ||
        { fail "$c does not build"; continue; }
    case $c in CASE_OK_*) want=accept ;; *) want=reject ;; esac
    kernel_loads "$tmp/c.o" && k=accept || k=reject
    "$B" verify "$tmp/c.o" >"$tmp/out" 2>"$tmp/err" && o=accept || o=reject
    grep -q "AddressSanitizer\|runtime error" "$tmp/err" && fail "$c: sanitizer report"
    [ "$k" = "$want" ] || fail "$c: the kernel ${k}s it (the case says $want)"
    [ "$o" = "$want" ] || fail "$c: bpflua ${o}s it, want $want ($(head -c 200 "$tmp/err"))"
    n=$((n + 1))
done
[ "$n" -ge 25 ] || fail "only $n cases"
echo "reference and lock verdicts: $n cases agree with the kernel"

# 2. runs: interp == jit == kernel, and what the kernel says
tcp=000000000000aabbccddeeff08004500002800010000400600000a0000010a000002303900500000000100000000
udp=000000000000aabbccddeeff08004500002800010000401100000a0000010a000002303900350014000068656c6c6f
for e in kernel interp jit; do
    : >"$tmp/$e"
    for pkt in $tcp $udp ff$tcp; do
        expect 0 "refs.o $e" "$B" run "$tmp/refs.o" --engine $e --hex $pkt --dump-maps || continue
        sed 's/ ns_per_run=.*//' "$tmp/out" >>"$tmp/$e"
    done
    # the lock's counter over five runs of one process
    expect 0 "locked $e" "$B" run "$tmp/refs.o" --engine $e --hex $tcp --prog locked --repeat 5 \
        --dump-maps && sed 's/ ns_per_run=.*//' "$tmp/out" >>"$tmp/$e"
done
cmp -s "$tmp/kernel" "$tmp/interp" || { fail "interp differs from the kernel"; diff "$tmp/kernel" "$tmp/interp" | head; }
cmp -s "$tmp/kernel" "$tmp/jit" || { fail "jit differs from the kernel"; diff "$tmp/kernel" "$tmp/jit" | head; }
cp "$tmp/interp" "$tmp/o"
# rb_reserve: length 46, first byte 0, 24 bytes waiting (its own busy record)
has o '^event=events value=0x2e000000000000001800000000000000$' "the reserved record is submitted"
[ "$(grep -c '^name=rb_reserve retval=2$' "$tmp/o")" = 2 ] || fail "rb_reserve passes the two packets"
[ "$(grep -c '^name=rb_reserve retval=1$' "$tmp/o")" = 1 ] || fail "rb_reserve drops the 0xff packet"
[ "$(grep -c '^event=events value=0x2[ef]' "$tmp/o")" = 2 ] || fail "the discarded record is never read"
has o '^event=events value=0x0100000000000000$' "rb_two submits a"
has o '^event=events value=0x0200000000000000$' "rb_two submits b"
[ "$(grep -c '^name=sk_tcp retval=1 ' "$tmp/o")" = 2 ] || fail "sk_tcp: no socket found"
[ "$(grep -c '^name=skc_tcp retval=4 ' "$tmp/o")" = 3 ] || fail "skc_tcp: no socket found"
# packets 5, bytes 5 x 46 after the repeated runs
has o '^map=counters key=0 value=0x0000000005000000e600000000000000$' "the locked counter"
[ "$fails" = 0 ] && echo "runs: interp == jit == kernel"
exit $((fails > 0))
