-- compiler.lua: the entry point. compile(source, filename) runs the passes
--   grammar.parse -> check.check -> codegen.generate (-> emit.link)
-- and returns the table documented in docs/internals.md ("Compiler output"),
-- or nil, message, errors where message is every error formatted as
--   file:line:col: error: msg
--     <the source line>
--     <caret underline>
--   hint: ...
-- and errors is the list {line, col, end_col, msg, hint}, sorted and
-- de-duplicated.

local grammar = require "bpflua.grammar"
local ast = require "bpflua.ast"
local check = require "bpflua.check"
local codegen = require "bpflua.codegen"
local inline = require "bpflua.inline"

local type, ipairs, pcall, error, tostring, table_sort, table_concat, math_max, math_min, string_format =
  type, ipairs, pcall, error, tostring, table.sort, table.concat, math.max, math.min, string.format

_ENV = nil

local M = {}

-- bpflua's own maps: the hidden per-CPU count of dropped events
local RESERVED = "__bpflua"
local DROPS_MAP = "__bpflua_drops"

-- line starts of a source, and pos -> line, col
local function line_index(source)
  local starts = { 1 }
  for p in source:gmatch "()\n" do starts[#starts + 1] = p + 1 end
  local function line_col(pos)
    local lo, hi = 1, #starts
    while lo < hi do
      local mid = (lo + hi + 1) // 2
      if starts[mid] <= pos then lo = mid else hi = mid - 1 end
    end
    return lo, pos - starts[lo] + 1
  end
  local function line_text(n)
    local s = starts[n]
    if not s then return "" end
    local e = (starts[n + 1] or (#source + 2)) - 2
    return (source:sub(s, e):gsub("\r$", ""))
  end
  return line_col, line_text
end

local function format_errors(errs, source, filename)
  local line_col, line_text = line_index(source)
  local list = {}
  for _, e in ipairs(errs) do
    local pos = math_min(math_max(e.pos or 1, 1), #source + 1)
    local line, col = line_col(pos)
    local end_pos = e.end_pos or (pos + 1)
    local eline, ecol = line_col(math_max(end_pos - 1, pos))
    local end_col = (eline == line) and ecol or #line_text(line)
    if end_col < col then end_col = col end
    list[#list + 1] = { line = line, col = col, end_col = end_col, msg = e.msg, hint = e.hint }
  end
  table_sort(list, function(a, b)
    if a.line ~= b.line then return a.line < b.line end
    if a.col ~= b.col then return a.col < b.col end
    return a.msg < b.msg
  end)
  local out, seen = {}, {}
  for _, e in ipairs(list) do
    local key = e.line .. ":" .. e.col .. ":" .. e.msg
    if not seen[key] then
      seen[key] = true
      out[#out + 1] = e
    end
  end
  local text = {}
  for _, e in ipairs(out) do
    local src = line_text(e.line)
    local pad = src:sub(1, e.col - 1):gsub("[^\t]", " ")
    text[#text + 1] = filename .. ":" .. e.line .. ":" .. e.col .. ": error: " .. e.msg .. "\n"
      .. "  " .. src .. "\n"
      .. "  " .. pad .. ("^"):rep(math_max(1, e.end_col - e.col + 1))
      .. (e.hint and ("\n  hint: " .. e.hint) or "")
  end
  return table_concat(text, "\n") .. "\n", out
end

M.format_errors = format_errors

local MAX_NESTING = 40 -- LPeg nests about 4 capture levels per bracket or block (limit 200)
local openers = { ["function"] = true, ["if"] = true, ["do"] = true, ["repeat"] = true }
local closers = { ["end"] = true, ["until"] = true }

-- A quick scan before parsing: the position where brackets and blocks nest
-- deeper than MAX_NESTING (LPeg and the recursive passes have limits), or nil.
local function too_deep(source)
  local i, n, depth = 1, #source, 0
  while true do
    i = source:find("[%-%[\"'%(%){}%]%a_]", i)
    if not i then return nil end
    local c = source:sub(i, i)
    if c == "-" then
      if source:sub(i + 1, i + 1) == "-" then
        local eq = source:match("^%[(=*)%[", i + 2)
        if eq then
          local _, e = source:find("]" .. eq .. "]", i, true)
          i = (e or n) + 1
        else
          i = (source:find("\n", i, true) or n) + 1
        end
      else
        i = i + 1
      end
    elseif c == '"' or c == "'" then
      local j = i + 1
      while j <= n do
        local d = source:sub(j, j)
        if d == "\\" then j = j + 1 elseif d == c or d == "\n" then break end
        j = j + 1
      end
      i = j + 1
    elseif c == "[" and source:match("^%[=*%[", i) then
      local eq = source:match("^%[(=*)%[", i)
      local _, e = source:find("]" .. eq .. "]", i, true)
      i = (e or n) + 1
    elseif c == "(" or c == "[" or c == "{" then
      depth = depth + 1
      if depth > MAX_NESTING then return i end
      i = i + 1
    elseif c == ")" or c == "]" or c == "}" then
      depth = depth - 1
      i = i + 1
    else
      local w = source:match("^[%a_][%w_]*", i)
      if openers[w] then
        depth = depth + 1
        if depth > MAX_NESTING then return i end
      elseif closers[w] then
        depth = depth - 1
      end
      i = i + #w
    end
  end
end

-- parse only: the AST, or nil, message, errors
function M.parse(source, filename)
  filename = filename or "input.lua"
  local deep = too_deep(source)
  if deep then
    return nil, format_errors({ { pos = deep, end_pos = deep + 1,
      msg = "the program nests too deeply (more than " .. MAX_NESTING .. " levels of brackets and blocks)",
      hint = "split it into local functions or flatten the conditions" } }, source, filename)
  end
  local ok, res = pcall(grammar.parse, source)
  if ok then return res end
  if type(res) ~= "table" then
    if tostring(res):find("stack overflow", 1, true) or tostring(res):find("nesting too deep", 1, true) then
      return nil, format_errors({ { pos = 1, end_pos = 2, msg = "the program nests too deeply for the parser",
        hint = "split it into local functions or flatten the conditions" } }, source, filename)
    end
    error(res, 0)
  end
  local line_col = line_index(source)
  local msg = grammar.message(res, function(p) return (line_col(p)) end)
  local at = source:find("[^ \t\r\n\f\v]", res.pos)
  local byte = at and source:byte(at)
  local hint = ast.syntax_hints[res.label]
  if byte and (byte < 32 or byte >= 127) then
    msg = string_format("unexpected character (byte 0x%02x)", byte)
    hint = "names and operators are ASCII; other bytes may appear only in strings and comments"
  end
  local e = { pos = res.pos, end_pos = res.pos + 1, msg = msg, hint = hint }
  return nil, format_errors({ e }, source, filename)
end

-- the programs of a checked model; pcall's results
local function generate(model, line_col)
  -- dropped events: one u64 per ring buffer in a hidden per-CPU array
  -- (codegen's count_drop; engines and attach read it, nothing shows it)
  local rings = {}
  for _, m in ipairs(model.maps) do
    if m.kind == "ringbuf" then rings[#rings + 1] = m end
  end
  if #rings > 0 then
    local d = { name = DROPS_MAP, kind = "drops", type = 6, key_size = 4, value_size = 8,
      max_entries = #rings, flags = 0, key_signed = false, value_signed = false, index = #model.maps }
    model.maps[#model.maps + 1] = d
    for i, m in ipairs(rings) do m.drops, m.drop_slot = d, i - 1 end
  end
  return pcall(codegen.generate, model, line_col)
end

-- opts (optional): { dump = function(pass, data) } is called after each
-- pass with "ast" (the Chunk), "model" (the checked model) and "progs" (the
-- generated programs), for debugging and the REPL; "inlined" (the inlined
-- Chunk) when inlining was used. { inline = false } turns inlining off.
function M.compile(source, filename, opts)
  filename = filename or "input.lua"
  local dump = type(opts) == "table" and opts.dump or function() end
  if type(source) ~= "string" then
    return nil, filename .. ":1:1: error: source must be a string\n", { { line = 1, col = 1, end_col = 1, msg = "source must be a string" } }
  end
  local tree, msg, errs = M.parse(source, filename)
  if not tree then return nil, msg, errs end
  dump("ast", tree)
  -- a copy for the inliner (the checker annotates the tree it checks); a
  -- tree too deep to copy is left to the checker's own error
  local inlined
  if not (type(opts) == "table" and opts.inline == false) then
    local okw, wanted = pcall(inline.wanted, tree)
    if okw and wanted then
      local ok, c = pcall(inline.copy, tree)
      inlined = ok and c
    end
  end
  local errors = {}
  local model = check.check(tree, errors, source)
  dump("model", model)
  for _, m in ipairs(model.maps) do
    if m.name:sub(1, #RESERVED) == RESERVED then
      errors[#errors + 1] = { pos = m.node.pos, end_pos = m.node.end_pos,
        msg = "map names starting with '" .. RESERVED .. "' are bpflua's own",
        hint = "choose another name" }
    end
  end
  if #errors > 0 then
    return nil, format_errors(errors, source, filename)
  end
  -- small local functions inlined (inline.lua): the inlined tree is
  -- checked and generated again; when either fails, the source as written
  -- is compiled, so errors and limits are always the original program's
  local progs
  local ok_run, n_inlined = false, 0
  if inlined then ok_run, n_inlined = pcall(inline.run, inlined) end
  if ok_run and n_inlined > 0 then
    local errs2 = {}
    local ok, m2 = pcall(check.check, inlined, errs2, source)
    if ok and #errs2 == 0 then
      dump("inlined", inlined)
      local ok2, p2 = generate(m2, line_index(source))
      if ok2 then model, progs = m2, p2 end
    end
  end
  if not progs then
    local ok
    ok, progs = generate(model, line_index(source))
    if not ok then
      if type(progs) ~= "table" then error(progs, 0) end
      return nil, format_errors({ progs }, source, filename)
    end
  end
  dump("progs", progs)
  local recs = {}
  for i, r in ipairs(model.records) do
    local fields = {}
    for j, f in ipairs(r.fields) do
      fields[j] = { name = f.name, offset = f.offset, size = f.size, signed = f.signed }
    end
    recs[i] = { name = r.name, size = r.size, fields = fields }
  end
  local maps = {}
  for i, m in ipairs(model.maps) do
    local ev = m.event
    maps[i] = { name = m.name, type = m.type, key_size = m.key_size, value_size = m.value_size,
      max_entries = m.max_entries, flags = m.flags, key_signed = m.key_signed,
      value_signed = m.value_signed,
      key_record = m.key_rec and m.key_rec.index or nil,
      value_record = (m.value_rec and m.value_rec.index) or (type(ev) == "table" and ev.index) or nil,
      event_type = m.kind == "ringbuf" and (ev == "int" and 1 or ev and 2 or 0) or nil,
      init = m.init }
  end
  return { license = model.license, source_name = filename, source_text = source,
    records = recs, maps = maps, progs = progs }
end

return M
