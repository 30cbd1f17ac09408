#!/usr/bin/env bash
# Installs what is missing, builds bpflua with AddressSanitizer and UBSan,
# and runs every test. The last line is ctest's count of passed/failed tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
build=build-test
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DBPFLUA_SANITIZE=ON >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null
cd "$build"
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --output-on-failure -j"$(nproc)" --timeout 600
