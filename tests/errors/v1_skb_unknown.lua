-- a packet field that does not exist (spelled as Lua would let it be)
function tc.a(pkt) return pkt.len end
function tc.b(pkt) return pkt.Mark end
-- error: 2:27: the packet has no field 'len'
-- error: 3:27: the packet has no field 'Mark'
