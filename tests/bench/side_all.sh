#!/usr/bin/env bash
# side_all.sh - every loop workload's JIT against its native twin, in-process
# (tests/bench/native/side_bench.c): the median of per-round ratios.
#
#   bash tests/bench/side_all.sh [BUILD [ROUNDS [NAME...]]]
#
# Samples are short (100-200 runs, ~0.1-0.4 ms): on a loaded 2-vCPU machine
# a sample of a few milliseconds is often cut by the scheduler, and the
# per-round ratios of such samples swing by 10x either way (what looked like
# mix32 being bimodal from one process to the next).
set -eu
cd "$(dirname "$0")/../.."
B=${1:-build}; R=${2:-41}; shift $(( $# > 2 ? 2 : $# ))
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$B/bpflua" bench --packets "$tmp/pk" --build "$B" >/dev/null
all="sum1k checksum scan nested csum1000_brk csum1000_len csum1000_word zscan_brk zscan_ret zscan_len
     sum32_step sum32_word sum32_brk lastnz_neg lastnz_rev lastnz_brk cmphalf_len cmphalf_brk
     tri_up tri_down nest2_step nest2_affine nest3_up nest3_down mix32_two mix32_tmp ranges_fn ranges_brk prefix_map
     prefix_acc tcpopts_brk tcpopts_ret"
for n in ${*:-$all}; do
  case $n in sum1k|checksum|scan|nested|mapcount|parse) f=$n ;; *) f=${n%_*} ;; esac
  "$B/bpflua" compile "tests/bench/progs/$f.lua" -o "$tmp/$f.o" >/dev/null
  rep=200; case $n in mix32*) rep=100 ;; esac
  "$B/side_bench" "$tmp/$f.o" "$n" "$n" "$R" "$rep" "$tmp/pk/$n".*.bin
done
