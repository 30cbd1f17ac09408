/* repl.c - the interactive session of `bpflua`.
 *
 * What is typed is one of three things:
 *   - a command starting with ':' (:help lists them);
 *   - a definition, kept for the rest of the session: `license "..."`,
 *     `local NAME = map.KIND {...}` or `local NAME = <constant>`,
 *     `local function NAME(...) ... end`, `function xdp.NAME(pkt) ... end`;
 *     defining a name again replaces the old definition;
 *   - a statement or an expression, compiled at once as the body of an XDP
 *     program `_repl` placed after the definitions, and run on the current
 *     packet. An expression shows its value; a statement that returns shows
 *     the verdict; trace_printk output (print) is shown as it happens.
 *
 * Input that is not yet a complete chunk (an open `if`, `for`, `function`)
 * waits for more lines, as in lua.c: a syntax error "near <eof>" means
 * "incomplete". Maps keep their contents from one input to the next: each
 * new object gets the entries of the previous one's maps of the same name
 * and shape. Errors are printed and never end the session.
 */
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "bl_lua.h"
#include "kernel.h"
#include "progtype.h"

#define REPL_PROG "_repl"
#define REPL_SOURCE "repl"

enum def_kind { DEF_LICENSE, DEF_LOCAL, DEF_FUNCTION, DEF_PROGRAM, DEF_FILE, DEF_OTHER };

struct def {
    enum def_kind kind;
    char *name;
    char *text;
};

struct repl {
    lua_State *L;
    FILE *out;
    int interactive;
    struct def *defs;
    size_t n_defs;
    bpflua_object *state;   /* the last compiled object: holds the maps' contents */
    unsigned char *pkt;
    size_t pkt_len;
    enum bpflua_engine engine;
    int errors;
    struct bl_packet_list pcap;  /* the packets of the last :pcap */
    char *pcap_name;
    size_t pcap_at;              /* index of the current packet in it */
    uint32_t mark, priority;     /* of the last run of a socket-buffer program */
};

/* A 60-byte Ethernet/IPv4/UDP frame to 10.0.0.1:53 with a little payload. */
static const char default_packet_hex[] =
    "02000000000202000000000108004500002e0001400040116ef7"
    "c0a8011e0a000001c3500035001a000068656c6c6f2c20627066"
    "0000000000000000";

static const char help_text[] =
    "Type a statement or an expression to run it as the body of an XDP program\n"
    "on the current packet (the parameter is `pkt`). Definitions accumulate:\n"
    "  license \"GPL\"          local hits = map.hash { key = u32, value = u64, max_entries = 64 }\n"
    "  local LIMIT = 100      local function f(a) ... end      function xdp.NAME(pkt) ... end\n"
    "Commands:\n"
    "  :packet [HEX]        show or set the current packet\n"
    "  :pcap FILE [N]       take packet N (default 1) of a pcap file\n"
    "  :next                take the next packet of that file\n"
    "  :load FILE           add the definitions of a source file\n"
    "  :engine [E]          show or set the engine: jit, interp or kernel\n"
    "  :run NAME            run the defined program NAME on the current packet\n"
    "  :verify              verify the defined programs\n"
    "  :disasm [NAME]       disassemble the last input, or program NAME\n"
    "  :maps                show the maps' contents\n"
    "  :defs                show the definitions\n"
    "  :reset               forget definitions and map contents\n"
    "  :help                this text\n"
    "  :quit                leave (also Ctrl-D)\n";

/* ---- output helpers -------------------------------------------------------------- */

static void say(struct repl *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct repl *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(r->out, fmt, ap);
    va_end(ap);
    fflush(r->out);
}

static void complain(struct repl *r, const char *msg)
{
    fflush(r->out);
    size_t n = strlen(msg);
    fprintf(stderr, "%s%s", msg, n && msg[n - 1] == '\n' ? "" : "\n");
    fflush(stderr);
    r->errors++;
}

