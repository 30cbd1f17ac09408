/* bpf_module.c - the Lua module `bpf` (luaopen_bpf).
 *
 *   local bpf = require "bpf"
 *   bpf.compile(src [, {name = "filter.lua"} | name])  -> object (raises the compiler's message)
 *   bpf.load(path)          -> object from an ELF file (or a .lua source, compiled)
 *   bpf.elf(bytes [, name]) -> object from an ELF image in a string
 *   bpf.asm(text [, name])  -> object from bpf_conformance-style assembly
 *   bpf.jit_available(), bpf.kernel_available() -> bool [, why]
 *   bpf.version, bpf.xdp = {ABORTED = 0, DROP = 1, PASS = 2, TX = 3, REDIRECT = 4}
 *
 *   p:verify([prog] [, {log = true}])
 *       -> true, {max_insns=, verified_insns=, verify_ns=, progs = {NAME = {...}}, log=}
 *        | false, "error: ... at insn N (file:line)" [, log]
 *   p:run(packet [, {engine = "interp"|"jit"|"kernel", prog = NAME, ["repeat"] = N, max_insns = N,
 *                    cpu = N, mark = N, priority = N, ifindex = N}])
 *       (cpu: whose per-CPU map slots the run sees; default 0; mark, priority,
 *       ifindex: the __sk_buff fields of socket-buffer programs, as --mark etc.)
 *   m:cpus(key)             -> per-CPU maps: { CPU 0's value, CPU 1's, ... } or nil
 *   bpf.num_possible_cpus() -> slots per element of a per-CPU map
 *       -> retval (R0 as the kernel's XDP test run reports it: u32),
 *          events (the run's ring buffer records in order: records as tables
 *          keyed by field name, integer events as integers),
 *          {ns_per_run=, setup_ns=, packet = <rewritten packet>, trace=, insns=, retval64=, engine=,
 *           events =, events_not_shown=, events_dropped=, mark=, priority= (socket-buffer types)}
 *          (ns_per_run: the runs alone; setup_ns: verification, JIT compile, kernel load)
 *   p:kernel_cost() -> {NAME = {insns=, usec=, loaded=}, ...} [, err]: the kernel
 *       verifier's processed instructions and verification time for each program
 *       of a fresh kernel load (engine/kernel_stats.c); err when one was rejected
 *   p:disasm([prog]), p:elf(), p:write(path), p:progs(), p:license(), p:trace()
 *   p:attach(ifname [, opts]) where live attach is built (lua/attach_lua.c);
 *   p:poll([ms]) -> events read, {RINGBUF = dropped so far} (compiled programs)
 *   p.maps.NAME[key] -> integer or nil; `= v` updates, `= nil` deletes; pairs(), #;
 *       :name(), :spec(), :pop() (ring buffers). Keys and values of 1, 2, 4 or 8
 *       bytes are integers (truncated on write, sign-extended on read per the
 *       map's signedness); other sizes are strings of exactly that size.
 *
 * A program object is a full userdata owning one bpflua_object; its user
 * value is a table { maps = {NAME = proxy} }. Map proxies are userdata
 * whose user value is the program object, so maps keep their object alive.
 * Once the kernel engine has run an object, its maps are the kernel's
 * (mapview.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "bl_lua.h"
#include "bpflua.h"
#include "jit.h"
#include "kernel.h"
#include "progtype.h"

/* live attach (lua/attach_lua.c) belongs to its own component */
#if defined(__has_include)
#if __has_include("attach_cmd.h")
#include "attach_cmd.h"
#include "attach_events.h"
#define HAVE_ATTACH 1
#endif
#endif

#define OBJECT_MT "bpf.object"
#define MAP_MT "bpf.map"
#define KEY_MAX 512

struct embedded_lua { const char *name; const char *src; size_t len; };
extern const struct embedded_lua bl_embedded_lua[];

struct lobject { bpflua_object *obj; };
struct lmap { int index; };

/* ---- small shared helpers ---------------------------------------------------- */

int bl_bytes_to_int(const void *buf, uint32_t size, int is_signed, int64_t *out)
{
    const unsigned char *b = buf;
    if (size != 1 && size != 2 && size != 4 && size != 8)
        return -1;
    uint64_t v = 0;
    for (uint32_t i = size; i-- > 0;)
        v = (v << 8) | b[i];
    if (is_signed && size < 8 && (v >> (size * 8 - 1)) & 1)
        v |= ~(uint64_t)0 << (size * 8);
    *out = (int64_t)v;
    return 0;
}

void bl_int_to_bytes(int64_t v, uint32_t size, void *buf)
{
    unsigned char *b = buf;
    uint64_t u = (uint64_t)v;
    for (uint32_t i = 0; i < size; i++) {
        b[i] = (unsigned char)(i < 8 ? u & 0xff : 0);
        if (i < 8)
            u >>= 8;
    }
}

int bl_engine_parse(const char *name)
{
    if (!name || !strcmp(name, "default"))
        return BPFLUA_ENGINE_DEFAULT;
    if (!strcmp(name, "interp"))
        return BPFLUA_ENGINE_INTERP;
    if (!strcmp(name, "jit"))
        return BPFLUA_ENGINE_JIT;
    if (!strcmp(name, "kernel"))
        return BPFLUA_ENGINE_KERNEL;
    return -1;
}

const char *bl_engine_name(enum bpflua_engine e)
{
    switch (e) {
    case BPFLUA_ENGINE_INTERP: return "interp";
    case BPFLUA_ENGINE_JIT: return "jit";
    case BPFLUA_ENGINE_KERNEL: return "kernel";
    default: return "default";
    }
}

enum bpflua_engine bl_engine_default(void)
{
    return bl_jit_available() ? BPFLUA_ENGINE_JIT : BPFLUA_ENGINE_INTERP;
}

const char *bl_xdp_verdict_name(uint64_t v)
{
    static const char *const names[] = {"XDP_ABORTED", "XDP_DROP", "XDP_PASS",
                                        "XDP_TX", "XDP_REDIRECT"};
    return v < 5 ? names[v] : NULL;
}

const char *bl_verdict_name(const char *prog_type, uint64_t v)
{
    /* tc's TC_ACT_* as the kernel reports them: an unsigned 32-bit retval */
    static const char *const tc_names[] = {"TC_ACT_OK", "TC_ACT_RECLASSIFY", "TC_ACT_SHOT",
                                           "TC_ACT_PIPE", "TC_ACT_STOLEN", "TC_ACT_QUEUED",
                                           "TC_ACT_REPEAT", "TC_ACT_REDIRECT"};
    if (!prog_type || !strcmp(prog_type, "xdp"))
        return bl_xdp_verdict_name(v);
    if (!strcmp(prog_type, "sched_cls") || !strcmp(prog_type, "sched_act")) {
        if (v == UINT32_MAX)
            return "TC_ACT_UNSPEC";
        return v < 8 ? tc_names[v] : NULL;
    }
    return NULL; /* other types' return values are plain numbers */
}

/* ---- the compiler's Lua modules ------------------------------------------------ */

static int embedded_loader(lua_State *L)
{
    const struct embedded_lua *m = lua_touserdata(L, lua_upvalueindex(1));
    const char *stem = m->name + strlen("bpflua.");
    lua_pushfstring(L, "@compiler/%s.lua", stem);
    if (luaL_loadbufferx(L, m->src, m->len, lua_tostring(L, -1), "t") != LUA_OK)
        return lua_error(L);
    lua_pushstring(L, m->name);
    lua_pushstring(L, ":embedded:");
    lua_call(L, 2, 1);
    return 1;
}

