# common.bash - what the command's shell tests share (sourced, not a test:
# ctest runs tests/cli/*.sh only). Gives $tmp (removed on exit), a
# failure count, and:
#   expect RC DESCRIPTION CMD...   run CMD (stdout in $tmp/out, stderr in
#                                  $tmp/err), check its exit status and that
#                                  it did not crash or trip a sanitizer
#   has FILE REGEX DESCRIPTION     $tmp/FILE matches REGEX
#   fail MESSAGE                   count a failure
#   skip REASON                    exit 77 (ctest's skip) with the reason
#   need_clang / need_bpftool / need_root   skip without them
#   CL                             clang's command line for BPF objects
#   kernel_loads OBJ               0 if `bpftool prog load` takes OBJ (pins
#                                  under /sys/fs/bpf/bpflua_<test>_<pid>)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

expect() {
    local want=$1 desc=$2
    shift 2
    "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
    local rc=$?
    if [ "$rc" != "$want" ]; then
        fail "$desc: exit $rc, want $want"
        sed 's/^/  stdout: /' "$tmp/out" | head -5
        sed 's/^/  stderr: /' "$tmp/err" | head -5
        return 1
    fi
    if [ "$rc" -ge 128 ] || grep -q "AddressSanitizer\|runtime error" "$tmp/err"; then
        fail "$desc: crashed or sanitizer report"
        return 1
    fi
    return 0
}

has() {
    if ! grep -Eq -- "$2" "$tmp/$1"; then
        fail "$3: $1 lacks /$2/"
        sed "s/^/  $1: /" "$tmp/$1" | head -5
    fi
}

skip() { echo "SKIP: $*"; exit 77; }
need_clang() { command -v clang >/dev/null || skip "no clang to build the test programs"; }
need_bpftool() { command -v bpftool >/dev/null || skip "no bpftool to ask the kernel"; }
need_root() { [ "$(id -u)" = 0 ] || skip "needs root to load BPF programs"; }
CL=(clang -O2 -g -target bpf -I/usr/include/"$(uname -m)"-linux-gnu)
pin=/sys/fs/bpf/bpflua_$(basename "$0" .sh)_$$
kernel_loads() {
    rm -rf "$pin"
    bpftool prog load "$1" "$pin" >/dev/null 2>&1
    local rc=$?
    rm -rf "$pin"
    return $rc
}