static void complainf(struct repl *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void complainf(struct repl *r, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    complain(r, buf);
}

/* ---- a tiny scanner for classifying input ------------------------------------------ */

static const char *skip_space(const char *s)
{
    for (;;) {
        while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
            s++;
        if (s[0] == '-' && s[1] == '-') {
            s += 2;
            if (s[0] == '[' && (s[1] == '[' || s[1] == '=')) {
                /* long comment --[==[ ... ]==] */
                int level = 0;
                const char *p = s + 1;
                while (*p == '=') {
                    level++;
                    p++;
                }
                if (*p == '[') {
                    p++;
                    for (;;) {
                        const char *close = strchr(p, ']');
                        if (!close)
                            return s + strlen(s);
                        const char *q = close + 1;
                        int l = 0;
                        while (*q == '=') {
                            l++;
                            q++;
                        }
                        if (l == level && *q == ']') {
                            s = q + 1;
                            break;
                        }
                        p = close + 1;
                    }
                    continue;
                }
            }
            while (*s && *s != '\n')
                s++;
            continue;
        }
        return s;
    }
}

static int is_ident_char(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* Copies the identifier at s into buf; returns the end of it. */
static const char *read_ident(const char *s, char *buf, size_t cap)
{
    size_t n = 0;
    while (is_ident_char((unsigned char)*s)) {
        if (n + 1 < cap)
            buf[n++] = *s;
        s++;
    }
    buf[n] = '\0';
    return s;
}

/* What kind of definition text is (DEF_OTHER: a statement), and its name. */
static enum def_kind classify(const char *text, char *name, size_t cap)
{
    char word[128];
    const char *s = skip_space(text);
    s = read_ident(s, word, sizeof word);
    name[0] = '\0';
    if (!strcmp(word, "license")) {
        snprintf(name, cap, "license");
        return DEF_LICENSE;
    }
    if (!strcmp(word, "local")) {
        s = read_ident(skip_space(s), word, sizeof word);
        if (!strcmp(word, "function")) {
            read_ident(skip_space(s), name, cap);
            return DEF_FUNCTION;
        }
        snprintf(name, cap, "%s", word);
        return DEF_LOCAL;
    }
    if (!strcmp(word, "function")) {
        s = read_ident(skip_space(s), word, sizeof word);
        s = skip_space(s);
        if (*s == '.') {
            char field[64];
            word[63] = '\0';
            read_ident(skip_space(s + 1), field, sizeof field);
            snprintf(name, cap, "%.63s.%.63s", word, field);
        } else {
            snprintf(name, cap, "%s", word);
        }
        return DEF_PROGRAM;
    }
    return DEF_OTHER;
}

/* 1 if text contains the word `return` outside comments (roughly) */
static int has_return(const char *text)
{
    const char *p = text;
    while ((p = strstr(p, "return")) != NULL) {
        int before = p == text || !is_ident_char((unsigned char)p[-1]);
        int after = !is_ident_char((unsigned char)p[6]);
        if (before && after)
            return 1;
        p += 6;
    }
    return 0;
}

/* Lua's own parser tells complete from incomplete chunks. Returns 1
 * complete (or a real syntax error: the compiler will report it), 0 when
 * more lines are needed. */
static int chunk_complete(lua_State *L, const char *text)
{
    int rc = luaL_loadbufferx(L, text, strlen(text), "=repl", "t");
    int complete = 1;
    if (rc == LUA_ERRSYNTAX) {
        const char *msg = lua_tostring(L, -1);
        size_t n = msg ? strlen(msg) : 0;
        if (n >= 5 && !strcmp(msg + n - 5, "<eof>"))
            complete = 0;
    }
    lua_pop(L, 1);
    return complete;
}

/* 1 if `return <text>` parses as Lua: text is an expression */
static int is_expression(lua_State *L, const char *text)
{
    lua_pushfstring(L, "return %s\n", text);
    int rc = luaL_loadbufferx(L, lua_tostring(L, -1), lua_rawlen(L, -1), "=repl", "t");
    lua_pop(L, 2);
    return rc == LUA_OK;
}

static int parses_as_chunk(lua_State *L, const char *text)
{
    int rc = luaL_loadbufferx(L, text, strlen(text), "=repl", "t");
    lua_pop(L, 1);
    return rc == LUA_OK;
}

/* ---- source assembly and compiling -------------------------------------------------- */

struct text { char *buf; size_t len, cap; };

static void text_add(struct text *t, const char *s)
{
    size_t n = strlen(s);
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 256;
        while (cap < t->len + n + 1)
            cap *= 2;
        char *nb = realloc(t->buf, cap);
        if (!nb)
            return;
        t->buf = nb;
        t->cap = cap;
    }
    memcpy(t->buf + t->len, s, n + 1);
    t->len += n;
}

/* The definitions, with `extra` (a replacement or a new one) and `body` (a
 * statement for _repl, or NULL) */
static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static char *assemble(struct repl *r, const struct def *extra, const char *body, size_t *offset)
{
    size_t at = 0;
    /* a file needs a program: definitions alone get a placeholder one */
    if (!body)
        body = "return xdp.PASS";
    struct text t = {0};
    text_add(&t, "");
    int replaced = 0;
    for (size_t i = 0; i < r->n_defs; i++) {
        const struct def *d = &r->defs[i];
        if (extra && d->kind == extra->kind && !strcmp(d->name, extra->name)) {
            at = t.buf ? count_lines(t.buf) : 0;
            text_add(&t, extra->text);
            replaced = 1;
        } else {
            text_add(&t, d->text);
        }
        text_add(&t, "\n");
    }
    if (extra && !replaced) {
        at = t.buf ? count_lines(t.buf) : 0;
        text_add(&t, extra->text);
        text_add(&t, "\n");
    }
    text_add(&t, "function xdp." REPL_PROG "(pkt)\n");
    if (!extra)
        at = t.buf ? count_lines(t.buf) : 0;
    text_add(&t, body);
    text_add(&t, "\nend\n");
    if (offset)
        *offset = at;
    return t.buf;
}

/* Copies the entries of old's maps into the maps of new that have the
 * same name and shape. */
static void carry_maps(bpflua_object *old, bpflua_object *new)
{
    if (!old)
        return;
    for (size_t i = 0; i < bpflua_map_count(new); i++) {
        struct bpflua_map_spec ns, os;
        if (bpflua_map_spec(new, i, &ns) < 0 || !ns.name)
            continue;
        int j = bpflua_map_find(old, ns.name);
        if (j < 0 || bpflua_map_spec(old, (size_t)j, &os) < 0)
            continue;
        if (os.type != ns.type || os.key_size != ns.key_size || os.value_size != ns.value_size ||
            ns.type == BPFLUA_MAP_RINGBUF || ns.key_size == 0 || ns.key_size > 512 ||
            ns.value_size > 4096)
            continue;
        unsigned char key[512], next[512], value[4096];
        int rc = bl_obj_map_next_key(old, (size_t)j, NULL, next);
        size_t guard = (size_t)os.max_entries + 1;
        while (rc == 0 && guard-- > 0) {
            if (bl_obj_map_lookup(old, (size_t)j, next, value) == 0)
                bl_obj_map_update(new, i, next, value, 0);
            memcpy(key, next, ns.key_size);
            rc = bl_obj_map_next_key(old, (size_t)j, key, next);
        }
    }
}

/* Compiles src; on success the new object takes over the maps' contents
 * and becomes the state. Returns it, or NULL after printing the error. */
/* Renumbers "repl:LINE:" in a message so that lines count from the
 * start of what was typed (line offset+1 of the assembled source is 1). */
static char *renumber(const char *msg, size_t offset)
{
    struct text t = {0};
    text_add(&t, "");
    const char *p = msg;
    const char *tag = REPL_SOURCE ":";
    size_t tl = strlen(tag);
    while (*p) {
        const char *hit = strstr(p, tag);
        if (!hit)
            break;
        char *end;
        unsigned long line = strtoul(hit + tl, &end, 10);
        if (end == hit + tl || *end != ':' || line <= offset) {
            size_t n = (size_t)(hit - p) + tl;
            char *chunk = strndup(p, n);
            if (chunk)
                text_add(&t, chunk);
            free(chunk);
            p = hit + tl;
            continue;
        }
        char *chunk = strndup(p, (size_t)(hit - p));
        if (chunk)
            text_add(&t, chunk);
        free(chunk);
        char num[32];
        snprintf(num, sizeof num, "%s%lu", tag, line - offset);
        text_add(&t, num);
        p = end;
    }
    text_add(&t, p);
    return t.buf;
}

static bpflua_object *compile_state(struct repl *r, const char *src, size_t offset, int report)
{
    char *err = NULL;
    bpflua_object *obj = bl_lua_compile(r->L, src, strlen(src), REPL_SOURCE, &err);
    if (!obj) {
        if (report) {
            char *msg = renumber(err ? err : "compilation failed", offset);
            complain(r, msg ? msg : "compilation failed");
            free(msg);
        }
        free(err);
        return NULL;
    }
    free(err);
    if (r->engine == BPFLUA_ENGINE_KERNEL) {
        /* load now, so the maps carried over land in the kernel's maps (a
         * failure shows when the program runs) */
        char *kerr = NULL;
        bl_kernel_load(obj, &kerr);
        free(kerr);
    }
    carry_maps(r->state, obj);
    bpflua_object_free(r->state);
    r->state = obj;
    return obj;
}

/* ---- running -------------------------------------------------------------------------- */

static void show_trace(struct repl *r, bpflua_object *obj)
{
    const char *t = bpflua_trace_output(obj);
    if (!t || !*t)
        return;
    const char *p = t;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        say(r, "trace: %.*s\n", (int)len, p);
        p += len + (nl ? 1 : 0);
    }
    bpflua_trace_clear(obj);
}

