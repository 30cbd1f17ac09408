# count.asm - the counting filter of tests/cli/attach.sh as bpflua assembly
# (a bpflua object, so `bpflua attach` loads it through the kernel loader).
# counts[0]: IPv4 UDP packets to port 9999; everything passes.
.map counts array key=4 value=8 entries=2
  ldxw %r2, [%r1+0]
  ldxw %r3, [%r1+4]
  mov %r4, %r2
  add %r4, 38
  jgt %r4, %r3, pass
  ldxh %r5, [%r2+12]
  jne %r5, 0x0008, pass
  ldxb %r5, [%r2+23]
  jne %r5, 17, pass
  ldxh %r5, [%r2+36]
  jne %r5, 0x0f27, pass
  stw [%r10-4], 0
  lddw %r1, map:counts
  mov %r2, %r10
  add %r2, -4
  call 1
  jeq %r0, 0, pass
  mov %r1, 1
  lock add [%r0+0], %r1
pass:
  mov %r0, 2
  exit