/* package.searchers entry for $BPFLUA_COMPILER_DIR */
static int dir_searcher(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    const char *dir = lua_tostring(L, lua_upvalueindex(1));
    if (strncmp(name, "bpflua.", 7) != 0 || strchr(name + 7, '.') || strchr(name + 7, '/')) {
        lua_pushfstring(L, "no bpflua compiler module '%s'", name);
        return 1;
    }
    const char *path = lua_pushfstring(L, "%s/%s.lua", dir, name + 7);
    int rc = luaL_loadfilex(L, path, "t");
    if (rc == LUA_ERRFILE) {
        lua_pushfstring(L, "no file '%s'", path);
        return 1;
    }
    if (rc != LUA_OK)
        return luaL_error(L, "error loading module '%s' from '%s':\n\t%s", name, path,
                          lua_tostring(L, -1));
    lua_pushstring(L, path);
    return 2;
}

void bl_lua_install_compiler(lua_State *L)
{
    int top = lua_gettop(L);
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    lua_getfield(L, -1, "package");
    if (!lua_istable(L, -1)) {
        lua_settop(L, top);
        return;
    }
    const char *dir = getenv("BPFLUA_COMPILER_DIR");
    if (dir && *dir) {
        lua_getfield(L, -1, "searchers");
        if (lua_istable(L, -1)) {
            /* only once per state */
            lua_getfield(L, LUA_REGISTRYINDEX, "bpflua.dir_searcher");
            int installed = lua_toboolean(L, -1);
            lua_pop(L, 1);
            if (!installed) {
                lua_Integer n = (lua_Integer)luaL_len(L, -1);
                for (lua_Integer i = n; i >= 2; i--) {
                    lua_geti(L, -1, i);
                    lua_seti(L, -2, i + 1);
                }
                lua_pushstring(L, dir);
                lua_pushcclosure(L, dir_searcher, 1);
                lua_seti(L, -2, 2);
                lua_pushboolean(L, 1);
                lua_setfield(L, LUA_REGISTRYINDEX, "bpflua.dir_searcher");
            }
        }
    } else {
        lua_getfield(L, -1, "preload");
        if (lua_istable(L, -1)) {
            for (const struct embedded_lua *m = bl_embedded_lua; m->name; m++) {
                lua_getfield(L, -1, m->name);
                int present = !lua_isnil(L, -1);
                lua_pop(L, 1);
                if (present)
                    continue;
                lua_pushlightuserdata(L, (void *)m);
                lua_pushcclosure(L, embedded_loader, 1);
                lua_setfield(L, -2, m->name);
            }
        }
    }
    lua_settop(L, top);
}

/* ---- program objects ----------------------------------------------------------- */

static struct lobject *check_lobject(lua_State *L, int idx)
{
    struct lobject *o = luaL_checkudata(L, idx, OBJECT_MT);
    if (!o->obj)
        luaL_error(L, "bpf object is closed");
    return o;
}

/* Raises a Lua error with *err (freed), or `fallback` when there is none. */
static int raise_err(lua_State *L, char *err, const char *fallback)
{
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addstring(&b, err ? err : fallback);
    free(err);
    luaL_pushresult(&b);
    return lua_error(L);
}

static void push_map_proxy(lua_State *L, int obj_idx, int index)
{
    struct lmap *m = lua_newuserdatauv(L, sizeof *m, 1);
    m->index = index;
    lua_pushvalue(L, obj_idx);
    lua_setiuservalue(L, -2, 1);
    luaL_setmetatable(L, MAP_MT);
}

/* Wraps obj (taking ownership) in a program userdata pushed on the stack. */
static struct lobject *push_lobject(lua_State *L, bpflua_object *obj)
{
    struct lobject *o = lua_newuserdatauv(L, sizeof *o, 1);
    o->obj = obj;
    luaL_setmetatable(L, OBJECT_MT);
    return o;
}

/* (Re)builds the user value { maps = {...} } of the object at idx. */
static void refresh_maps(lua_State *L, int idx)
{
    idx = lua_absindex(L, idx);
    struct lobject *o = lua_touserdata(L, idx);
    lua_newtable(L);
    lua_newtable(L);
    size_t n = bpflua_map_count(o->obj);
    for (size_t i = 0; i < n; i++) {
        struct bpflua_map_spec spec;
        if (bpflua_map_spec(o->obj, i, &spec) < 0 || !spec.name || bpflua_map_is_internal(spec.name))
            continue;
        push_map_proxy(L, idx, (int)i);
        lua_setfield(L, -2, spec.name);
    }
    lua_setfield(L, -2, "maps");
    lua_setiuservalue(L, idx, 1);
}

static int object_gc(lua_State *L)
{
    struct lobject *o = luaL_checkudata(L, 1, OBJECT_MT);
    bpflua_object_free(o->obj);
    o->obj = NULL;
    return 0;
}

static int object_tostring(lua_State *L)
{
    struct lobject *o = luaL_checkudata(L, 1, OBJECT_MT);
    if (!o->obj) {
        lua_pushstring(L, "bpf.object (closed)");
        return 1;
    }
    const char *name = bpflua_object_source_name(o->obj);
    lua_pushfstring(L, "bpf.object (%s: %d programs, %d maps)", name ? name : "?",
                    (int)bpflua_prog_count(o->obj), (int)bpflua_map_count(o->obj));
    return 1;
}

/* Program index from an optional name argument; -1 means "all". */
static int opt_prog(lua_State *L, bpflua_object *obj, int arg, int all_ok)
{
    if (lua_isnoneornil(L, arg)) {
        if (all_ok)
            return -1;
        if (bpflua_prog_count(obj) == 0)
            return luaL_error(L, "object has no programs");
        return 0;
    }
    if (lua_type(L, arg) == LUA_TNUMBER) {
        lua_Integer i = luaL_checkinteger(L, arg);
        if (i < 1 || (size_t)i > bpflua_prog_count(obj))
            return luaL_error(L, "no program #%d", (int)i);
        return (int)i - 1;
    }
    const char *name = luaL_checkstring(L, arg);
    int i = bpflua_prog_find(obj, name);
    if (i < 0)
        return luaL_error(L, "no program named '%s'", name);
    return i;
}

