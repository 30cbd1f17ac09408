-- ast.lua: the shapes of the nodes grammar.lua builds, and the texts of
-- syntax errors. Every node is a table
--   { tag = "<Tag>", pos = <first byte>, end_pos = <one past the last byte>, ... }
-- (byte offsets into the source; line and column are computed only when an
-- error is reported).
--
-- Chunk        { body = Block }
-- Block        { [1..n] = statement }
--
-- Statements
-- Local        { names = { Id... }, exprs = { expr... } | nil }      local a, b = e1, e2
-- LocalFunction{ name = Id, params = { Id | Vararg ... }, body = Block }
-- Function     { name = Id | Index, params = {...}, body = Block }   function xdp.NAME(pkt)
-- Set          { targets = { Id | Index ... }, exprs = { expr... } } a, m[k] = e1, e2
-- CallStat     { [1] = Call | Invoke }
-- If           { conds = { expr... }, blocks = { Block... }, else_block = Block | nil }
-- Do           { body = Block }
-- Fornum       { var = Id, start = e, limit = e, step = e | nil, body = Block }
-- Forin        { names = { Id... }, exprs = { e... }, body = Block }
-- While        { cond = e, body = Block }          (rejected by the checker)
-- Repeat       { body = Block, cond = e }          (rejected)
-- Goto         { label = "name" }                  (rejected)
-- Label        { label = "name" }                  (rejected)
-- Break        {}
-- Return       { [1..n] = expr }
--
-- Expressions
-- Nil, True, False, Vararg
-- Number       { value = integer | float, is_float = bool }
-- String       { value = "..." }
-- Id           { name = "x" }
-- Index        { [1] = object expr, [2] = key expr (a String node for a.b) }
-- Call         { [1] = function expr, args = { expr... } }
-- Invoke       { [1] = object expr, method = "name", args = { expr... } }  pkt:u8(0)
-- Op           { op = "+" | "//" | "==" | "and" | ..., [1] = left, [2] = right }
-- Unop         { op = "-" | "~" | "not" | "#", [1] = operand }
-- Paren        { [1] = expr }
-- Table        { fields = { Field... } };  Field { key = expr | nil, value = expr }
-- Closure      { params, body }                    (rejected)
--
-- The checker (check.lua) adds to nodes: `ty` (a type name, see check.lua),
-- `k` (the folded constant value of a constant expression), `sym` (the symbol
-- an Id resolves to) and per-function information used by codegen.

_ENV = nil

local M = {}

M.syntax_labels = {
  eof = "unexpected symbol (expected a statement)",
  stat = "syntax error: this expression is not a statement (expected an assignment or a call)",
  expr = "expected an expression",
  ["then"] = "expected 'then'",
  ["do"] = "expected 'do'",
  ["end"] = "expected 'end'",
  ["until"] = "expected 'until'",
  in_or_eq = "expected '=' or 'in'",
  comma_for = "expected ',' in the numeric for",
  name = "expected a name",
  lparen_params = "expected '(' to start the parameter list",
  rparen_params = "expected ')' to close the parameter list",
  rparen = "expected ')'",
  rparen_args = "expected ')' to close the argument list",
  rbracket = "expected ']'",
  rbrace = "expected '}' to close the table",
  eq = "expected '='",
  attrib = "expected '>'",
  label_end = "expected '::'",
  bad_number = "malformed number",
  unfinished_string = "unfinished string",
  unfinished_long = "unfinished long string or comment",
  bad_escape = "invalid escape sequence in string",
}

M.syntax_hints = {
  ["end"] = "every 'if', 'for', 'do' and 'function' needs its own 'end'",
  ["then"] = "write: if <condition> then ... end",
  ["do"] = "write: for i = first, last do ... end",
  stat = "a statement is an assignment (x = 1), a declaration (local x = 1) or a call",
}

return M
