/* attach_lua.c - live filters from Lua: p:attach(ifname, opts) returns a
 * handle with :detach(), :pin(path) and live map reads (h.maps.NAME[key],
 * pairs(h.maps.NAME)). The handle detaches when collected or closed
 * (`local h <close> = p:attach(...)`), unless it was pinned.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "attach.h"
#include "attach_cmd.h"

#define HANDLE_MT "bpflua.attachment"
#define MAP_MT "bpflua.attachment.map"

struct handle {
    struct bl_attachment *a;
};

struct map_proxy {
    size_t idx;
};

static bl_lua_prog_resolver g_resolver;

void bl_lua_attach_set_resolver(bl_lua_prog_resolver fn)
{
    g_resolver = fn;
}

static struct handle *check_handle(lua_State *L, int idx)
{
    return luaL_checkudata(L, idx, HANDLE_MT);
}

static struct bl_attachment *live(lua_State *L, int idx)
{
    struct handle *h = check_handle(L, idx);
    if (!h->a)
        luaL_error(L, "this attachment was detached");
    return h->a;
}

static int h_detach(lua_State *L)
{
    struct handle *h = check_handle(L, 1);
    if (!h->a) {
        lua_pushboolean(L, 1);
        return 1;
    }
    char *err = NULL;
    int r = bl_detach(h->a, &err);
    bl_attachment_free(h->a);
    h->a = NULL;
    if (r < 0) {
        lua_pushnil(L);
        lua_pushstring(L, err ? err : "detach failed");
        free(err);
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}

static int h_gc(lua_State *L)
{
    struct handle *h = check_handle(L, 1);
    if (h->a) {
        bl_attachment_free(h->a); /* detaches unless pinned */
        h->a = NULL;
    }
    return 0;
}

static int h_pin(lua_State *L)
{
    struct bl_attachment *a = live(L, 1);
    const char *path = luaL_checkstring(L, 2);
    char *err = NULL;
    if (bl_attachment_pin(a, path, &err) < 0) {
        lua_pushstring(L, err ? err : "pin failed");
        free(err);
        return lua_error(L);
    }
    lua_settop(L, 1);
    return 1;
}

static int h_tostring(lua_State *L)
{
    struct handle *h = check_handle(L, 1);
    if (!h->a)
        lua_pushstring(L, "attachment (detached)");
    else
        lua_pushfstring(L, "attachment: %s (id %d) on %s, %s mode", bl_attachment_prog_name(h->a),
                        (int)bl_attachment_prog_id(h->a), bl_attachment_ifname(h->a),
                        bl_attach_mode_name(bl_attachment_mode(h->a)));
    return 1;
}

/* ---- map proxies ------------------------------------------------------------------------- */

static int int_size(uint32_t n)
{
    return n == 1 || n == 2 || n == 4 || n == 8;
}

/* the key at stack idx as bytes; returns 0, or raises */
static void to_key(lua_State *L, int idx, const struct bl_attach_map_info *m, unsigned char *buf)
{
    if (int_size(m->key_size) && lua_type(L, idx) == LUA_TNUMBER) {
        int isnum = 0;
        lua_Integer v = lua_tointegerx(L, idx, &isnum);
        if (!isnum)
            luaL_error(L, "map %s: key must be an integer", m->name);
        uint64_t u = (uint64_t)v;
        for (uint32_t i = 0; i < m->key_size; i++)
            buf[i] = (unsigned char)(u >> (8 * i));
        return;
    }
    size_t len;
    const char *s = lua_tolstring(L, idx, &len);
    if (!s || len != m->key_size)
        luaL_error(L, "map %s: key must be %s%d bytes", m->name,
                   int_size(m->key_size) ? "an integer or a string of " : "a string of ",
                   (int)m->key_size);
    memcpy(buf, s, len);
}

static void push_key(lua_State *L, const struct bl_attach_map_info *m, const unsigned char *k)
{
    if (!int_size(m->key_size)) {
        lua_pushlstring(L, (const char *)k, m->key_size);
        return;
    }
    uint64_t u = 0;
    memcpy(&u, k, m->key_size);
    int64_t v = (int64_t)u;
    if (m->key_signed) {
        if (m->key_size == 1) v = (int8_t)u;
        else if (m->key_size == 2) v = (int16_t)u;
        else if (m->key_size == 4) v = (int32_t)u;
    }
    lua_pushinteger(L, (lua_Integer)v);
}

static void push_value(lua_State *L, const struct bl_attach_map_info *m, const void *val)
{
    if (int_size(m->value_size))
        lua_pushinteger(L, (lua_Integer)bl_attach_value_as_int(m, val));
    else
        lua_pushlstring(L, val, m->value_size); /* (first CPU's for per-CPU maps) */
}

/* proxy at 1: its handle is the user value */
static struct bl_attachment *proxy_attachment(lua_State *L, size_t *idx)
{
    struct map_proxy *p = luaL_checkudata(L, 1, MAP_MT);
    *idx = p->idx;
    lua_getiuservalue(L, 1, 1);
    struct bl_attachment *a = live(L, -1);
    lua_pop(L, 1);
    return a;
}

