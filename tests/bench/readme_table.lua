-- readme_table.lua: rewrites the benchmark table of README.md from one
-- `bpflua bench --out DIR` run's bench.csv, so the table and docs/bench.csv
-- always come from the same run. The table's first column (the workload's
-- description) is kept; its rows are matched in order with the CSV's
-- workloads (the `emit` rows, which have no native twin, are not in the
-- table). Cells: median ns per run and (x) the median of the per-sample
-- ratios to native C; "interp / Lua" is the interpreter's median over
-- stock Lua's.
--
--   lua5.4 tests/bench/readme_table.lua README.md DIR/bench.csv
local readme_path, csv_path = arg[1], arg[2]
if not (readme_path and csv_path) then
  io.stderr:write("usage: lua5.4 tests/bench/readme_table.lua README.md bench.csv\n")
  os.exit(2)
end

local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

-- workloads in CSV order, each { engine = { median, ratio } }
local order, rows = {}, {}
for line in slurp(csv_path):gmatch("[^\n]+") do
  local name, engine, median, _, _, ratio = line:match("^([^,]*),([^,]*),([^,]*),([^,]*),([^,]*),([^,]*)")
  if name and name ~= "benchmark" and name ~= "emit" then
    if not rows[name] then
      rows[name] = {}
      order[#order + 1] = name
    end
    rows[name][engine] = { tonumber(median), tonumber(ratio) }
  end
end

local function ns(v)
  if v >= 100 then
    local s = tostring(math.floor(v + 0.5))
    repeat
      local n
      s, n = s:gsub("^(%d+)(%d%d%d)", "%1,%2")
    until n == 0
    return s
  end
  return string.format("%.1f", v)
end

local function cell(r, native)
  if not r or not r[1] then return "n/a" end
  if native then return ns(r[1]) end
  return string.format("%s (%.2fx)", ns(r[1]), r[2])
end

local lines, out, k = {}, {}, 0
for l in (slurp(readme_path) .. "\n"):gmatch("(.-)\n") do lines[#lines + 1] = l end
if lines[#lines] == "" then lines[#lines] = nil end
local in_table, done = false, false
for _, l in ipairs(lines) do
  if not done and l:match("^| workload | native C |") then
    in_table = true
  elseif in_table and l:match("^|") and not l:match("^|%-%-%-") then
    k = k + 1
    local name = order[k]
    if not name then error("README's table has more rows than " .. csv_path .. " has workloads") end
    local label = l:match("^| ([^|]-) |")
    local r = rows[name]
    local il = ""
    if r.interp and r.interp[1] and r.lua and r.lua[1] then
      il = string.format("%.2f", r.interp[1] / r.lua[1])
    end
    l = string.format("| %s | %s | %s | %s | %s | %s | %s |", label, cell(r.native, true),
      cell(r.jit), cell(r.kernel), cell(r.interp), cell(r.lua), il)
  elseif in_table and not l:match("^|") then
    in_table, done = false, true -- only the first such table: the later ones are history
  end
  out[#out + 1] = l
end
if k ~= #order then
  error(("README's table has %d rows, %s has %d workloads: add or remove rows first"):format(k,
    csv_path, #order))
end
local f = assert(io.open(readme_path, "wb"))
f:write(table.concat(out, "\n"), "\n")
f:close()
print(("rewrote %d rows of %s from %s"):format(k, readme_path, csv_path))
