#!/usr/bin/env bash
# bpflua verify: per-program lines on acceptance (exit 0), the error line
# with the instruction and source line on rejection (exit 1), --prog,
# --log; bpflua run refuses a rejected program.
set -u
B=${BPFLUA:?set BPFLUA to the bpflua binary}
. "$(dirname "$0")/common.bash"

printf 'mov %%r0, 2\nexit\n' >"$tmp/ok.asm"
printf 'mov %%r0, 1\nmov %%r0, %%r3\nexit\n' >"$tmp/uninit.asm"
printf 'mov %%r0, 0\nadd %%r0, 1\nja -2\nexit\n' >"$tmp/loop.asm"

expect 0 "accepted" "$B" verify "$tmp/ok.asm" && has out '^name=ok verified_insns=[0-9]+ max_insns=2 verify_ns=[0-9]+ type=xdp section=xdp$' "accept line"
expect 1 "uninitialised register" "$B" verify "$tmp/uninit.asm" &&
    { has err '^error: .*R3.* at insn 1 \(.*uninit\.asm:2\)' "reject line";
      has err 'mov %r0, %r3' "the source line is quoted"; }
expect 1 "back-edge" "$B" verify "$tmp/loop.asm" && has err '^error: .* at insn [0-9]+' "back-edge line"
expect 1 "run refuses a rejected program" "$B" run "$tmp/uninit.asm" --hex 000102030405060708090a0b0c0d && has err 'R3' "run shows why"
expect 0 "verify --log" "$B" verify "$tmp/ok.asm" --log
expect 1 "verify --log of a rejection" "$B" verify "$tmp/uninit.asm" --log
[ -s "$tmp/out" ] || fail "--log printed no state trace for a rejection"

# several programs: each is verified; --prog picks one
cat >"$tmp/two.lua" <<'LUA'
license "GPL"
function xdp.first(pkt)
  if #pkt < 1 then return xdp.ABORTED end
  return pkt:u8(0)
end
function xdp.second(pkt)
  return xdp.PASS
end
LUA
if expect 0 "two programs" "$B" verify "$tmp/two.lua"; then
    has out '^name=first ' "first program line"
    has out '^name=second ' "second program line"
    expect 0 "--prog" "$B" verify "$tmp/two.lua" --prog second
    [ "$(grep -c '^name=' "$tmp/out")" = 1 ] || fail "--prog verified more than one program"
    expect 2 "--prog unknown" "$B" verify "$tmp/two.lua" --prog third && has err 'programs: first second' "lists the programs"
fi

if [ "$fails" -ne 0 ]; then
    echo "$fails failure(s)"
    exit 1
fi
echo "cli_verify: all passed"
