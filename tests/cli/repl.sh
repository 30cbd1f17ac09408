#!/usr/bin/env bash
# The REPL: driven through a pseudo-terminal (util-linux `script`), where
# libedit edits lines and keeps ~/.bpflua_history, and through a pipe, where
# it reads plain lines. Checks expressions, multi-line blocks, accumulating
# definitions, maps that persist, the commands, and that errors (shown with
# the caret layout) never end the session.
set -u
B=${BPFLUA:?set BPFLUA to the bpflua binary}
SRC=${BPFLUA_SRC:-$(dirname "$0")/../..}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
has() { grep -Fq -- "$2" "$1" || { fail "$3: no '$2'"; sed 's/^/  | /' "$1" | head -40; }; }
hasnt() { ! grep -Fq -- "$2" "$1" || fail "$3: unexpected '$2'"; }

if ! printf 'license "GPL"\nfunction xdp.p(pkt)\n  return 2\nend\n' >"$tmp/probe.lua" ||
   ! "$B" run "$tmp/probe.lua" --hex 000102030405060708090a0b0c0d --engine interp >/dev/null 2>&1; then
    echo "the compiler or engine cannot run a program yet; skipped"
    exit 77
fi

# ---- through a pipe: no prompts, plain lines ------------------------------------
cat >"$tmp/session" <<'IN'
1 + 2
#pkt
pkt:be16(12)
local hits = map.hash { key = u32, value = u64, max_entries = 64 }
hits[7] = (hits[7] or 0) + 5
hits[7] = (hits[7] or 0) + 5
(hits[7] or 0)
:maps
local LIMIT = 40
if #pkt > LIMIT then
  return xdp.DROP
end
x = = 1
for i = 0, 3 do
  hits[i] = i * 10
end
(hits[3] or 0)
local function double(v)
  return v * 2
end
double(21)
function xdp.ttl(pkt)
  return pkt:u8(22)
end
:run ttl
:verify
:disasm ttl
:packet 0102030405060708090a0b0c0d0e0f
#pkt
pkt:set_u8(0, 0xff)
pkt:u8(0)
:packet
:engine interp
:engine warp
:frobnicate
:pcap PCAP 3
#pkt
:defs
:reset
:maps
:help
:quit
1 + 1
IN
sed -i "s|PCAP|$SRC/examples/traffic.pcap|" "$tmp/session"
HOME="$tmp" "$B" repl <"$tmp/session" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" = 1 ] || fail "piped session with errors: exit $rc, want 1"
grep -q "AddressSanitizer\|runtime error" "$tmp/err" && fail "sanitizer report"
hasnt "$tmp/out" "bpflua>" "no prompts without a terminal"
# expected stdout, line by line, for the deterministic parts
cat >"$tmp/want" <<'OUT'
3
60 (0x3c)
2048 (0x800)
10 (0xa)
hits: [7]=10
XDP_DROP (1)
30 (0x1e)
42 (0x2a)
64
OUT
head -n 9 "$tmp/out" >"$tmp/got"
diff -u "$tmp/want" "$tmp/got" || fail "piped session: first results differ"
has "$tmp/out" "name=ttl verified_insns=" ":verify of a defined program"
has "$tmp/out" "return pkt:u8(22)" ":disasm interleaves the source"
has "$tmp/out" "packet set (15 bytes)" ":packet HEX"
has "$tmp/out" "(packet rewritten)" "a statement rewrites the packet"
has "$tmp/out" "255 (0xff)" "the rewritten packet is current"
has "$tmp/out" "  ff 02 03 04" ":packet shows the packet"
has "$tmp/out" "engine interp" ":engine"
has "$tmp/out" "packet 3 of 48 from" ":pcap FILE N"
has "$tmp/out" "function xdp.ttl(pkt)" ":defs"
has "$tmp/out" "definitions and maps cleared" ":reset"
has "$tmp/out" "no maps defined" ":maps after :reset"
has "$tmp/out" ":packet [HEX]" ":help"
hasnt "$tmp/out" "2 (0x2)" "nothing runs after :quit"
has "$tmp/err" "repl:1:" "errors name the line typed"
has "$tmp/err" "x = = 1" "errors quote the line"
has "$tmp/err" "^" "errors underline with carets"
has "$tmp/err" "unknown engine 'warp'" "bad :engine"
has "$tmp/err" "unknown command ':frobnicate'" "unknown command"
[ -e "$tmp/.bpflua_history" ] && fail "history written without a terminal"

printf '1 + 1\n' | "$B" >"$tmp/out2" 2>&1
[ $? = 0 ] || fail "a clean piped session should exit 0"
has "$tmp/out2" "2" "bpflua without arguments is the REPL"
printf 'if true then\n' | "$B" repl >"$tmp/out3" 2>&1
[ $? = 1 ] || fail "incomplete input at EOF should exit 1"
has "$tmp/out3" "incomplete input" "incomplete input message"

