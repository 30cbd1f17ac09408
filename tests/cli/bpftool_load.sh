#!/bin/bash
# Objects written by bpflua load with `bpftool prog loadall` (libbpf's
# loader, as users run it), `bpftool prog dump xlated` shows the source
# lines carried in BTF line info, and `bpftool gen object` (the static
# linker) and `bpftool gen skeleton` accept them. Objects: the clang-built tests/elf/*.o
# rewritten by `bpflua compile X.o`, and, once the compiler is built, every
# example .lua from ../shared and the language tests.
# Exit 77 (skip) without root, bpftool, bpffs or a usable bpf(2).
set -u
BPFLUA=${BPFLUA:?BPFLUA not set}
BUILD=${BPFLUA_BUILD:?BPFLUA_BUILD not set}
SRC=${BPFLUA_SRC:?BPFLUA_SRC not set}

skip() { echo "skip: $*"; exit 77; }
# The test environment preloads the sanitizer runtimes (for stock lua5.4
# loading bpf.so). Nothing here needs them (bpflua links its own); under
# them bash forks slowly and bpftool's dump spins: start again without.
if [ -n "${LD_PRELOAD:-}" ]; then
    exec env -u LD_PRELOAD bash "$0" "$@"
fi
# bpftool must never hang the suite
bpftool() { timeout 60 bpftool "$@"; }
[ "$(id -u)" = 0 ] || skip "not root"
type -P bpftool >/dev/null || skip "no bpftool"
[ -d /sys/fs/bpf ] || skip "no /sys/fs/bpf"
grep -q " /sys/fs/bpf bpf " /proc/mounts || mount -t bpf bpf /sys/fs/bpf 2>/dev/null ||
    skip "bpffs not mounted"

tmp=$(mktemp -d)
pin=/sys/fs/bpf/bpflua_test_$$
cleanup() { rm -rf "$pin" "$tmp"; }
trap cleanup EXIT
trap "exit 1" INT TERM HUP PIPE

probe="$tmp/probe.o"
fail=0
checked=0

# loadall OBJ DIR: as XDP programs, else with the types their sections name
# (tc programs: sched_cls, whose __sk_buff the XDP type cannot read)
loadall() {
    bpftool prog loadall "$1" "$2" type xdp 2>&1 && return
    rm -rf "$2"
    bpftool prog loadall "$1" "$2" 2>&1
}

