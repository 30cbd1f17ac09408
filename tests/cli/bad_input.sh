#!/usr/bin/env bash
# Hostile input: every case must end with its clear error and exit code,
# never a crash, a Lua traceback or a sanitizer report.
#   check EXIT REGEX -- COMMAND...   (REGEX is matched against stderr+stdout)
set -u
B=${BPFLUA:?set BPFLUA to the bpflua binary}
SRC=${BPFLUA_SRC:-.}
BAD=$SRC/tests/bad
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0 fail=0

check() {
  local want=$1 re=$2; shift 3
  local out rc
  out=$("$@" 2>&1); rc=$?
  if [ "$rc" != "$want" ]; then
    echo "FAIL (exit $rc, want $want): $*"; echo "$out" | head -5; fail=$((fail + 1)); return
  fi
  if ! grep -Eq -- "$re" <<<"$out"; then
    echo "FAIL (no /$re/): $*"; echo "$out" | head -5; fail=$((fail + 1)); return
  fi
  if grep -Eq "AddressSanitizer|runtime error:|stack traceback|Segmentation|\.lua:[0-9]+: (bad argument|attempt to)" <<<"$out"; then
    echo "FAIL (crash or internal error): $*"; echo "$out" | head -8; fail=$((fail + 1)); return
  fi
  pass=$((pass + 1))
}

ok_prog=$T/ok.lua
printf 'function xdp.f(pkt)\n  if #pkt < 1 then return 7 end\n  return pkt:u8(0)\nend\n' > "$ok_prog"

# ---- DSL sources ------------------------------------------------------------------
check 1 "defines no program"     -- "$B" compile "$BAD/src/empty.lua" -o "$T/o.o"
check 1 "defines no program"     -- "$B" compile "$BAD/src/no_program.lua" -o "$T/o.o"
check 2 "not a text file"        -- "$B" compile "$BAD/src/nul_byte.lua" -o "$T/o.o"
check 0 "1 program"              -- "$B" compile "$BAD/src/utf8_comment.lua" -o "$T/o.o"
check 1 "utf8_ident.lua:2:8: error" -- "$B" compile "$BAD/src/utf8_ident.lua" -o "$T/o.o"
check 1 "huge_literal.lua:2:10: error" -- "$B" compile "$BAD/src/huge_literal.lua" -o "$T/o.o"
check 1 "unclosed.lua:2:12: error: expected '\)'" -- "$B" compile "$BAD/src/unclosed.lua" -o "$T/o.o"
check 1 "unfinished string"      -- "$B" compile "$BAD/src/unterminated_string.lua" -o "$T/o.o"
# 5000 nested parentheses: a clear error, not an LPeg or C stack overflow
lua5.4 -e 'io.write("function xdp.f(pkt) return " .. ("("):rep(5000) .. "1" .. (")"):rep(5000) .. " end\n")' > "$T/deep_parens.lua"
check 1 "deep_parens.lua:1:[0-9]+: error: .*(nest|deep)" -- "$B" compile "$T/deep_parens.lua" -o "$T/o.o"
# 300 nested ifs
lua5.4 -e 'io.write("function xdp.f(pkt)\n", ("if #pkt > 0 then\n"):rep(300), "return 1\n", ("end\n"):rep(300), "return 2\nend\n")' > "$T/deep_ifs.lua"
check 1 "deep_ifs.lua:[0-9]+:[0-9]+: error: .*(nest|deep)" -- "$B" compile "$T/deep_ifs.lua" -o "$T/o.o"
# a 1 MB comment line compiles; a 250,000-term expression is refused clearly
lua5.4 -e 'io.write("-- ", ("x"):rep(1 << 20), "\nfunction xdp.f(pkt) return 2 end\n")' > "$T/long_comment.lua"
check 0 "1 program"              -- "$B" compile "$T/long_comment.lua" -o "$T/o.o"
lua5.4 -e 'io.write("function xdp.f(pkt) return 0", (" + 1"):rep(250000), " end\n")' > "$T/long_expr.lua"
check 1 "long_expr.lua:1:[0-9]+: error: .*(nest|deep|complex)" -- "$B" compile "$T/long_expr.lua" -o "$T/o.o"
check 2 "cannot|No such"         -- "$B" compile "$T/missing.lua"
check 2 "cannot|directory"       -- "$B" compile "$T"

# ---- packets -------------------------------------------------------------------
check 0 "retval=7"               -- "$B" run "$ok_prog" --hex "" --engine interp
head -c 70000 /dev/zero | tr '\0' '\5' > "$T/big.bin"
check 0 "retval=5"               -- "$B" run "$ok_prog" --input "$T/big.bin" --engine interp
check 2 "hex"                    -- "$B" run "$ok_prog" --hex "zz"
check 2 "hex"                    -- "$B" run "$ok_prog" --hex "abc"
check 2 "cannot|No such"         -- "$B" run "$ok_prog" --input "$T/none.bin"
head -c 100 /dev/urandom > "$T/garbage.pcap"
check 2 "pcap"                   -- "$B" run "$ok_prog" --pcap "$T/garbage.pcap"

# ---- ELF and .data files ------------------------------------------------------
head -c 4096 /dev/urandom > "$T/garbage.o"
check 2 "ELF|elf"               -- "$B" verify "$T/garbage.o"
printf '\177ELF' > "$T/short.o"
check 2 "elf"                    -- "$B" run "$T/short.o" --hex 00
printf -- '-- asm\nfrobnicate %%r0, 1\nexit\n-- result\n0x0\n' > "$T/bad.data"
check 1 ":2: .*frobnicate"       -- "$B" conformance "$T/bad.data"
printf -- '-- asm\nmov %%r11, 1\nexit\n-- result\n0x0\n' > "$T/badreg.data"
check 1 ":2: .*r11|register"     -- "$B" conformance "$T/badreg.data"

# ---- command line ----------------------------------------------------------------
check 2 "unknown command"        -- "$B" frobnicate
check 2 "unknown|option"         -- "$B" run "$ok_prog" --frob
check 2 "engine"                 -- "$B" run "$ok_prog" --hex 00 --engine warp
check 2 "repeat"                 -- "$B" run "$ok_prog" --hex 00 --repeat 0
check 2 "repeat"                 -- "$B" run "$ok_prog" --hex 00 --repeat abc
check 2 "needs|requires|missing|expects" -- "$B" run "$ok_prog" --hex
check 2 "usage|packet"           -- "$B" run "$ok_prog"
check 2 "usage"                  -- "$B" compile
check 2 "no program|prog"        -- "$B" run "$ok_prog" --hex 00 --prog nope

echo "bad input: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
