#!/usr/bin/env bash
# cgroup_sock_addr against the kernel (core/type_sock_addr.c): for each hook
# (connect4/6, sendmsg4/6, recvmsg4, bind6, getsockname4), a one-line
# program per (field, access size, read or write) of struct bpf_sock_addr,
# and per return value 0..3, gets the same verdict from `bpflua verify` as
# from the kernel (bpftool prog load); tests/progtypes/sock_addr.c, a
# socket load balancer's connect4/sendmsg4/recvmsg4 as Cilium writes them,
# loads in both. Skips (77) with the reason without clang, bpftool or bpf(2).
set -u
SRC=${BPFLUA_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
B=${BPFLUA:-$SRC/build/bpflua}
. "$SRC/tests/cli/common.bash"
need_clang
need_bpftool
need_root
prog() { # SECTION BODY -> $tmp/f.o
    printf '#include <linux/bpf.h>\n__attribute__((section("%s"), used)) int f(struct bpf_sock_addr *ctx) { %s }\nchar _license[] __attribute__((section("license"), used)) = "GPL";\n' \
        "$1" "$2" >"$tmp/f.c"
    "${CL[@]}" -c "$tmp/f.c" -o "$tmp/f.o" 2>/dev/null
}
printf '#include <linux/bpf.h>\n__attribute__((section("cgroup/connect4"), used)) int f(struct bpf_sock_addr *c) { return 1; }\nchar _license[] __attribute__((section("license"), used)) = "GPL";\n' >"$tmp/ok.c"
"${CL[@]}" -c "$tmp/ok.c" -o "$tmp/ok.o" || { fail "clang cannot build a cgroup/connect4 program"; exit 1; }
kernel_loads "$tmp/ok.o" || skip "the kernel does not load cgroup_sock_addr programs here"

reads=(
    'return ctx->user_family & 1;' 'return ctx->user_ip4 & 1;' 'return ctx->user_ip6[0] & 1;'
    'return ctx->user_ip6[3] & 1;' 'return ctx->user_port & 1;' 'return ctx->family & 1;'
    'return ctx->type & 1;' 'return ctx->protocol & 1;' 'return ctx->msg_src_ip4 & 1;'
    'return ctx->msg_src_ip6[2] & 1;'
    'return ((volatile __u8 *)&ctx->user_ip4)[1] & 1;' 'return ((volatile __u16 *)&ctx->user_port)[0] & 1;'
    'return ((volatile __u16 *)&ctx->family)[0] & 1;' 'return ((volatile __u8 *)&ctx->user_ip6)[5] & 1;'
    'return *(volatile __u64 *)&ctx->user_ip6[0] & 1;' 'return *(volatile __u64 *)&ctx->user_ip6[2] & 1;'
    'return *(volatile __u64 *)&ctx->user_ip6[1] & 1;' 'return *(volatile __u64 *)&ctx->msg_src_ip6[0] & 1;'
    'return ctx->sk->family & 1;' 'return *(volatile __u32 *)&ctx->sk & 1;'
)
writes=(
    'ctx->user_ip4 = 1; return 1;' 'ctx->user_ip6[1] = 1; return 1;' 'ctx->user_port = 1; return 1;'
    'ctx->family = 1; return 1;' 'ctx->user_family = 1; return 1;' 'ctx->msg_src_ip4 = 1; return 1;'
    'ctx->msg_src_ip6[0] = 1; return 1;' '*(volatile __u64 *)&ctx->user_ip6[2] = 1; return 1;'
    '*(volatile __u16 *)&ctx->user_port = 1; return 1;' 'ctx->protocol = 1; return 1;'
)
n=0
for sec in cgroup/connect4 cgroup/connect6 cgroup/sendmsg4 cgroup/sendmsg6 cgroup/recvmsg4 \
           cgroup/bind6 cgroup/getsockname4; do
    for body in "${reads[@]}" "${writes[@]}" 'return 0;' 'return 1;' 'return 2;' 'return 3;'; do
        prog "$sec" "$body" || continue
        kernel_loads "$tmp/f.o" && k=accept || k=reject
        "$B" verify "$tmp/f.o" >"$tmp/out" 2>"$tmp/err" && o=accept || o=reject
        grep -q "AddressSanitizer\|runtime error" "$tmp/err" && fail "$sec '$body': sanitizer report"
        [ "$k" = "$o" ] || fail "$sec: '$body': kernel ${k}s, bpflua ${o}s ($(head -c 160 "$tmp/err"))"
        n=$((n + 1))
    done
done
[ "$n" -gt 200 ] || fail "only $n cases were built"
echo "cgroup_sock_addr: $n (hook, access) cases agree with the kernel"

"${CL[@]}" -c "$SRC/tests/progtypes/sock_addr.c" -o "$tmp/sa.o" || { fail "cannot build sock_addr.c"; exit 1; }
expect 0 "sock_addr.c verifies" "$B" verify "$tmp/sa.o"
has out '^name=sock4_connect .* type=cgroup_sock_addr section=cgroup/connect4$' "connect4 hook"
has out '^name=sock4_sendmsg .* type=cgroup_sock_addr section=cgroup/sendmsg4$' "sendmsg4 hook"
has out '^name=sock4_recvmsg .* type=cgroup_sock_addr section=cgroup/recvmsg4$' "recvmsg4 hook"
rm -rf "$pin"; mkdir -p "$pin"
bpftool prog loadall "$tmp/sa.o" "$pin" >/dev/null 2>&1 || fail "the kernel refuses sock_addr.c"
rm -rf "$pin"
[ "$fails" = 0 ] && echo "cgroup_sock_addr: all checks passed"
exit $((fails > 0))
