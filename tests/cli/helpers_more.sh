#!/usr/bin/env bash
# Helpers gained with the per-type tables (tests/progtypes/helpers_more.c):
# interp == JIT == the kernel's test run, each verdict folding the helpers'
# answers; and `bpflua run --mem ADDR=FILE` (tests/progtypes/probe_mem.c):
# bpf_probe_read_kernel(_str) read the given memory at the given address,
# and fail with -EFAULT elsewhere (interp and JIT). Skips (77) without clang.
set -u
SRC=${BPFLUA_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
B=${BPFLUA:-$SRC/build/bpflua}
. "$SRC/tests/cli/common.bash"
need_clang
"${CL[@]}" -c "$SRC/tests/progtypes/helpers_more.c" -o "$tmp/hm.o" 2>/dev/null ||
    { fail "cannot build helpers_more.c"; exit 1; }
"${CL[@]}" -c "$SRC/tests/progtypes/probe_mem.c" -o "$tmp/pm.o" || { fail "cannot build probe_mem.c"; exit 1; }

# 1. helpers: the verdicts the programs compute when every helper answers as
# the kernel's does (xdp_bytes 1: 0x08 ^ 0x00 % 7; redirects 255: all 8 bits)
tcp=000000000000aabbccddeeff08004500002800010000400600000a0000010a000002303900500000000100000000
engines="interp jit"
if [ "$(id -u)" = 0 ] && "$B" run "$tmp/hm.o" --engine kernel --hex "$tcp" >/dev/null 2>&1; then
    engines="kernel $engines"
else
    echo "note: kernel runs skipped (needs root and bpf(2))"
fi
for e in $engines; do
    expect 0 "helpers_more $e" "$B" run "$tmp/hm.o" --engine $e --hex "$tcp" || continue
    has out '^name=xdp_bytes retval=1 ' "$e: xdp_load_bytes/store_bytes"
    has out '^name=redirects retval=255 ' "$e: redirect_neigh/peer, xfrm state, cgroup classid, jiffies64"
done

# 2. --mem: pt_regs with di = 0xffff888000001000, si = 0xffff888000002000
python3 - "$tmp" <<'PY'
import struct, sys
d = sys.argv[1]
regs = bytearray(168)
struct.pack_into("<Q", regs, 112, 0xffff888000001000)  # di
struct.pack_into("<Q", regs, 104, 0xffff888000002000)  # si
open(d + "/regs", "wb").write(regs)
open(d + "/u64", "wb").write(struct.pack("<Q", 0x1234567807))
open(d + "/str", "wb").write(b"bpflua\0tail")
PY
for e in interp jit; do
    expect 0 "--mem $e" "$B" run "$tmp/pm.o" --engine $e --ctx "$tmp/regs" \
        --mem 0xffff888000001000="$tmp/u64" --mem 0xffff888000002000="$tmp/str"
    has out '^name=rd retval=771 ' "$e: u64 7, a 7-byte string from 'b'"    # 7*100 + 7*10 + 1
    expect 0 "--mem missing $e" "$B" run "$tmp/pm.o" --engine $e --ctx "$tmp/regs" \
        --mem 0xffff888000001000="$tmp/u64"
    has out '^name=rd retval=3 ' "$e: the string's address is not given: -EFAULT"
    expect 0 "no --mem $e" "$B" run "$tmp/pm.o" --engine $e --ctx "$tmp/regs"
    has out '^name=rd retval=1 ' "$e: no memory given: -EFAULT"
    # a region one byte short of the u64
    head -c 7 "$tmp/u64" >"$tmp/u64short"
    expect 0 "--mem short $e" "$B" run "$tmp/pm.o" --engine $e --ctx "$tmp/regs" \
        --mem 0xffff888000001000="$tmp/u64short" --mem 0xffff888000002000="$tmp/str"
    has out '^name=rd retval=1 ' "$e: a read past the region fails"
done
# bad --mem arguments: usage errors, never a crash
expect 2 "--mem without =" "$B" run "$tmp/pm.o" --ctx "$tmp/regs" --mem 0x1000
expect 2 "--mem bad address" "$B" run "$tmp/pm.o" --ctx "$tmp/regs" --mem zz="$tmp/u64"
expect 2 "--mem missing file" "$B" run "$tmp/pm.o" --ctx "$tmp/regs" --mem 0x1000="$tmp/nope"
expect 2 "--mem wrapping" "$B" run "$tmp/pm.o" --ctx "$tmp/regs" --mem 0xfffffffffffffffc="$tmp/u64"
args=()
for i in $(seq 17); do args+=(--mem "$i=$tmp/u64"); done
expect 2 "17 --mem" "$B" run "$tmp/pm.o" --ctx "$tmp/regs" "${args[@]}"
"$B" run --help | grep -q -- '--mem ADDR=FILE' || fail "--help lacks --mem"

# a ring buffer record filled in place by get_current_comm and probe_read_kernel_str (--mem)
"${CL[@]}" -c "$SRC/tests/progtypes/trace_ringbuf.c" -o "$tmp/trb.o" || { fail "cannot build trace_ringbuf.c"; exit 1; }
printf '/etc/passwd\0' >"$tmp/path"
for e in interp jit; do
    expect 0 "trace ringbuf $e" "$B" run "$tmp/trb.o" --engine $e --ctx "$tmp/regs" \
        --mem 0xffff888000002000="$tmp/path"
    has out '^name=open_ev retval=2 ' "$e: the record was submitted"
    has out '^event=rb value=0x.{8}[0-9a-f]{32}2f6574632f706173737764000' "$e: the path read into the record"
    expect 0 "trace ringbuf no mem $e" "$B" run "$tmp/trb.o" --engine $e --ctx "$tmp/regs"
    has out '^name=open_ev retval=1 ' "$e: unreadable path: the record discarded"
    grep -q '^event=' "$tmp/out" && fail "$e: a discarded record was read"
done

# 3. sock_ops helpers (verified only): bpflua and, where it loads programs, the kernel accept
"${CL[@]}" -c "$SRC/tests/progtypes/sockops.c" -o "$tmp/so.o" || { fail "cannot build sockops.c"; exit 1; }
expect 0 "sockops.c verifies" "$B" verify "$tmp/so.o"
has out '^name=bpf_clamp .* type=sock_ops section=sockops$' "sock_ops with set/getsockopt"
if command -v bpftool >/dev/null && [ "$(id -u)" = 0 ]; then
        bpftool prog load "$tmp/so.o" "$pin" >/dev/null 2>&1 && rm -f "$pin" ||
        fail "the kernel refuses sockops.c"
fi
# 4. newer helpers (tests/corpus/helpers_recent.c; test_corpus checks the
# kernel's verdicts): snprintf, trace_vprintk, strncmp, strtol/strtoul,
# check_mtu, csum_level, the flow hash, map_lookup_percpu_elem; every bit
# of each verdict set, in the interpreter, the JIT and the kernel's test run
"${CL[@]}" -c "$SRC/tests/corpus/helpers_recent.c" -o "$tmp/hr.o" ||
    { fail "cannot build helpers_recent.c"; exit 1; }
for e in $engines; do
    for s in tc/str:1023 tc/mtu:1023 xdp/mtu:8 tc/percpu:3; do
        expect 0 "helpers_recent $e ${s%%:*}" "$B" run "$tmp/hr.o" --engine $e --section "${s%%:*}" \
            --hex "$tcp" || continue
        has out "retval=${s##*:} " "$e: ${s%%:*} answers as the kernel's helpers"
    done
done
# the socket behind a test run's packet (tests/corpus/sk_views.c): skb->sk,
# bpf_sk_fullsock, bpf_tcp_sock, bpf_get_listener_sock as the kernel's
"${CL[@]}" -c "$SRC/tests/corpus/sk_views.c" -o "$tmp/sv.o" || { fail "cannot build sk_views.c"; exit 1; }
for e in $engines; do
    expect 0 "sk_views $e" "$B" run "$tmp/sv.o" --engine $e --section tc/fields --hex "$tcp" ||
        continue
    has out '^name=sock_fields retval=1022 ' "$e: the test run's socket, field by field"
    expect 0 "sk_views hbm $e" "$B" run "$tmp/sv.o" --engine $e --section cgroup_skb/egress \
        --hex "$tcp" || continue
    has out '^name=hbm_out retval=1 ' "$e: a socket of no protocol is not TCP"
done
python3 - "$tmp" <<'PY'
import os, struct, sys
d = sys.argv[1]
s = os.stat("/proc/self/ns/pid")  # the pid namespace bpflua runs in (as the test)
regs = bytearray(168)
struct.pack_into("<Q", regs, 112, os.major(s.st_dev) << 20 | os.minor(s.st_dev))  # di: dev
struct.pack_into("<Q", regs, 104, s.st_ino)                                      # si: ino
open(d + "/nsregs", "wb").write(regs)
regs = bytearray(168)
struct.pack_into("<Q", regs, 112, 0xffff888000002000)
struct.pack_into("<Q", regs, 104, 0xffff888000003000)
open(d + "/fmtregs", "wb").write(regs)
open(d + "/ip", "wb").write(bytes([10, 0, 0, 7]))
PY
for e in interp jit; do
    expect 0 "ns pid $e" "$B" run "$tmp/hr.o" --engine $e --section kprobe/ns --ctx "$tmp/nsregs"
    has out '^name=ns retval=1 ' "$e: get_ns_current_pid_tgid in bpflua's pid namespace"
    expect 0 "ns other $e" "$B" run "$tmp/hr.o" --engine $e --section kprobe/ns --ctx /dev/null
    has out '^name=ns retval=2 ' "$e: another namespace: -EINVAL and a zeroed struct"
    expect 0 "fmt mem $e" "$B" run "$tmp/hr.o" --engine $e --section kprobe/fmt --ctx "$tmp/fmtregs" \
        --mem 0xffff888000002000="$tmp/str" --mem 0xffff888000003000="$tmp/ip"
    has out '^trace: bpflua[|]10[.]0[.]0[.]7[|]5[|]18$' "$e: %s and %pI4 of given memory"
    has out '^name=fmt retval=18 ' "$e: snprintf's length with the NUL"
    expect 0 "fmt no mem $e" "$B" run "$tmp/hr.o" --engine $e --section kprobe/fmt --ctx "$tmp/fmtregs"
    has out '^trace: [|]0[.]0[.]0[.]0[|]5[|]11$' "$e: memory not given reads as the kernel's failed copy"
done

[ "$fails" = 0 ] && echo "helpers and --mem: all checks passed"
exit $((fails > 0))
