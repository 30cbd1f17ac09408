/* bl_lua.h - internals shared by the Lua module (bpf_module.c), the
 * command (main.c, cli.c) and the REPL (repl.c).
 *
 * The command is a thin host: it opens a Lua state, loads the same `bpf`
 * module that stock lua5.4 loads from bpf.so, and compiles through it.
 */
#ifndef BPFLUA_BL_LUA_H
#define BPFLUA_BL_LUA_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <lua.h>

#include "bpflua.h"

/* ---- bpf_module.c --------------------------------------------------------- */

int luaopen_bpf(lua_State *L);

/* Makes `require "bpflua.<stem>"` find the compiler: from the sources in
 * $BPFLUA_COMPILER_DIR when that is set, else from the embedded copies. */
void bl_lua_install_compiler(lua_State *L);

/* Compiles source text in the bpflua language. Returns an object the caller
 * owns, or NULL with *err set (malloc'd: the compiler's formatted message,
 * carets included). Never raises a Lua error. */
bpflua_object *bl_lua_compile(lua_State *L, const char *src, size_t len,
                              const char *name, char **err);

/* Integer <-> bytes for map keys and values of 1, 2, 4 or 8 bytes (little
 * endian, as the engine stores them). bl_bytes_to_int returns -1 for other
 * sizes. */
int bl_bytes_to_int(const void *buf, uint32_t size, int is_signed, int64_t *out);
void bl_int_to_bytes(int64_t v, uint32_t size, void *buf);

/* "engine name" -> enum; -1 when unknown. */
int bl_engine_parse(const char *name);
const char *bl_engine_name(enum bpflua_engine e);
/* The engine used when none is asked for: the JIT where available. */
enum bpflua_engine bl_engine_default(void);

/* Name of an XDP verdict ("XDP_PASS"), or NULL for other values. */
const char *bl_xdp_verdict_name(uint64_t v);
/* the name of a program type's return value (XDP_*, TC_ACT_*), NULL if none */
const char *bl_verdict_name(const char *prog_type, uint64_t v);

/* ---- mapview.c: maps wherever the object's data lives ------------------------ */

/* As bpflua_map_lookup/update/delete/next_key, but once the object has been
 * loaded into the kernel (the kernel engine), on the kernel's maps. */
int bl_obj_map_lookup(bpflua_object *obj, size_t map, const void *key, void *value);
/* per-CPU maps: every CPU's slot, round8(value_size) apart; -EINVAL for other maps */
int bl_obj_map_lookup_percpu(bpflua_object *obj, size_t map, const void *key, void *values);
int bl_obj_map_update(bpflua_object *obj, size_t map, const void *key, const void *value,
                      uint64_t flags);
int bl_obj_map_delete(bpflua_object *obj, size_t map, const void *key);
int bl_obj_map_next_key(bpflua_object *obj, size_t map, const void *key, void *next_key);

/* ---- values.c: keys, values and events as text and Lua values ---------------- */

enum bl_vkind { BL_V_INT, BL_V_RECORD, BL_V_LPM, BL_V_BYTES };

struct bl_vlayout {
    enum bl_vkind kind;
    uint32_t size;
    int is_signed;               /* BL_V_INT */
    const bpflua_object *obj;    /* BL_V_RECORD: record rec of obj */
    size_t rec, n_fields;
};

void bl_key_layout(const bpflua_object *obj, const struct bpflua_map_spec *s,
                   struct bl_vlayout *l);
void bl_value_layout(const bpflua_object *obj, const struct bpflua_map_spec *s,
                     struct bl_vlayout *l);
/* an event of `size` bytes from ring buffer s */
void bl_event_layout(const bpflua_object *obj, const struct bpflua_map_spec *s, uint32_t size,
                     struct bl_vlayout *l);

/* growable text */
struct bl_text { char *buf; size_t len, cap; };
int bl_text_printf(struct bl_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends the value: 42, {a=1,b=2}, 10.0.0.0/8 or 0x0a0b (0 or -ENOMEM). */
int bl_vtext(struct bl_text *t, const struct bl_vlayout *l, const void *buf);
/* The same as JSON: numbers, {"field":n,...}, strings for prefixes and bytes. */
int bl_vjson(struct bl_text *t, const struct bl_vlayout *l, const void *buf);
/* Order of keys in dumps: numeric, field by field, address then length. */
int bl_vcompare(const struct bl_vlayout *l, const void *a, const void *b);
/* Lua value <-> bytes (bl_vcheck raises a Lua error naming `what`). Records
 * are tables keyed by field name, LPM keys "a.b.c.d/len" strings. */
void bl_vpush(lua_State *L, const struct bl_vlayout *l, const void *buf);
void bl_vcheck(lua_State *L, int idx, const struct bl_vlayout *l, void *buf, const char *what);
/* "a.b.c.d[/len]" -> address (host order) and length (32 if absent); -1 if malformed. */
int bl_parse_prefix(const char *s, uint32_t *addr, uint32_t *len);

/* ---- pcap.c ----------------------------------------------------------------- */

struct bl_packet {
    unsigned char *data;
    size_t len;
};

struct bl_packet_list {
    struct bl_packet *pkts;
    size_t n;
};

/* Reads every packet of a classic pcap file (either byte order,
 * microsecond or nanosecond timestamps). Returns 0, or -1 with *err. */
int bl_pcap_read(const char *path, struct bl_packet_list *out, char **err);
int bl_pcap_parse(const void *buf, size_t len, struct bl_packet_list *out, char **err);
void bl_packet_list_free(struct bl_packet_list *l);

/* ---- util.c ------------------------------------------------------------------ */

/* Whole file into a malloc'd, NUL-terminated buffer; NULL with *err. */
char *bl_read_file(const char *path, size_t *len, char **err);
/* Hex string ("0a0b", "0a 0b", "0a:0b") to bytes; -1 with *err if malformed. */
int bl_hex_decode(const char *hex, unsigned char **out, size_t *len, char **err);
/* 1 if path ends in suffix */
int bl_has_suffix(const char *path, const char *suffix);
/* Opens a .lua source (compiled), a .asm/.s text (assembled) or an ELF
 * object. NULL with *err; *status gets 2 for unreadable/not an object, 1
 * for rejected source (compile error). */
bpflua_object *bl_open_any(lua_State *L, const char *path, char **err, int *status);

/* ---- cli.c ------------------------------------------------------------------- */

/* Subcommands: argv[0] is the subcommand name. Return the exit status. */
int bl_cmd_compile(lua_State *L, int argc, char **argv);
int bl_cmd_verify(lua_State *L, int argc, char **argv);
int bl_cmd_run(lua_State *L, int argc, char **argv);
int bl_cmd_disasm(lua_State *L, int argc, char **argv);
int bl_cmd_conformance(lua_State *L, int argc, char **argv);

/* ---- repl.c ------------------------------------------------------------------- */

struct bl_line_editor {
    /* returns a malloc'd line without its newline, NULL at end of input */
    char *(*readline)(void *ud, const char *prompt);
    void (*add_history)(void *ud, const char *line);
    void *ud;
    int interactive;
};

int bl_repl(lua_State *L, const struct bl_line_editor *ed, FILE *out);

#endif