/* Runs program `prog` of the state on the current packet, which it may
 * rewrite. Returns 0 and *ret, or -1 after printing the error. */
static int run_prog(struct repl *r, int prog, uint64_t *ret)
{
    struct bpflua_run_opts opts = {.engine = r->engine, .repeat = 1};
    struct bpflua_run_result res = {0};
    unsigned char *buf = malloc(r->pkt_len ? r->pkt_len : 1);
    if (!buf)
        return -1;
    memcpy(buf, r->pkt, r->pkt_len);
    char *err = NULL;
    bpflua_trace_clear(r->state);
    int rc = bpflua_run(r->state, (size_t)prog, buf, r->pkt_len, &opts, &res, &err);
    show_trace(r, r->state);
    if (rc < 0) {
        complainf(r, "%s", err ? err : strerror(-rc));
        free(err);
        free(buf);
        return -1;
    }
    free(err);
    if (memcmp(buf, r->pkt, r->pkt_len) != 0) {
        say(r, "(packet rewritten)\n");
        memcpy(r->pkt, buf, r->pkt_len);
    }
    free(buf);
    *ret = res.retval;
    r->mark = res.mark;
    r->priority = res.priority;
    return 0;
}

/* The last run's events, as `bpflua run` prints them. */
static void show_events(struct repl *r)
{
    bpflua_object *obj = r->state;
    size_t n = bpflua_event_count(obj);
    for (size_t i = 0; i < n; i++) {
        struct bpflua_event ev;
        struct bpflua_map_spec spec;
        if (bpflua_event_get(obj, i, &ev) < 0 || bpflua_map_spec(obj, ev.map, &spec) < 0)
            continue;
        struct bl_vlayout l;
        struct bl_text t = {0};
        bl_event_layout(obj, &spec, ev.size, &l);
        if (bl_vtext(&t, &l, ev.data) == 0)
            say(r, "event=%s %s%s\n", spec.name, l.kind == BL_V_RECORD ? "" : "value=",
                t.buf ? t.buf : "");
        free(t.buf);
    }
    if (bpflua_events_dropped(obj))
        say(r, "events_dropped=%" PRIu64 "\n", bpflua_events_dropped(obj));
}