# load_object OBJ NAME EXPECTED_TEXT: loadall, then look for the text in
# the translated dump of any of its programs
load_object() {
    local obj=$1 name=$2 text=$3
    local dir="$pin/$name" out
    if ! out=$(loadall "$obj" "$dir"); then
        echo "FAIL: bpftool prog loadall $name: $out"
        fail=1
        return
    fi
    local dump=""
    for p in "$dir"/*; do
        dump+=$(bpftool prog dump xlated pinned "$p" 2>&1)
    done
    if [ -n "$text" ] && ! grep -qF -- "$text" <<<"$dump"; then
        echo "FAIL: $name: xlated dump lacks source line '$text'"
        fail=1
    fi
    rm -rf "$dir"
    # bpftool's static linker and skeleton generator take it too, and the
    # linked object still loads
    if ! out=$(bpftool gen object "$tmp/linked.o" "$obj" 2>&1) ||
       ! out=$(loadall "$tmp/linked.o" "$dir"); then
        echo "FAIL: bpftool gen object / load of the linked $name: $out"
        fail=1
    fi
    rm -rf "$dir" "$tmp/linked.o"
    if ! out=$(bpftool gen skeleton "$obj" name "$name" 2>&1 >/dev/null); then
        echo "FAIL: bpftool gen skeleton $name: $out"
        fail=1
    fi
    checked=$((checked + 1))
}

mkdir -p "$pin" || skip "cannot create $pin"

# a first load tells whether the kernel takes programs at all
probe_src="$BUILD/tests/elf/plain.o"
[ -f "$probe_src" ] || probe_src="${SHARED_DIR:-/nonexistent}/examples/progs/01_pass.lua"
[ -f "$probe_src" ] || skip "no object to probe the kernel with"
"$BPFLUA" compile "$probe_src" -o "$probe" >/dev/null 2>&1 ||
    skip "bpflua cannot write $(basename "$probe_src") yet"
bpftool prog loadall "$probe" "$pin/probe" type xdp >/dev/null 2>&1 ||
    skip "bpftool cannot load programs here"
rm -rf "$pin/probe"

declare -A clang_text=(
    [loop_maps]="c->sum += index"
    [plain]="return data[0] == 0xff"
    [multi]="return x * 2"
)
for src in "$BUILD"/tests/elf/*.o; do
    [ -f "$src" ] || continue
    name=$(basename "$src" .o)
    out="$tmp/$name.o"
    if ! msg=$("$BPFLUA" compile "$src" -o "$out" 2>&1); then
        echo "FAIL: bpflua compile $src: $msg"
        fail=1
        continue
    fi
    load_object "$out" "c_$name" "${clang_text[$name]:-}"
    # and through the kernel engine of `bpflua run`
    if [ "$name" = loop_maps ]; then
        head -c 64 /dev/zero >"$tmp/pkt.bin"
        run=$("$BPFLUA" run "$out" --input "$tmp/pkt.bin" --engine kernel 2>&1)
        if ! grep -q "name=count_len retval=2 " <<<"$run"; then
            echo "FAIL: bpflua run --engine kernel: $run"
            fail=1
        fi
    fi
done

# Lua sources, when the compiler is built
lua_sources=()
[ -n "${SHARED_DIR:-}" ] && [ -d "$SHARED_DIR/examples/progs" ] &&
    lua_sources+=("$SHARED_DIR"/examples/progs/*.lua)
compiled_lua=0
for src in "${lua_sources[@]}"; do
    name=$(basename "$src" .lua)
    out="$tmp/$name.o"
    if ! msg=$("$BPFLUA" compile "$src" -o "$out" 2>&1); then
        if grep -q "not built yet" <<<"$msg"; then
            echo "note: the compiler is not built yet: Lua examples not checked"
            break
        fi
        echo "FAIL: bpflua compile $src: $msg"
        fail=1
        continue
    fi
    # the dump shows a line of the .lua file (BTF line info)
    # (an indented statement: top-level locals are constants with no code)
    first_line=$(grep -m1 -E '^\s+(return|if|for|local)\b' "$src" | sed -e 's/^\s*//' | cut -c1-20)
    load_object "$out" "lua_$name" "$first_line"
    compiled_lua=$((compiled_lua + 1))
done

# The language tests too. Those whose compile fails are the compiler's
# business (noted, not failed). Every one loads within the kernel budget
# of tests/spec/kernel_budget_spec.lua (for_faults.lua, once left out
# here, takes the kernel 72 instructions now).
if [ "$compiled_lua" -gt 0 ]; then
    for src in "$SRC"/tests/lang/*.lua; do
        name=$(basename "$src" .lua)
        case $name in prelude|difftest|packets) continue ;; esac
        out="$tmp/lang_$name.o"
        if ! "$BPFLUA" compile "$src" -o "$out" >/dev/null 2>&1; then
            echo "note: tests/lang/$name.lua does not compile"
            continue
        fi
        load_object "$out" "lang_$name" ""
        compiled_lua=$((compiled_lua + 1))
    done
fi

echo "$checked objects loaded by bpftool ($compiled_lua from Lua)"

# Kernel parity: each example on each packet through `bpflua run --engine
# kernel` gives the verdicts of expected.tsv (what the interpreter must give).
expected="${SHARED_DIR:-}/examples/expected.tsv"
if [ "$compiled_lua" -gt 0 ] && [ -f "$expected" ]; then
    rows=0
    declare -A seen_run=()
    while IFS=$'\t' read -r file packet name retval; do
        [ "$file" = program ] && continue
        obj="$tmp/$(basename "$file" .lua).o"
        [ -f "$obj" ] || continue
        key="$file/$packet"
        if [ -z "${seen_run[$key]+x}" ]; then
            seen_run[$key]=$("$BPFLUA" run "$obj" --input "$SHARED_DIR/examples/packets/$packet" \
                               --engine kernel 2>&1)
        fi
        if ! grep -q "^name=$name retval=$retval " <<<"${seen_run[$key]}"; then
            echo "FAIL: kernel run of $file $name on $packet: want retval=$retval, got: ${seen_run[$key]}"
            fail=1
        fi
        rows=$((rows + 1))
    done <"$expected"
    echo "$rows example verdicts checked in the kernel"
fi
[ "$checked" -gt 0 ] || skip "no objects to check"
exit $fail
