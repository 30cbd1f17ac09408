#!/usr/bin/env bash
# bpflua conformance: the closing "N passed, N failed" line and exit codes
# for passing, failing and unreadable files, in each engine.
set -u
B=${BPFLUA:?set BPFLUA to the bpflua binary}
. "$(dirname "$0")/common.bash"
last() { tail -n 1 "$tmp/out"; }

cat >"$tmp/pass.data" <<'DATA'
-- asm
mov32 %r0, 40
add32 %r0, 2
exit
-- result
0x2a
DATA
cat >"$tmp/fail.data" <<'DATA'
-- asm
mov32 %r0, 1
exit
-- result
0x2
DATA
for engine in interp jit; do
    expect 0 "$engine: one passing file" "$B" conformance --engine "$engine" "$tmp/pass.data" &&
        { [ "$(last)" = "1 passed, 0 failed" ] || fail "$engine: last line '$(last)'"; }
    expect 1 "$engine: a failing file" "$B" conformance --engine "$engine" "$tmp/pass.data" "$tmp/fail.data" &&
        { [ "$(last)" = "1 passed, 1 failed" ] || fail "$engine: last line '$(last)'"; }
done
expect 0 "default engine" "$B" conformance "$tmp/pass.data"
expect 2 "only unreadable files" "$B" conformance "$tmp/missing.data" &&
    { [ "$(last)" = "0 passed, 1 failed" ] || fail "unreadable: last line '$(last)'"; }
expect 1 "unreadable and failing" "$B" conformance "$tmp/missing.data" "$tmp/fail.data"
head -c 2000 /dev/urandom >"$tmp/garbage.data"
expect 2 "binary garbage" "$B" conformance "$tmp/garbage.data"
printf -- '-- asm\nfrobnicate %%r0\nexit\n-- result\n0x1\n' >"$tmp/badasm.data"
expect 1 "unknown mnemonic" "$B" conformance "$tmp/badasm.data" && grep -q 'badasm.data:2' "$tmp/out" "$tmp/err" ||
    fail "unknown mnemonic: no file:line message"

if [ -n "${SHARED_DIR:-}" ] && [ -d "$SHARED_DIR/conformance" ]; then
    expect 0 "shared suite sample" "$B" conformance "$SHARED_DIR"/conformance/add.data "$SHARED_DIR"/conformance/exit.data &&
        { [ "$(last)" = "2 passed, 0 failed" ] || fail "shared sample: last line '$(last)'"; }
fi

if [ "$fails" -ne 0 ]; then
    echo "$fails failure(s)"
    exit 1
fi
echo "cli_conformance: all passed"
