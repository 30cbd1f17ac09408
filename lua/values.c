/* values.c - map keys, map values and events as the user sees them: text for
 * `bpflua run --dump-maps` and the event lines, Lua values for the module.
 *
 * A layout says how to read a key, value or event: an integer of the
 * declared type, a record (field by field in declaration order, each read as
 * its type reads it, u64 unsigned in text), an LPM key ({ u32 prefixlen;
 * u8 addr[4] } shown as a.b.c.d/len) or, for anything else, bytes.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "bl_lua.h"

#define LPM_KEY_SIZE 8

static int int_sized(uint32_t size)
{
    return size == 1 || size == 2 || size == 4 || size == 8;
}

static void set_record(const bpflua_object *obj, uint32_t ref, uint32_t size,
                       struct bl_vlayout *l)
{
    uint32_t rsize = 0;
    size_t nf = 0;
    if (ref && bpflua_record_info(obj, ref - 1, &rsize, &nf) && rsize == size) {
        l->kind = BL_V_RECORD;
        l->rec = ref - 1;
        l->n_fields = nf;
    }
}

static void base_layout(const bpflua_object *obj, uint32_t size, int is_signed,
                        struct bl_vlayout *l)
{
    memset(l, 0, sizeof *l);
    l->obj = obj;
    l->size = size;
    l->is_signed = is_signed;
    l->kind = int_sized(size) ? BL_V_INT : BL_V_BYTES;
}

void bl_key_layout(const bpflua_object *obj, const struct bpflua_map_spec *s,
                   struct bl_vlayout *l)
{
    base_layout(obj, s->key_size, s->key_signed, l);
    if (s->type == BPFLUA_MAP_LPM_TRIE && s->key_size == LPM_KEY_SIZE)
        l->kind = BL_V_LPM;
    else
        set_record(obj, s->key_record, s->key_size, l);
}

void bl_value_layout(const bpflua_object *obj, const struct bpflua_map_spec *s,
                     struct bl_vlayout *l)
{
    base_layout(obj, s->value_size, s->value_signed, l);
    set_record(obj, s->value_record, s->value_size, l);
}

void bl_event_layout(const bpflua_object *obj, const struct bpflua_map_spec *s, uint32_t size,
                     struct bl_vlayout *l)
{
    base_layout(obj, size, 0, l);
    if (s->event_type == BPFLUA_EVENT_RECORD)
        set_record(obj, s->value_record, size, l);
    else if (s->event_type != BPFLUA_EVENT_INT || size != 8)
        l->kind = BL_V_BYTES; /* raw events (other compilers): their bytes */
}

/* field i of a record layout; 0 or -1 */
static int field(const struct bl_vlayout *l, size_t i, struct bpflua_field *f)
{
    return bpflua_record_field(l->obj, l->rec, i, f) == 0 && f->offset <= l->size &&
                   f->size <= l->size - f->offset
               ? 0
               : -1;
}

static void lpm_parts(const unsigned char *b, uint32_t *len, uint32_t *addr)
{
    memcpy(len, b, 4);
    *addr = (uint32_t)b[4] << 24 | (uint32_t)b[5] << 16 | (uint32_t)b[6] << 8 | b[7];
}

/* ---- text ------------------------------------------------------------------- */

static int put_int(struct bl_text *t, const void *buf, uint32_t size, int is_signed)
{
    int64_t v;
    bl_bytes_to_int(buf, size, is_signed, &v);
    if (is_signed)
        return bl_text_printf(t, "%" PRId64, v);
    return bl_text_printf(t, "%" PRIu64, (uint64_t)v);
}