static void show_verdict(struct repl *r, bpflua_object *obj, int prog, uint64_t v)
{
    uint32_t u = (uint32_t)v;
    const char *type = bpflua_prog_type(obj, (size_t)prog);
    const char *name = bl_verdict_name(type, u);
    if (name)
        say(r, "%s (%" PRIu32 ")", name, u);
    else
        say(r, "%" PRIu32, u);
    /* tc programs: the socket buffer's mark and priority after the run,
     * as `bpflua run` prints them */
    const struct bl_prog_type *t = type ? bl_prog_type_by_name(type) : NULL;
    if (t && t->build == BL_BUILD_SKB)
        say(r, " mark=%" PRIu32 " priority=%" PRIu32, r->mark, r->priority);
    say(r, "\n");
}

static void show_value(struct repl *r, uint64_t v)
{
    int64_t s = (int64_t)v;
    if (s >= -9 && s <= 9)
        say(r, "%" PRId64 "\n", s);
    else
        say(r, "%" PRId64 " (0x%" PRIx64 ")\n", s, v);
}

static void eval_statement(struct repl *r, const char *text)
{
    int expr = is_expression(r->L, text);
    char *src = NULL;
    size_t off = 0;
    bpflua_object *obj = NULL;
    if (expr) {
        size_t n = strlen(text) + 32;
        char *body = malloc(n);
        if (!body)
            return;
        snprintf(body, n, "return (%s)", text);
        src = assemble(r, NULL, body, &off);
        free(body);
        obj = compile_state(r, src, off, 0);
        if (!obj && parses_as_chunk(r->L, text)) {
            expr = 0; /* a call such as print(...) that is better run as a statement */
            free(src);
            src = NULL;
        } else if (!obj) {
            compile_state(r, src, off, 1); /* report the expression's error */
            free(src);
            return;
        }
    }
    if (!expr) {
        size_t n = strlen(text) + 64;
        char *body = malloc(n);
        if (!body)
            return;
        /* a block ending in `return` must be closed before the default one */
        snprintf(body, n, "%s\nreturn xdp.PASS", text);
        if (!parses_as_chunk(r->L, body) && parses_as_chunk(r->L, text))
            snprintf(body, n, "do\n%s\nend\nreturn xdp.PASS", text);
        src = assemble(r, NULL, body, &off);
        free(body);
        obj = compile_state(r, src, off, 1);
    }
    free(src);
    if (!obj)
        return;
    int prog = bpflua_prog_find(obj, REPL_PROG);
    uint64_t ret;
    if (prog < 0 || run_prog(r, prog, &ret) < 0)
        return;
    if (expr)
        show_value(r, ret);
    else if (has_return(text))
        show_verdict(r, obj, prog, ret);
    show_events(r);
}