static int object_progs(lua_State *L)
{
    struct lobject *o = check_lobject(L, 1);
    size_t n = bpflua_prog_count(o->obj);
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        lua_pushstring(L, bpflua_prog_name(o->obj, i));
        lua_seti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

static int object_license(lua_State *L)
{
    struct lobject *o = check_lobject(L, 1);
    lua_pushstring(L, bpflua_object_license(o->obj));
    return 1;
}

static void set_int_field(lua_State *L, const char *k, lua_Integer v)
{
    lua_pushinteger(L, v);
    lua_setfield(L, -2, k);
}

/* p:kernel_cost() */
static int object_kernel_cost(lua_State *L)
{
    struct lobject *o = check_lobject(L, 1);
    size_t n = bpflua_prog_count(o->obj);
    struct bl_kernel_stat *st = calloc(n ? n : 1, sizeof *st);
    if (!st)
        return luaL_error(L, "out of memory");
    char *err = NULL;
    int rc = bl_kernel_stats(o->obj, st, &err);
    lua_createtable(L, 0, (int)n);
    for (size_t i = 0; i < n; i++) {
        if (!st[i].verified)
            continue;
        lua_createtable(L, 0, 3);
        set_int_field(L, "insns", (lua_Integer)st[i].insns);
        set_int_field(L, "usec", (lua_Integer)st[i].usec);
        lua_pushboolean(L, st[i].loaded);
        lua_setfield(L, -2, "loaded");
        lua_setfield(L, -2, bpflua_prog_name(o->obj, i));
    }
    free(st);
    if (rc)
        lua_pushstring(L, err ? err : "kernel: load failed");
    free(err);
    return rc ? 2 : 1;
}

/* p:verify([prog] [, {log = true}]) */
static int object_verify(lua_State *L)
{
    struct lobject *o = check_lobject(L, 1);
    int only = opt_prog(L, o->obj, 2, 1);
    int want_log = 0;
    if (lua_istable(L, 3)) {
        lua_getfield(L, 3, "log");
        want_log = lua_toboolean(L, -1);
        lua_pop(L, 1);
    }
    lua_settop(L, 3);
    size_t n = bpflua_prog_count(o->obj);
    if (n == 0) {
        lua_pushboolean(L, 0);
        lua_pushstring(L, "error: object has no programs");
        return 2;
    }
    lua_newtable(L);          /* 4: info */
    lua_newtable(L);          /* 5: info.progs */
    lua_pushliteral(L, "");   /* 6: the logs */
    lua_Integer max_insns = 0, verified = 0, ns = 0;
    for (size_t i = 0; i < n; i++) {
        if (only >= 0 && (size_t)only != i)
            continue;
        struct bpflua_verify_info vi = {0};
        char *err = NULL, *log = NULL;
        int rc = bpflua_verify(o->obj, i, want_log ? 1 : 0, &vi, &err, want_log ? &log : NULL);
        if (log) {
            lua_pushvalue(L, 6);
            lua_pushstring(L, log);
            lua_concat(L, 2);
            lua_replace(L, 6);
            free(log);
        }
        if (rc < 0) {
            lua_pushboolean(L, 0);
            if (err)
                lua_pushstring(L, err);
            else
                lua_pushfstring(L, "error: verification of '%s' failed (%s)",
                                bpflua_prog_name(o->obj, i), strerror(-rc));
            free(err);
            if (want_log) {
                lua_pushvalue(L, 6);
                return 3;
            }
            return 2;
        }
        free(err);
        lua_createtable(L, 0, 3);
        set_int_field(L, "max_insns", (lua_Integer)vi.max_insns);
        set_int_field(L, "verified_insns", (lua_Integer)vi.verified_insns);
        set_int_field(L, "verify_ns", (lua_Integer)vi.verify_ns);
        lua_setfield(L, 5, bpflua_prog_name(o->obj, i));
        if ((lua_Integer)vi.max_insns > max_insns)
            max_insns = (lua_Integer)vi.max_insns;
        verified += vi.verified_insns;
        ns += (lua_Integer)vi.verify_ns;
    }
    lua_pushboolean(L, 1);
    lua_pushvalue(L, 4);
    set_int_field(L, "max_insns", max_insns);
    set_int_field(L, "verified_insns", verified);
    set_int_field(L, "verify_ns", ns);
    lua_pushvalue(L, 5);
    lua_setfield(L, -2, "progs");
    if (want_log) {
        lua_pushvalue(L, 6);
        lua_setfield(L, -2, "log");
    }
    return 2;
}

/* The last run's events, in order: a record as a table keyed by field name,
 * an integer event as an integer, other (raw) events as strings. With
 * `tagged`, each is { map = NAME, fields = t } or { map = NAME, value = v }
 * (info.events: which ring buffer each came from). */
static void push_events(lua_State *L, bpflua_object *obj, int tagged)
{
    size_t n = bpflua_event_count(obj);
    lua_createtable(L, (int)(n < INT32_MAX ? n : 0), 0);
    for (size_t i = 0; i < n; i++) {
        struct bpflua_event ev;
        struct bpflua_map_spec spec;
        if (bpflua_event_get(obj, i, &ev) < 0 || bpflua_map_spec(obj, ev.map, &spec) < 0)
            continue;
        struct bl_vlayout l;
        bl_event_layout(obj, &spec, ev.size, &l);
        if (tagged) {
            lua_createtable(L, 0, 2);
            lua_pushstring(L, spec.name);
            lua_setfield(L, -2, "map");
        }
        bl_vpush(L, &l, ev.data);
        if (tagged)
            lua_setfield(L, -2, l.kind == BL_V_RECORD ? "fields" : "value");
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
}

/* p:run(packet [, opts]) */
static int object_run(lua_State *L)
{
    struct lobject *o = check_lobject(L, 1);
    size_t len;
    const char *pkt = luaL_checklstring(L, 2, &len);
    struct bpflua_run_opts opts = {.engine = BPFLUA_ENGINE_DEFAULT, .repeat = 1};
    int prog = 0;
    if (!lua_isnoneornil(L, 3)) {
        luaL_checktype(L, 3, LUA_TTABLE);
        lua_getfield(L, 3, "engine");
        if (!lua_isnil(L, -1)) {
            const char *e = luaL_checkstring(L, -1);
            int en = bl_engine_parse(e);
            if (en < 0)
                return luaL_error(L, "unknown engine '%s' (use interp, jit or kernel)", e);
            opts.engine = (enum bpflua_engine)en;
        }
        lua_getfield(L, 3, "repeat");
        if (!lua_isnil(L, -1)) {
            lua_Integer r = luaL_checkinteger(L, -1);
            if (r < 1)
                return luaL_error(L, "repeat must be at least 1");
            opts.repeat = (uint64_t)r;
        }
        lua_getfield(L, 3, "max_insns");
        if (!lua_isnil(L, -1)) {
            lua_Integer m = luaL_checkinteger(L, -1);
            if (m < 0)
                return luaL_error(L, "max_insns must not be negative");
            opts.max_insns = (uint64_t)m;
        }
        lua_getfield(L, 3, "cpu");
        if (!lua_isnil(L, -1)) {
            lua_Integer c = luaL_checkinteger(L, -1);
            if (c < 0 || c >= bpflua_num_possible_cpus())
                return luaL_error(L, "cpu must be 0 to %d", bpflua_num_possible_cpus() - 1);
            opts.cpu = (uint32_t)c;
        }
        static const char *const skb_fields[] = {"mark", "priority", "ifindex"};
        uint32_t *skb_dst[] = {&opts.mark, &opts.priority, &opts.ifindex};
        for (int f = 0; f < 3; f++) {
            lua_getfield(L, 3, skb_fields[f]);
            if (!lua_isnil(L, -1)) {
                lua_Integer v = luaL_checkinteger(L, -1);
                if (v < 0 || v > 0xffffffff)
                    return luaL_error(L, "%s must be a 32-bit number (0 to 4294967295)", skb_fields[f]);
                *skb_dst[f] = (uint32_t)v;
            }
            lua_pop(L, 1);
        }
        lua_getfield(L, 3, "prog");
        prog = opt_prog(L, o->obj, lua_gettop(L), 0);
        lua_pop(L, 5);
    } else {
        prog = opt_prog(L, o->obj, 4, 0);
    }
    if (opts.engine == BPFLUA_ENGINE_DEFAULT)
        opts.engine = bl_engine_default();
    unsigned char *buf = malloc(len ? len : 1);
    if (!buf)
        return luaL_error(L, "out of memory");
    memcpy(buf, pkt, len);
    bpflua_trace_clear(o->obj);
    struct bpflua_run_result res = {0};
    char *err = NULL;
    int rc = bpflua_run(o->obj, (size_t)prog, buf, len, &opts, &res, &err);
    if (rc < 0) {
        free(buf);
        lua_pushfstring(L, "run of '%s' failed: %s", bpflua_prog_name(o->obj, (size_t)prog),
                        err ? err : strerror(-rc));
        free(err);
        return lua_error(L);
    }
    free(err);
    lua_pushinteger(L, (lua_Integer)(res.retval & 0xffffffffu));
    push_events(L, o->obj, 0);
    lua_createtable(L, 0, 8);
    push_events(L, o->obj, 1);
    lua_setfield(L, -2, "events");
    set_int_field(L, "events_not_shown", (lua_Integer)bpflua_events_unshown(o->obj));
    set_int_field(L, "events_dropped", (lua_Integer)bpflua_events_dropped(o->obj));
    set_int_field(L, "ns_per_run", (lua_Integer)res.ns_per_run);
    set_int_field(L, "setup_ns", (lua_Integer)res.setup_ns);
    set_int_field(L, "insns", (lua_Integer)res.insns);
    set_int_field(L, "retval64", (lua_Integer)res.retval);
    if (bl_prog_type_by_name(bpflua_prog_type(o->obj, (size_t)prog))->build == BL_BUILD_SKB) {
        set_int_field(L, "mark", (lua_Integer)res.mark);
        set_int_field(L, "priority", (lua_Integer)res.priority);
    }
    lua_pushlstring(L, (const char *)buf, len);
    lua_setfield(L, -2, "packet");
    free(buf);
    const char *trace = bpflua_trace_output(o->obj);
    lua_pushstring(L, trace ? trace : "");
    lua_setfield(L, -2, "trace");
    lua_pushstring(L, bl_engine_name(opts.engine));
    lua_setfield(L, -2, "engine");
    return 3;
}

/* p:disasm([prog]) */
static int object_disasm(lua_State *L)
{
    struct lobject *o = check_lobject(L, 1);
    int only = opt_prog(L, o->obj, 2, 1);
    size_t n = bpflua_prog_count(o->obj);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (size_t i = 0; i < n; i++) {
        if (only >= 0 && (size_t)only != i)
            continue;
        char *text = bpflua_disasm(o->obj, i, 1);
        if (!text)
            return luaL_error(L, "cannot disassemble '%s'", bpflua_prog_name(o->obj, i));
        luaL_addstring(&b, text);
        size_t tl = strlen(text);
        if (tl && text[tl - 1] != '\n')
            luaL_addchar(&b, '\n');
        free(text);
    }
    luaL_pushresult(&b);
    return 1;
}

static int object_elf(lua_State *L)
{
    struct lobject *o = check_lobject(L, 1);
    void *buf = NULL;
    size_t len = 0;
    char *err = NULL;
    if (bpflua_object_to_elf(o->obj, &buf, &len, &err) < 0) {
        free(buf);
        return raise_err(L, err, "cannot write ELF");
    }
    free(err);
    lua_pushlstring(L, buf, len);
    free(buf);
    return 1;
}

static int object_write(lua_State *L)
{
    struct lobject *o = check_lobject(L, 1);
    const char *path = luaL_checkstring(L, 2);
    char *err = NULL;
    if (bpflua_object_write_elf(o->obj, path, &err) < 0)
        return raise_err(L, err, "cannot write ELF");
    free(err);
    lua_pushboolean(L, 1);
    return 1;
}

static int object_trace(lua_State *L)
{
    struct lobject *o = check_lobject(L, 1);
    const char *t = bpflua_trace_output(o->obj);
    lua_pushstring(L, t ? t : "");
    return 1;
}

/* p.records.NAME(t): checks that t is a record NAME (fields by name,
 * integers; missing ones are 0) and returns it: a key or value for p.maps. */
static int record_ctor(lua_State *L)
{
    struct lobject *o = check_lobject(L, lua_upvalueindex(1));
    struct bl_vlayout l;
    memset(&l, 0, sizeof l);
    size_t rec = (size_t)lua_tointeger(L, lua_upvalueindex(2));
    uint32_t size;
    size_t nf;
    if (!bpflua_record_info(o->obj, rec, &size, &nf) || size > KEY_MAX)
        return luaL_error(L, "no such record");
    l.kind = BL_V_RECORD;
    l.size = size;
    l.obj = o->obj;
    l.rec = rec;
    l.n_fields = nf;
    unsigned char buf[KEY_MAX];
    if (lua_isnoneornil(L, 1)) {
        lua_settop(L, 0);
        lua_newtable(L);
    }
    bl_vcheck(L, 1, &l, buf, bpflua_record_info(o->obj, rec, &size, &nf));
    lua_settop(L, 1);
    return 1;
}

static int object_index(lua_State *L)
{
    struct lobject *o = check_lobject(L, 1);
    const char *k = lua_tostring(L, 2);
    if (k && !strcmp(k, "records")) {
        size_t n = bpflua_record_count(o->obj);
        lua_createtable(L, 0, (int)(n < 1024 ? n : 0));
        for (size_t i = 0; i < n; i++) {
            uint32_t size;
            size_t nf;
            const char *name = bpflua_record_info(o->obj, i, &size, &nf);
            if (!name)
                continue;
            lua_pushvalue(L, 1);
            lua_pushinteger(L, (lua_Integer)i);
            lua_pushcclosure(L, record_ctor, 2);
            lua_setfield(L, -2, name);
        }
        return 1;
    }
    if (k && !strcmp(k, "maps")) {
        lua_getiuservalue(L, 1, 1);
        if (!lua_istable(L, -1)) {
            lua_pop(L, 1);
            refresh_maps(L, 1);
            lua_getiuservalue(L, 1, 1);
        }
        lua_getfield(L, -1, "maps");
        return 1;
    }
    luaL_getmetatable(L, OBJECT_MT);
    lua_getfield(L, -1, "__methods");
    lua_pushvalue(L, 2);
    lua_rawget(L, -2);
    return 1;
}

/* ---- map proxies --------------------------------------------------------------- */

struct map_ctx {
    bpflua_object *obj;
    int index;
    struct bpflua_map_spec spec;
};

static void check_map(lua_State *L, int idx, struct map_ctx *mc)
{
    struct lmap *m = luaL_checkudata(L, idx, MAP_MT);
    lua_getiuservalue(L, idx, 1);
    struct lobject *o = luaL_testudata(L, -1, OBJECT_MT);
    if (!o || !o->obj)
        luaL_error(L, "map of a closed bpf object");
    lua_pop(L, 1);
    mc->obj = o->obj;
    mc->index = m->index;
    if (bpflua_map_spec(o->obj, (size_t)m->index, &mc->spec) < 0)
        luaL_error(L, "no such map");
}

static int map_index(lua_State *L)
{
    struct map_ctx mc;
    check_map(L, 1, &mc);
    if (lua_type(L, 2) == LUA_TSTRING) {
        luaL_getmetatable(L, MAP_MT);
        lua_getfield(L, -1, "__methods");
        lua_pushvalue(L, 2);
        lua_rawget(L, -2);
        if (!lua_isnil(L, -1))
            return 1;
        lua_pop(L, 3);
    }
    if (mc.spec.type == BPFLUA_MAP_RINGBUF)
        return luaL_error(L, "map '%s' is a ring buffer: use :pop()", mc.spec.name);
    unsigned char key[KEY_MAX], value[KEY_MAX];
    if (mc.spec.value_size > KEY_MAX || mc.spec.key_size > KEY_MAX)
        return luaL_error(L, "key or value size not supported");
    struct bl_vlayout kl, vl;
    bl_key_layout(mc.obj, &mc.spec, &kl);
    bl_value_layout(mc.obj, &mc.spec, &vl);
    bl_vcheck(L, 2, &kl, key, "key");
    if (bl_obj_map_lookup(mc.obj, (size_t)mc.index, key, value) < 0) {
        lua_pushnil(L);
        return 1;
    }
    bl_vpush(L, &vl, value);
    return 1;
}

static int map_newindex(lua_State *L)
{
    struct map_ctx mc;
    check_map(L, 1, &mc);
    if (mc.spec.type == BPFLUA_MAP_RINGBUF)
        return luaL_error(L, "map '%s' is a ring buffer", mc.spec.name);
    unsigned char key[KEY_MAX], value[KEY_MAX];
    if (mc.spec.value_size > KEY_MAX || mc.spec.key_size > KEY_MAX)
        return luaL_error(L, "key or value size not supported");
    struct bl_vlayout kl, vl;
    bl_key_layout(mc.obj, &mc.spec, &kl);
    bl_value_layout(mc.obj, &mc.spec, &vl);
    bl_vcheck(L, 2, &kl, key, "key");
    if (lua_isnil(L, 3)) {
        int rc = bl_obj_map_delete(mc.obj, (size_t)mc.index, key);
        if (rc < 0 && rc != -ENOENT && mc.spec.type != BPFLUA_MAP_ARRAY &&
            mc.spec.type != BPFLUA_MAP_PERCPU_ARRAY)
            return luaL_error(L, "cannot delete from map '%s': %s", mc.spec.name, strerror(-rc));
        return 0;
    }
    bl_vcheck(L, 3, &vl, value, "value");
    int rc = bl_obj_map_update(mc.obj, (size_t)mc.index, key, value, 0);
    if (rc < 0)
        return luaL_error(L, "cannot update map '%s': %s", mc.spec.name,
                          rc == -E2BIG ? "map is full" : strerror(-rc));
    return 0;
}

static int map_next(lua_State *L)
{
    struct map_ctx mc;
    check_map(L, 1, &mc);
    unsigned char key[KEY_MAX], next[KEY_MAX], value[KEY_MAX];
    if (mc.spec.key_size > KEY_MAX || mc.spec.value_size > KEY_MAX)
        return luaL_error(L, "key or value too large");
    struct bl_vlayout kl, vl;
    bl_key_layout(mc.obj, &mc.spec, &kl);
    bl_value_layout(mc.obj, &mc.spec, &vl);
    int rc;
    if (lua_isnoneornil(L, 2)) {
        rc = bl_obj_map_next_key(mc.obj, (size_t)mc.index, NULL, next);
    } else {
        bl_vcheck(L, 2, &kl, key, "key");
        rc = bl_obj_map_next_key(mc.obj, (size_t)mc.index, key, next);
    }
    for (;;) {
        if (rc < 0) {
            lua_pushnil(L);
            return 1;
        }
        if (bl_obj_map_lookup(mc.obj, (size_t)mc.index, next, value) == 0)
            break;
        memcpy(key, next, mc.spec.key_size);
        rc = bl_obj_map_next_key(mc.obj, (size_t)mc.index, key, next);
    }
    bl_vpush(L, &kl, next);
    bl_vpush(L, &vl, value);
    return 2;
}

static int map_pairs(lua_State *L)
{
    struct map_ctx mc;
    check_map(L, 1, &mc);
    if (mc.spec.type == BPFLUA_MAP_RINGBUF)
        return luaL_error(L, "map '%s' is a ring buffer: use :pop()", mc.spec.name);
    lua_pushcfunction(L, map_next);
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    return 3;
}

static int map_len(lua_State *L)
{
    struct map_ctx mc;
    check_map(L, 1, &mc);
    lua_Integer n = 0;
    unsigned char key[KEY_MAX], next[KEY_MAX];
    if (mc.spec.key_size > KEY_MAX)
        return luaL_error(L, "key too large");
    int rc = bl_obj_map_next_key(mc.obj, (size_t)mc.index, NULL, next);
    while (rc == 0) {
        n++;
        memcpy(key, next, mc.spec.key_size);
        rc = bl_obj_map_next_key(mc.obj, (size_t)mc.index, key, next);
    }
    lua_pushinteger(L, n);
    return 1;
}

/* m:pop() for ring buffers and perf_event_arrays: the oldest record as a
 * string, or nil; for queue and stack maps: the next value, or nil */
static int map_pop(lua_State *L)
{
    struct map_ctx mc;
    check_map(L, 1, &mc);
    if (mc.spec.type == BPFLUA_MAP_QUEUE || mc.spec.type == BPFLUA_MAP_STACK) {
        unsigned char value[KEY_MAX];
        if (mc.spec.value_size > KEY_MAX)
            return luaL_error(L, "value size %d not supported", (int)mc.spec.value_size);
        if (bpflua_map_pop(mc.obj, (size_t)mc.index, value) < 0) {
            lua_pushnil(L);
            return 1;
        }
        struct bl_vlayout vl;
        bl_value_layout(mc.obj, &mc.spec, &vl);
        bl_vpush(L, &vl, value);
        return 1;
    }
    size_t cap = mc.spec.type == BPFLUA_MAP_RINGBUF && mc.spec.max_entries ? mc.spec.max_entries
                                                                          : 1 << 20;
    char *buf = malloc(cap);
    if (!buf)
        return luaL_error(L, "out of memory");
    int n = bpflua_ringbuf_pop(mc.obj, (size_t)mc.index, buf, cap);
    if (n <= 0) {
        free(buf);
        if (n < 0)
            return luaL_error(L, "cannot read map '%s': %s", mc.spec.name, strerror(-n));
        lua_pushnil(L);
        return 1;
    }
    lua_pushlstring(L, buf, (size_t)n);
    free(buf);
    return 1;
}

/* m:cpus(key) for per-CPU maps: { CPU 0's value, CPU 1's, ... }, or nil */
static int map_cpus(lua_State *L)
{
    struct map_ctx mc;
    check_map(L, 1, &mc);
    if (mc.spec.key_size > KEY_MAX || mc.spec.value_size > KEY_MAX)
        return luaL_error(L, "key or value too large");
    unsigned char key[KEY_MAX];
    struct bl_vlayout kl, vl;
    bl_key_layout(mc.obj, &mc.spec, &kl);
    bl_value_layout(mc.obj, &mc.spec, &vl);
    bl_vcheck(L, 2, &kl, key, "key");
    int n = bpflua_num_possible_cpus();
    size_t stride = ((size_t)mc.spec.value_size + 7) & ~(size_t)7;
    unsigned char *values = malloc(stride * (size_t)n);
    if (!values)
        return luaL_error(L, "out of memory");
    int rc = bl_obj_map_lookup_percpu(mc.obj, (size_t)mc.index, key, values);
    if (rc < 0) {
        free(values);
        if (rc == -EINVAL)
            return luaL_error(L, "map '%s' is not a per-CPU map", mc.spec.name);
        lua_pushnil(L);
        return 1;
    }
    lua_createtable(L, n, 0);
    for (int c = 0; c < n; c++) {
        bl_vpush(L, &vl, values + (size_t)c * stride);
        lua_rawseti(L, -2, c + 1);
    }
    free(values);
    return 1;
}

static int l_num_possible_cpus(lua_State *L)
{
    lua_pushinteger(L, bpflua_num_possible_cpus());
    return 1;
}

static int map_name(lua_State *L)
{
    struct map_ctx mc;
    check_map(L, 1, &mc);
    lua_pushstring(L, mc.spec.name);
    return 1;
}

static int map_spec(lua_State *L)
{
    struct map_ctx mc;
    check_map(L, 1, &mc);
    lua_createtable(L, 0, 8);
    lua_pushstring(L, mc.spec.name);
    lua_setfield(L, -2, "name");
    set_int_field(L, "type", mc.spec.type);
    set_int_field(L, "key_size", mc.spec.key_size);
    set_int_field(L, "value_size", mc.spec.value_size);
    set_int_field(L, "max_entries", mc.spec.max_entries);
    set_int_field(L, "flags", mc.spec.flags);
    lua_pushboolean(L, mc.spec.key_signed);
    lua_setfield(L, -2, "key_signed");
    lua_pushboolean(L, mc.spec.value_signed);
    lua_setfield(L, -2, "value_signed");
    return 1;
}

static int map_tostring(lua_State *L)
{
    struct map_ctx mc;
    check_map(L, 1, &mc);
    lua_pushfstring(L, "bpf.map (%s)", mc.spec.name);
    return 1;
}

/* ---- building objects ------------------------------------------------------------ */

static lua_Integer field_int(lua_State *L, int t, const char *k, lua_Integer dflt)
{
    lua_getfield(L, t, k);
    lua_Integer v = dflt;
    if (!lua_isnil(L, -1)) {
        if (!lua_isinteger(L, -1))
            luaL_error(L, "compiler output: field '%s' is not an integer", k);
        v = lua_tointeger(L, -1);
    }
    lua_pop(L, 1);
    return v;
}

/* The string field k of table t, left on the stack (so it stays alive). */
static const char *field_str(lua_State *L, int t, const char *k, const char *dflt)
{
    lua_getfield(L, t, k);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_pushstring(L, dflt ? dflt : "");
        return dflt;
    }
    if (lua_type(L, -1) != LUA_TSTRING)
        luaL_error(L, "compiler output: field '%s' is not a string", k);
    return lua_tostring(L, -1);
}

static int field_bool(lua_State *L, int t, const char *k)
{
    lua_getfield(L, t, k);
    int v = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return v;
}

/* Pushes t[k], a list of tables, and returns its length. An optional list
 * that is absent pushes nothing and returns -1. */
static lua_Integer push_list(lua_State *L, int t, const char *k, int optional)
{
    lua_getfield(L, t, k);
    if (optional && lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return -1;
    }
    luaL_checktype(L, -1, LUA_TTABLE);
    return luaL_len(L, -1);
}

/* Pushes list[i], which must be a table, and returns its stack index. */
static int push_item(lua_State *L, int list, lua_Integer i)
{
    lua_geti(L, list, i);
    luaL_checktype(L, -1, LUA_TTABLE);
    return lua_gettop(L);
}

/* records = { { name =, size =, fields = { { name =, offset =, size =, signed = } } } },
 * in order: maps refer to them as key_record / value_record = index (1-based) */
static void add_records(lua_State *L, bpflua_object *obj, int out)
{
    lua_Integer n = push_list(L, out, "records", 1);
    if (n < 0)
        return;
    int recs = lua_gettop(L);
    for (lua_Integer i = 1; i <= n; i++) {
        int r = push_item(L, recs, i);
        const char *name = field_str(L, r, "name", NULL);
        if (!name)
            luaL_error(L, "compiler output: record #%d has no name", (int)i);
        uint32_t size = (uint32_t)field_int(L, r, "size", 0);
        size_t nf = (size_t)push_list(L, r, "fields", 0);
        int ft = lua_gettop(L);
        struct bpflua_field *fs = lua_newuserdatauv(L, (nf ? nf : 1) * sizeof *fs, 0);
        for (size_t f = 0; f < nf; f++) {
            int e = push_item(L, ft, (lua_Integer)f + 1);
            fs[f].name = field_str(L, e, "name", "");
            fs[f].offset = (uint32_t)field_int(L, e, "offset", 0);
            fs[f].size = (uint32_t)field_int(L, e, "size", 0);
            fs[f].is_signed = field_bool(L, e, "signed");
            /* the name string stays referenced by the fields table */
            lua_settop(L, e - 1);
        }
        if (bpflua_object_add_record(obj, name, size, fs, nf) < 0)
            luaL_error(L, "cannot add record '%s': %s", name, bpflua_object_error(obj));
        lua_settop(L, recs);
    }
    lua_pop(L, 1);
}

/* init = { { key = "<key bytes>", value = "<value bytes>" }, ... } */
static void add_init(lua_State *L, bpflua_object *obj, int map_idx, int m, const char *name)
{
    lua_Integer n = push_list(L, m, "init", 1);
    if (n < 0)
        return;
    int t = lua_gettop(L);
    struct bpflua_map_spec spec;
    bpflua_map_spec(obj, (size_t)map_idx, &spec);
    for (lua_Integer i = 1; i <= n; i++) {
        int e = push_item(L, t, i);
        size_t kl = 0, vl = 0;
        lua_getfield(L, e, "key");
        const char *k = lua_tolstring(L, -1, &kl);
        lua_getfield(L, e, "value");
        const char *v = lua_tolstring(L, -1, &vl);
        if (!k || !v || kl != spec.key_size || vl != spec.value_size)
            luaL_error(L, "compiler output: map '%s': init entry #%d is not key/value bytes "
                       "of the map's sizes", name, (int)i);
        int rc = bpflua_map_add_init(obj, (size_t)map_idx, k, v);
        if (rc < 0)
            luaL_error(L, "map '%s': cannot add init entry #%d: %s", name, (int)i, strerror(-rc));
        lua_settop(L, t);
    }
    lua_pop(L, 1);
}

static void add_maps(lua_State *L, bpflua_object *obj, int out)
{
    lua_Integer n = push_list(L, out, "maps", 1);
    if (n < 0)
        return;
    int maps = lua_gettop(L);
    for (lua_Integer i = 1; i <= n; i++) {
        int m = push_item(L, maps, i);
        struct bpflua_map_spec spec = {0};
        spec.name = field_str(L, m, "name", NULL);
        if (!spec.name)
            luaL_error(L, "compiler output: map #%d has no name", (int)i);
        spec.type = (uint32_t)field_int(L, m, "type", 0);
        spec.key_size = (uint32_t)field_int(L, m, "key_size", 0);
        spec.value_size = (uint32_t)field_int(L, m, "value_size", 0);
        spec.max_entries = (uint32_t)field_int(L, m, "max_entries", 0);
        spec.flags = (uint32_t)field_int(L, m, "flags", 0);
        spec.key_signed = field_bool(L, m, "key_signed");
        spec.value_signed = field_bool(L, m, "value_signed");
        spec.key_record = (uint32_t)field_int(L, m, "key_record", 0);
        spec.value_record = (uint32_t)field_int(L, m, "value_record", 0);
        spec.event_type = (uint32_t)field_int(L, m, "event_type", 0);
        int rc = bpflua_object_add_map(obj, &spec);
        if (rc < 0)
            luaL_error(L, "cannot add map '%s': %s", spec.name,
                       bpflua_object_error(obj)[0] ? bpflua_object_error(obj) : strerror(-rc));
        add_init(L, obj, rc, m, spec.name);
        lua_settop(L, maps);
    }
    lua_pop(L, 1);
}

static void add_progs(lua_State *L, bpflua_object *obj, int out)
{
    lua_Integer n = push_list(L, out, "progs", 0);
    int progs = lua_gettop(L);
    for (lua_Integer i = 1; i <= n; i++) {
        int p = push_item(L, progs, i);
        const char *name = field_str(L, p, "name", NULL);
        if (!name)
            luaL_error(L, "compiler output: program #%d has no name", (int)i);
        const char *section = field_str(L, p, "section", "xdp");
        lua_getfield(L, p, "insns");
        size_t ilen;
        const char *insns = lua_tolstring(L, -1, &ilen);
        if (!insns || ilen % 8 != 0)
            luaL_error(L, "compiler output: program '%s' has no insns string of 8-byte slots", name);
        /* funcs */
        lua_Integer fl = push_list(L, p, "funcs", 1);
        size_t nf = fl < 0 ? 0 : (size_t)fl;
        int ft = lua_gettop(L);
        struct bpflua_func_info *funcs = lua_newuserdatauv(L, (nf ? nf : 1) * sizeof *funcs, 0);
        for (size_t f = 0; f < nf; f++) {
            int e = push_item(L, ft, (lua_Integer)f + 1);
            funcs[f].insn = (uint32_t)field_int(L, e, "insn", 0);
            funcs[f].name = field_str(L, e, "name", "");
            funcs[f].section = NULL;
            /* keep the name string referenced from the funcs table entry */
            lua_settop(L, e);
            lua_pop(L, 1);
        }
        struct bpflua_func_info main_func = {0, name, NULL};
        /* lines */
        lua_Integer ll = push_list(L, p, "lines", 1);
        size_t nl = ll < 0 ? 0 : (size_t)ll;
        int lt = lua_gettop(L);
        struct bpflua_line_info *lines = lua_newuserdatauv(L, (nl ? nl : 1) * sizeof *lines, 0);
        for (size_t l = 0; l < nl; l++) {
            int e = push_item(L, lt, (lua_Integer)l + 1);
            lines[l].insn = (uint32_t)field_int(L, e, "insn", 0);
            lines[l].line = (uint32_t)field_int(L, e, "line", 0);
            lines[l].col = (uint32_t)field_int(L, e, "col", 0);
            lua_pop(L, 1);
        }
        int rc = bpflua_object_add_prog(obj, name, section, insns, ilen / 8,
                                        nf ? funcs : &main_func, nf ? nf : 1,
                                        lines, nl);
        if (rc < 0)
            luaL_error(L, "cannot add program '%s': %s", name, strerror(-rc));
        lua_settop(L, progs);
    }
    lua_pop(L, 1);
}

/* Function names in funcs[] must outlive add_prog: field_str leaves them
 * referenced by the compiler's table, which is on the stack throughout. */

/* compile_object(src, name): the object userdata (raises on error). */
static int compile_object(lua_State *L)
{
    size_t len;
    const char *src = luaL_checklstring(L, 1, &len);
    const char *name = luaL_optstring(L, 2, "input.lua");
    bl_lua_install_compiler(L);
    lua_getglobal(L, "require");
    lua_pushstring(L, "bpflua.compiler");
    lua_call(L, 1, 1);
    if (!lua_istable(L, -1))
        return luaL_error(L, "the bpflua compiler is not available");
    lua_getfield(L, -1, "compile");
    if (!lua_isfunction(L, -1))
        return luaL_error(L, "the bpflua compiler is not built yet (bpflua.compiler.compile missing)");
    lua_pushlstring(L, src, len);
    lua_pushstring(L, name);
    lua_call(L, 2, 3);
    int out = lua_gettop(L) - 2;
    if (!lua_istable(L, out)) {
        if (lua_type(L, out + 1) == LUA_TSTRING) {
            lua_pushvalue(L, out + 1);
            return lua_error(L);
        }
        return luaL_error(L, "%s: compilation failed", name);
    }
    bpflua_object *obj = bpflua_object_new();
    if (!obj)
        return luaL_error(L, "out of memory");
    push_lobject(L, obj); /* owns obj from here on, also on errors */
    int ud = lua_gettop(L);
    const char *license = field_str(L, out, "license", "GPL");
    if (bpflua_object_set_license(obj, license) < 0)
        return luaL_error(L, "invalid license string");
    const char *sname = field_str(L, out, "source_name", name);
    lua_getfield(L, out, "source_text");
    const char *stext = lua_isstring(L, -1) ? lua_tostring(L, -1) : src;
    if (bpflua_object_set_source(obj, sname, stext) < 0)
        return luaL_error(L, "out of memory");
    lua_settop(L, ud);
    add_records(L, obj, out);
    add_maps(L, obj, out);
    add_progs(L, obj, out);
    lua_settop(L, ud);
    refresh_maps(L, ud);
    return 1;
}

bpflua_object *bl_lua_compile(lua_State *L, const char *src, size_t len,
                              const char *name, char **err)
{
    int top = lua_gettop(L);
    lua_pushcfunction(L, compile_object);
    lua_pushlstring(L, src, len);
    lua_pushstring(L, name ? name : "input.lua");
    if (lua_pcall(L, 2, 1, 0) != LUA_OK) {
        const char *msg = lua_tostring(L, -1);
        if (err) {
            free(*err);
            *err = strdup(msg ? msg : "compilation failed");
        }
        lua_settop(L, top);
        return NULL;
    }
    struct lobject *o = lua_touserdata(L, -1);
    bpflua_object *obj = o->obj;
    o->obj = NULL; /* ownership passes to the caller */
    lua_settop(L, top);
    return obj;
}

/* ---- module functions -------------------------------------------------------------- */

/* bpf.compile(src [, opts | name]) */
static int l_compile(lua_State *L)
{
    luaL_checkstring(L, 1);
    lua_settop(L, 2);
    if (lua_istable(L, 2)) {
        lua_getfield(L, 2, "name");
        if (!lua_isnil(L, -1))
            luaL_checkstring(L, -1);
        lua_replace(L, 2);
    } else if (!lua_isnil(L, 2)) {
        luaL_checkstring(L, 2);
    }
    lua_pushcfunction(L, compile_object);
    lua_insert(L, 1);
    lua_call(L, 2, 1);
    return 1;
}

static int push_or_raise(lua_State *L, bpflua_object *obj, char *err, const char *fallback)
{
    if (!obj)
        return raise_err(L, err, fallback);
    free(err);
    push_lobject(L, obj);
    refresh_maps(L, -1);
    return 1;
}

/* bpf.load(path): an ELF object, or a .lua source (compiled) */
static int l_load(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    if (bl_has_suffix(path, ".lua")) {
        size_t len;
        char *err = NULL;
        char *src = bl_read_file(path, &len, &err);
        if (!src)
            return raise_err(L, err, "cannot read file");
        lua_pushcfunction(L, compile_object);
        lua_pushlstring(L, src, len);
        free(src);
        lua_pushvalue(L, 1);
        lua_call(L, 2, 1);
        return 1;
    }
    char *err = NULL;
    bpflua_object *obj = bpflua_object_open_elf(path, &err);
    return push_or_raise(L, obj, err, "cannot open ELF object");
}

/* bpf.elf(bytes [, name]): an ELF image held in a string */
static int l_from_elf(lua_State *L)
{
    size_t len;
    const char *buf = luaL_checklstring(L, 1, &len);
    const char *name = luaL_optstring(L, 2, "object.o");
    char *err = NULL;
    bpflua_object *obj = bpflua_object_from_elf(buf, len, name, &err);
    return push_or_raise(L, obj, err, "cannot read ELF image");
}

/* bpf.asm(text [, name]) */
static int l_asm(lua_State *L)
{
    const char *text = luaL_checkstring(L, 1);
    const char *name = luaL_optstring(L, 2, "asm");
    char *err = NULL;
    bpflua_object *obj = bpflua_object_from_asm(text, name, &err);
    return push_or_raise(L, obj, err, "cannot assemble");
}

static int l_jit_available(lua_State *L)
{
    lua_pushboolean(L, bl_jit_available());
    return 1;
}

static int l_kernel_available(lua_State *L)
{
    char *why = NULL;
    int ok = bl_kernel_available(&why);
    lua_pushboolean(L, ok);
    if (ok) {
        free(why);
        return 1;
    }
    lua_pushstring(L, why ? why : "bpf(2) unavailable");
    free(why);
    return 2;
}

#ifdef HAVE_ATTACH
/* p:attach(ifname [, {prog = NAME, mode = "skb"|"native", pin = PATH}]) */
static int object_attach(lua_State *L)
{
    struct lobject *o = check_lobject(L, 1);
    luaL_checkstring(L, 2);
    int prog = 0;
    if (lua_istable(L, 3)) {
        lua_getfield(L, 3, "prog");
        prog = opt_prog(L, o->obj, lua_gettop(L), 0);
        lua_pop(L, 1);
    } else {
        prog = opt_prog(L, o->obj, 4, 0);
    }
    return bl_lua_attach_object(L, o->obj, (size_t)prog, 1);
}
#endif

/* The object's user value table (with maps, handlers), pushed. */
static void push_uservalue(lua_State *L, int idx)
{
    lua_getiuservalue(L, idx, 1);
    if (!lua_istable(L, -1)) {
        lua_pop(L, 1);
        refresh_maps(L, idx);
        lua_getiuservalue(L, idx, 1);
    }
}

/* p:on_event(ringbuf_name, fn | nil): fn(event) is called for each event
 * of that ring buffer that p:poll() reads while p is attached. */
static int object_on_event(lua_State *L)
{
    struct lobject *o = check_lobject(L, 1);
    const char *name = luaL_checkstring(L, 2);
    if (!lua_isnil(L, 3))
        luaL_checktype(L, 3, LUA_TFUNCTION);
    int mi = bpflua_map_find(o->obj, name);
    struct bpflua_map_spec spec;
    if (mi < 0 || bpflua_map_spec(o->obj, (size_t)mi, &spec) < 0 ||
        spec.type != BPFLUA_MAP_RINGBUF)
        return luaL_error(L, "'%s' is not a ring buffer of this object", name);
    push_uservalue(L, 1);
    if (lua_getfield(L, -1, "handlers") != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushvalue(L, -1);
        lua_setfield(L, -3, "handlers");
    }
    lua_pushvalue(L, 3);
    lua_setfield(L, -2, name);
    lua_settop(L, 1);
    return 1;
}

#ifdef HAVE_ATTACH
struct poll_ctx { lua_State *L; int handlers; int failed; };

static int deliver(void *ud, const char *map, const struct bl_vlayout *l, const void *data)
{
    struct poll_ctx *c = ud;
    lua_State *L = c->L;
    if (c->failed)
        return 1;
    if (lua_getfield(L, c->handlers, map) != LUA_TFUNCTION) {
        lua_pop(L, 1);
        return 0;
    }
    bl_vpush(L, l, data);
    if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
        c->failed = 1; /* the error stays on the stack */
        return 1;
    }
    return 0;
}

