-- records.lua: record layout and the bytes of initial map contents
-- (LANGUAGE.md "Records", "More map kinds, and initial contents";
-- docs/internals.md "Records, events and initial contents").
--
--   layout(fields)        fields = { {name=, size=, signed=} ... } in source
--                         order -> sets each field's offset (C alignment:
--                         a field at a multiple of its size) and returns
--                         the size (rounded up to the largest field) and
--                         alignment
--   pack_int(v, size)     the little-endian bytes of v truncated to size
--   pack_record(rec, vals) the bytes of record rec with vals[field name]
--                         (missing fields 0)
--   parse_prefix(s)       "a.b.c.d/len" -> addr (as pkt:be32 reads it), len;
--                         or nil, reason
--   lpm_key(addr, len)    the kernel's { u32 prefixlen; u8 addr[4] } bytes

local string_pack, string_rep, tonumber, ipairs = string.pack, string.rep, tonumber, ipairs

_ENV = nil

local M = {}

function M.layout(fields)
  local off, align = 0, 1
  for _, f in ipairs(fields) do
    local s = f.size
    off = (off + s - 1) // s * s
    f.offset = off
    off = off + s
    if s > align then align = s end
  end
  local size = (off + align - 1) // align * align
  return size, align
end

function M.pack_int(v, size)
  local mask = size == 8 and -1 or ((1 << (size * 8)) - 1)
  return string_pack("<I" .. size, v & mask)
end

function M.pack_record(rec, vals)
  local parts, pos = {}, 0
  for _, f in ipairs(rec.fields) do
    if f.offset > pos then parts[#parts + 1] = string_rep("\0", f.offset - pos) end
    parts[#parts + 1] = M.pack_int(vals[f.name] or 0, f.size)
    pos = f.offset + f.size
  end
  if rec.size > pos then parts[#parts + 1] = string_rep("\0", rec.size - pos) end
  local out = ""
  for _, p in ipairs(parts) do out = out .. p end
  return out
end

function M.parse_prefix(s)
  local a, b, c, d, len = s:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)/(%d+)$")
  if not a then return nil, "not of the form a.b.c.d/len" end
  local bytes = { tonumber(a), tonumber(b), tonumber(c), tonumber(d) }
  for _, x in ipairs(bytes) do
    if x > 255 then return nil, "an address byte is above 255" end
  end
  len = tonumber(len)
  if len > 32 then return nil, "the prefix length is above 32" end
  local addr = (bytes[1] << 24) | (bytes[2] << 16) | (bytes[3] << 8) | bytes[4]
  return addr, len
end

-- host bits are cleared (the kernel's trie would keep them in the entry
-- and show them in dumps, though lookups ignore them)
function M.prefix_mask(len)
  if len == 0 then return 0 end
  return (0xffffffff << (32 - len)) & 0xffffffff
end

function M.lpm_key(addr, len)
  return string_pack("<I4>I4", len, addr & M.prefix_mask(len))
end

return M
