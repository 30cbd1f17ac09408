#!/usr/bin/env bash
# The engine library's namespace: every global symbol that libbpflua_engine.a
# defines carries one of the project's prefixes, so a program linking it
# cannot clash with an internal function called, say, fail or verbose.
#   bl_ bpflua_   the engine's own API
#   vf_           the verifier's cross-file internals (vm/verifier*.c)
#   jit_ x86_     the JIT's cross-file internals and its x86 encoder
#   tnum_         tracked numbers (vm/tnum.c)
# A function used by one file only should be static instead. Symbols the
# sanitizers add for a global (__odr_asan.NAME) are checked by NAME.
set -u
BUILD=${BPFLUA_BUILD:-build}
LIB=$BUILD/libbpflua_engine.a

command -v nm >/dev/null 2>&1 || { echo "symbols: skipped, nm not found"; exit 77; }
[ -f "$LIB" ] || { echo "symbols: skipped, no $LIB (set BPFLUA_BUILD)"; exit 77; }

allowed='^(bl_|bpflua_|vf_|jit_|x86_|tnum_)'

# nm -A: "archive:member.o: value type name" (no value for some types)
if ! listing=$(nm -A -g --defined-only "$LIB" 2>&1); then
    echo "symbols: FAIL: nm $LIB failed:"
    echo "$listing" | head -5
    exit 1
fi
bad=$(echo "$listing" | awk -v allowed="$allowed" '
    NF >= 2 {
        type = $(NF - 1); name = $NF
        if (type == "U" || type == "w" || type == "v") next
        n = split($1, part, ":"); member = part[n - 1]
        base = name
        sub(/^__odr_asan[._]/, "", base)
        if (base !~ allowed) printf "  %-28s %s (%s)\n", name, member, type
    }' | sort -u)

count=$(echo "$listing" | awk 'NF >= 2 && $(NF - 1) !~ /^[Uwv]$/' | wc -l)
if [ "$count" -eq 0 ]; then
    echo "symbols: FAIL: nm found no defined global symbol in $LIB"
    exit 1
fi
if [ -n "$bad" ]; then
    echo "symbols: FAIL: global symbols of $LIB without an allowed prefix"
    echo "(bl_ bpflua_ vf_ jit_ x86_ tnum_; or make them static):"
    echo "$bad"
    exit 1
fi
echo "symbols: all $count global symbols of $LIB are prefixed"