static void add_definition(struct repl *r, enum def_kind kind, const char *name, const char *text)
{
    struct def d = {kind, (char *)name, (char *)text};
    size_t off = 0;
    char *src = assemble(r, &d, NULL, &off);
    if (!src)
        return;
    bpflua_object *obj = compile_state(r, src, off, 1);
    free(src);
    if (!obj)
        return;
    for (size_t i = 0; i < r->n_defs; i++) {
        if (r->defs[i].kind == kind && !strcmp(r->defs[i].name, name)) {
            char *t = strdup(text);
            if (t) {
                free(r->defs[i].text);
                r->defs[i].text = t;
            }
            say(r, "(redefined %s)\n", name);
            return;
        }
    }
    struct def *nd = realloc(r->defs, (r->n_defs + 1) * sizeof *nd);
    if (!nd)
        return;
    r->defs = nd;
    nd[r->n_defs].kind = kind;
    nd[r->n_defs].name = strdup(name);
    nd[r->n_defs].text = strdup(text);
    if (!nd[r->n_defs].name || !nd[r->n_defs].text) {
        free(nd[r->n_defs].name);
        free(nd[r->n_defs].text);
        return;
    }
    r->n_defs++;
}

/* ---- commands -------------------------------------------------------------------------- */

static void set_packet(struct repl *r, unsigned char *data, size_t len)
{
    free(r->pkt);
    r->pkt = data;
    r->pkt_len = len;
}

static void show_packet(struct repl *r)
{
    say(r, "packet (%zu bytes):", r->pkt_len);
    for (size_t i = 0; i < r->pkt_len; i++)
        say(r, "%s%02x", i % 16 == 0 ? "\n  " : (i % 8 == 0 ? "  " : " "), r->pkt[i]);
    say(r, "\n");
}

/* the defs-only object, for :verify and :run */
static bpflua_object *defs_object(struct repl *r)
{
    char *src = assemble(r, NULL, NULL, NULL);
    if (!src)
        return NULL;
    bpflua_object *obj = compile_state(r, src, 0, 1);
    free(src);
    return obj;
}

static void cmd_verify(struct repl *r)
{
    bpflua_object *obj = defs_object(r);
    if (!obj)
        return;
    if (bpflua_prog_count(obj) <= 1) {
        say(r, "no programs defined (define one with `function xdp.NAME(pkt) ... end`)\n");
        return;
    }
    for (size_t i = 0; i < bpflua_prog_count(obj); i++) {
        if (!strcmp(bpflua_prog_name(obj, i), REPL_PROG))
            continue;
        struct bpflua_verify_info info = {0};
        char *err = NULL;
        if (bpflua_verify(obj, i, 0, &info, &err, NULL) < 0)
            complainf(r, "%s: %s", bpflua_prog_name(obj, i), err ? err : "rejected");
        else
            say(r, "name=%s verified_insns=%" PRIu32 " max_insns=%" PRIu64 "\n",
                bpflua_prog_name(obj, i), info.verified_insns, info.max_insns);
        free(err);
    }
}