/* p:poll([timeout_ms]): reads the events of the attached program, calls
 * the p:on_event handlers; returns how many events were read and a table
 * of the events each ring buffer's program could not emit (full buffer)
 * so far, {NAME = n}, for programs that count them (bpflua-compiled). */
static int object_poll(lua_State *L)
{
    struct lobject *o = check_lobject(L, 1);
    lua_Integer ms = luaL_optinteger(L, 2, 0);
    struct bl_attachment *a = bl_attachment_for_object(o->obj);
    if (!a)
        return luaL_error(L, "not attached: p:poll() reads the events of p:attach(...)");
    push_uservalue(L, 1);
    if (lua_getfield(L, -1, "handlers") != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
    }
    struct poll_ctx c = { L, lua_gettop(L), 0 };
    char *err = NULL;
    struct bl_event_reader *r = bl_event_reader_new(a, o->obj, deliver, &c, &err);
    if (!r)
        return raise_err(L, err, "cannot read the events");
    int n = bl_event_reader_poll(r, ms > 0 ? (int)(ms > INT32_MAX ? INT32_MAX : ms) : 0);
    if (c.failed) {
        bl_event_reader_free(r);
        return lua_error(L);
    }
    if (n < 0) {
        bl_event_reader_free(r);
        return luaL_error(L, "reading events: %s", strerror(-n));
    }
    lua_pushinteger(L, n);
    lua_newtable(L);
    for (size_t i = 0; i < bl_event_reader_count(r); i++) {
        uint64_t dropped;
        if (bl_event_reader_dropped(r, i, &dropped) > 0) {
            lua_pushinteger(L, (lua_Integer)dropped);
            lua_setfield(L, -2, bl_event_reader_name(r, i));
        }
    }
    bl_event_reader_free(r);
    return 2;
}
#endif