int bl_text_printf(struct bl_text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -EINVAL;
    if (t->len + (size_t)n + 1 > t->cap) {
        size_t cap = (t->cap ? t->cap * 2 : 64) + (size_t)n;
        char *b = realloc(t->buf, cap);
        if (!b)
            return -ENOMEM;
        t->buf = b;
        t->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    t->len += (size_t)n;
    return 0;
}

/* {f=v,...} (text) or {"f":v,...} (JSON: field names are identifiers,
 * nothing to escape), integers as each field's type reads them */
static int put_record(struct bl_text *t, const struct bl_vlayout *l, const unsigned char *b,
                      int json)
{
    int rc = bl_text_printf(t, "{");
    for (size_t i = 0; rc == 0 && i < l->n_fields; i++) {
        struct bpflua_field f;
        if (field(l, i, &f) < 0)
            return -EINVAL;
        rc = bl_text_printf(t, json ? "%s\"%s\":" : "%s%s=", i ? "," : "", f.name);
        if (rc == 0)
            rc = put_int(t, b + f.offset, f.size, f.is_signed);
    }
    return rc ? rc : bl_text_printf(t, "}");
}

int bl_vtext(struct bl_text *t, const struct bl_vlayout *l, const void *buf)
{
    const unsigned char *b = buf;
    switch (l->kind) {
    case BL_V_INT:
        return put_int(t, b, l->size, l->is_signed);
    case BL_V_LPM: {
        uint32_t len, a;
        lpm_parts(b, &len, &a);
        return bl_text_printf(t, "%u.%u.%u.%u/%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255,
                              a & 255, len);
    }
    case BL_V_RECORD:
        return put_record(t, l, b, 0);
    default: {
        int rc = bl_text_printf(t, "0x");
        for (uint32_t i = 0; rc == 0 && i < l->size; i++)
            rc = bl_text_printf(t, "%02x", b[i]);
        return rc;
    }
    }
}

int bl_vjson(struct bl_text *t, const struct bl_vlayout *l, const void *buf)
{
    const unsigned char *b = buf;
    switch (l->kind) {
    case BL_V_INT:
        return put_int(t, b, l->size, l->is_signed);
    case BL_V_RECORD:
        return put_record(t, l, b, 1);
    default: {
        int rc = bl_text_printf(t, "\"");
        if (rc == 0)
            rc = bl_vtext(t, l, buf);
        return rc ? rc : bl_text_printf(t, "\"");
    }
    }
}

/* ---- order (dump lines are sorted by key) -------------------------------------- */

static int cmp_int(const void *a, const void *b, uint32_t size, int is_signed)
{
    int64_t u, v;
    bl_bytes_to_int(a, size, is_signed, &u);
    bl_bytes_to_int(b, size, is_signed, &v);
    if (is_signed)
        return u < v ? -1 : u > v;
    return (uint64_t)u < (uint64_t)v ? -1 : (uint64_t)u > (uint64_t)v;
}

int bl_vcompare(const struct bl_vlayout *l, const void *a, const void *b)
{
    const unsigned char *x = a, *y = b;
    switch (l->kind) {
    case BL_V_INT:
        return cmp_int(x, y, l->size, l->is_signed);
    case BL_V_LPM: {
        uint32_t lx, ax, ly, ay;
        lpm_parts(x, &lx, &ax);
        lpm_parts(y, &ly, &ay);
        if (ax != ay)
            return ax < ay ? -1 : 1;
        return lx < ly ? -1 : lx > ly;
    }
    case BL_V_RECORD:
        for (size_t i = 0; i < l->n_fields; i++) {
            struct bpflua_field f;
            if (field(l, i, &f) < 0)
                break;
            int c = cmp_int(x + f.offset, y + f.offset, f.size, f.is_signed);
            if (c)
                return c;
        }
        return memcmp(x, y, l->size);
    default:
        return memcmp(x, y, l->size);
    }
}

/* ---- Lua values ------------------------------------------------------------------ */

void bl_vpush(lua_State *L, const struct bl_vlayout *l, const void *buf)
{
    const unsigned char *b = buf;
    int64_t v;
    switch (l->kind) {
    case BL_V_INT:
        bl_bytes_to_int(b, l->size, l->is_signed, &v);
        lua_pushinteger(L, (lua_Integer)v);
        return;
    case BL_V_LPM: {
        struct bl_text t = {0};
        if (bl_vtext(&t, l, b) < 0) {
            free(t.buf);
            luaL_error(L, "out of memory");
        }
        lua_pushlstring(L, t.buf, t.len);
        free(t.buf);
        return;
    }
    case BL_V_RECORD:
        lua_createtable(L, 0, (int)l->n_fields);
        for (size_t i = 0; i < l->n_fields; i++) {
            struct bpflua_field f;
            if (field(l, i, &f) < 0)
                break;
            bl_bytes_to_int(b + f.offset, f.size, f.is_signed, &v);
            lua_pushinteger(L, (lua_Integer)v);
            lua_setfield(L, -2, f.name);
        }
        return;
    default:
        lua_pushlstring(L, (const char *)b, l->size);
        return;
    }
}

/* decimal digits at *p, at most max: the number, or -1 */
static long digits(const char **p, long max)
{
    long v = 0;
    const char *s = *p;
    if (*s < '0' || *s > '9')
        return -1;
    while (*s >= '0' && *s <= '9') {
        v = v * 10 + (*s++ - '0');
        if (v > max)
            return -1;
    }
    *p = s;
    return v;
}

/* "a.b.c.d" or "a.b.c.d/len" -> 0, or -1 */
int bl_parse_prefix(const char *s, uint32_t *addr, uint32_t *len)
{
    uint32_t a = 0;
    for (int i = 0; i < 4; i++) {
        long o = digits(&s, 255);
        if (o < 0 || (i < 3 && *s++ != '.'))
            return -1;
        a = a << 8 | (uint32_t)o;
    }
    long n = 32;
    if (*s == '/') {
        s++;
        n = digits(&s, 32);
    }
    if (n < 0 || *s)
        return -1;
    *addr = a;
    *len = (uint32_t)n;
    return 0;
}

static lua_Integer check_int(lua_State *L, int idx, const char *what, const char *name)
{
    int isint = 0;
    lua_Integer v = lua_type(L, idx) == LUA_TNUMBER ? lua_tointegerx(L, idx, &isint) : 0;
    if (!isint)
        luaL_error(L, "%s%s%s must be an integer (got %s)", what, name ? " field " : "",
                   name ? name : "", lua_type(L, idx) == LUA_TNUMBER ? "a float" : luaL_typename(L, idx));
    return v;
}

void bl_vcheck(lua_State *L, int idx, const struct bl_vlayout *l, void *buf, const char *what)
{
    unsigned char *b = buf;
    idx = lua_absindex(L, idx);
    switch (l->kind) {
    case BL_V_INT:
        bl_int_to_bytes(check_int(L, idx, what, NULL), l->size, b);
        return;
    case BL_V_LPM: {
        /* "a.b.c.d/len", "a.b.c.d" (a /32 lookup) or an address as pkt:be32 reads it */
        uint32_t addr, len = 32;
        if (lua_type(L, idx) == LUA_TSTRING) {
            if (bl_parse_prefix(lua_tostring(L, idx), &addr, &len) < 0)
                luaL_error(L, "%s '%s' is not an IPv4 prefix a.b.c.d/len", what,
                           lua_tostring(L, idx));
        } else {
            addr = (uint32_t)check_int(L, idx, what, NULL);
        }
        /* host bits cleared, as m:set and init do (the kernel would keep
         * them in a stored key; lookups and deletes ignore them anyway) */
        if (len < 32)
            addr &= len ? ~(uint32_t)0 << (32 - len) : 0;
        memcpy(b, &len, 4);
        b[4] = (unsigned char)(addr >> 24);
        b[5] = (unsigned char)(addr >> 16);
        b[6] = (unsigned char)(addr >> 8);
        b[7] = (unsigned char)addr;
        return;
    }
    case BL_V_RECORD: {
        if (lua_type(L, idx) != LUA_TTABLE)
            luaL_error(L, "%s must be a table of fields (got %s)", what, luaL_typename(L, idx));
        memset(b, 0, l->size);
        for (size_t i = 0; i < l->n_fields; i++) {
            struct bpflua_field f;
            if (field(l, i, &f) < 0)
                luaL_error(L, "%s: bad record layout", what);
            lua_getfield(L, idx, f.name);
            if (!lua_isnil(L, -1)) {
                bl_int_to_bytes(check_int(L, -1, what, f.name), f.size, b + f.offset);
            }
            lua_pop(L, 1);
        }
        /* a name that is not a field is a mistake, not a zero */
        lua_pushnil(L);
        while (lua_next(L, idx)) {
            lua_pop(L, 1);
            int known = 0;
            if (lua_type(L, -1) == LUA_TSTRING)
                for (size_t i = 0; i < l->n_fields && !known; i++) {
                    struct bpflua_field f;
                    known = field(l, i, &f) == 0 && strcmp(f.name, lua_tostring(L, -1)) == 0;
                }
            if (!known) {
                uint32_t rs;
                size_t rf;
                const char *rn = bpflua_record_info(l->obj, l->rec, &rs, &rf);
                lua_pushvalue(L, -1);
                luaL_error(L, "%s: record %s has no field '%s'", what, rn ? rn : "?",
                           luaL_tolstring(L, -1, NULL));
            }
        }
        return;
    }
    default: {
        size_t len = 0;
        const char *s = lua_type(L, idx) == LUA_TSTRING ? lua_tolstring(L, idx, &len) : NULL;
        if (!s || len != l->size)
            luaL_error(L, "%s must be a string of %d bytes", what, (int)l->size);
        memcpy(b, s, len);
        return;
    }
    }
}
