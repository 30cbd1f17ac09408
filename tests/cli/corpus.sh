#!/usr/bin/env bash
# The command on objects shaped like real projects' (tests/corpus, built
# by the build into $BPFLUA_BUILD/corpus; test_corpus checks every verdict
# against the kernel): what `bpflua verify` says about a section that names
# no type, a type bpflua does not support, a .text-only object, and that a
# __kconfig extern holds the running kernel's version.
# Skips (77) when the corpus was not built (no clang).
set -u
SRC=${BPFLUA_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
B=${BPFLUA:-$SRC/build/bpflua}
C=${BPFLUA_BUILD:-$SRC/build}/corpus
. "$SRC/tests/cli/common.bash"
[ -f "$C/ovs_tail.o" ] || { echo "SKIP: $C/ovs_tail.o not built (no clang?)"; exit 77; }

# sections named "ingress", "tail-1", "egress": the first type that accepts
expect 0 "OVS-style sections verify" "$B" verify "$C/ovs_tail.o"
has out '^name=dp_actions verified_insns=[0-9]+ .* type=sched_cls section=tail-1$' "tail-1 chosen as sched_cls"
has err "dp_actions: section 'tail-1' names no program type; verified as sched_cls, the first of xdp, sched_cls, kprobe" "the choice is said"
# --type decides instead: tail-1 reads __sk_buff fields XDP lacks
expect 1 "--type xdp is not second-guessed" "$B" verify "$C/ovs_tail.o" --section tail-1 --type xdp
has out 'name=dp_actions rejected type=xdp section=tail-1' "rejected as xdp"
grep -q "names no program type" "$tmp/err" && fail "--type: no guessing message expected"
# rejected under every type: the error of the type that went furthest
expect 1 "unsafe twin rejected" "$B" verify "$C/ovs_tail.unsafe.o" --section tail-1
has err "names no program type; rejected as each of xdp, sched_cls, kprobe, lwt_xmit; this is the error as [a-z_]+, the type verified furthest" "the furthest type's error"
# a helper only the lwt types have: the guess goes on to lwt_xmit
expect 0 "lwt sections verify" "$B" verify "$C/lwt_encap.o"
has out '^name=do_encap_gre verified_insns=[0-9]+ .* type=lwt_xmit section=encap_gre$' "encap_gre chosen as lwt_xmit"
has out '^name=do_len_check verified_insns=[0-9]+ .* type=sched_cls section=len_check$' "len_check stays sched_cls"

# --kernel loads each program with the type bpflua verified it as, also
# one chosen for a section that names none (libbpf cannot tell)
if "$B" verify "$C/xdp_parse.o" --kernel >/dev/null 2>&1; then
    expect 0 "kernel costs of untyped sections" "$B" verify "$C/ovs_tail.o" --kernel
    has out '^name=dp_actions kernel=accepted kernel_insns=[0-9]+ ' "tail-1 loaded as sched_cls"
fi

# perf_event_output from a tc program with the packet's first bytes
# appended (flags: length << 32, as Cilium's drop notifications and OVS's
# upcalls send them): the record is the struct, then the packet
pkt=00112233445566778899aabb0800450000280000000040060000c0a80001c0a800021f9000500000000000000000500200000000000000000000
for e in interp jit; do
    expect 0 "cilium_big runs ($e)" "$B" run "$C/cilium_big.o" --hex "$pkt" --engine "$e"
    has out '^name=handle_xgress retval=2 ' "dropped by policy ($e)"
    has out "^event=events value=0x[0-9a-f]{64}${pkt}" "the packet follows the notification ($e)"
done

# BTF-attached tracing and LSM: a clear error, and their kernel type named
expect 1 "unsupported types are refused" "$B" verify "$C/odd_sections.o"
has out '^name=on_entry rejected type=tracing section=fentry/do_nanosleep$' "fentry is tracing"
has out '^name=on_open rejected type=lsm section=lsm/file_open$' "lsm"
has err "section 'tp_btf/sched_switch' is a program of type tracing, which bpflua does not support" "the reason"

# an object with its only function in .text (as PREVAIL's tests are built)
expect 0 ".text-only object" "$B" verify "$C/text_only.o"
has out '^name=pick .* section=\.text$' "the .text function is the program"

# --section .text of an object whose programs have sections: the .text
# function is verified in the program that calls it (PREVAIL checks such a
# section as a program of its own)
expect 0 ".text subprogram verified in its caller" "$B" verify "$C/xdp_blacklist.o" --section .text
has out '^name=filter_port subprogram section=\.text callers=xdp_blacklist accepted$' "the caller named"
expect 1 ".text subprogram of the unsafe twin" "$B" verify "$C/xdp_blacklist.unsafe.o" --section .text
has out '^name=filter_port subprogram section=\.text callers=xdp_blacklist rejected$' "rejected with its caller"
has err '^xdp_blacklist: error: invalid access to packet' "the caller's error"
expect 2 "a section that is not there" "$B" verify "$C/xdp_blacklist.o" --section .data
has err "no program in section '.data'" "said so"

# iproute2's struct bpf_elf_map with ids, and a map of maps naming its
# template by inner_id: the object reads, every program verifies
expect 0 "bpf_elf_map object" "$B" verify "$C/cilium_legacy.o" --section 2/3
has out '^name=tail_policy verified_insns=[0-9]+ .* type=sched_cls section=2/3$' "2/3 as sched_cls"

# LINUX_KERNEL_VERSION from a __kconfig extern: the running kernel's
head -c 168 /dev/zero >"$tmp/regs.bin"
expect 0 "kconfig program runs" "$B" run "$C/kconfig.o" --ctx "$tmp/regs.bin"
IFS=.- read -r maj min pat _ <<<"$(uname -r)"
want=$(( (maj << 16) + (min << 8) + (pat > 255 ? 255 : pat) ))
has out "retval=$want " "LINUX_KERNEL_VERSION is $(uname -r)"

# verify --kernel on an object the ELF writer cannot write again (global
# data): each program loaded alone from bpflua's reading
if [ "$(id -u)" = 0 ]; then
    expect 0 "verify --kernel with .rodata/.data/.bss" "$B" verify "$C/global_data.o" --kernel
    has out '^name=xdp_cfg kernel=accepted kernel_insns=[1-9][0-9]* ' "the kernel's verdict and count"
    expect 1 "verify --kernel of the twin" "$B" verify "$C/global_data.unsafe.o" --kernel
    has out '^name=xdp_cfg kernel=rejected ' "the kernel rejects the store into .rodata"
fi

# sock_ops runs: sk, skb_data and skb_data_end are the sandbox's whatever
# the --ctx bytes hold there (0xff here): no socket, an empty header
for op in 12 13; do
    python3 -c "import sys; b = bytearray(224); b[0] = $op; b[184:208] = b'\xff' * 24; sys.stdout.buffer.write(b)" >"$tmp/ops.bin"
    for e in interp jit; do
        for p in track_rtt parse_hdr count_flags; do
            expect 0 "sock_ops $p runs (op $op, $e)" "$B" run "$C/sockops_sk.o" --prog $p --ctx "$tmp/ops.bin" --engine $e
            has out "^name=$p retval=[01] " "$p returns"
        done
    done
done

echo "corpus command checks: $fails failures"
[ "$fails" = 0 ]