static void cmd_run(struct repl *r, const char *name)
{
    if (!*name) {
        complain(r, ":run needs a program name");
        return;
    }
    bpflua_object *obj = defs_object(r);
    if (!obj)
        return;
    int prog = bpflua_prog_find(obj, name);
    if (prog < 0) {
        complainf(r, "no program named '%s'", name);
        return;
    }
    uint64_t ret;
    if (run_prog(r, prog, &ret) == 0) {
        show_verdict(r, obj, prog, ret);
        show_events(r);
    }
}

static void cmd_disasm(struct repl *r, const char *name)
{
    bpflua_object *obj = r->state;
    if (!obj) {
        complain(r, "nothing compiled yet");
        return;
    }
    int only = -1;
    if (*name) {
        only = bpflua_prog_find(obj, name);
        if (only < 0) {
            complainf(r, "no program named '%s'", name);
            return;
        }
    } else {
        only = bpflua_prog_find(obj, REPL_PROG);
    }
    for (size_t i = 0; i < bpflua_prog_count(obj); i++) {
        if (only >= 0 && (size_t)only != i)
            continue;
        char *text = bpflua_disasm(obj, i, 1);
        if (!text) {
            complainf(r, "cannot disassemble '%s'", bpflua_prog_name(obj, i));
            continue;
        }
        say(r, "%s", text);
        if (*text && text[strlen(text) - 1] != '\n')
            say(r, "\n");
        free(text);
    }
}

struct entry { unsigned char *key; char *text; };

static const struct bl_vlayout *g_key_layout;

static int cmp_entry(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    return bl_vcompare(g_key_layout, x->key, y->key);
}

/* malloc'd text of a key or value, as --dump-maps prints it */
static char *entry_text(const struct bl_vlayout *l, const void *buf)
{
    struct bl_text t = {0};
    if (bl_vtext(&t, l, buf) < 0) {
        free(t.buf);
        return NULL;
    }
    return t.buf ? t.buf : strdup("");
}

static int all_zero(const unsigned char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return 0;
    return 1;
}

/* :maps: each map's entries sorted by key (array maps: those not 0), keys
 * and values as --dump-maps shows them (records field by field, LPM keys
 * as a.b.c.d/len, u64 unsigned) */
static void cmd_maps(struct repl *r)
{
    bpflua_object *obj = r->state;
    if (!obj || bpflua_map_count(obj) == 0) {
        say(r, "no maps defined\n");
        return;
    }
    for (size_t i = 0; i < bpflua_map_count(obj); i++) {
        struct bpflua_map_spec s;
        if (bpflua_map_spec(obj, i, &s) < 0 || s.type == BPFLUA_MAP_RINGBUF ||
            bpflua_map_is_internal(s.name) || s.key_size == 0 ||
            s.key_size > 512 || s.value_size > 4096)
            continue;
        struct bl_vlayout kl, vl;
        bl_key_layout(obj, &s, &kl);
        bl_value_layout(obj, &s, &vl);
        unsigned char key[512], next[512], value[4096];
        int is_array = s.type == BPFLUA_MAP_ARRAY || s.type == BPFLUA_MAP_PERCPU_ARRAY;
        size_t n = 0, cap = 16;
        struct entry *e = malloc(cap * sizeof *e);
        if (!e)
            return;
        int rc = bl_obj_map_next_key(obj, i, NULL, next);
        size_t guard = (size_t)s.max_entries + 1;
        while (rc == 0 && guard-- > 0) {
            if (bl_obj_map_lookup(obj, i, next, value) == 0 && !(is_array && all_zero(value, s.value_size))) {
                if (n == cap) {
                    struct entry *ne = realloc(e, 2 * cap * sizeof *e);
                    if (!ne)
                        break;
                    e = ne;
                    cap *= 2;
                }
                e[n].key = malloc(s.key_size);
                if (!e[n].key)
                    break;
                memcpy(e[n].key, next, s.key_size);
                e[n].text = entry_text(&vl, value);
                n++;
            }
            memcpy(key, next, s.key_size);
            rc = bl_obj_map_next_key(obj, i, key, next);
        }
        g_key_layout = &kl;
        qsort(e, n, sizeof *e, cmp_entry);
        say(r, "%s:", s.name);
        for (size_t k = 0; k < n; k++) {
            char *kt = entry_text(&kl, e[k].key);
            say(r, " [%s]=%s", kt ? kt : "?", e[k].text ? e[k].text : "?");
            free(kt);
            free(e[k].key);
            free(e[k].text);
        }
        say(r, "%s\n", n ? "" : " (empty)");
        free(e);
    }
}

