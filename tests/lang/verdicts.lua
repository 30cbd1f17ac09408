-- verdicts.lua: any integer is a verdict (the retval is its low 32 bits)
function xdp.negative(pkt) return -1 end
function xdp.big(pkt) return 0x1234567890 end
function xdp.redirect(pkt) return xdp.REDIRECT end
function xdp.computed(pkt) return pkt:u8(0) * 0x1000000 + #pkt end
