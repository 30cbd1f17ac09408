#!/usr/bin/env bash
# One tiny run of the benchmark suite (one sample, one repetition) so it
# cannot rot: every engine must agree with native C on every workload, and
# the CSV and SVG must be written. Timings from this run mean nothing.
set -euo pipefail
B=${BPFLUA_BUILD:?}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cd "$B"
LUA_CPATH="$B/?.so;;" lua5.4 "$BPFLUA_SRC/tests/bench/run.lua" --quick --build "$B" --out "$out"
rows=$(grep -c ',' "$out/bench.csv")
[ "$rows" -ge 20 ] || { echo "bench.csv has only $rows rows"; exit 1; }
grep -q "<svg" "$out/bench.svg"
grep -q "^sum1k,native," "$out/bench.csv"
grep -q "^parse,interp," "$out/bench.csv"
echo "bench smoke: ok ($rows CSV rows)"
