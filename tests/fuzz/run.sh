#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each for SECONDS (default 60).
#   bash tests/fuzz/run.sh [SECONDS] [TARGET...]
# FUZZ_SEED=N fixes libFuzzer's seed (the CI smoke test does, so a red run
# can be replayed); unset, every run explores differently.
# Seeds come from the project's own test programs; findings land in
# build-fuzz/findings/<target>/. Exit status non-zero on any crash.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-60}; shift || true
build=${BPFLUA_FUZZ_BUILD:-build-fuzz}
CC=clang cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBPFLUA_FUZZ=ON -DBPFLUA_TESTS=OFF >/dev/null
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(fuzz_bytecode fuzz_elf fuzz_asm fuzz_compiler)
cmake --build "$build" -j"$(nproc)" --target "${targets[@]}" >/dev/null

seed() { # seed TARGET DIR: fill the corpus from the project's test inputs
  local t=$1 d=$2 shared=${SHARED_DIR:-../shared}
  mkdir -p "$d"
  case $t in
    fuzz_asm) for f in "$shared"/conformance/*.data tests/verifier/*.data; do
                [ -f "$f" ] && awk '/^-- asm/{on=1;next} /^-- /{on=0} on' "$f" > "$d/$(basename "$f").s"; done ;;
    fuzz_elf) for f in tests/elf/*.c tests/verifier/*.c tests/progtypes/*.c; do
                [ -f "$f" ] && clang -O2 -g -target bpf -I/usr/include/$(uname -m)-linux-gnu -c "$f" -o "$d/$(basename "$f" .c).o" 2>/dev/null || true
              done
              for f in tests/bad/elf/*; do [ -f "$f" ] && cp "$f" "$d/"; done ;;
    fuzz_compiler) for f in tests/lang/*.lua tests/errors/*.lua "$shared"/examples/progs/*.lua examples/*.lua; do
                     [ -f "$f" ] && cp "$f" "$d/"; done ;;
    fuzz_bytecode) # mov r0, 2; exit  /  r1 = data via ctx, bounds-checked byte load
                   printf '\xb7\x00\x00\x00\x02\x00\x00\x00\x95\x00\x00\x00\x00\x00\x00\x00' > "$d/ret2"
                   printf '\x61\x12\x00\x00\x00\x00\x00\x00\x61\x13\x04\x00\x00\x00\x00\x00\xbf\x24\x00\x00\x00\x00\x00\x00\x07\x04\x00\x00\x01\x00\x00\x00\xb7\x00\x00\x00\x00\x00\x00\x00\x2d\x34\x01\x00\x00\x00\x00\x00\x71\x20\x00\x00\x00\x00\x00\x00\x95\x00\x00\x00\x00\x00\x00\x00' > "$d/pktbyte" ;;
  esac
  return 0
}

fail=0
for t in "${targets[@]}"; do
  corpus=$(mktemp -d)
  seed "$t" "$corpus"
  mkdir -p "$build/findings/$t"
  echo "fuzz: $t for ${secs}s"
  if ! "$build/$t" ${FUZZ_SEED:+-seed="$FUZZ_SEED"} -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$build/findings/$t/" "$corpus" >"$build/findings/$t.log" 2>&1; then
    echo "fuzz: $t FAILED (see $build/findings/$t.log)"; tail -30 "$build/findings/$t.log"; fail=1
  else
    grep -E "stat::number_of_executed_units|stat::new_units_added" "$build/findings/$t.log" | sed "s/^/fuzz: $t /"
  fi
  rm -rf "$corpus"
done
exit $fail
