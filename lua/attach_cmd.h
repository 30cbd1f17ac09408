/* attach_cmd.h - `bpflua attach` and `bpflua detach` (live filters).
 *
 * As the other subcommands: argv[0] is the subcommand name ("attach" or
 * "detach"); the return value is the exit status (0 ok, 1 failure, 2 usage).
 * L may be NULL; it is only used to compile .lua sources (through
 * bl_open_any of the command's util.c when that is linked in).
 */
#ifndef BPFLUA_ATTACH_CMD_H
#define BPFLUA_ATTACH_CMD_H

#include <stddef.h>

#include <lua.h>

#include "bpflua.h"

int bl_cmd_attach(lua_State *L, int argc, char **argv);
int bl_cmd_detach(lua_State *L, int argc, char **argv);

/* The handle returned by p:attach (lua/attach_lua.c). */

/* p:attach(ifname [, opts]) as a method: arg 1 is the program value,
 * turned into (object, program index) by the resolver the module registers
 * once (the module owns the program userdata's layout). Without a resolver
 * it raises "p:attach is not wired". */
typedef bpflua_object *(*bl_lua_prog_resolver)(lua_State *L, int idx, size_t *prog);
void bl_lua_attach_set_resolver(bl_lua_prog_resolver fn);
int bl_lua_attach(lua_State *L);

/* The same with the object and index given: expects the program's
 * object and index from the caller. Reads ifname at stack index 2 and the
 * optional opts table at index 3 ({ mode = "skb"|"native", pin = PATH });
 * keeps the value at keep_idx (the program userdata) alive as long as the
 * handle lives. Pushes the handle and returns 1; raises a Lua error with a
 * clear message on failure. */
int bl_lua_attach_object(lua_State *L, bpflua_object *obj, size_t prog, int keep_idx);

/* bpf.attach_file(path, ifname [, opts]): an ELF object loaded through
 * libbpf; opts may also hold prog = NAME. Pushes the handle. */
int bl_lua_attach_file(lua_State *L);

/* bpf.detach(ifname [, pin_path]): removes whatever XDP program ifname has. */
int bl_lua_detach_dev(lua_State *L);

/* Registers the handle's metatable (idempotent; the functions above do it
 * too). */
void bl_lua_attach_register(lua_State *L);

#endif
