/* STUB (the Lua module replaces this file) */
#include <lua.h>
#include <lauxlib.h>
int luaopen_bpf(lua_State *L) { lua_newtable(L); return 1; }
