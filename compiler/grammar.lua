-- grammar.lua: the LPeg grammar of bpflua source (a superset of the accepted
-- language: constructs that the checker rejects with a helpful message, such
-- as `while`, `goto`, closures, floats and strings, are parsed too).
--
-- parse(source) returns the Chunk node (see ast.lua for the node shapes) or
-- raises {pos = i, msg = "..."} for a syntax error. Nodes are tables
-- {tag = "...", pos = first byte, end_pos = one past the last byte, ...}.

local lpeg = require "lpeg"
local ast = require "bpflua.ast"

local P, S, R, V, C, Cc, Ct, Cp, Cg, Cf, Cmt =
  lpeg.P, lpeg.S, lpeg.R, lpeg.V, lpeg.C, lpeg.Cc, lpeg.Ct, lpeg.Cp, lpeg.Cg, lpeg.Cf, lpeg.Cmt
local error, tonumber, math_type, setmetatable, select, string_char, utf8_char, table_concat,
  ipairs =
  error, tonumber, math.type, setmetatable, select, string.char, utf8.char, table.concat,
  ipairs
local labels = ast.syntax_labels
local climb -- defined below, used by the grammar

_ENV = nil

-- openers of blocks still waiting for their 'end' (for "to close 'if' at line N")
local openers = {}

local function syntax_error(pos, label, open)
  error({ pos = pos, label = label, open = open }, 0)
end

-- expect(p, label): p, or a syntax error at the current position
local function expect(p, label)
  return p + P(function(_, i) syntax_error(i, label) end)
end

-- whitespace and comments
local function long_close(s, i, eq)
  local close = "]" .. eq .. "]"
  local a, b = s:find(close, i, true)
  if not a then syntax_error(i, "unfinished_long") end
  return b + 1, s:sub(i, a - 1)
end
local LongString = Cmt("[" * C(P "=" ^ 0) * "[", function(s, i, eq)
  -- skip a first newline, as Lua does
  local j = i
  if s:sub(j, j) == "\r" then j = j + 1 end
  if s:sub(j, j) == "\n" then j = j + 1 end
  local e, text = long_close(s, j, eq)
  return e, text
end)
local Comment = P "--" * (LongString / 0 + (1 - P "\n") ^ 0)
local Space = (S " \t\r\n\f\v" + Comment) ^ 0
local Skip = Space

local IdStart = R("az", "AZ") + "_"
local IdRest = IdStart + R "09"
local keywords = {}
for w in ([[and break do else elseif end false for function goto if in
  local nil not or repeat return then true until while]]):gmatch "%a+" do
  keywords[w] = true
end

local function kw(w) return Skip * P(w) * -IdRest end
local function sym(s) return Skip * P(s) end
-- a symbol that must not be the prefix of a longer operator
local function op(s, notfollowed)
  local p = P(s)
  if notfollowed then p = p * -S(notfollowed) end
  return Skip * p
end

local function node(tag, p)
  return Skip * Ct(Cg(Cp(), "pos") * Cg(Cc(tag), "tag") * p * Cg(Cp(), "end_pos"))
end

local Name = Skip * Cmt(C(IdStart * IdRest ^ 0), function(_, i, name)
  if keywords[name] then return false end
  return i, name
end)
local IdNode = node("Id", Cg(Name, "name"))
local NameStr = node("String", Cg(Name, "value"))

-- numbers: Lua syntax; integers that do not fit become floats, as in Lua
local Hex = P "0" * S "xX" * C((R("09", "af", "AF")) ^ 0 * ("." * R("09", "af", "AF") ^ 0) ^ -1
  * (S "pP" * S "+-" ^ -1 * R "09" ^ 1) ^ -1)
local Dec = C((R "09" ^ 1 * ("." * R "09" ^ 0) ^ -1 + "." * R "09" ^ 1)
  * (S "eE" * S "+-" ^ -1 * R "09" ^ 1) ^ -1)
local function number_value(text, hex)
  if hex then
    if not text:find "[%.pP]" then
      if #text == 0 then return nil end
      -- hexadecimal integers wrap around (Lua semantics)
      local v = 0
      for i = 1, #text do v = (v << 4) | tonumber(text:sub(i, i), 16) end
      return v
    end
    return tonumber("0x" .. text)
  end
  return tonumber(text)
end
local Number = Skip * Ct(Cg(Cp(), "pos") * Cg(Cc "Number", "tag")
  * (Hex / function(t) return number_value(t, true), t end
    + Dec / function(t) return number_value(t, false), t end) * -IdRest
  * Cg(Cp(), "end_pos")) / function(t)
    local v = t[1]
    t[1] = nil
    if v == nil then syntax_error(t.pos, "bad_number") end
    t.text = t[2]
    t[2] = nil
    t.value = v
    t.is_float = math_type(v) == "float"
    return t
  end