static const luaL_Reg object_methods[] = {
#ifdef HAVE_ATTACH
    {"attach", object_attach}, {"poll", object_poll},
#endif
    {"on_event", object_on_event},
    {"verify", object_verify}, {"run", object_run},     {"disasm", object_disasm},
    {"elf", object_elf},       {"write", object_write}, {"progs", object_progs},
    {"license", object_license}, {"trace", object_trace},
    {"kernel_cost", object_kernel_cost}, {NULL, NULL},
};

static const luaL_Reg map_methods[] = {
    {"pop", map_pop}, {"name", map_name}, {"spec", map_spec}, {"cpus", map_cpus},
    {NULL, NULL},
};

static const luaL_Reg module_funcs[] = {
    {"compile", l_compile}, {"load", l_load}, {"elf", l_from_elf}, {"asm", l_asm},
    {"jit_available", l_jit_available}, {"kernel_available", l_kernel_available},
    {"num_possible_cpus", l_num_possible_cpus},
#ifdef HAVE_ATTACH
    {"attach_file", bl_lua_attach_file}, {"detach", bl_lua_detach_dev},
#endif
    {NULL, NULL},
};

int luaopen_bpf(lua_State *L)
{
    if (luaL_newmetatable(L, OBJECT_MT)) {
        lua_pushcfunction(L, object_gc);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, object_tostring);
        lua_setfield(L, -2, "__tostring");
        lua_pushcfunction(L, object_index);
        lua_setfield(L, -2, "__index");
        luaL_newlib(L, object_methods);
        lua_setfield(L, -2, "__methods");
    }
    lua_pop(L, 1);
    if (luaL_newmetatable(L, MAP_MT)) {
        lua_pushcfunction(L, map_index);
        lua_setfield(L, -2, "__index");
        lua_pushcfunction(L, map_newindex);
        lua_setfield(L, -2, "__newindex");
        lua_pushcfunction(L, map_pairs);
        lua_setfield(L, -2, "__pairs");
        lua_pushcfunction(L, map_len);
        lua_setfield(L, -2, "__len");
        lua_pushcfunction(L, map_tostring);
        lua_setfield(L, -2, "__tostring");
        luaL_newlib(L, map_methods);
        lua_setfield(L, -2, "__methods");
    }
    lua_pop(L, 1);
    bl_lua_install_compiler(L);
    luaL_newlib(L, module_funcs);
    lua_pushstring(L, BPFLUA_VERSION);
    lua_setfield(L, -2, "version");
    lua_createtable(L, 0, 5);
    static const char *const verdicts[] = {"ABORTED", "DROP", "PASS", "TX", "REDIRECT"};
    for (int i = 0; i < 5; i++) {
        lua_pushinteger(L, i);
        lua_setfield(L, -2, verdicts[i]);
    }
    lua_setfield(L, -2, "xdp");
    return 1;
}
