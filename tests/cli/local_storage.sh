#!/usr/bin/env bash
# Local storage. Cgroup storage (tests/corpus/cgroup_storage.c): bpf_get_local_storage gives
# a cgroup_skb program the value of its cgroup in a cgroup_storage map
# (samples/bpf's hbm) or its CPU's copy in a percpu_cgroup_storage one
# (netcnt); the verdicts depend on what an earlier run left there. interp ==
# JIT == the kernel's test run, over one run (fresh storage) and two (the
# second finds the first's writes), and the map as --dump-maps shows it;
# then socket storage (tests/corpus/sk_storage.c), the same way.
# Skips (77) when the corpus was not built (no clang).
set -u
SRC=${BPFLUA_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
B=${BPFLUA:-$SRC/build/bpflua}
C=${BPFLUA_BUILD:-$SRC/build}/corpus
. "$SRC/tests/cli/common.bash"
[ -f "$C/cgroup_storage.o" ] || skip "$C/cgroup_storage.o not built (no clang?)"

ip=000000000000aabbccddeeff08004500002800010000400600000a0000010a000002303900500000000100000000
engines="interp jit"
if [ "$(id -u)" = 0 ] && "$B" run "$C/cgroup_storage.o" --engine kernel --hex "$ip" \
    --section cgroup_skb/egress >/dev/null 2>&1; then
    engines="kernel $engines"
else
    echo "note: kernel runs skipped (needs root and bpf(2))"
fi
for e in $engines; do
    # hbm_out: a credit of 50 less the packet's 32 bytes (cgroup_skb sees
    # the IP packet) passes once; netcnt_in: only the CPU's first packet
    expect 0 "hbm_out once $e" "$B" run "$C/cgroup_storage.o" --engine $e --hex "$ip" \
        --section cgroup_skb/egress
    has out '^name=hbm_out retval=1 ' "$e: the first packet has credit"
    expect 0 "hbm_out twice $e" "$B" run "$C/cgroup_storage.o" --engine $e --hex "$ip" \
        --section cgroup_skb/egress --repeat 2
    has out '^name=hbm_out retval=0 ' "$e: the second packet finds the credit spent"
    expect 0 "netcnt_in once $e" "$B" run "$C/cgroup_storage.o" --engine $e --hex "$ip" \
        --section cgroup_skb/ingress
    has out '^name=netcnt_in retval=1 ' "$e: the first packet counted 1"
    expect 0 "netcnt_in twice $e" "$B" run "$C/cgroup_storage.o" --engine $e --hex "$ip" \
        --section cgroup_skb/ingress --repeat 2
    has out '^name=netcnt_in retval=0 ' "$e: the second packet counted 2"
done
for e in interp jit; do
    expect 0 "dump $e" "$B" run "$C/cgroup_storage.o" --engine $e --hex "$ip" --repeat 3 \
        --section cgroup_skb/egress --dump-maps
    has out '^map=queue_state key=\{cgroup_inode_id=0,attach_type=0\} value=\{lasttime=0,credit=-46,rate=1000,pkts=3\}$' \
        "$e: the cgroup's storage after three packets of 32 bytes"
    # the dump shows CPU 0's copy: two packets on CPU 0 counted there, on CPU 1 not
    expect 0 "dump cpu 0 $e" "$B" run "$C/cgroup_storage.o" --engine $e --hex "$ip" --repeat 2 \
        --section cgroup_skb/ingress --dump-maps
    has out '^map=netcnt key=0x0{32} value=2$' "$e: CPU 0's count"
    expect 0 "dump cpu 1 $e" "$B" run "$C/cgroup_storage.o" --engine $e --hex "$ip" --repeat 2 \
        --section cgroup_skb/ingress --dump-maps --cpu 1
    has out '^map=netcnt key=0x0{32} value=0$' "$e: CPU 1 counted in its own copy"
done
# sk_storage (tests/corpus/sk_storage.c): a value in the run's socket
# (skb->sk), made on the first get with F_CREATE and gone with the socket:
# each run (kernel: each BPF_PROG_TEST_RUN) has a socket of its own, its
# repeats share it
[ -f "$C/sk_storage.o" ] || { fail "$C/sk_storage.o not built"; exit 1; }
python3 - "$tmp/two.pcap" "$ip" <<'PY'
import struct, sys
pkt = bytes.fromhex(sys.argv[2])
rec = struct.pack("<IIII", 0, 0, len(pkt), len(pkt)) + pkt
open(sys.argv[1], "wb").write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1) + rec + rec)
PY
for e in $engines; do
    expect 0 "count_sock once $e" "$B" run "$C/sk_storage.o" --engine $e --hex "$ip" \
        --section cgroup_skb/egress
    has out '^name=count_sock retval=1 ' "$e: the socket's first packet"
    expect 0 "count_sock twice $e" "$B" run "$C/sk_storage.o" --engine $e --hex "$ip" \
        --section cgroup_skb/egress --repeat 2
    has out '^name=count_sock retval=0 ' "$e: the socket's second packet"
    # each packet of a capture is a run of its own, with a new socket
    expect 0 "count_sock pcap $e" "$B" run "$C/sk_storage.o" --engine $e --pcap "$tmp/two.pcap" \
        --section cgroup_skb/egress
    [ "$(grep -c '^name=count_sock retval=1 ' "$tmp/out")" = 2 ] ||
        fail "$e: each packet's socket counts from 1: $(cat "$tmp/out")"
    # get from an initial value, delete, get without F_CREATE: nothing
    expect 0 "tag_and_forget $e" "$B" run "$C/sk_storage.o" --engine $e --hex "$ip" --section tc
    has out '^name=tag_and_forget retval=3 ' "$e: made from the stack value, deleted, gone"
done
# cgroup_sock: the context is the socket (the kernel cannot test-run the type)
head -c 80 /dev/zero >"$tmp/sock"
for e in interp jit; do
    expect 0 "stamp_socket $e" "$B" run "$C/sk_storage.o" --engine $e --ctx "$tmp/sock" \
        --section cgroup/sock_create
    has out '^name=stamp_socket retval=1 ' "$e: a cgroup_sock context as the socket"
done
expect 1 "sk_storage twins" "$B" verify "$C/sk_storage.unsafe.o"
has err "count_sock: error: R1 type=sock_common_or_null expected=sock_common, sock, tcp_sock" "a socket that may be NULL"
has err "tag_and_forget: error: invalid indirect access to stack R3 off=-4 size=16" "an initial value smaller than the map's"
has err "tag_connect: error: R0 invalid mem access 'map_value_or_null'" "the value unchecked"
has err "stamp_socket: error: dereference of modified ctx ptr R2 off=8 disallowed" "a moved context"

# the verifier: flags must be 0, the map only get_local_storage's, the
# value bounded by its size (the kernel says the same: test_corpus)
expect 1 "unsafe twins" "$B" verify "$C/cgroup_storage.unsafe.o"
has err "hbm_out: error: invalid access to map value, value_size=24 off=40 size=4" "past the storage"
has err "netcnt_in: error: get_local_storage\(\) doesn't support non-zero flags" "flags"
has err "count_socks: error: cannot pass map_type 19 into func bpf_map_lookup_elem#1" "lookup"
exit $((fails > 0))