static int map_index(lua_State *L)
{
    size_t i;
    struct bl_attachment *a = proxy_attachment(L, &i);
    const struct bl_attach_map_info *m = bl_attachment_map(a, i);
    unsigned char *key = lua_newuserdatauv(L, m->key_size ? m->key_size : 1, 0);
    to_key(L, 2, m, key);
    void *val = lua_newuserdatauv(L, bl_attachment_map_value_buf(a, i) + 1, 0);
    int r = bl_attachment_map_lookup(a, i, key, val);
    if (r == -ENOENT) {
        lua_pushnil(L);
        return 1;
    }
    if (r < 0)
        return luaL_error(L, "map %s: %s", m->name, strerror(-r));
    push_value(L, m, val);
    return 1;
}

static int map_next(lua_State *L)
{
    /* upvalue 1: proxy; arg 2: previous key (nil at start) */
    lua_settop(L, 2);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_replace(L, 1);
    size_t i;
    struct bl_attachment *a = proxy_attachment(L, &i);
    const struct bl_attach_map_info *m = bl_attachment_map(a, i);
    size_t ks = m->key_size ? m->key_size : 1;
    unsigned char *prev = lua_newuserdatauv(L, ks, 0);
    unsigned char *next = lua_newuserdatauv(L, ks, 0);
    void *val = lua_newuserdatauv(L, bl_attachment_map_value_buf(a, i) + 1, 0);
    int have_prev = !lua_isnil(L, 2);
    if (have_prev)
        to_key(L, 2, m, prev);
    for (;;) {
        int r = bl_attachment_map_next_key(a, i, have_prev ? prev : NULL, next);
        if (r == -ENOENT)
            return 0;
        if (r < 0)
            return luaL_error(L, "map %s: %s", m->name, strerror(-r));
        r = bl_attachment_map_lookup(a, i, next, val);
        if (r == 0)
            break;
        memcpy(prev, next, ks); /* vanished meanwhile: skip */
        have_prev = 1;
    }
    push_key(L, m, next);
    push_value(L, m, val);
    return 2;
}

static int map_pairs(lua_State *L)
{
    luaL_checkudata(L, 1, MAP_MT);
    lua_pushvalue(L, 1);
    lua_pushcclosure(L, map_next, 1);
    lua_pushnil(L);
    lua_pushnil(L);
    return 3;
}

static int map_len(lua_State *L)
{
    size_t i;
    struct bl_attachment *a = proxy_attachment(L, &i);
    lua_pushinteger(L, (lua_Integer)bl_attachment_map(a, i)->max_entries);
    return 1;
}

/* h.maps: a table name -> proxy, built on first use and kept as user value 2 */
static void push_maps(lua_State *L, int hidx)
{
    if (lua_getiuservalue(L, hidx, 2) == LUA_TTABLE)
        return;
    lua_pop(L, 1);
    struct bl_attachment *a = live(L, hidx);
    lua_newtable(L);
    for (size_t i = 0; i < bl_attachment_map_count(a); i++) {
        if (bpflua_map_is_internal(bl_attachment_map(a, i)->name))
            continue;
        struct map_proxy *p = lua_newuserdatauv(L, sizeof *p, 1);
        p->idx = i;
        luaL_setmetatable(L, MAP_MT);
        lua_pushvalue(L, hidx);
        lua_setiuservalue(L, -2, 1);
        lua_setfield(L, -2, bl_attachment_map(a, i)->name);
    }
    lua_pushvalue(L, -1);
    lua_setiuservalue(L, hidx, 2);
}

static int h_index(lua_State *L)
{
    struct handle *h = check_handle(L, 1);
    const char *k = luaL_checkstring(L, 2);
    if (!strcmp(k, "attached")) {
        lua_pushboolean(L, h->a && bl_attachment_is_attached(h->a));
        return 1;
    }
    /* methods */
    luaL_getmetatable(L, HANDLE_MT);
    lua_getfield(L, -1, "__methods");
    lua_getfield(L, -1, k);
    if (!lua_isnil(L, -1))
        return 1;
    lua_pop(L, 3);
    if (!h->a)
        return luaL_error(L, "this attachment was detached");
    if (!strcmp(k, "maps"))
        push_maps(L, 1);
    else if (!strcmp(k, "ifname"))
        lua_pushstring(L, bl_attachment_ifname(h->a));
    else if (!strcmp(k, "ifindex"))
        lua_pushinteger(L, bl_attachment_ifindex(h->a));
    else if (!strcmp(k, "prog"))
        lua_pushstring(L, bl_attachment_prog_name(h->a));
    else if (!strcmp(k, "prog_id"))
        lua_pushinteger(L, bl_attachment_prog_id(h->a));
    else if (!strcmp(k, "mode"))
        lua_pushstring(L, bl_attach_mode_name(bl_attachment_mode(h->a)));
    else
        lua_pushnil(L);
    return 1;
}

