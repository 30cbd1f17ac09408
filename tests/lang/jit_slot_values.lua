-- jit_slot_values.lua: loops whose bounds and null tests go through the
-- compiler's slots: a record map value updated in the loop (its pointer
-- reloaded and tested against nil in every iteration), the index kept in
-- a slot and read back before the packet checks. Loop versioning reads
-- the value stored in a slot on the way (jit/loop_checks.c) and takes
-- `p == nil` as a test it can settle before the loop.
license "GPL"

local Stats = record { bytes = u64, zeros = u64, high = u64 }
local stats = map.array { value = Stats, max_entries = 4 }
local other = map.hash { key = u32, value = Stats, max_entries = 4 }

function xdp.rec_loop(pkt)
  local st = stats[0]
  if not st then return xdp.ABORTED end
  st.bytes, st.zeros, st.high = 0, 0, 0
  for i = 0, #pkt - 1 do
    local b = pkt:u8(i)
    st.bytes = st.bytes + b
    if b == 0 then
      st.zeros = st.zeros + 1
    elseif b >= 128 then
      st.high = st.high + 1
    end
  end
  return (st.bytes + st.zeros * 7 + st.high * 3) & 0xffffff
end

-- a constant bound broken at the length, read two bytes on
function xdp.rec_break(pkt)
  local st = stats[1]
  if not st then return xdp.ABORTED end
  st.bytes, st.high = 5, 0
  for i = 0, 99 do
    if i + 2 > #pkt then break end
    st.bytes = st.bytes * 3 + pkt:u8(i + 1)
    if pkt:u8(i) > 200 then st.high = st.high + i end
  end
  return (st.bytes ~ st.high) & 0xffffff
end

-- a hash map's record (absent: nil, the loop never touches it)
function xdp.rec_maybe(pkt)
  local n = 0
  if #pkt > 3 then other[7] = Stats { bytes = pkt:u8(3) } end
  local st = other[7]
  for i = 0, #pkt - 1 do
    if st then
      st.bytes = st.bytes + pkt:u8(i)
      n = n + 1
    end
  end
  local r = n
  if st then r = r + st.bytes * 16 end
  other[7] = nil
  return r & 0xffffff
end

-- the record returned from inside the loop at a byte
function xdp.rec_return(pkt)
  local st = stats[2]
  if not st then return xdp.ABORTED end
  st.zeros = 0
  for i = 0, #pkt - 1 do
    local b = pkt:u8(i)
    if b == 0 then return st.zeros + i end
    st.zeros = st.zeros + b
  end
  return (st.zeros + 1) & 0xffffff
end