local escapes = { a = "\a", b = "\b", f = "\f", n = "\n", r = "\r", t = "\t", v = "\v",
  ["\\"] = "\\", ['"'] = '"', ["'"] = "'", ["\n"] = "\n" }
local function short_string(s, i, q)
  local out = {}
  local j = i
  while true do
    local c = s:sub(j, j)
    if c == "" or c == "\n" then syntax_error(j, "unfinished_string") end
    if c == q then return j + 1, table_concat(out) end
    if c == "\\" then
      local e = s:sub(j + 1, j + 1)
      if escapes[e] then out[#out + 1] = escapes[e]; j = j + 2
      elseif e == "x" then
        local h = s:match("^%x%x", j + 2)
        if not h then syntax_error(j, "bad_escape") end
        out[#out + 1] = string_char(tonumber(h, 16)); j = j + 4
      elseif e == "z" then
        j = s:match("^%s*()", j + 2)
      elseif e:match "%d" then
        local d = s:match("^%d%d?%d?", j + 1)
        local v = tonumber(d)
        if v > 255 then syntax_error(j, "bad_escape") end
        out[#out + 1] = string_char(v); j = j + 1 + #d
      elseif e == "u" then
        local h = s:match("^{(%x+)}", j + 2)
        if not h then syntax_error(j, "bad_escape") end
        out[#out + 1] = utf8_char(tonumber(h, 16)); j = j + 4 + #h
      else
        syntax_error(j, "bad_escape")
      end
    else
      out[#out + 1] = c; j = j + 1
    end
  end
end
local ShortString = Cmt(C(S "\"'"), short_string)
local StringNode = Skip * Ct(Cg(Cp(), "pos") * Cg(Cc "String", "tag")
  * Cg(ShortString + LongString, "value") * Cg(Cp(), "end_pos"))

-- a binary-operator fold for one precedence level
local function fold_bin(a, opname, b)
  return { tag = "Op", op = opname, pos = a.pos, end_pos = b.end_pos, a, b }
end
local function binop(text, name, notfollowed)
  return op(text, notfollowed) * Cc(name)
end
local function chain(operand, ops)
  return Cf(operand * Cg(ops * expect(operand, "expr")) ^ 0, fold_bin)
end

-- Lua's operator priorities {left, right}; unary operators bind at 12
local priority = {
  ["or"] = { 1, 1 }, ["and"] = { 2, 2 },
  ["<"] = { 3, 3 }, [">"] = { 3, 3 }, ["<="] = { 3, 3 }, [">="] = { 3, 3 }, ["~="] = { 3, 3 }, ["=="] = { 3, 3 },
  ["|"] = { 4, 4 }, ["~"] = { 5, 5 }, ["&"] = { 6, 6 }, ["<<"] = { 7, 7 }, [">>"] = { 7, 7 },
  [".."] = { 9, 8 }, ["+"] = { 10, 10 }, ["-"] = { 10, 10 },
  ["*"] = { 11, 11 }, ["/"] = { 11, 11 }, ["//"] = { 11, 11 }, ["%"] = { 11, 11 },
  ["^"] = { 14, 13 },
}
local UNARY = 12

-- groups a flat list {operand | {un=op} | {bin=op}} into Op/Unop nodes
climb = function(list)
  local i = 1
  local function sub(limit)
    local item = list[i]
    local left
    if item.un then
      i = i + 1
      local operand = sub(UNARY)
      left = { tag = "Unop", op = item.un, pos = item.unpos, end_pos = operand.end_pos, operand }
    else
      i = i + 1
      left = item
    end
    while true do
      local o = list[i]
      if not o then break end
      local p = priority[o.bin]
      if p[1] <= limit then break end
      i = i + 1
      local right = sub(p[2])
      left = fold_bin(left, o.bin, right)
    end
    return left
  end
  return sub(0)
end

local function mark_open(word)
  return Cmt(Skip * Cp() * P(word) * -IdRest, function(_, i, p)
    openers[#openers + 1] = { word = word, pos = p }
    return i
  end)
end
local End = Cmt(kw "end", function(_, i)
  openers[#openers] = nil
  return i
end) + P(function(_, i)
  local o = openers[#openers]
  syntax_error(i, "end", o)
end)

local function suffixes(base, list)
  -- list: array of {kind, ...}; builds Index/Call/Invoke nodes left to right
  local e = base
  for _, s in ipairs(list) do
    local n = { pos = base.pos, end_pos = s.end_pos }
    if s.kind == "index" then n.tag = "Index"; n[1] = e; n[2] = s.key
    elseif s.kind == "call" then n.tag = "Call"; n[1] = e; n.args = s.args
    else n.tag = "Invoke"; n[1] = e; n.method = s.method; n.args = s.args end
    e = n
  end
  return e
end

local G = P {
  "Chunk",
  Chunk = node("Chunk", Cg(V "Block", "body")) * Skip
    * expect(-P(1), "eof"),
  Block = node("Block", V "Stat" ^ 0 * V "RetStat" ^ -1),
  Stat = sym ";" / 0 + V "If" + V "While" + V "Do" + V "ForNum" + V "ForIn" + V "Repeat"
    + V "FuncStat" + V "LocalFunc" + V "Local" + V "Goto" + V "Label" + V "Break" + V "ExprStat",
  If = node("If", mark_open "if" * Ct(expect(V "Expr", "expr") * expect(kw "then", "then") * V "Block")
    * Ct(kw "elseif" * expect(V "Expr", "expr") * expect(kw "then", "then") * V "Block") ^ 0
    * Cg(kw "else" * V "Block", "else_block") ^ -1 * End) / function(t)
      t.conds, t.blocks = {}, {}
      for i = 1, #t do t.conds[i] = t[i][1]; t.blocks[i] = t[i][2]; t[i] = nil end
      return t
    end,
  While = node("While", mark_open "while" * Cg(expect(V "Expr", "expr"), "cond")
    * expect(kw "do", "do") * Cg(V "Block", "body") * End),
  Do = node("Do", mark_open "do" * Cg(V "Block", "body") * End),
  ForNum = node("Fornum", mark_open "for" * Cg(IdNode, "var") * sym "=" * Cg(expect(V "Expr", "expr"), "start")
    * expect(sym ",", "comma_for") * Cg(expect(V "Expr", "expr"), "limit")
    * (sym "," * Cg(expect(V "Expr", "expr"), "step")) ^ -1
    * expect(kw "do", "do") * Cg(V "Block", "body") * End),
  ForIn = node("Forin", mark_open "for" * Cg(Ct(expect(IdNode, "name") * (sym "," * expect(IdNode, "name")) ^ 0), "names")
    * expect(kw "in", "in_or_eq") * Cg(Ct(V "ExprList"), "exprs") * expect(kw "do", "do")
    * Cg(V "Block", "body") * End),
  Repeat = node("Repeat", kw "repeat" * Cg(V "Block", "body") * expect(kw "until", "until")
    * Cg(expect(V "Expr", "expr"), "cond")),
  FuncStat = node("Function", mark_open "function" * Cg(V "FuncName", "name") * V "FuncBody"),
  FuncName = Ct(IdNode * (sym "." * expect(NameStr, "name")) ^ 0 * (sym ":" * expect(NameStr, "name")) ^ -1)
    / function(list)
      local e = list[1]
      for i = 2, #list do
        e = { tag = "Index", pos = list[1].pos, end_pos = list[i].end_pos, e, list[i] }
      end
      return e
    end,
  FuncBody = expect(sym "(", "lparen_params") * Cg(Ct(V "ParList"), "params")
    * expect(sym ")", "rparen_params") * Cg(V "Block", "body") * End,
  ParList = (IdNode * (sym "," * (IdNode + node("Vararg", sym "..."))) ^ 0) ^ -1
    + node("Vararg", sym "..."),
  LocalFunc = node("LocalFunction", kw "local" * mark_open "function" * Cg(expect(IdNode, "name"), "name")
    * V "FuncBody"),
  Local = node("Local", kw "local" * Cg(Ct(expect(V "AttName", "name") * (sym "," * expect(V "AttName", "name")) ^ 0), "names")
    * (sym "=" * Cg(Ct(V "ExprList"), "exprs")) ^ -1),
  AttName = IdNode * (sym "<" * Skip * C(IdStart * IdRest ^ 0) * expect(sym ">", "attrib")) ^ -1
    / function(id, attr) id.attrib = attr; return id end,
  Goto = node("Goto", kw "goto" * Cg(expect(Name, "name"), "label")),
  Label = node("Label", sym "::" * Cg(expect(Name, "name"), "label") * expect(sym "::", "label_end")),
  Break = node("Break", kw "break"),
  RetStat = node("Return", kw "return" * (V "ExprList") ^ -1 * (sym ";") ^ -1),
  ExprStat = Skip * Cp() * V "Suffixed" * (Ct((sym "," * expect(V "Suffixed", "expr")) ^ 0) * sym "=" * Ct(V "ExprList")) ^ -1
    * Cp() / function(pos, first, more, exprs, end_pos)
      if not exprs then
        -- no '=': a call statement (or an error)
        end_pos = more
        if first.tag ~= "Call" and first.tag ~= "Invoke" then
          syntax_error(first.pos, "stat")
        end
        return { tag = "CallStat", pos = pos, end_pos = end_pos, first }
      end
      local targets = { first }
      for i = 1, #more do targets[i + 1] = more[i] end
      return { tag = "Set", pos = pos, end_pos = end_pos, targets = targets, exprs = exprs }
    end,
  ExprList = V "Expr" * (sym "," * expect(V "Expr", "expr")) ^ 0,

  -- An expression is parsed flat (operands, prefix and binary operators) and
  -- grouped by precedence climbing in Lua (`climb`): one capture level per
  -- bracket instead of one per precedence level, so deep nesting stays
  -- within LPeg's capture-nesting limit.
  Expr = Ct(V "Operand" * (V "BinOp" * expect(V "Operand", "expr")) ^ 0) / climb,
  Operand = V "UnOp" ^ 0 * V "Simple",
  UnOp = Skip * Ct(Cg(Cp(), "unpos")
    * Cg(kw "not" * Cc "not" + sym "#" * Cc "#" + sym "-" * Cc "-" + op("~", "=") * Cc "~", "un")),
  BinOp = Ct(Cg(binop("or", "or") * -IdRest + binop("and", "and") * -IdRest
    + binop("==", "==") + binop("~=", "~=") + binop("<=", "<=") + binop(">=", ">=")
    + binop("<<", "<<") + binop(">>", ">>") + binop("<", "<") + binop(">", ">")
    + binop("|", "|") + binop("~", "~") + binop("&", "&") + binop("..", "..", ".")
    + binop("+", "+") + binop("-", "-") + binop("*", "*") + binop("//", "//") + binop("/", "/")
    + binop("%", "%") + binop("^", "^"), "bin")),
  Simple = node("Nil", kw "nil") + node("True", kw "true") + node("False", kw "false") + Number
    + StringNode + node("Vararg", sym "...") + V "FuncExpr" + V "Table" + V "Suffixed",
  FuncExpr = node("Closure", mark_open "function" * V "FuncBody"),
  Table = node("Table", sym "{" * Cg(Ct((V "Field" * ((sym "," + sym ";") * V "Field") ^ 0 * (sym "," + sym ";") ^ -1) ^ -1), "fields")
    * expect(sym "}", "rbrace")),
  Field = node("Field", sym "[" * Cg(V "Expr", "key") * expect(sym "]", "rbracket") * expect(sym "=", "eq")
      * Cg(expect(V "Expr", "expr"), "value"))
    + node("Field", Cg(NameStr, "key") * sym "=" * -P "=" * Cg(expect(V "Expr", "expr"), "value"))
    + node("Field", Cg(V "Expr", "value")),
  Primary = IdNode + node("Paren", sym "(" * expect(V "Expr", "expr") * expect(sym ")", "rparen")),
  Suffixed = V "Primary" * Ct(V "Suffix" ^ 0) / suffixes,
  Suffix = Ct(Cg(Cc "index", "kind") * (sym "." * -P "." * Cg(expect(NameStr, "name"), "key")
      + sym "[" * Cg(expect(V "Expr", "expr"), "key") * expect(sym "]", "rbracket")) * Cg(Cp(), "end_pos"))
    + Ct(Cg(Cc "invoke", "kind") * sym ":" * Cg(expect(Name, "name"), "method")
      * Cg(expect(V "Args", "args"), "args") * Cg(Cp(), "end_pos"))
    + Ct(Cg(Cc "call", "kind") * Cg(V "Args", "args") * Cg(Cp(), "end_pos")),
  Args = sym "(" * Ct((V "Expr" * (sym "," * expect(V "Expr", "expr")) ^ 0) ^ -1) * expect(sym ")", "rparen_args")
    + Ct(StringNode) + Ct(V "Table"),
}

local M = {}

-- parse(source) -> Chunk node; raises {pos=, label=, open=} on a syntax error
function M.parse(source)
  openers = {}
  -- each bracket level takes a backtrack entry per precedence level; the
  -- nesting itself is bounded (150) before parsing, by compiler.lua
  lpeg.setmaxstack(20000)
  return G:match(source)
end

-- the human text for a syntax error value raised by parse
function M.message(err, line_of)
  local text = labels[err.label] or err.label
  if err.label == "end" and err.open then
    text = "expected 'end' (to close '" .. err.open.word .. "' at line " .. line_of(err.open.pos) .. ")"
  end
  return text
end

return M
