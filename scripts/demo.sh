#!/usr/bin/env bash
# Installs what is missing, builds bpflua, compiles the example filter to an
# ELF object, verifies it and runs it over the example traffic.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DBPFLUA_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
./build/bpflua compile examples/filter.lua -o build/filter.o
./build/bpflua verify build/filter.o
./build/bpflua run build/filter.o --pcap examples/traffic.pcap --histogram
