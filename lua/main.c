/* main.c - the `bpflua` command: a thin C host that embeds Lua 5.4 and the
 * `bpf` module, dispatches subcommands (cli.c) and runs the REPL (repl.c)
 * with libedit line editing.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <editline/readline.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "bl_lua.h"
#include "bpflua.h"

/* live attach lives in lua/attach_cmd.c, owned by its own component */
#if defined(__has_include)
#if __has_include("attach_cmd.h")
#include "attach_cmd.h"
#define HAVE_ATTACH 1
#endif
#endif

#ifndef HAVE_ATTACH
static int bl_cmd_attach(lua_State *L, int argc, char **argv)
{
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("usage: bpflua %s FILE.lua|FILE.o --dev IFACE [--json]\n"
               "Live attach to an interface: not available in this build.\n", argv[0]);
        return 0;
    }
    fprintf(stderr, "bpflua %s: live attach is not available in this build\n", argv[0]);
    return 2;
}
#define bl_cmd_detach bl_cmd_attach
#endif

static const char *const usage =
    "usage: bpflua <command> [options] [args]\n"
    "\n"
    "  compile FILE.lua [-o OUT.o]          compile to an ELF object for libbpf/bpftool\n"
    "  verify  FILE.lua|FILE.o [--log]      verdict, worst-case insn bound, errors with lines\n"
    "  run     FILE.lua|FILE.o --input PKT|--hex HEX|--pcap FILE\n"
    "          [--engine interp|jit|kernel] [--repeat N] [--prog NAME]\n"
    "          [--dump-maps] [--histogram] [--max-insns N]\n"
    "  disasm  FILE.lua|FILE.o              instructions with source lines interleaved\n"
    "  conformance [--engine interp|jit] FILE.data...\n"
    "  attach  FILE --dev IFACE [--json]    live on an interface\n"
    "  bench   [--quick] [--only NAME]      the benchmark suite (tests/bench/run.lua)\n"
    "  repl                                 interactive session (also: no arguments)\n"
    "\n"
    "  bpflua <command> --help   help for one command\n"
    "  bpflua --version\n"
    "Exit status: 0 ok, 1 rejected or failed, 2 usage error or unreadable input.\n";

/* ---- libedit glue for the REPL ------------------------------------------------- */

static char *history_path;

static char *edit_readline(void *ud, const char *prompt)
{
    return readline(prompt);
}

static void edit_add_history(void *ud, const char *line)
{
    add_history(line);
    if (history_path)
        write_history(history_path);
}

static char *plain_readline(void *ud, const char *prompt)
{
    FILE *in = ud;
    size_t cap = 0;
    char *line = NULL;
    ssize_t n = getline(&line, &cap, in);
    if (n < 0) {
        free(line);
        return NULL;
    }
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    return line;
}

static void plain_add_history(void *ud, const char *line) {}

static int run_repl(lua_State *L, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: bpflua [repl]\n"
                   "An interactive session: type statements to run them as the body of an\n"
                   "XDP program on the current packet; :help lists the commands.\n");
            return 0;
        }
        fprintf(stderr, "bpflua repl: unexpected argument '%s'\n", argv[i]);
        return 2;
    }
    struct bl_line_editor ed;
    if (isatty(STDIN_FILENO)) {
        const char *home = getenv("HOME");
        if (home && *home) {
            size_t n = strlen(home) + sizeof "/.bpflua_history";
            history_path = malloc(n);
            if (history_path)
                snprintf(history_path, n, "%s/.bpflua_history", home);
        }
        using_history();
        stifle_history(1000);
        if (history_path)
            read_history(history_path);
        ed = (struct bl_line_editor){edit_readline, edit_add_history, NULL, 1};
    } else {
        ed = (struct bl_line_editor){plain_readline, plain_add_history, stdin, 0};
    }
    int rc = bl_repl(L, &ed, stdout);
    free(history_path);
    history_path = NULL;
    return rc;
}

/* ---- bench: the suite driver tests/bench/run.lua, run in this Lua state ------------ */

static int file_exists(const char *path)
{
    return access(path, R_OK) == 0;
}