# ---- :load a source file, step through a capture with :next ----------------------
printf ':engine interp\n:load %s\n:pcap %s 3\n:run filter\n:next\n:run filter\n:maps\n' \
    "$SRC/examples/filter.lua" "$SRC/examples/traffic.pcap" | "$B" repl >"$tmp/lout" 2>&1
cat >"$tmp/lwant" <<OUT
engine interp
loaded $SRC/examples/filter.lua: filter
packet 3 of 48 from $SRC/examples/traffic.pcap (55 bytes)
XDP_DROP (1)
packet 4 of 48 from $SRC/examples/traffic.pcap (74 bytes)
XDP_PASS (2)
protocols: [1]=1 [17]=1
talkers: [167772163]=55 [3232235796]=74
drops: [1]=1
OUT
diff -u "$tmp/lwant" "$tmp/lout" || fail ":load / :pcap / :next session"

# ---- version 1: events, record and LPM maps as --dump-maps shows them, tc ---------
cat >"$tmp/v1" <<'IN'
:engine interp
local R = record { a = u8, b = i16 }
local m = map.hash { key = R, value = R, max_entries = 4, init = { [R { a = 1 }] = R { b = -2 } } }
local l = map.lpm { value = u8, max_entries = 4, init = { ["10.0.0.0/8"] = 3 } }
local big = map.hash { key = u32, value = u64, max_entries = 2, init = { [1] = -1 } }
local ev = map.ringbuf { size = 4096 }
ev:emit(R { a = 5, b = -1 })
m[R { a = 2 }] = R { a = 3 }
:maps
function tc.t(pkt)
  pkt.mark = 5
  return tc.SHOT
end
:run t
IN
"$B" repl <"$tmp/v1" >"$tmp/v1out" 2>&1
cat >"$tmp/v1want" <<'OUT'
engine interp
event=ev {a=5,b=-1}
m: [{a=1,b=0}]={a=0,b=-2} [{a=2,b=0}]={a=3,b=0}
l: [10.0.0.0/8]=3
big: [1]=18446744073709551615
TC_ACT_SHOT (2) mark=5 priority=0
OUT
diff -u "$tmp/v1want" "$tmp/v1out" || fail "version 1 session (events, :maps of records and prefixes, tc)"

# ---- the kernel engine keeps map contents too (where bpf(2) works) ---------------
if "$B" run "$tmp/probe.lua" --hex 000102030405060708090a0b0c0d --engine kernel >/dev/null 2>&1; then
    printf ':engine kernel\nlocal c = map.array { value = u64, max_entries = 2 }\nc[0] = (c[0] or 0) + 1\nc[0] = (c[0] or 0) + 1\n(c[0] or 0)\n:maps\n:engine interp\n(c[0] or 0)\n' |
        "$B" repl >"$tmp/kout" 2>&1
    printf 'engine kernel\n2\nc: [0]=2\nengine interp\n2\n' >"$tmp/kwant"
    diff -u "$tmp/kwant" "$tmp/kout" || fail "kernel engine session"
else
    echo "note: kernel engine unavailable: its REPL part skipped"
fi

# ---- through a pseudo-terminal: libedit and history ---------------------------------
if command -v script >/dev/null 2>&1; then
    printf '1 + 2\nif #pkt > 10 then\n  return xdp.TX\nend\nx = = 1\n6 * 7\n:quit\n' >"$tmp/tty.in"
    HOME="$tmp" TERM=dumb timeout 60 script -qec "$B repl" /dev/null <"$tmp/tty.in" >"$tmp/tty.out" 2>&1
    rc=$?
    [ "$rc" = 0 ] || fail "pty session: exit $rc"
    tr -d '\r' <"$tmp/tty.out" >"$tmp/tty.txt"
    has "$tmp/tty.txt" "bpflua> " "prompt on a terminal"
    has "$tmp/tty.txt" "  ...> " "continuation prompt for a block"
    has "$tmp/tty.txt" "XDP_TX (3)" "a block runs once complete"
    has "$tmp/tty.txt" "^" "caret layout on a terminal"
    has "$tmp/tty.txt" "42 (0x2a)" "the session goes on after an error"
    if [ -f "$tmp/.bpflua_history" ]; then
        has "$tmp/.bpflua_history" "6" "history holds the lines"
        # a second session sees the history file grow, not reset
        before=$(wc -l <"$tmp/.bpflua_history")
        printf '5 + 5\n:quit\n' | HOME="$tmp" TERM=dumb timeout 60 script -qec "$B" /dev/null >/dev/null 2>&1
        after=$(wc -l <"$tmp/.bpflua_history")
        [ "$after" -gt "$before" ] || fail "history is not persistent ($before -> $after lines)"
    else
        fail "no ~/.bpflua_history after a terminal session"
    fi
else
    echo "note: no 'script' command: pseudo-terminal part skipped"
fi

if [ "$fails" -ne 0 ]; then
    echo "$fails failure(s)"
    exit 1
fi
echo "repl: all passed"
