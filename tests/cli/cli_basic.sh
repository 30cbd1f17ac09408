#!/usr/bin/env bash
# The bpflua command's dispatch, help texts, version and usage errors:
# every subcommand answers --help with exit 0, bad flags and missing or
# unreadable files give exit 2 with a message on stderr, never a crash.
set -u
B=${BPFLUA:?set BPFLUA to the bpflua binary}
. "$(dirname "$0")/common.bash"

expect 0 "--version" "$B" --version && has out '^bpflua [0-9]+\.[0-9]+\.[0-9]+' "version line"
expect 0 "--help" "$B" --help && has out 'usage: bpflua' "usage text"
expect 0 "help run" "$B" help run && has out 'usage: bpflua run' "help run"
expect 2 "help of an unknown command" "$B" help frobnicate
for cmd in compile verify run disasm conformance repl attach detach bench; do
    expect 0 "$cmd --help" "$B" "$cmd" --help && has out "usage: bpflua" "$cmd --help"
done
expect 2 "unknown command" "$B" frobnicate && has err "unknown command 'frobnicate'" "unknown command message"
expect 2 "unknown global option" "$B" --frob && has err "unknown option" "unknown option message"

# usage errors per subcommand
expect 2 "compile without a file" "$B" compile && has err 'no source file' "compile usage"
expect 2 "compile with two files" "$B" compile a.lua b.lua
expect 2 "compile -o without value" "$B" compile x.lua -o && has err "needs a value" "missing -o value"
expect 2 "verify bad flag" "$B" verify --bogus x.o && has err "unknown option '--bogus'" "verify bad flag"
expect 2 "verify without a file" "$B" verify
expect 2 "disasm without a file" "$B" disasm
expect 2 "run without a file" "$B" run --hex 00
expect 2 "run without a packet" "$B" run x.lua && has err 'no packet' "run needs a packet"
expect 2 "run with two packet sources" "$B" run x.lua --hex 00 --input y
expect 2 "run bad engine" "$B" run x.lua --hex 00 --engine fast && has err "unknown engine 'fast'" "bad engine"
expect 2 "run bad repeat" "$B" run x.lua --hex 00 --repeat 0
expect 2 "run non-numeric repeat" "$B" run x.lua --hex 00 --repeat lots
expect 2 "run bad max-insns" "$B" run x.lua --hex 00 --max-insns -5
expect 2 "run bad hex" "$B" run x.lua --hex 0g && has err "not a hex digit" "bad hex message"
expect 2 "run odd hex" "$B" run x.lua --hex abc && has err "odd number" "odd hex message"
expect 2 "conformance without files" "$B" conformance
expect 2 "conformance kernel engine" "$B" conformance --engine kernel x.data
expect 2 "repl with arguments" "$B" repl extra

# missing and unreadable inputs
for cmd in compile verify disasm; do
    expect 2 "$cmd missing file" "$B" "$cmd" "$tmp/nope.lua" && has err "cannot open" "$cmd missing file message"
done
expect 2 "run missing program" "$B" run "$tmp/nope.o" --hex 000102030405060708090a0b0c0d
expect 2 "run missing packet file" "$B" run "$tmp/nope.o" --input "$tmp/nope.bin" && has err "cannot open" "missing packet message"
expect 2 "verify a directory" "$B" verify "$tmp" && has err "is a directory" "directory message"
head -c 3000 /dev/urandom >"$tmp/garbage.o"
expect 2 "verify garbage" "$B" verify "$tmp/garbage.o"
printf '\177ELF garbage that is not an object' >"$tmp/fake.o"
expect 2 "verify a fake ELF" "$B" verify "$tmp/fake.o"
expect 2 "disasm a fake ELF" "$B" disasm "$tmp/fake.o"
: >"$tmp/empty.o"
expect 2 "run an empty file" "$B" run "$tmp/empty.o" --hex 000102030405060708090a0b0c0d
printf 'x\0y' >"$tmp/binary.lua"
expect 2 "compile a binary .lua" "$B" compile "$tmp/binary.lua" && has err "not a text file" "binary source"

if [ "$fails" -ne 0 ]; then
    echo "$fails failure(s)"
    exit 1
fi
echo "cli_basic: all passed"
