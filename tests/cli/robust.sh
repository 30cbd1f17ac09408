#!/usr/bin/env bash
# Sandbox limits through the command: --max-insns in each engine, guarded
# runs (BPFLUA_GUARD), and objects over the resource limits.
set -u
B=${BPFLUA:?set BPFLUA to the bpflua binary}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0

# expect RC REGEX DESCRIPTION CMD...: exit status, and REGEX in stdout+stderr
expect() {
    local want=$1 re=$2 desc=$3
    shift 3
    "$@" >"$tmp/out" 2>&1 </dev/null
    local rc=$?
    if [ "$rc" != "$want" ] || ! grep -Eq -- "$re" "$tmp/out"; then
        echo "FAIL: $desc: exit $rc (want $want), /$re/"
        sed 's/^/  | /' "$tmp/out" | head -6
        fails=$((fails + 1))
        return 1
    fi
    if grep -q "AddressSanitizer\|runtime error\|Segmentation" "$tmp/out"; then
        echo "FAIL: $desc: crashed"
        fails=$((fails + 1))
        return 1
    fi
    return 0
}

cat >"$tmp/loop.lua" <<'LUA'
function xdp.f(pkt)
  local s = 0
  for i = 0, 99 do s = s + i end
  return s
end
LUA
bound=$("$B" verify "$tmp/loop.lua" | sed -n 's/.*max_insns=\([0-9]*\).*/\1/p')
[ -n "$bound" ] && [ "$bound" -gt 100 ] || { echo "FAIL: no proven bound ($bound)"; exit 1; }

# the interpreter stops at the limit and says so; the proven bound always suffices
expect 1 "instruction limit of 50 reached.*--max-insns limit of 50.*proven bound is $bound" \
    "interp over the limit" "$B" run "$tmp/loop.lua" --hex 00 --engine interp --max-insns 50
expect 0 "retval=4950" "interp at the proven bound" \
    "$B" run "$tmp/loop.lua" --hex 00 --engine interp --max-insns "$bound"
# the JIT cannot stop midway: it refuses a limit below the bound, runs at it
expect 1 "proven bound of $bound instructions exceeds the --max-insns limit of 50.*--engine interp" \
    "jit below the bound" "$B" run "$tmp/loop.lua" --hex 00 --engine jit --max-insns 50
expect 0 "retval=4950" "jit at the bound" \
    "$B" run "$tmp/loop.lua" --hex 00 --engine jit --max-insns "$bound"

# guarded and unguarded runs give the same results, packets of 0 and 70000 bytes
cat >"$tmp/last.lua" <<'LUA'
function xdp.f(pkt)
  if #pkt < 1 then return 7 end
  return pkt:u8(#pkt - 1)
end
LUA
head -c 4000 /dev/zero | tr '\0' '\3' >"$tmp/mid.bin"
head -c 70000 /dev/zero | tr '\0' '\3' >"$tmp/big.bin"
for g in 0 1; do
    for e in interp jit; do
        expect 0 "retval=7" "guard=$g $e empty packet" \
            env BPFLUA_GUARD=$g "$B" run "$tmp/last.lua" --hex "" --engine $e
        expect 0 "retval=3" "guard=$g $e 4000-byte packet" \
            env BPFLUA_GUARD=$g "$B" run "$tmp/last.lua" --input "$tmp/mid.bin" --engine $e --repeat 3
        expect 0 "retval=[0-9]+" "guard=$g $e 70000-byte packet" \
            env BPFLUA_GUARD=$g "$B" run "$tmp/last.lua" --input "$tmp/big.bin" --engine $e
    done
done

# resource limits
printf '.map big array key=4 value=8 entries=100000000\nmov %%r0, 0\nexit\n' >"$tmp/big.asm"
expect 1 "big.asm:1: map 'big': 100000000 entries of 8 bytes exceed the 256 MiB limit per map" \
    "a map over the per-map limit" "$B" verify "$tmp/big.asm"
{
    for m in a b c d e f; do printf '.map %s array key=4 value=1024 entries=204800\n' $m; done
    printf 'mov %%r0, 0\nexit\n'
} >"$tmp/total.asm"
expect 1 "map 'f': the object's maps would take [0-9]+ MiB, more than the limit of 1024 MiB" \
    "maps over the total limit" "$B" verify "$tmp/total.asm"

if [ "$fails" -ne 0 ]; then
    echo "$fails failure(s)"
    exit 1
fi
echo "robust.sh: all passed"