void bl_lua_attach_register(lua_State *L)
{
    if (luaL_newmetatable(L, HANDLE_MT)) {
        static const luaL_Reg meta[] = {
            { "__gc", h_gc }, { "__close", h_gc }, { "__index", h_index },
            { "__tostring", h_tostring }, { NULL, NULL } };
        static const luaL_Reg methods[] = {
            { "detach", h_detach }, { "pin", h_pin }, { NULL, NULL } };
        luaL_setfuncs(L, meta, 0);
        luaL_newlib(L, methods);
        lua_setfield(L, -2, "__methods");
    }
    lua_pop(L, 1);
    if (luaL_newmetatable(L, MAP_MT)) {
        static const luaL_Reg meta[] = {
            { "__index", map_index }, { "__pairs", map_pairs }, { "__len", map_len },
            { NULL, NULL } };
        luaL_setfuncs(L, meta, 0);
    }
    lua_pop(L, 1);
}

/* opts at idx: mode, pin, prog. Raises on a bad mode. */
static void read_opts(lua_State *L, int idx, enum bl_attach_mode *mode, const char **pin,
                      const char **prog)
{
    *mode = BL_ATTACH_SKB;
    *pin = NULL;
    if (prog)
        *prog = NULL;
    if (lua_isnoneornil(L, idx))
        return;
    luaL_checktype(L, idx, LUA_TTABLE);
    if (lua_getfield(L, idx, "mode") != LUA_TNIL) {
        char *err = NULL;
        if (bl_attach_parse_mode(lua_tostring(L, -1), mode, &err) < 0) {
            lua_pushstring(L, err);
            free(err);
            lua_error(L);
        }
    }
    lua_pop(L, 1);
    if (lua_getfield(L, idx, "pin") != LUA_TNIL)
        *pin = lua_tostring(L, -1); /* stays valid: the opts table holds it */
    lua_pop(L, 1);
    if (prog) {
        if (lua_getfield(L, idx, "prog") != LUA_TNIL)
            *prog = lua_tostring(L, -1);
        lua_pop(L, 1);
    }
}

/* Wraps a fresh attachment in a handle at the top of the stack; pins it if
 * asked. keep_idx (0: none) is stored as user value 1. */
static int push_handle(lua_State *L, struct bl_attachment *a, int keep_idx, const char *pin)
{
    bl_lua_attach_register(L);
    struct handle *h = lua_newuserdatauv(L, sizeof *h, 2);
    h->a = a;
    luaL_setmetatable(L, HANDLE_MT);
    if (keep_idx) {
        lua_pushvalue(L, keep_idx);
        lua_setiuservalue(L, -2, 1);
    }
    if (pin) {
        char *err = NULL;
        if (bl_attachment_pin(a, pin, &err) < 0) {
            lua_pushstring(L, err ? err : "pin failed");
            free(err);
            return lua_error(L); /* the handle is collected: detached */
        }
    }
    return 1;
}

int bl_lua_attach_object(lua_State *L, bpflua_object *obj, size_t prog, int keep_idx)
{
    keep_idx = keep_idx ? lua_absindex(L, keep_idx) : 0;
    const char *ifname = luaL_checkstring(L, 2);
    enum bl_attach_mode mode;
    const char *pin;
    read_opts(L, 3, &mode, &pin, NULL);
    struct bl_attachment *a = NULL;
    char *err = NULL;
    if (bl_attach(obj, prog, ifname, mode, &a, &err) < 0) {
        lua_pushstring(L, err ? err : "attach failed");
        free(err);
        return lua_error(L);
    }
    return push_handle(L, a, keep_idx, pin);
}

int bl_lua_attach(lua_State *L)
{
    if (!g_resolver)
        return luaL_error(L, "p:attach is not wired into this build of the bpf module");
    size_t prog = 0;
    bpflua_object *obj = g_resolver(L, 1, &prog);
    if (!obj)
        return luaL_argerror(L, 1, "a bpflua program expected");
    return bl_lua_attach_object(L, obj, prog, 1);
}

int bl_lua_attach_file(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    const char *ifname = luaL_checkstring(L, 2);
    enum bl_attach_mode mode;
    const char *pin, *prog;
    read_opts(L, 3, &mode, &pin, &prog);
    struct bl_attachment *a = NULL;
    char *err = NULL;
    if (bl_attach_elf_file(path, prog, ifname, mode, &a, &err) < 0) {
        lua_pushstring(L, err ? err : "attach failed");
        free(err);
        return lua_error(L);
    }
    return push_handle(L, a, 0, pin);
}

int bl_lua_detach_dev(lua_State *L)
{
    const char *ifname = luaL_checkstring(L, 1);
    const char *pin = luaL_optstring(L, 2, NULL);
    char *err = NULL;
    if (bl_detach_dev(ifname, pin, &err) < 0) {
        lua_pushnil(L);
        lua_pushstring(L, err ? err : "detach failed");
        free(err);
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}