static void select_packet(struct repl *r, size_t i)
{
    unsigned char *copy = malloc(r->pcap.pkts[i].len ? r->pcap.pkts[i].len : 1);
    if (!copy)
        return;
    memcpy(copy, r->pcap.pkts[i].data, r->pcap.pkts[i].len);
    set_packet(r, copy, r->pcap.pkts[i].len);
    r->pcap_at = i;
    say(r, "packet %zu of %zu from %s (%zu bytes)\n", i + 1, r->pcap.n, r->pcap_name, r->pkt_len);
}

static void cmd_pcap(struct repl *r, char *args)
{
    char *file = strtok(args, " \t");
    char *which = file ? strtok(NULL, " \t") : NULL;
    if (!file) {
        complain(r, ":pcap needs a file name");
        return;
    }
    long n = 1;
    if (which) {
        char *end;
        n = strtol(which, &end, 10);
        if (*end || n < 1) {
            complainf(r, ":pcap: bad packet number '%s'", which);
            return;
        }
    }
    struct bl_packet_list pl = {0};
    char *err = NULL;
    if (bl_pcap_read(file, &pl, &err) < 0) {
        complain(r, err ? err : "cannot read the pcap file");
        free(err);
        return;
    }
    if ((size_t)n > pl.n) {
        complainf(r, "%s holds %zu packets", file, pl.n);
        bl_packet_list_free(&pl);
        return;
    }
    char *name = strdup(file);
    if (!name) {
        bl_packet_list_free(&pl);
        return;
    }
    bl_packet_list_free(&r->pcap);
    free(r->pcap_name);
    r->pcap = pl;
    r->pcap_name = name;
    select_packet(r, (size_t)n - 1);
}

static void cmd_next(struct repl *r)
{
    if (r->pcap.n == 0) {
        complain(r, ":next needs packets: load a capture with :pcap FILE");
        return;
    }
    if (r->pcap_at + 1 >= r->pcap.n) {
        complainf(r, "%s has no packet after %zu", r->pcap_name, r->pcap_at + 1);
        return;
    }
    select_packet(r, r->pcap_at + 1);
}

/* :load FILE: a source file's definitions join the session */
static void cmd_load(struct repl *r, const char *file)
{
    if (!*file) {
        complain(r, ":load needs a file name");
        return;
    }
    size_t len;
    char *err = NULL;
    char *text = bl_read_file(file, &len, &err);
    if (!text) {
        complain(r, err ? err : "cannot read the file");
        free(err);
        return;
    }
    if (memchr(text, '\0', len)) {
        complainf(r, "%s: not a text file", file);
    } else {
        size_t before = r->errors;
        add_definition(r, DEF_FILE, file, text);
        if ((size_t)r->errors == before && r->state) {
            say(r, "loaded %s:", file);
            for (size_t i = 0; i < bpflua_prog_count(r->state); i++)
                if (strcmp(bpflua_prog_name(r->state, i), REPL_PROG))
                    say(r, " %s", bpflua_prog_name(r->state, i));
            say(r, "\n");
        }
    }
    free(text);
}

static void reset(struct repl *r)
{
    for (size_t i = 0; i < r->n_defs; i++) {
        free(r->defs[i].name);
        free(r->defs[i].text);
    }
    free(r->defs);
    r->defs = NULL;
    r->n_defs = 0;
    bpflua_object_free(r->state);
    r->state = NULL;
}

