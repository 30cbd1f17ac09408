function xdp.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx(pkt) return 3 end
-- error: 1:10: program name 'xxxxxxxxxxxxxxxxxxxx...' is longer than 48 bytes
