#!/usr/bin/env bash
# rockspec/bpflua-scm-1.rockspec: `luarocks make` into a temporary tree
# builds and installs bpf.so, the compiler's bpflua.* modules and the
# bpflua command, and stock lua5.4 can then compile and run a program.
# The source is copied first so the shared tree gets no build.luarocks.
set -u
SRC=${BPFLUA_SRC:?set BPFLUA_SRC to the source tree}
command -v luarocks >/dev/null 2>&1 || { echo "no luarocks: skipped"; exit 77; }
command -v lua5.4 >/dev/null 2>&1 || { echo "no lua5.4: skipped"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/src" "$tmp/tree"
tar -C "$SRC" --exclude='./build*' --exclude='./.git' --exclude='./lua_modules' -cf - . | tar -C "$tmp/src" -xf -

# the sanitizer runtimes that ctest preloads would leak into the build tools
unset LD_PRELOAD
export CMAKE_BUILD_PARALLEL_LEVEL=2
if ! (cd "$tmp/src" && luarocks --lua-version 5.4 --tree "$tmp/tree" make --deps-mode=none \
        rockspec/bpflua-scm-1.rockspec) >"$tmp/log" 2>&1; then
    echo "FAIL: luarocks make"
    tail -30 "$tmp/log"
    exit 1
fi

fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
cdir=$(find "$tmp/tree" -name bpf.so -printf '%h\n' | head -1)
ldir=$(find "$tmp/tree" -path '*/bpflua/compiler.lua' -printf '%h\n' | head -1)
[ -n "$cdir" ] || fail "bpf.so was not installed"
[ -n "$ldir" ] || fail "the compiler's modules were not installed as bpflua/*.lua"
[ -x "$tmp/tree/bin/bpflua" ] || fail "the bpflua command was not installed"
[ "$fails" -eq 0 ] || exit 1
ldir=$(dirname "$ldir")

cat >"$tmp/use.lua" <<'LUA'
local bpf = require "bpf"
-- the installed compiler modules are found on package.path too
assert(package.searchpath("bpflua.compiler", package.path), "bpflua.compiler not on package.path")
local p = bpf.compile([[
license "GPL"
local seen = map.array { value = u64, max_entries = 1 }
function xdp.len(pkt)
  seen[0] = (seen[0] or 0) + 1
  return #pkt
end
]], { name = "len.lua" })
local ret = p:run(("x"):rep(42), { engine = "interp" })
assert(ret == 42, "run returned " .. tostring(ret))
assert(p.maps.seen[0] == 1)
assert(p:verify())
print("module ok " .. bpf.version)
LUA
out=$(LUA_CPATH="$cdir/?.so;;" LUA_PATH="$ldir/?.lua;;" lua5.4 "$tmp/use.lua" 2>&1)
[ "${out#module ok}" != "$out" ] || fail "stock lua5.4 with the installed module: $out"
"$tmp/tree/bin/bpflua" --version | grep -q '^bpflua ' || fail "installed bpflua --version"
printf 'license "GPL"\nfunction xdp.p(pkt)\n  return xdp.DROP\nend\n' >"$tmp/p.lua"
"$tmp/tree/bin/bpflua" run "$tmp/p.lua" --hex 000102030405060708090a0b0c0d --engine interp | grep -q 'retval=1 ' ||
    fail "installed bpflua cannot compile and run a program"
[ -e "$SRC/build.luarocks" ] && fail "the build left build.luarocks in the source tree"

if [ "$fails" -ne 0 ]; then
    exit 1
fi
echo "rockspec: all passed"