/* Returns 1 to quit. */
static int command(struct repl *r, char *line)
{
    char *cmd = line + 1;
    char *args = cmd;
    while (*args && *args != ' ' && *args != '\t')
        args++;
    if (*args)
        *args++ = '\0';
    while (*args == ' ' || *args == '\t')
        args++;
    size_t al = strlen(args);
    while (al && (args[al - 1] == ' ' || args[al - 1] == '\t'))
        args[--al] = '\0';

    if (!strcmp(cmd, "quit") || !strcmp(cmd, "q") || !strcmp(cmd, "exit"))
        return 1;
    if (!strcmp(cmd, "help") || !strcmp(cmd, "h") || !strcmp(cmd, "?")) {
        say(r, "%s", help_text);
    } else if (!strcmp(cmd, "packet")) {
        if (*args) {
            unsigned char *data;
            size_t len;
            char *err = NULL;
            if (bl_hex_decode(args, &data, &len, &err) < 0) {
                complain(r, err ? err : "bad hex");
                free(err);
            } else {
                set_packet(r, data, len);
                say(r, "packet set (%zu bytes)\n", len);
            }
        } else {
            show_packet(r);
        }
    } else if (!strcmp(cmd, "pcap")) {
        cmd_pcap(r, args);
    } else if (!strcmp(cmd, "next")) {
        cmd_next(r);
    } else if (!strcmp(cmd, "load")) {
        cmd_load(r, args);
    } else if (!strcmp(cmd, "engine")) {
        if (*args) {
            int e = bl_engine_parse(args);
            if (e < 0 || e == BPFLUA_ENGINE_DEFAULT) {
                complainf(r, "unknown engine '%s' (use jit, interp or kernel)", args);
            } else {
                r->engine = (enum bpflua_engine)e;
                say(r, "engine %s\n", bl_engine_name(r->engine));
            }
        } else {
            say(r, "engine %s\n", bl_engine_name(r->engine));
        }
    } else if (!strcmp(cmd, "verify")) {
        cmd_verify(r);
    } else if (!strcmp(cmd, "run")) {
        cmd_run(r, args);
    } else if (!strcmp(cmd, "disasm")) {
        cmd_disasm(r, args);
    } else if (!strcmp(cmd, "maps")) {
        cmd_maps(r);
    } else if (!strcmp(cmd, "defs")) {
        if (r->n_defs == 0)
            say(r, "no definitions\n");
        for (size_t i = 0; i < r->n_defs; i++)
            say(r, "%s\n", r->defs[i].text);
    } else if (!strcmp(cmd, "reset")) {
        reset(r);
        say(r, "definitions and maps cleared\n");
    } else {
        complainf(r, "unknown command ':%s' (:help lists them)", cmd);
    }
    return 0;
}

/* ---- the loop ----------------------------------------------------------------------------- */

static void handle_chunk(struct repl *r, const char *text)
{
    char name[128];
    enum def_kind kind = classify(text, name, sizeof name);
    if (kind == DEF_OTHER)
        eval_statement(r, text);
    else
        add_definition(r, kind, name, text);
}

int bl_repl(lua_State *L, const struct bl_line_editor *ed, FILE *out)
{
    struct repl r = {.L = L, .out = out, .interactive = ed->interactive,
                     .engine = bl_engine_default()};
    char *err = NULL;
    if (bl_hex_decode(default_packet_hex, &r.pkt, &r.pkt_len, &err) < 0) {
        free(err);
        return 1;
    }
    if (r.interactive)
        say(&r, "bpflua %s: statements run on the current packet; :help for commands, :quit to leave\n",
            BPFLUA_VERSION);
    struct text chunk = {0};
    for (;;) {
        const char *prompt = chunk.len ? "  ...> " : "bpflua> ";
        char *line = ed->readline(ed->ud, r.interactive ? prompt : "");
        if (!line) {
            if (chunk.len)
                complain(&r, "incomplete input at end of file (a block without its `end`?)");
            if (r.interactive)
                say(&r, "\n");
            break;
        }
        const char *s = skip_space(line);
        if (chunk.len == 0 && *s == '\0') {
            free(line);
            continue;
        }
        if (chunk.len == 0 && line[0] == ':') {
            ed->add_history(ed->ud, line);
            int quit = command(&r, line);
            free(line);
            if (quit)
                break;
            continue;
        }
        if (chunk.len)
            text_add(&chunk, "\n");
        text_add(&chunk, line);
        free(line);
        /* as lua.c: an expression is complete even where the statement
         * grammar would want more (`m[1]` alone) */
        if (!chunk.buf || (!is_expression(L, chunk.buf) && !chunk_complete(L, chunk.buf)))
            continue;
        ed->add_history(ed->ud, chunk.buf);
        handle_chunk(&r, chunk.buf);
        chunk.len = 0;
        chunk.buf[0] = '\0';
    }
    free(chunk.buf);
    reset(&r);
    free(r.pkt);
    bl_packet_list_free(&r.pcap);
    free(r.pcap_name);
    return r.interactive ? 0 : (r.errors ? 1 : 0);
}
