-- print.lua: print compiles to bpf_trace_printk; the verdict is unaffected
function xdp.prints(pkt)
  print("hello")
  print("len=%d", #pkt)
  print("a=%u b=%x c=%d", pkt:u8(0), pkt:u8(1), -5)
  print("100%% sure %lld", 1)
  return 2
end
