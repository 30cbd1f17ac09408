#!/usr/bin/env bash
# The check of ../shared/examples/README.md through the command: compile
# every example program to an ELF object, run it on every packet with
# --input in the interpreter and the JIT, and find `name=NAME retval=RETVAL`
# for every row of expected.tsv.
set -u
B=${BPFLUA:?set BPFLUA to the bpflua binary}
E=${SHARED_DIR:-}/examples
[ -n "${SHARED_DIR:-}" ] && [ -f "$E/expected.tsv" ] || { echo "no ../shared/examples: skipped"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

for f in "$E"/progs/*.lua; do
    "$B" compile "$f" -o "$tmp/$(basename "$f" .lua).o" >/dev/null 2>"$tmp/err" ||
        { fail "compile $(basename "$f")"; sed 's/^/  /' "$tmp/err" | head -5; }
done
engines="interp"
"$B" run "$tmp/01_pass.o" --input "$E/packets/short14.bin" --engine jit >/dev/null 2>&1 && engines="interp jit"
rows=0
while IFS=$'\t' read -r prog pkt name ret; do
    [ "$prog" = program ] && continue
    rows=$((rows + 1))
    for e in $engines; do
        key="$tmp/${prog%.lua}.$pkt.$e.out"
        [ -f "$key" ] || "$B" run "$tmp/${prog%.lua}.o" --input "$E/packets/$pkt" --engine "$e" >"$key" 2>&1
        grep -q "^name=$name retval=$ret\( \|$\)" "$key" ||
            fail "$prog on $pkt ($e): want name=$name retval=$ret, got: $(grep "name=$name " "$key" | head -1)"
    done
done <"$E/expected.tsv"
[ "$rows" -gt 0 ] || fail "expected.tsv has no rows"

if [ "$fails" -ne 0 ]; then
    echo "$fails failure(s)"
    exit 1
fi
echo "cli_examples: $rows rows passed (engines: $engines)"
