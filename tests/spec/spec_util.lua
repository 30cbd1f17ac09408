-- spec_util.lua: what more than one spec needs (on LUA_PATH through tests/spec/?.lua).
local M = {}

-- the files of dir whose names match pattern, sorted
function M.ls(dir, pattern)
  local out = {}
  local p = io.popen('ls "' .. dir .. '" 2>/dev/null')
  for f in p:lines() do if f:match(pattern) then out[#out + 1] = f end end
  p:close()
  table.sort(out)
  return out
end

function M.read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

-- require "bpflua.X" loads src/compiler/X.lua (the compiler from the
-- source tree, without the bpf module)
function M.use_source_compiler(src)
  table.insert(package.searchers, 2, function(name)
    local stem = name:match("^bpflua%.(.+)$")
    if stem then
      local path = src .. "/compiler/" .. stem .. ".lua"
      local f = loadfile(path)
      if f then return f, path end
    end
  end)
end

return M
