/* fuzz_compiler - source text through the compiler (via the Lua module).
 *
 * Any source must give a program or a compile error, never a crash; and
 * whatever compiles must pass the verifier (a compiler output the verifier
 * rejects is a compiler bug). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

int luaopen_bpf(lua_State *L);

static const char *check =
    "local bpf, src = ...\n"
    "local ok, p = pcall(bpf.compile, src, { name = 'fuzz.lua' })\n"
    "if not ok then return true end\n"
    "for _, name in ipairs(p:progs()) do\n"
    "  local good, why = p:verify(name)\n"
    "  if not good then return false, name .. ': ' .. tostring(why) end\n"
    "end\n"
    "return true\n";

static lua_State *L;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 16384)
        return 0;
    if (!L) {
        L = luaL_newstate();
        luaL_openlibs(L);
        luaL_requiref(L, "bpf", luaopen_bpf, 0);
        lua_pop(L, 1);
    }
    int top = lua_gettop(L);
    if (luaL_loadstring(L, check) != LUA_OK)
        abort();
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "loaded");
    lua_getfield(L, -1, "bpf");
    lua_remove(L, -2);
    lua_remove(L, -2);
    lua_pushlstring(L, (const char *)data, size);
    if (lua_pcall(L, 2, 2, 0) != LUA_OK) {
        /* an error escaping pcall(bpf.compile) is a crash of the checker itself */
        fprintf(stderr, "compiler raised outside pcall: %s\n", lua_tostring(L, -1));
        abort();
    }
    if (!lua_toboolean(L, -2)) {
        fprintf(stderr, "compiled program rejected by the verifier: %s\n---\n%.*s\n",
                lua_tostring(L, -1), (int)size, (const char *)data);
        abort();
    }
    lua_settop(L, top);
    lua_gc(L, LUA_GCCOLLECT);
    return 0;
}