static int run_bench(lua_State *L, int argc, char **argv)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    char exe_dir[PATH_MAX] = ".";
    if (n > 0) {
        self[n] = '\0';
        char *slash = strrchr(self, '/');
        if (slash) {
            *slash = '\0';
            snprintf(exe_dir, sizeof exe_dir, "%s", self);
        }
    }
    /* the source tree: $BPFLUA_SRC, the parent of a build directory, or . */
    char cand[4][PATH_MAX + 64];
    int nc = 0;
    const char *src = getenv("BPFLUA_SRC");
    if (src && *src)
        snprintf(cand[nc++], sizeof cand[0], "%s/tests/bench/run.lua", src);
    snprintf(cand[nc++], sizeof cand[0], "%s/../tests/bench/run.lua", exe_dir);
    snprintf(cand[nc++], sizeof cand[0], "tests/bench/run.lua");
    const char *script = NULL;
    for (int i = 0; i < nc && !script; i++)
        if (file_exists(cand[i]))
            script = cand[i];
    if (!script) {
        if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
            printf("usage: bpflua bench [--quick] [--only NAME] [...]\n"
                   "Runs the benchmark suite tests/bench/run.lua of a source tree; none was found\n"
                   "(set BPFLUA_SRC to the checkout).\n");
            return 0;
        }
        fprintf(stderr, "bpflua bench: the benchmark suite is not available: no tests/bench/run.lua "
                        "(run from a checkout or set BPFLUA_SRC)\n");
        return 2;
    }
    /* the benchmark binaries (bench_native) sit next to bpflua in a build */
    if (!getenv("BPFLUA_BUILD"))
        setenv("BPFLUA_BUILD", exe_dir, 1);
    lua_createtable(L, argc, 1);
    lua_pushstring(L, script);
    lua_rawseti(L, -2, 0);
    for (int i = 1; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i);
    }
    lua_setglobal(L, "arg");
    if (luaL_dofile(L, script) != LUA_OK) {
        fprintf(stderr, "bpflua bench: %s\n", lua_tostring(L, -1));
        return 1;
    }
    return 0;
}

/* ---- main ------------------------------------------------------------------------ */

static int help_for(lua_State *L, const char *cmd);

static int dispatch(lua_State *L, int argc, char **argv)
{
    const char *cmd = argv[0];
    if (!strcmp(cmd, "compile"))
        return bl_cmd_compile(L, argc, argv);
    if (!strcmp(cmd, "verify"))
        return bl_cmd_verify(L, argc, argv);
    if (!strcmp(cmd, "run"))
        return bl_cmd_run(L, argc, argv);
    if (!strcmp(cmd, "disasm"))
        return bl_cmd_disasm(L, argc, argv);
    if (!strcmp(cmd, "conformance"))
        return bl_cmd_conformance(L, argc, argv);
    if (!strcmp(cmd, "attach"))
        return bl_cmd_attach(L, argc, argv);
    if (!strcmp(cmd, "detach"))
        return bl_cmd_detach(L, argc, argv);
    if (!strcmp(cmd, "bench"))
        return run_bench(L, argc, argv);
    if (!strcmp(cmd, "repl"))
        return run_repl(L, argc, argv);
    if (!strcmp(cmd, "help"))
        return argc > 1 ? help_for(L, argv[1]) : (fputs(usage, stdout), 0);
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        fputs(usage, stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V") || !strcmp(cmd, "version")) {
        printf("bpflua %s (%s)\n", BPFLUA_VERSION, LUA_RELEASE);
        return 0;
    }
    if (cmd[0] == '-')
        fprintf(stderr, "bpflua: unknown option '%s'\n%s", cmd, usage);
    else
        fprintf(stderr, "bpflua: unknown command '%s'\n%s", cmd, usage);
    return 2;
}

static int help_for(lua_State *L, const char *cmd)
{
    static const char *const known[] = {"compile", "verify", "run", "disasm", "conformance",
                                        "attach", "detach", "bench", "repl", NULL};
    for (int i = 0; known[i]; i++)
        if (!strcmp(cmd, known[i])) {
            char *argv[] = {(char *)cmd, "--help", NULL};
            return dispatch(L, 2, argv);
        }
    fprintf(stderr, "bpflua help: unknown command '%s'\n", cmd);
    return 2;
}

int main(int argc, char **argv)
{
    lua_State *L = luaL_newstate();
    if (!L) {
        fprintf(stderr, "bpflua: cannot create a Lua state\n");
        return 1;
    }
    luaL_openlibs(L);
    luaL_requiref(L, "bpf", luaopen_bpf, 1);
    lua_pop(L, 1);
    int rc = argc < 2 ? run_repl(L, 1, argv) : dispatch(L, argc - 1, argv + 1);
    fflush(stdout);
    lua_close(L);
    return rc;
}
