#!/usr/bin/env bash
# The layers of the source tree (docs/internals.md, 'Layers'): each
# top-level folder may use only the folders below it in
#   core < stdlib < vm < jit < engine < lua
# "Use" is checked twice:
#   - #include "..." lines of every .c/.h/.def file, a bare name resolved
#     the way the build does (own folder first, then the folder holding it);
#   - symbols: each object file's undefined globals against the folder that
#     defines them (nm on the build's objects), so a call hidden behind a
#     declaration in a lower header is caught too.
# Any edge that goes up or sideways fails, which includes every cycle; a
# new top-level folder with C files must be added to the order here, in
# CMakeLists.txt (BPFLUA_LAYERS) and in docs/internals.md.
# `layers.sh --self-test` also checks that the checker catches a cycle.
set -u
SRC=${BPFLUA_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BPFLUA_BUILD:-$SRC/build}
command -v lua5.4 >/dev/null 2>&1 || { echo "layers: skipped, lua5.4 not found"; exit 77; }

check() { # SRC_ROOT BUILD_DIR ORDER -> prints violations, exit 1 if any
    lua5.4 - "$1" "$2" "$3" <<'EOF'
local src, build, order = arg[1], arg[2], arg[3]
local rank, layers = {}, {}
for name in order:gmatch("%S+") do layers[#layers + 1] = name; rank[name] = #layers end

local function lines(cmd)
    local p = assert(io.popen(cmd))
    local t = {}
    for l in p:lines() do t[#t + 1] = l end
    p:close()
    return t
end
local function exists(path)
    local f = io.open(path, "r")
    if f then f:close() return true end
    return false
end

local bad = {}
local function edge(from, to, why)
    if from == to or not to then return end
    if not rank[from] then
        bad[#bad + 1] = string.format("folder %s/ is not in the layer order (%s)", from, why)
    elseif not rank[to] or rank[to] > rank[from] then
        bad[#bad + 1] = string.format("%s/ uses %s/: %s", from, to, why)
    end
end

-- top-level folders holding C sources (tests/ and build trees are not layers)
local folders = {}
for _, d in ipairs(lines("cd '" .. src .. "' && ls -d */ 2>/dev/null")) do
    d = d:gsub("/$", "")
    if d ~= "tests" and not d:match("^build") and
       #lines("ls '" .. src .. "/" .. d .. "'/*.c '" .. src .. "/" .. d .. "'/*.h 2>/dev/null") > 0 then
        folders[#folders + 1] = d
    end
end

-- 1. includes
local owner = {}  -- header name -> folder
for _, d in ipairs(folders) do
    for _, f in ipairs(lines("cd '" .. src .. "/" .. d .. "' && ls *.h *.def 2>/dev/null")) do
        owner[f] = owner[f] or d
    end
end
local n_includes = 0
for _, d in ipairs(folders) do
    for _, f in ipairs(lines("cd '" .. src .. "/" .. d .. "' && ls *.c *.h *.def 2>/dev/null")) do
        local fh = io.open(src .. "/" .. d .. "/" .. f)
        for l in fh:lines() do
            local inc = l:match('^%s*#%s*include%s*"([^"]+)"')
            if inc then
                n_includes = n_includes + 1
                local to
                local rel = inc:match("^%.%./([^/]+)/") or inc:match("^([^/.][^/]*)/")
                if rel then to = rel
                elseif exists(src .. "/" .. d .. "/" .. inc) then to = d
                else to = owner[inc] end
                if not to and not exists(src .. "/" .. inc) then
                    bad[#bad + 1] = string.format("%s/%s includes \"%s\", found in no folder", d, f, inc)
                end
                edge(d, to, string.format('%s/%s includes "%s"', d, f, inc))
            end
        end
        fh:close()
    end
end

-- 2. symbols, when the build's objects are there
local n_objects = 0
local defs, uses = {}, {}
for _, d in ipairs(folders) do
    for _, o in ipairs(lines("ls '" .. build .. "'/CMakeFiles/*/" .. d .. "/*.o 2>/dev/null")) do
        n_objects = n_objects + 1
        local name = o:match("([^/]+)%.o$")
        for _, l in ipairs(lines("nm -g '" .. o .. "' 2>/dev/null")) do
            local t, sym = l:match("(%a)%s+(%S+)$")
            if t == "U" then uses[#uses + 1] = { d, name, sym }
            elseif t and t ~= "w" and t ~= "v" then defs[sym] = defs[sym] or d end
        end
    end
end
for _, u in ipairs(uses) do
    local to = defs[u[3]]
    if to then edge(u[1], to, string.format("%s/%s calls %s", u[1], u[2], u[3])) end
end

local seen = {}
for _, b in ipairs(bad) do
    if not seen[b] then seen[b] = true; print(b) end
end
io.stderr:write(string.format("layers: %d folders, %d includes, %d objects checked\n",
                              #folders, n_includes, n_objects))
if n_includes == 0 then print("no #include found: wrong source tree?") os.exit(1) end
os.exit(#bad == 0 and 0 or 1)
EOF
}

ORDER="core stdlib vm jit engine lua"

if [ "${1:-}" = "--self-test" ]; then
    # a copy of the tree where core/ includes engine/: must be reported
    t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
    for d in core engine; do mkdir -p "$t/$d"; cp "$SRC/$d"/*.[ch] "$t/$d/"; done
    echo '#include "run_hook.h"' >>"$t/core/object.c"
    touch "$t/engine/run_hook.h"
    out=$(check "$t" /nonexistent "core engine")
    if echo "$out" | grep -q 'core/ uses engine/'; then echo "layers self-test: ok"; exit 0; fi
    echo "layers self-test: FAIL: a core -> engine include went unnoticed: $out"; exit 1
fi

[ -d "$BUILD/CMakeFiles" ] || echo "layers: note: no objects under $BUILD, symbols not checked"
if out=$(check "$SRC" "$BUILD" "$ORDER" 2>&1); then
    # the checker itself must see a planted cycle
    bash "$0" --self-test || exit 1
    echo "layers: ok ($ORDER)"
    exit 0
fi
echo "layers: FAIL"
echo "$out" | sed 's/^/  /'
exit 1
