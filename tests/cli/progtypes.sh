#!/usr/bin/env bash
# Program types against the kernel (core/type_*.c, docs/progtypes.md):
#  1. which __sk_buff fields each skb type may read and write: a one-line
#     program per (field, access, type), generated here, gets the same
#     verdict from `bpflua verify` as from the kernel (bpftool prog load);
#  2. tests/progtypes/skb_fields.c runs with the same retval, mark and
#     priority in the interpreter, the JIT and the kernel's
#     BPF_PROG_TEST_RUN, over several packets and --mark/--priority/--ifindex.
# Skips (77) with the reason when clang, bpftool or bpf(2) is missing.
set -u
SRC=${BPFLUA_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
B=${BPFLUA:-$SRC/build/bpflua}
. "$SRC/tests/cli/common.bash"
need_clang
need_bpftool
need_root

# a program the kernel surely loads, or bpf(2) does not work here
printf '#include <linux/bpf.h>\n__attribute__((section("tc"), used)) int f(struct __sk_buff *s) { return 0; }\nchar _license[] __attribute__((section("license"), used)) = "GPL";\n' >"$tmp/ok.c"
"${CL[@]}" -c "$tmp/ok.c" -o "$tmp/ok.o" || { fail "clang cannot build a tc program"; exit 1; }
kernel_loads "$tmp/ok.o" || skip "the kernel does not load BPF programs here (bpf(2) unavailable?)"

# 1. field rights
n=0
for sec in tc socket cgroup_skb/ingress sk_skb/stream_verdict lwt_in lwt_xmit action; do
    for f in len pkt_type mark queue_mapping protocol priority ingress_ifindex ifindex tc_index \
             'cb[0]' 'cb[4]' hash tc_classid napi_id family remote_ip4 local_ip4 remote_port \
             tstamp wire_len gso_segs gso_size hwtstamp; do
        for op in read write; do
            if [ $op = read ]; then body="return skb->$f & 1;"; else body="skb->$f = 1; return 1;"; fi
            printf '#include <linux/bpf.h>\n__attribute__((section("%s"), used)) int f(struct __sk_buff *skb) { %s }\nchar _license[] __attribute__((section("license"), used)) = "GPL";\n' \
                "$sec" "$body" >"$tmp/f.c"
            "${CL[@]}" -c "$tmp/f.c" -o "$tmp/f.o" 2>/dev/null || continue
            kernel_loads "$tmp/f.o" && k=accept || k=reject
            "$B" verify "$tmp/f.o" >"$tmp/out" 2>"$tmp/err" && o=accept || o=reject
            grep -q "AddressSanitizer\|runtime error" "$tmp/err" && fail "$sec $op $f: sanitizer report"
            [ "$k" = "$o" ] || fail "$sec: $op of $f: kernel ${k}s, bpflua ${o}s ($(head -c 200 "$tmp/err"))"
            n=$((n + 1))
        done
    done
done
# the other contexts: struct bpf_sock by attach type (socket creation,
# post_bind4/6), struct bpf_sock_ops, struct xdp_md (egress_ifindex only
# from a devmap), struct bpf_cgroup_dev_ctx
ctx_case() { # SECTION STRUCT FIELD read|write
    local body
    if [ "$4" = read ]; then body="return c->$3 & 1;"; else body="c->$3 = 1; return 1;"; fi
    printf '#include <linux/bpf.h>\n__attribute__((section("%s"), used)) int f(struct %s *c) { %s }\nchar _license[] __attribute__((section("license"), used)) = "GPL";\n' \
        "$1" "$2" "$body" >"$tmp/f.c"
    "${CL[@]}" -c "$tmp/f.c" -o "$tmp/f.o" 2>/dev/null || return 0
    kernel_loads "$tmp/f.o" && k=accept || k=reject
    "$B" verify "$tmp/f.o" >"$tmp/out" 2>"$tmp/err" && o=accept || o=reject
    grep -q "AddressSanitizer\|runtime error" "$tmp/err" && fail "$1 $4 $3: sanitizer report"
    [ "$k" = "$o" ] || fail "$1: $4 of $3: kernel ${k}s, bpflua ${o}s ($(head -c 200 "$tmp/err"))"
    n=$((n + 1))
}
for sec in cgroup/sock cgroup/post_bind4 cgroup/post_bind6; do
    for f in bound_dev_if family type protocol mark priority src_ip4 'src_ip6[0]' 'src_ip6[3]' \
             src_port dst_port dst_ip4 'dst_ip6[1]' state rx_queue_mapping; do
        for op in read write; do ctx_case "$sec" bpf_sock "$f" $op; done
    done
done
for f in op 'args[0]' 'args[3]' reply 'replylong[1]' family remote_ip4 'remote_ip6[2]' remote_port \
         local_port is_fullsock snd_cwnd state mss_cache sk_txhash bytes_received bytes_acked \
         skb_len skb_tcp_flags; do
    for op in read write; do ctx_case sockops bpf_sock_ops "$f" $op; done
done
for sec in xdp xdp/devmap; do
    for f in data data_end data_meta ingress_ifindex rx_queue_index egress_ifindex; do
        for op in read write; do ctx_case "$sec" xdp_md "$f" $op; done
    done
done
for f in access_type major minor; do
    for op in read write; do ctx_case cgroup/dev bpf_cgroup_dev_ctx "$f" $op; done
done
# narrow loads inside a field: any aligned byte of a __sk_buff field, only a
# bpf_sock field's first (dst_port: its first two)
narrow_case() { # SECTION STRUCT FIELD TYPE BYTE
    printf '#include <linux/bpf.h>\n__attribute__((section("%s"), used)) int f(struct %s *c) { return *(volatile %s *)((char *)&c->%s + %s) & 1; }\nchar _license[] __attribute__((section("license"), used)) = "GPL";\n' \
        "$1" "$2" "$4" "$3" "$5" >"$tmp/f.c"
    "${CL[@]}" -c "$tmp/f.c" -o "$tmp/f.o" 2>/dev/null || return 0
    kernel_loads "$tmp/f.o" && k=accept || k=reject
    "$B" verify "$tmp/f.o" >"$tmp/out" 2>"$tmp/err" && o=accept || o=reject
    [ "$k" = "$o" ] || fail "$1: $4 load at $3+$5: kernel ${k}s, bpflua ${o}s"
    n=$((n + 1))
}
for w in "__u8 0" "__u8 1" "__u8 3" "__u16 2"; do
    set -- $w
    for f in len mark protocol vlan_tci priority hash 'cb[1]' remote_port; do narrow_case tc __sk_buff "$f" "$1" "$2"; done
    for f in family type mark dst_port state 'src_ip6[1]'; do narrow_case cgroup/sock bpf_sock "$f" "$1" "$2"; done
    narrow_case xdp xdp_md rx_queue_index "$1" "$2"
done
echo "field rights: $n (type, field, access) cases agree with the kernel"
# return ranges: cgroup_skb ingress [0, 1], egress [0, 3]
for sec in cgroup_skb/ingress cgroup_skb/egress cgroup/skb cgroup/dev sockops; do
    for ret in 0 1 2 3 4; do
        printf '#include <linux/bpf.h>\n__attribute__((section("%s"), used)) int f(void *c) { return %s; }\nchar _license[] __attribute__((section("license"), used)) = "GPL";\n' \
            "$sec" "$ret" >"$tmp/f.c"
        "${CL[@]}" -c "$tmp/f.c" -o "$tmp/f.o" || continue
        kernel_loads "$tmp/f.o" && k=accept || k=reject
        "$B" verify "$tmp/f.o" >"$tmp/out" 2>"$tmp/err" && o=accept || o=reject
        [ "$k" = "$o" ] || fail "$sec returning $ret: kernel ${k}s, bpflua ${o}s"
    done
done
[ "$n" -gt 450 ] || fail "only $n field cases were built"

# 2. skb runs: interp == jit == kernel
"${CL[@]}" -c "$SRC/tests/progtypes/skb_fields.c" -o "$tmp/skb.o" || { fail "cannot build skb_fields.c"; exit 1; }
expect 0 "skb_fields verifies" "$B" verify "$tmp/skb.o"
has out 'name=fields .* type=sched_cls section=tc$' "verify prints type and section"
has out 'name=sockf .* type=socket_filter section=socket$' "socket filter type"
has out 'name=cgf .* type=cgroup_skb section=cgroup_skb/ingress$' "cgroup_skb type"
pkts=(
    # IPv4/UDP to a multicast MAC, IPv4/TCP to an all-zero MAC, IPv6, ARP to another host
    "01005e000001aabbccddeeff080045000028000100004011f00dc0a80001e0000001303900350014000068656c6c6f"
    "000000000000aabbccddeeff08004500002800010000400600000a0000010a000002303900500000000100000000"
    "020000000001aabbccddeeff86dd6000000000081140fe800000000000000000000000000001ff020000000000000000000000000001"
    "020000000001aabbccddeeff0806000108000604000102000000000100000000000000000000"
)
runs=0
for pkt in "${pkts[@]}"; do
    for flags in "" "--mark 7 --priority 0x10" "--ifindex 1 --mark 4294967295"; do
        for prog in fields sockf cgf; do
            want=""
            for e in kernel interp jit; do
                # shellcheck disable=SC2086
                expect 0 "$prog $e $flags" "$B" run "$tmp/skb.o" --prog "$prog" --hex "$pkt" \
                    --engine $e $flags || continue
                got=$(grep -o 'retval=[0-9]* mark=[0-9]* priority=[0-9]*' "$tmp/out")
                [ -n "$got" ] || fail "$prog $e: no retval/mark/priority line: $(cat "$tmp/out")"
                if [ -z "$want" ]; then want=$got
                elif [ "$got" != "$want" ]; then fail "$prog $e $flags ${pkt:0:28}: $got, kernel $want"; fi
                runs=$((runs + 1))
            done
        done
    done
done
echo "skb runs: $runs (program, packet, flags, engine) results equal the kernel's"

# 3. verdicts the verifier once got wrong: the kernel loads them, so must we,
# and every engine gives the kernel's result
"${CL[@]}" -c "$SRC/tests/progtypes/false_verdicts.c" -o "$tmp/fv.o" || { fail "cannot build false_verdicts.c"; exit 1; }
rm -rf "$pin"; mkdir -p "$pin"
bpftool prog loadall "$tmp/fv.o" "$pin" >/dev/null 2>&1 || fail "the kernel does not load false_verdicts.o"
rm -rf "$pin"
expect 0 "false_verdicts verifies" "$B" verify "$tmp/fv.o"
for prog in caller_stack var_offset_write printk_args; do
    has out "^name=$prog verified_insns=" "$prog accepted"
done
for pkt in 05000000000000000000000000000000 02aa00000000000000000000000000ff; do
    for prog in caller_stack var_offset_write printk_args; do
        want=""
        for e in kernel interp jit; do
            expect 0 "$prog $e" "$B" run "$tmp/fv.o" --prog $prog --hex $pkt --engine $e || continue
            got=$(grep -o 'retval=[0-9]*' "$tmp/out")
            [ -z "$want" ] && want=$got
            [ "$got" = "$want" ] || fail "$prog $e on $pkt: $got, kernel $want"
        done
    done
done
expect 0 "printk with one argument" "$B" run "$tmp/fv.o" --prog printk_args --hex 00 --engine interp
has out '^trace: n=42$' "printk formats its one argument"
for e in interp jit; do
    expect 0 "printk unwritten $e" "$B" run "$tmp/fv.o" --prog printk_unwritten --hex 00 --engine $e
    has out '^trace: a=42 b=0$' "$e passes the unwritten R4 as 0"
done

# 4. an object as samples/bpf wrote them: legacy "maps" definitions (28
# bytes), static programs in old section names, .rodata/.data/.bss and a
# string literal, a static subprogram in .text
"${CL[@]}" -c "$SRC/tests/progtypes/legacy_maps.c" -o "$tmp/lm.o" || { fail "cannot build legacy_maps.c"; exit 1; }
expect 0 "legacy object verifies" "$B" verify "$tmp/lm.o"
has out '^name=count_len .* type=socket_filter section=socket1$' "socket1 is a socket filter"
has out '^name=tc_old .* type=sched_cls section=classifier/egress$' "classifier/x is sched_cls"
for e in interp jit; do
    # len 33 (47-byte frame less the Ethernet header): weigh = 33 * scale(3) + 1
    expect 0 "legacy run $e" "$B" run "$tmp/lm.o" --prog count_len --engine $e --dump-maps \
        --hex 000000000000aabbccddeeff080045000028000100004011f00dc0a80001e0000001303900350014000068656c6c6f
    has out '^name=count_len retval=39 ' "$e: calls (5 + 1) + last_len (33)"
    has out '^trace: len 33$' "$e: the .rodata.str1.1 format"
    has out '^map=counters key=1 value=100$' "$e: legacy array map, static subprogram, .rodata"
    has out '^map=seen key=33 value=1$' "$e: legacy hash map"
    has out '^map=\.data key=0 value=6$' "$e: .data starts at the file's 5"
    has out '^map=\.bss key=0 value=33$' "$e: .bss"
done
# hostile legacy definitions: a clear error, no crash
legacy() { # NAME DEFS: an object whose "maps" section holds DEFS (C initialisers)
    printf '#include <linux/bpf.h>\nstruct d5 { unsigned int t, k, v, m, f; };\nstruct d7 { unsigned int t, k, v, m, f, inner, numa; };\n%s\n__attribute__((section("socket"), used)) int p(struct __sk_buff *s) { return 0; }\nchar _license[] __attribute__((section("license"), used)) = "GPL";\n' "$2" >"$tmp/$1.c"
    "${CL[@]}" -c "$tmp/$1.c" -o "$tmp/$1.o" || fail "cannot build $1"
}
legacy mixed 'struct d5 __attribute__((section("maps"), used)) a = {2, 4, 4, 1}; struct d7 __attribute__((section("maps"), used)) b = {2, 4, 4, 1};'
expect 2 "definitions of two sizes" "$B" verify "$tmp/mixed.o"
has err 'legacy map|one size' "names the legacy maps"
legacy forward 'struct d7 __attribute__((section("maps"), used)) outer = {12, 4, 4, 1, 0, 1}; struct d7 __attribute__((section("maps"), used)) inner = {2, 4, 4, 1};'
expect 2 "inner map defined after its outer map" "$B" verify "$tmp/forward.o"
has err 'inner map index 1 is not an earlier definition' "names the inner map index"
legacy huge 'struct d5 __attribute__((section("maps"), used)) big = {2, 4, 0x7fffffff, 0x7fffffff};'
expect 2 "a huge legacy map" "$B" verify "$tmp/huge.o"
has err "map 'big'" "names the map"
legacy short 'struct d2 { unsigned int t, k; }; struct d2 __attribute__((section("maps"), used)) tiny = {2, 4};'
expect 2 "an 8-byte definition" "$B" verify "$tmp/short.o"

# .rodata is read-only to programs: a store into it is rejected
printf '#include <linux/bpf.h>\nstatic volatile const int k = 1;\n__attribute__((section("xdp"), used)) int w(struct xdp_md *c) { *(volatile int *)&k = 2; return k; }\nchar _license[] __attribute__((section("license"), used)) = "GPL";\n' >"$tmp/ro.c"
"${CL[@]}" -c "$tmp/ro.c" -o "$tmp/ro.o" 2>/dev/null
expect 1 "store into .rodata" "$B" verify "$tmp/ro.o"
has err 'write into map forbidden' "says why"
kernel_loads "$tmp/ro.o" && fail "the kernel loads a store into .rodata"

# 5. LD_ABS/LD_IND: socket filters and tc, big-endian, an out-of-bounds
# load ends the program with 0; interp == JIT == kernel
"${CL[@]}" -c "$SRC/tests/progtypes/ld_abs.c" -o "$tmp/la.o" || { fail "cannot build ld_abs.c"; exit 1; }
expect 0 "ld_abs verifies" "$B" verify "$tmp/la.o"
for pkt in "${pkts[0]}" "${pkts[1]}" 000000000000aabbccddeeff0800450000140000000040110000c0a80001c0a80002; do
    for prog in ip_proto far_load tc_ld neg_offsets below_mac tc_net_off wide_ind; do
        want=""
        for e in kernel interp jit; do
            expect 0 "$prog $e" "$B" run "$tmp/la.o" --prog $prog --hex $pkt --engine $e || continue
            got=$(grep -o 'retval=[0-9]*' "$tmp/out")
            [ -z "$want" ] && want=$got
            [ "$got" = "$want" ] || fail "$prog $e on ${pkt:0:28}: $got, kernel $want"
        done
    done
done
expect 0 "far load" "$B" run "$tmp/la.o" --prog far_load --hex "${pkts[0]}" --engine jit
has out 'retval=0 ' "a load past the end returns 0"
for e in interp jit; do
    expect 0 "SKF_LL_OFF/SKF_NET_OFF ($e)" "$B" run "$tmp/la.o" --prog tc_net_off --hex 000000000000aabbccddeeff0800450000140000000040110000c0a80001c0a80002 --engine $e
    has out 'retval=1017 ' "UDP through the network header, IPv4 through the MAC header"
done
expect 1 "ld_abs in xdp" "$B" verify "$tmp/la.o" --prog ip_proto --type xdp
has err 'BPF_LD_\[ABS\|IND\] instructions not allowed' "says LD_ABS is not for xdp"

# the command's checks
expect 2 "bad --mark" "$B" run "$tmp/skb.o" --hex "${pkts[0]}" --mark 12x
expect 2 "--mark beyond 32 bits" "$B" run "$tmp/skb.o" --hex "${pkts[0]}" --mark 0x100000000
expect 2 "octal-looking --ifindex" "$B" run "$tmp/skb.o" --hex "${pkts[0]}" --ifindex 010
expect 2 "unknown --type" "$B" verify "$tmp/skb.o" --type nosuch
has err 'unknown program type .nosuch.' "names the bad type"
expect 2 "unknown --section" "$B" verify "$tmp/skb.o" --section nosuch
expect 0 "--section picks one section" "$B" verify "$tmp/skb.o" --section socket
has out '^name=sockf ' "the socket program"
[ "$(wc -l <"$tmp/out")" = 1 ] || fail "--section socket verified more than one program"
# --type: the socket filter's program read as sched_cls is accepted, the tc
# program (which writes mark) as a socket filter is not
expect 1 "tc program as socket_filter" "$B" verify "$tmp/skb.o" --prog fields --type socket_filter
has out 'name=fields rejected type=socket_filter' "rejection names the type"
expect 0 "socket program as sched_cls" "$B" verify "$tmp/skb.o" --prog sockf --type sched_cls
# frames the kernel refuses (under 15 bytes): tc runs them (protocol 0,
# LANGUAGE.md), the types that start at the network header cannot
expect 0 "short tc frame" "$B" run "$tmp/skb.o" --prog fields --hex 0000000000
has out 'retval=2 ' "the tc program sees 5 bytes"
expect 1 "short socket frame" "$B" run "$tmp/skb.o" --prog sockf --hex 0000000000
has err 'needs an Ethernet header' "says why"
exit $((fails > 0))
