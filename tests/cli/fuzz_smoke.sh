#!/usr/bin/env bash
# Runs every libFuzzer target for a short fixed time (FUZZ_SECONDS, default 20)
# so the targets cannot rot and shallow crashes are caught on every CI run.
# Longer runs: bash tests/fuzz/run.sh 3600
set -euo pipefail
command -v clang >/dev/null || { echo "skip: clang not installed"; exit 77; }
# the clang-built targets bring their own sanitizer runtime: drop the test
# environment's preloaded gcc one
unset LD_PRELOAD
export BPFLUA_FUZZ_BUILD="${BPFLUA_BUILD:-build}/fuzz"
# a fixed seed: CI's smoke run is the same exploration on every machine (a
# slower one stops earlier on the same path); long runs hunt with random seeds
export FUZZ_SEED="${FUZZ_SEED:-20261207}"
exec bash "${BPFLUA_SRC:-.}/tests/fuzz/run.sh" "${FUZZ_SECONDS:-20}"
