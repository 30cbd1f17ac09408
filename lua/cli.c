/* cli.c - the subcommands of `bpflua`: compile, verify, run, disasm,
 * conformance.
 *
 * Each takes argv with the subcommand name at argv[0] and returns the exit
 * status: 0 ok, 1 rejected or failed, 2 usage error or unreadable input.
 * Results go to stdout, errors to stderr.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bl_lua.h"
#include "kernel.h"
#include "object.h"
#include "progtype.h"

#define EXIT_REJECTED 1
#define EXIT_USAGE 2

static const char *const usage_compile =
    "usage: bpflua compile FILE.lua [-o OUT.o]\n"
    "Compiles a bpflua source file to an ELF object that libbpf, bpftool and\n"
    "the kernel load. OUT defaults to FILE with .lua replaced by .o.\n";

static const char *const usage_verify =
    "usage: bpflua verify FILE.lua|FILE.o [--prog NAME] [--section NAME] [--type TYPE] [--log]\n"
    "                     [--kernel]\n"
    "Verifies every program (or NAME). On acceptance prints, per program,\n"
    "  name=<prog> verified_insns=<n> max_insns=<n> verify_ns=<t> type=<type> section=<sec>\n"
    "where max_insns is the proven worst-case number of instructions per run.\n"
    "On rejection prints `error: <why> at insn <i> (file:line)` on stderr.\n"
    "  --section NAME  only the programs of ELF section NAME\n"
    "  --type TYPE     verify as TYPE (xdp, sched_cls, socket_filter, kprobe, ...)\n"
    "                  instead of the type the section name gives\n"
    "  --log   also print the verifier's state trace\n"
    "  --kernel  also load the object into the kernel and print, per program,\n"
    "            name=<prog> kernel=accepted|rejected|not_loaded kernel_insns=<n> kernel_verify_us=<t>\n"
    "            (the kernel verifier's processed instructions and verification time)\n"
    "Exit status: 0 accepted, 1 rejected, 2 unreadable input.\n";

static const char *const usage_run =
    "usage: bpflua run FILE.lua|FILE.o (--input PKT.bin | --hex HEX | --pcap FILE.pcap | --ctx FILE)\n"
    "                  [--engine interp|jit|kernel] [--repeat N] [--prog NAME]\n"
    "                  [--section NAME] [--type TYPE] [--mark N] [--priority N] [--ifindex N]\n"
    "                  [--max-insns N] [--cpu N] [--mem ADDR=FILE] [--dump-maps]\n"
    "                  [--histogram] [--quiet]\n"
    "Runs the programs on each packet (a fresh copy per program and packet;\n"
    "maps persist) and prints per program and packet\n"
    "  name=<prog> retval=<verdict as u32> [mark=<n> priority=<n>] ns_per_run=<t> setup_ns=<t>\n"
    "  [packet=<i>]\n"
    "(mark and priority for the socket-buffer types: sched_cls, socket_filter, ...)\n"
    "where ns_per_run is the runs alone (steady state with --repeat) and setup_ns\n"
    "what came before the first run (verification, JIT compile, kernel load).\n"
    "  --input FILE    one raw packet (an Ethernet frame) read from FILE\n"
    "  --hex HEX       one packet given in hex (spaces and colons allowed)\n"
    "  --pcap FILE     every packet of a classic pcap capture\n"
    "  --ctx FILE      the context's bytes: a struct __sk_buff for skb types, the\n"
    "                  whole context of tracing types (kprobe, tracepoint, ...)\n"
    "  --mem ADDR=FILE memory bpf_probe_read* may read: FILE's bytes at address ADDR\n"
    "                  (decimal or 0x hex; up to 16 regions); any other address fails\n"
    "                  with -EFAULT, as an unmapped one in the kernel (interp, jit)\n"
    "  --mark N, --priority N, --ifindex N   __sk_buff fields (decimal or 0x hex;\n"
    "                  ifindex 1 by default, for ifindex and ingress_ifindex)\n"
    "  --section NAME  only the programs of ELF section NAME\n"
    "  --type TYPE     run as TYPE instead of the type the section name gives\n"
    "  --engine E      interp, jit or kernel (default: jit where available)\n"
    "  --repeat N      run each program N times per packet, report the mean time\n"
    "  --prog NAME     run only program NAME (default: all)\n"
    "  --max-insns N   stop a run after N instructions (interpreter)\n"
    "  --cpu N         run on CPU N: per-CPU map slots, bpf_get_smp_processor_id (default 0)\n"
    "  --dump-maps     afterwards print `map=<name> key=<k> value=<v>` lines\n"
    "                  (per-CPU maps: CPU 0's slot)\n"
    "  --histogram     afterwards print the count of each verdict per program\n"
    "  --quiet         do not print the per-packet lines\n"
    "Text from bpf_trace_printk (print in the language) is shown as `trace: ...`.\n";

static const char *const usage_disasm =
    "usage: bpflua disasm FILE.lua|FILE.o [--prog NAME] [--section NAME]\n"
    "Prints each program's instructions with its source lines interleaved.\n";

static const char *const usage_conformance =
    "usage: bpflua conformance [--engine interp|jit] FILE.data...\n"
    "Runs bpf_conformance test files; prints one line per failure and closes\n"
    "with `N passed, N failed`. Exit status 1 if any test failed.\n";

/* ---- option parsing ---------------------------------------------------------- */

static int usage_error(const char *cmd, const char *usage, const char *fmt, const char *arg)
{
    fprintf(stderr, "bpflua %s: ", cmd);
    fprintf(stderr, fmt, arg ? arg : "");
    fprintf(stderr, "\n%s", usage);
    return EXIT_USAGE;
}

/* getopt_long with our own messages. shortopts must start with ':' (after
 * an optional '-'). Returns the option, '?' after printing a usage error,
 * or -1 at the end. */
static int next_opt(int argc, char **argv, const char *shortopts,
                    const struct option *longopts, const char *usage)
{
    opterr = 0;
    int c = getopt_long(argc, argv, shortopts, longopts, NULL);
    const char *bad = optind > 0 && optind <= argc ? argv[optind - 1] : "?";
    if (c == ':') {
        usage_error(argv[0], usage, "option '%s' needs a value", bad);
        return '?';
    }
    if (c == '?') {
        char shortname[3] = {'-', (char)optopt, 0};
        usage_error(argv[0], usage, "unknown option '%s'", optopt ? shortname : bad);
    }
    return c;
}

static int parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s || *s == '-')
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

static void print_err(const char *cmd, const char *err, const char *fallback)
{
    const char *m = err ? err : fallback;
    size_t n = strlen(m);
    fprintf(stderr, "%s%s%s%s", cmd ? "bpflua " : "", cmd ? cmd : "", cmd ? ": " : "", m);
    if (n == 0 || m[n - 1] != '\n')
        fputc('\n', stderr);
}

/* Opens FILE for a subcommand; prints the error itself. */
static bpflua_object *open_input(lua_State *L, const char *cmd, const char *path, int *status)
{
    char *err = NULL;
    bpflua_object *obj = bl_open_any(L, path, &err, status);
    if (!obj) {
        /* compile errors are formatted by the compiler: print them verbatim */
        if (*status == EXIT_REJECTED)
            print_err(NULL, err, "compilation failed");
        else
            print_err(cmd, err, "cannot open input");
    }
    free(err);
    return obj;
}

static int pick_prog(const char *cmd, bpflua_object *obj, const char *name)
{
    if (!name)
        return -1;
    int i = bpflua_prog_find(obj, name);
    if (i < 0) {
        fprintf(stderr, "bpflua %s: no program named '%s' (programs:", cmd, name);
        for (size_t k = 0; k < bpflua_prog_count(obj); k++)
            fprintf(stderr, " %s", bpflua_prog_name(obj, k));
        fprintf(stderr, ")\n");
        return -2;
    }
    return i;
}

/* Which programs a command works on: --prog NAME, --section NAME (every
 * program of that ELF section), and --type TYPE (overrides the type the
 * section names, for the selected programs). */
struct selection {
    int only;            /* program index, or -1 for all */
    const char *section; /* or NULL */
};

static int is_selected(bpflua_object *obj, const struct selection *s, size_t i)
{
    if (s->only >= 0 && (size_t)s->only != i)
        return 0;
    return !s->section || strcmp(bpflua_prog_section(obj, i), s->section) == 0;
}

/* 0, or EXIT_USAGE after printing why */
static int select_progs(const char *cmd, bpflua_object *obj, const char *prog_name,
                        const char *section, const char *type, struct selection *s)
{
    s->only = pick_prog(cmd, obj, prog_name);
    s->section = section;
    if (s->only == -2)
        return EXIT_USAGE;
    size_t n = 0;
    for (size_t i = 0; i < bpflua_prog_count(obj); i++)
        n += is_selected(obj, s, i);
    if (section && n == 0) {
        fprintf(stderr, "bpflua %s: no program in section '%s' (sections:", cmd, section);
        for (size_t k = 0; k < bpflua_prog_count(obj); k++)
            fprintf(stderr, " %s", bpflua_prog_section(obj, k));
        fprintf(stderr, ")\n");
        return EXIT_USAGE;
    }
    for (size_t i = 0; type && i < bpflua_prog_count(obj); i++) {
        if (is_selected(obj, s, i) && bpflua_prog_set_type(obj, i, type) < 0) {
            fprintf(stderr, "bpflua %s: unknown program type '%s' (types:", cmd, type);
            for (size_t k = 0; bl_prog_type_at(k); k++)
                fprintf(stderr, " %s", bl_prog_type_at(k)->name);
            fprintf(stderr, ")\n");
            return EXIT_USAGE;
        }
    }
    return 0;
}

/* decimal or 0x hex, at most 32 bits */
static int parse_u32(const char *s, uint32_t *out)
{
    if (!s || !*s || *s == '-' || *s == '+' || (s[0] == '0' && s[1] && s[1] != 'x' && s[1] != 'X'))
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, s[0] == '0' && s[1] ? 16 : 10);
    if (errno || *end || v > UINT32_MAX || end == s)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

/* ---- compile ------------------------------------------------------------------- */

int bl_cmd_compile(lua_State *L, int argc, char **argv)
{
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *out = NULL;
    int c;
    optind = 0;
    while ((c = next_opt(argc, argv, ":o:h", opts, usage_compile)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'h': fputs(usage_compile, stdout); return 0;
        default: return EXIT_USAGE;
        }
    }
    if (argc - optind != 1)
        return usage_error("compile", usage_compile,
                           argc - optind ? "expected one source file%s" : "no source file given%s",
                           NULL);
    const char *path = argv[optind];
    char *deflt = NULL;
    if (!out) {
        size_t n = strlen(path);
        size_t stem = bl_has_suffix(path, ".lua") ? n - 4 : n;
        deflt = malloc(stem + 3);
        if (!deflt)
            return EXIT_REJECTED;
        memcpy(deflt, path, stem);
        memcpy(deflt + stem, ".o", 3);
        out = deflt;
    }
    int status;
    bpflua_object *obj = open_input(L, "compile", path, &status);
    if (!obj) {
        free(deflt);
        return status;
    }
    char *err = NULL;
    int rc = 0;
    if (bpflua_object_write_elf(obj, out, &err) < 0) {
        print_err("compile", err, "cannot write the ELF object");
        rc = EXIT_REJECTED;
    } else {
        size_t maps = 0; /* the program's own: bpflua's internal ones not counted */
        for (size_t i = 0; i < bpflua_map_count(obj); i++) {
            struct bpflua_map_spec spec;
            maps += bpflua_map_spec(obj, i, &spec) == 0 && !bpflua_map_is_internal(spec.name);
        }
        printf("%s: %zu program%s, %zu map%s\n", out, bpflua_prog_count(obj),
               bpflua_prog_count(obj) == 1 ? "" : "s", maps, maps == 1 ? "" : "s");
    }
    free(err);
    free(deflt);
    bpflua_object_free(obj);
    return rc;
}

/* ---- verify -------------------------------------------------------------------- */

/* Shows the source line that a "(file:line)" at the end of msg points to. */
static void show_source_line(bpflua_object *obj, const char *msg)
{
    const char *open = strrchr(msg, '(');
    const char *colon = open ? strrchr(open, ':') : NULL;
    if (!colon)
        return;
    char *end;
    unsigned long line = strtoul(colon + 1, &end, 10);
    if (end == colon + 1 || *end != ')' || line == 0 || line > UINT32_MAX)
        return;
    size_t len;
    const char *text = bpflua_object_source_line(obj, (uint32_t)line, &len);
    if (text)
        fprintf(stderr, "%5lu | %.*s\n", line, (int)len, text);
}

/* verify --kernel: the kernel verifier's cost per program; 1 if the
 * kernel is unavailable or rejected a program */
static int kernel_costs(bpflua_object *obj, const struct selection *sel)
{
    char *why = NULL;
    if (!bl_kernel_available(&why)) {
        fprintf(stderr, "bpflua verify: %s\n", why ? why : "the kernel is not available");
        free(why);
        return 1;
    }
    size_t n = bpflua_prog_count(obj);
    struct bl_kernel_stat *st = calloc(n, sizeof *st);
    if (!st) {
        fprintf(stderr, "bpflua verify: out of memory\n");
        return 1;
    }
    char *err = NULL;
    int rc = bl_kernel_stats(obj, st, &err);
    for (size_t i = 0; i < n; i++) {
        if (!is_selected(obj, sel, i))
            continue;
        const char *verdict = st[i].loaded ? "accepted" : st[i].verified ? "rejected" : "not_loaded";
        printf("name=%s kernel=%s kernel_insns=%" PRIu64 " kernel_verify_us=%" PRIu64 "\n",
               bpflua_prog_name(obj, i), verdict, st[i].insns, st[i].usec);
    }
    if (rc)
        fprintf(stderr, "bpflua verify: %s\n", err ? err : "kernel: load failed");
    free(err);
    free(st);
    return rc != 0;
}

/* 1 if program i calls a subprogram of section `section` (not its own) */
static int calls_into(bpflua_object *obj, size_t i, const char *section)
{
    const struct bl_prog *p = bl_object_prog(obj, i);
    for (uint32_t f = 0; p && f < p->n_funcs; f++)
        if (p->funcs[f].section[0] && strcmp(p->funcs[f].section, section) == 0)
            return 1;
    return 0;
}

/* `verify --section S` where S holds no program, only subprograms (.text
 * of an object whose programs have sections of their own; PREVAIL checks
 * such a section as a program): a subprogram does not run alone, so each
 * is verified in every program that calls it, and accepted when they all
 * are; a .text function no program calls never runs (old clang left
 * global functions there that it had also inlined). *handled = 0 when S
 * holds no such function either. */
static int verify_subprogs(bpflua_object *obj, const char *section, int *handled)
{
    *handled = 0;
    int rc = 0;
    for (size_t i = 0; i < bpflua_prog_count(obj); i++) {
        if (!calls_into(obj, i, section))
            continue;
        *handled = 1;
        char *err = NULL;
        if (bpflua_verify(obj, i, 0, NULL, &err, NULL) < 0) {
            fprintf(stderr, "%s: ", bpflua_prog_name(obj, i));
            print_err(NULL, err ? err : "error: verification failed", "");
            rc = EXIT_REJECTED;
        }
        free(err);
    }
    /* one line per function of the section, with the programs it ran in */
    for (size_t i = 0; i < bpflua_prog_count(obj); i++) {
        const struct bl_prog *p = bl_object_prog(obj, i);
        for (uint32_t f = 0; f < p->n_funcs; f++) {
            const char *fn = p->funcs[f].name;
            if (strcmp(p->funcs[f].section, section))
                continue;
            int seen = 0; /* printed for an earlier program */
            for (size_t k = 0; k < i && !seen; k++) {
                const struct bl_prog *q = bl_object_prog(obj, k);
                for (uint32_t g = 0; g < q->n_funcs && !seen; g++)
                    seen = strcmp(q->funcs[g].section, section) == 0 &&
                           strcmp(q->funcs[g].name, fn) == 0;
            }
            if (seen)
                continue;
            int ok = 1;
            printf("name=%s subprogram section=%s callers=", fn, section);
            const char *sep = "";
            for (size_t k = i; k < bpflua_prog_count(obj); k++) {
                const struct bl_prog *q = bl_object_prog(obj, k);
                for (uint32_t g = 0; g < q->n_funcs; g++)
                    if (strcmp(q->funcs[g].section, section) == 0 &&
                        strcmp(q->funcs[g].name, fn) == 0) {
                        printf("%s%s", sep, q->name);
                        sep = ",";
                        ok &= q->verdict > 0;
                        break;
                    }
            }
            printf(" %s\n", ok ? "accepted" : "rejected");
        }
    }
    for (uint32_t u = 0; u < obj->n_uncalled; u++) {
        if (strcmp(obj->uncalled[u].section, section))
            continue;
        *handled = 1;
        printf("name=%s subprogram section=%s callers=none accepted\n", obj->uncalled[u].name,
               section);
        fprintf(stderr, "bpflua verify: %s: a function of section '%s' no program calls: it "
                "never runs\n", obj->uncalled[u].name, section);
    }
    return rc;
}

int bl_cmd_verify(lua_State *L, int argc, char **argv)
{
    static const struct option opts[] = {
        {"prog", required_argument, NULL, 'p'},
        {"log", no_argument, NULL, 'l'},
        {"kernel", no_argument, NULL, 'k'},
        {"section", required_argument, NULL, 's'},
        {"type", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *prog_name = NULL, *section = NULL, *type = NULL;
    int want_log = 0, want_kernel = 0, c;
    optind = 0;
    while ((c = next_opt(argc, argv, ":p:s:t:lkh", opts, usage_verify)) != -1) {
        switch (c) {
        case 'p': prog_name = optarg; break;
        case 'l': want_log = 1; break;
        case 'k': want_kernel = 1; break;
        case 's': section = optarg; break;
        case 't': type = optarg; break;
        case 'h': fputs(usage_verify, stdout); return 0;
        default: return EXIT_USAGE;
        }
    }
    if (argc - optind != 1)
        return usage_error("verify", usage_verify,
                           argc - optind ? "expected one file%s" : "no file given%s", NULL);
    int status;
    bpflua_object *obj = open_input(L, "verify", argv[optind], &status);
    if (!obj)
        return status;
    struct selection sel;
    if (section && !prog_name && !type && !want_kernel) {
        int handled = 0, n = 0;
        for (size_t i = 0; i < bpflua_prog_count(obj); i++)
            n += strcmp(bpflua_prog_section(obj, i), section) == 0;
        int rc = n ? 0 : verify_subprogs(obj, section, &handled);
        if (handled) {
            bpflua_object_free(obj);
            return rc;
        }
    }
    if (select_progs("verify", obj, prog_name, section, type, &sel)) {
        bpflua_object_free(obj);
        return EXIT_USAGE;
    }
    int rc = 0;
    if (bpflua_prog_count(obj) == 0) {
        fprintf(stderr, "bpflua verify: %s holds no programs\n", argv[optind]);
        rc = EXIT_REJECTED;
    }
    for (size_t i = 0; i < bpflua_prog_count(obj); i++) {
        if (!is_selected(obj, &sel, i))
            continue;
        struct bpflua_verify_info info = {0};
        char *err = NULL, *log = NULL;
        int v = bpflua_verify(obj, i, want_log, &info, &err, want_log ? &log : NULL);
        if (log) {
            fputs(log, stdout);
            if (*log && log[strlen(log) - 1] != '\n')
                fputc('\n', stdout);
        }
        if (v < 0) {
            if (bpflua_prog_count(obj) > 1)
                fprintf(stderr, "%s: ", bpflua_prog_name(obj, i));
            /* the type and section on stdout, as for an accepted program */
            printf("name=%s rejected type=%s section=%s\n", bpflua_prog_name(obj, i),
                   bpflua_prog_type(obj, i), bpflua_prog_section(obj, i));
            if (err) {
                print_err(NULL, err, "");
                show_source_line(obj, err);
            } else {
                fprintf(stderr, "error: verification failed: %s\n", strerror(-v));
            }
            rc = EXIT_REJECTED;
        } else {
            printf("name=%s verified_insns=%" PRIu32 " max_insns=%" PRIu64 " verify_ns=%" PRIu64
                   " type=%s section=%s\n", bpflua_prog_name(obj, i), info.verified_insns,
                   info.max_insns, info.verify_ns, bpflua_prog_type(obj, i),
                   bpflua_prog_section(obj, i));
            if (bpflua_prog_type_guessed(obj, i))
                fprintf(stderr, "bpflua verify: %s: section '%s' names no program type; verified "
                        "as %s, the first of %s that accepts it (--type sets it)\n",
                        bpflua_prog_name(obj, i), bpflua_prog_section(obj, i),
                        bpflua_prog_type(obj, i), bl_prog_type_guess_names);
        }
        free(err);
        free(log);
    }
    if (want_kernel && bpflua_prog_count(obj) > 0 && kernel_costs(obj, &sel))
        rc = EXIT_REJECTED;
    bpflua_object_free(obj);
    return rc;
}

/* ---- disasm -------------------------------------------------------------------- */

int bl_cmd_disasm(lua_State *L, int argc, char **argv)
{
    static const struct option opts[] = {
        {"prog", required_argument, NULL, 'p'},
        {"section", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *prog_name = NULL, *section = NULL;
    int c;
    optind = 0;
    while ((c = next_opt(argc, argv, ":p:s:h", opts, usage_disasm)) != -1) {
        switch (c) {
        case 'p': prog_name = optarg; break;
        case 's': section = optarg; break;
        case 'h': fputs(usage_disasm, stdout); return 0;
        default: return EXIT_USAGE;
        }
    }
    if (argc - optind != 1)
        return usage_error("disasm", usage_disasm,
                           argc - optind ? "expected one file%s" : "no file given%s", NULL);
    int status;
    bpflua_object *obj = open_input(L, "disasm", argv[optind], &status);
    if (!obj)
        return status;
    struct selection sel;
    int rc = select_progs("disasm", obj, prog_name, section, NULL, &sel);
    for (size_t i = 0; rc == 0 && i < bpflua_prog_count(obj); i++) {
        if (!is_selected(obj, &sel, i))
            continue;
        char *text = bpflua_disasm(obj, i, 1);
        if (!text) {
            fprintf(stderr, "bpflua disasm: cannot disassemble '%s'\n", bpflua_prog_name(obj, i));
            rc = EXIT_REJECTED;
            break;
        }
        printf("%s; program %s, section %s, type %s\n", i ? "\n" : "",
               bpflua_prog_name(obj, i), bpflua_prog_section(obj, i), bpflua_prog_type(obj, i));
        fputs(text, stdout);
        if (*text && text[strlen(text) - 1] != '\n')
            fputc('\n', stdout);
        free(text);
    }
    bpflua_object_free(obj);
    return rc;
}

/* ---- conformance --------------------------------------------------------------- */

int bl_cmd_conformance(lua_State *L, int argc, char **argv)
{
    static const struct option opts[] = {
        {"engine", required_argument, NULL, 'e'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    enum bpflua_engine engine = BPFLUA_ENGINE_INTERP;
    int c;
    optind = 0;
    while ((c = next_opt(argc, argv, ":e:h", opts, usage_conformance)) != -1) {
        switch (c) {
        case 'e': {
            int e = bl_engine_parse(optarg);
            if (e < 0 || e == BPFLUA_ENGINE_KERNEL)
                return usage_error("conformance", usage_conformance,
                                   "unknown engine '%s' (use interp or jit)", optarg);
            engine = e == BPFLUA_ENGINE_DEFAULT ? bl_engine_default() : (enum bpflua_engine)e;
            break;
        }
        case 'h': fputs(usage_conformance, stdout); return 0;
        default: return EXIT_USAGE;
        }
    }
    if (optind >= argc)
        return usage_error("conformance", usage_conformance, "no test files given%s", NULL);
    int passed = 0, failed = 0, unreadable = 0;
    for (int i = optind; i < argc; i++) {
        fflush(stdout);
        int rc = bpflua_conformance_file(argv[i], engine, stdout);
        fflush(stdout);
        if (rc == 0) {
            passed++;
        } else {
            failed++;
            if (rc == 2) {
                unreadable++;
            }
        }
    }
    printf("%d passed, %d failed\n", passed, failed);
    if (failed == 0)
        return 0;
    return unreadable == failed ? EXIT_USAGE : EXIT_REJECTED;
}

/* ---- run ----------------------------------------------------------------------- */

struct dump_entry {
    unsigned char *key;
    char *text;
};

static const struct bl_vlayout *sort_layout;

static int cmp_entry(const void *a, const void *b)
{
    const struct dump_entry *x = a, *y = b;
    return bl_vcompare(sort_layout, x->key, y->key);
}

static int cmp_map_name(const void *a, const void *b)
{
    const struct bpflua_map_spec *x = a, *y = b;
    return strcmp(x->name, y->name);
}

struct map_sel { struct bpflua_map_spec spec; size_t index; };

static int cmp_sel(const void *a, const void *b)
{
    return cmp_map_name(&((const struct map_sel *)a)->spec, &((const struct map_sel *)b)->spec);
}

static int is_zero(const unsigned char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return 0;
    return 1;
}

/* malloc'd text of a key or value */
static char *vtext(const struct bl_vlayout *l, const void *buf)
{
    struct bl_text t = {0};
    if (bl_vtext(&t, l, buf) < 0) {
        free(t.buf);
        return NULL;
    }
    return t.buf ? t.buf : strdup("");
}

static int dump_one_map(bpflua_object *obj, const struct map_sel *m)
{
    const struct bpflua_map_spec *s = &m->spec;
    /* ring buffers (and perf_event_arrays) are drained into events after every run */
    if (s->type == BPFLUA_MAP_RINGBUF || s->type == BPFLUA_MAP_PERF_EVENT_ARRAY)
        return 0;
    if (s->key_size == 0 || s->key_size > 4096 || s->value_size > 1 << 20)
        return 0;
    struct bl_vlayout kl, vl;
    bl_key_layout(obj, s, &kl);
    bl_value_layout(obj, s, &vl);
    size_t cap = 64, n = 0;
    struct dump_entry *e = malloc(cap * sizeof *e);
    unsigned char *key = malloc(s->key_size), *next = malloc(s->key_size);
    unsigned char *value = malloc(s->value_size ? s->value_size : 1);
    int rc = 0;
    if (!e || !key || !next || !value) {
        rc = -ENOMEM;
        goto out;
    }
    int r = bl_obj_map_next_key(obj, m->index, NULL, next);
    int is_array = s->type == BPFLUA_MAP_ARRAY || s->type == BPFLUA_MAP_PERCPU_ARRAY;
    size_t guard = (size_t)s->max_entries + 1;
    while (r == 0 && guard-- > 0) {
        if (bl_obj_map_lookup(obj, m->index, next, value) == 0 &&
            !(is_array && is_zero(value, s->value_size))) {
            if (n == cap) {
                cap *= 2;
                struct dump_entry *ne = realloc(e, cap * sizeof *e);
                if (!ne) {
                    rc = -ENOMEM;
                    break;
                }
                e = ne;
            }
            e[n].key = malloc(s->key_size);
            e[n].text = vtext(&vl, value);
            if (!e[n].key) {
                free(e[n].text);
                rc = -ENOMEM;
                break;
            }
            memcpy(e[n].key, next, s->key_size);
            n++;
        }
        memcpy(key, next, s->key_size);
        r = bl_obj_map_next_key(obj, m->index, key, next);
    }
    sort_layout = &kl;
    qsort(e, n, sizeof *e, cmp_entry);
    for (size_t i = 0; i < n; i++) {
        char *k = vtext(&kl, e[i].key);
        printf("map=%s key=%s value=%s\n", s->name, k ? k : "?", e[i].text ? e[i].text : "?");
        free(k);
    }
out:
    for (size_t i = 0; e && i < n; i++) {
        free(e[i].key);
        free(e[i].text);
    }
    free(e);
    free(key);
    free(next);
    free(value);
    return rc;
}

/* The events of the last run, after its program's line: `event=<map> {f=v,...}`,
 * `event=<map> value=<n>` for integers; then what was not shown or dropped. */
static void print_events(bpflua_object *obj)
{
    size_t n = bpflua_event_count(obj);
    for (size_t i = 0; i < n; i++) {
        struct bpflua_event ev;
        struct bpflua_map_spec spec;
        if (bpflua_event_get(obj, i, &ev) < 0 || bpflua_map_spec(obj, ev.map, &spec) < 0)
            continue;
        struct bl_vlayout l;
        bl_event_layout(obj, &spec, ev.size, &l);
        char *t = vtext(&l, ev.data);
        printf("event=%s %s%s\n", spec.name, l.kind == BL_V_RECORD ? "" : "value=", t ? t : "?");
        free(t);
    }
    uint64_t unshown = bpflua_events_unshown(obj), dropped = bpflua_events_dropped(obj);
    if (unshown || dropped)
        printf("events_not_shown=%" PRIu64 " events_dropped=%" PRIu64 "\n", unshown, dropped);
}

static void dump_maps(bpflua_object *obj)
{
    size_t n = bpflua_map_count(obj);
    struct map_sel *sel = calloc(n ? n : 1, sizeof *sel);
    if (!sel)
        return;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (bpflua_map_spec(obj, i, &sel[k].spec) == 0 && sel[k].spec.name &&
            !bpflua_map_is_internal(sel[k].spec.name)) {
            sel[k].index = i;
            k++;
        }
    qsort(sel, k, sizeof *sel, cmp_sel);
    for (size_t i = 0; i < k; i++)
        if (dump_one_map(obj, &sel[i]) < 0)
            fprintf(stderr, "bpflua run: cannot dump map '%s': out of memory\n", sel[i].spec.name);
    free(sel);
}

/* counts of each verdict, per program */
struct histogram {
    uint32_t *values;
    uint64_t *counts;
    size_t n, cap;
};

static void hist_add(struct histogram *h, uint32_t v)
{
    for (size_t i = 0; i < h->n; i++)
        if (h->values[i] == v) {
            h->counts[i]++;
            return;
        }
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 8;
        uint32_t *nv = realloc(h->values, cap * sizeof *nv);
        if (!nv)
            return;
        h->values = nv;
        uint64_t *nc = realloc(h->counts, cap * sizeof *nc);
        if (!nc)
            return;
        h->counts = nc;
        h->cap = cap;
    }
    h->values[h->n] = v;
    h->counts[h->n] = 1;
    h->n++;
}

static void hist_print(const char *prog, const char *type, struct histogram *h, size_t total)
{
    /* sort by verdict value (small n: insertion sort) */
    for (size_t i = 1; i < h->n; i++)
        for (size_t j = i; j > 0 && h->values[j - 1] > h->values[j]; j--) {
            uint32_t tv = h->values[j];
            h->values[j] = h->values[j - 1];
            h->values[j - 1] = tv;
            uint64_t tc = h->counts[j];
            h->counts[j] = h->counts[j - 1];
            h->counts[j - 1] = tc;
        }
    printf("histogram name=%s packets=%zu\n", prog, total);
    for (size_t i = 0; i < h->n; i++) {
        const char *vn = bl_verdict_name(type, h->values[i]);
        char label[40];
        if (vn)
            snprintf(label, sizeof label, "%s(%" PRIu32 ")", vn, h->values[i]);
        else
            snprintf(label, sizeof label, "%" PRIu32, h->values[i]);
        double pct = total ? 100.0 * (double)h->counts[i] / (double)total : 0;
        printf("  %-16s %8" PRIu64 "  %5.1f%%\n", label, h->counts[i], pct);
    }
}

static void print_trace(bpflua_object *obj)
{
    const char *t = bpflua_trace_output(obj);
    if (!t || !*t)
        return;
    int lines = 0;
    const char *p = t;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (lines < 200)
            printf("trace: %.*s\n", (int)len, p);
        lines++;
        p += len + (nl ? 1 : 0);
    }
    if (lines > 200)
        printf("trace: ... %d more lines\n", lines - 200);
    bpflua_trace_clear(obj);
}

/* --mem ADDR=FILE: the regions probe_read may read */
#define MAX_MEM_ARGS 16
struct mem_args {
    size_t n;
    uint64_t addr[MAX_MEM_ARGS];
    const char *file[MAX_MEM_ARGS];
    char *bytes[MAX_MEM_ARGS];
    struct bpflua_mem_region regions[MAX_MEM_ARGS];
};

static int mem_arg(struct mem_args *m, char *arg)
{
    char *eq = strchr(arg, '=');
    if (!eq || !eq[1] || m->n == MAX_MEM_ARGS)
        return -1;
    *eq = '\0';
    int rc = parse_u64(arg, &m->addr[m->n]);
    *eq = '=';
    if (rc < 0)
        return -1;
    m->file[m->n++] = eq + 1;
    return 0;
}

static int mem_read(struct mem_args *m, struct bpflua_run_opts *ro)
{
    for (size_t i = 0; i < m->n; i++) {
        size_t len = 0;
        char *err = NULL;
        if (!(m->bytes[i] = bl_read_file(m->file[i], &len, &err))) {
            print_err("run", err, "cannot read the --mem file");
            free(err);
            m->n = i; /* the caller frees the ones before */
            return -1;
        }
        if (len && m->addr[i] + (len - 1) < m->addr[i]) {
            fprintf(stderr, "bpflua run: --mem %s: the region wraps past address 2^64\n",
                    m->file[i]);
            free(m->bytes[i]);
            m->n = i; /* the caller frees the ones before */
            return -1;
        }
        m->regions[i].addr = m->addr[i];
        m->regions[i].data = m->bytes[i];
        m->regions[i].len = len;
    }
    ro->mem = m->regions;
    ro->n_mem = m->n;
    return 0;
}

int bl_cmd_run(lua_State *L, int argc, char **argv)
{
    enum { O_INPUT = 1000, O_HEX, O_PCAP, O_ENGINE, O_REPEAT, O_PROG, O_DUMP, O_HIST, O_MAXI, O_QUIET,
           O_CPU, O_SECTION, O_TYPE, O_MARK, O_PRIO, O_IFINDEX, O_CTX, O_MEM };
    static const struct option opts[] = {
        {"input", required_argument, NULL, O_INPUT},
        {"hex", required_argument, NULL, O_HEX},
        {"pcap", required_argument, NULL, O_PCAP},
        {"engine", required_argument, NULL, O_ENGINE},
        {"repeat", required_argument, NULL, O_REPEAT},
        {"prog", required_argument, NULL, O_PROG},
        {"dump-maps", no_argument, NULL, O_DUMP},
        {"histogram", no_argument, NULL, O_HIST},
        {"max-insns", required_argument, NULL, O_MAXI},
        {"quiet", no_argument, NULL, O_QUIET},
        {"cpu", required_argument, NULL, O_CPU},
        {"section", required_argument, NULL, O_SECTION},
        {"type", required_argument, NULL, O_TYPE},
        {"mark", required_argument, NULL, O_MARK},
        {"priority", required_argument, NULL, O_PRIO},
        {"ifindex", required_argument, NULL, O_IFINDEX},
        {"ctx", required_argument, NULL, O_CTX},
        {"mem", required_argument, NULL, O_MEM},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *input = NULL, *hex = NULL, *pcap = NULL, *prog_name = NULL, *file = NULL;
    uint64_t cpu = 0;
    const char *section = NULL, *type = NULL, *ctx_file = NULL;
    struct bpflua_run_opts ro = {.engine = BPFLUA_ENGINE_DEFAULT, .repeat = 1};
    struct mem_args mem = {0};
    int dump = 0, hist = 0, quiet = 0, sources = 0, c;
    optind = 0;
    while ((c = next_opt(argc, argv, "-:qh", opts, usage_run)) != -1) {
        switch (c) {
        case 1:
            if (file)
                return usage_error("run", usage_run, "unexpected argument '%s'", optarg);
            file = optarg;
            break;
        case O_INPUT: input = optarg; sources++; break;
        case O_HEX: hex = optarg; sources++; break;
        case O_PCAP: pcap = optarg; sources++; break;
        case O_ENGINE: {
            int e = bl_engine_parse(optarg);
            if (e < 0)
                return usage_error("run", usage_run,
                                   "unknown engine '%s' (use interp, jit or kernel)", optarg);
            ro.engine = (enum bpflua_engine)e;
            break;
        }
        case O_REPEAT:
            if (parse_u64(optarg, &ro.repeat) < 0 || ro.repeat == 0)
                return usage_error("run", usage_run, "--repeat needs a count >= 1, not '%s'", optarg);
            break;
        case O_MAXI:
            if (parse_u64(optarg, &ro.max_insns) < 0 || ro.max_insns == 0)
                return usage_error("run", usage_run, "--max-insns needs a count >= 1, not '%s'",
                                   optarg);
            break;
        case O_CPU:
            if (parse_u64(optarg, &cpu) < 0 || cpu >= (uint64_t)bpflua_num_possible_cpus())
                return usage_error("run", usage_run,
                                   "--cpu needs a possible CPU's number (see "
                                   "/sys/devices/system/cpu/possible), not '%s'", optarg);
            ro.cpu = (uint32_t)cpu;
            break;
        case O_PROG: prog_name = optarg; break;
        case O_SECTION: section = optarg; break;
        case O_TYPE: type = optarg; break;
        case O_CTX: ctx_file = optarg; break;
        case O_MEM:
            if (mem_arg(&mem, optarg) < 0)
                return usage_error("run", usage_run,
                                   "--mem takes ADDR=FILE (at most 16), not '%s'", optarg);
            break;
        case O_MARK: case O_PRIO: case O_IFINDEX: {
            uint32_t *dst = c == O_MARK ? &ro.mark : c == O_PRIO ? &ro.priority : &ro.ifindex;
            if (parse_u32(optarg, dst) < 0)
                return usage_error("run", usage_run,
                                   "--mark, --priority and --ifindex take a 32-bit number "
                                   "(decimal or 0x hex), not '%s'", optarg);
            break;
        }
        case O_DUMP: dump = 1; break;
        case O_HIST: hist = 1; break;
        case 'q': case O_QUIET: quiet = 1; break;
        case 'h': fputs(usage_run, stdout); return 0;
        default: return EXIT_USAGE;
        }
    }
    if (!file)
        return usage_error("run", usage_run, "no program file given%s", NULL);
    if (sources > 1 || (sources == 0 && !ctx_file))
        return usage_error("run", usage_run,
                           sources ? "give only one of --input, --hex and --pcap%s"
                                   : "no packet: give --input FILE, --hex HEX or --pcap FILE%s",
                           NULL);
    if (ro.engine == BPFLUA_ENGINE_DEFAULT)
        ro.engine = bl_engine_default();

    /* the packets first: unreadable input is a usage-class error */
    struct bl_packet_list pk = {0};
    char *err = NULL;
    char *ctx_bytes = NULL;
    if (ctx_file) {
        ctx_bytes = bl_read_file(ctx_file, &ro.ctx_len, &err);
        if (!ctx_bytes) {
            print_err("run", err, "cannot read the context");
            free(err);
            return EXIT_USAGE;
        }
        ro.ctx = ctx_bytes;
    }
    if (sources == 0) {
        /* a tracing program: the context is all there is, no packet */
        pk.pkts = calloc(1, sizeof *pk.pkts);
        if (!pk.pkts) {
            free(ctx_bytes);
            return EXIT_REJECTED;
        }
        pk.n = 1;
    } else if (pcap) {
        if (bl_pcap_read(pcap, &pk, &err) < 0) {
            print_err("run", err, "cannot read the pcap file");
            free(err);
            free(ctx_bytes);
            return EXIT_USAGE;
        }
    } else {
        unsigned char *data = NULL;
        size_t len = 0;
        if (input) {
            data = (unsigned char *)bl_read_file(input, &len, &err);
            if (!data) {
                print_err("run", err, "cannot read the packet");
                free(err);
                free(ctx_bytes);
                return EXIT_USAGE;
            }
        } else if (bl_hex_decode(hex, &data, &len, &err) < 0) {
            print_err("run", err, "bad hex");
            free(err);
            free(ctx_bytes);
            return usage_error("run", usage_run, "--hex needs pairs of hex digits%s", NULL);
        }
        pk.pkts = malloc(sizeof *pk.pkts);
        if (!pk.pkts) {
            free(data);
            free(ctx_bytes);
            return EXIT_REJECTED;
        }
        pk.pkts[0].data = data;
        pk.pkts[0].len = len;
        pk.n = 1;
    }

    int status;
    bpflua_object *obj = open_input(L, "run", file, &status);
    if (!obj) {
        bl_packet_list_free(&pk);
        free(ctx_bytes);
        return status;
    }
    int rc = 0;
    struct selection sel;
    size_t nprogs = bpflua_prog_count(obj);
    if (select_progs("run", obj, prog_name, section, type, &sel)) {
        rc = EXIT_USAGE;
        goto out;
    }
    if (mem_read(&mem, &ro) < 0) {
        rc = EXIT_USAGE;
        goto out;
    }
    if (nprogs == 0) {
        fprintf(stderr, "bpflua run: %s holds no programs\n", file);
        rc = EXIT_REJECTED;
        goto out;
    }
    if (ro.engine == BPFLUA_ENGINE_KERNEL) {
        char *why = NULL;
        if (!bl_kernel_available(&why)) {
            fprintf(stderr, "bpflua run: the kernel engine is not available here: %s\n",
                    why ? why : "bpf(2) failed");
            free(why);
            rc = EXIT_REJECTED;
            goto out;
        }
        free(why);
    }
    struct histogram *hists = calloc(nprogs, sizeof *hists);
    if (!hists) {
        rc = EXIT_REJECTED;
        goto out;
    }
    size_t maxlen = 1;
    for (size_t k = 0; k < pk.n; k++)
        if (pk.pkts[k].len > maxlen)
            maxlen = pk.pkts[k].len;
    unsigned char *buf = malloc(maxlen);
    if (!buf) {
        free(hists);
        rc = EXIT_REJECTED;
        goto out;
    }
    bpflua_trace_clear(obj);
    for (size_t k = 0; k < pk.n && rc == 0; k++) {
        for (size_t i = 0; i < nprogs; i++) {
            if (!is_selected(obj, &sel, i))
                continue;
            if (pk.pkts[k].len)
                memcpy(buf, pk.pkts[k].data, pk.pkts[k].len);
            struct bpflua_run_result res = {0};
            char *rerr = NULL;
            int r = bpflua_run(obj, i, buf, pk.pkts[k].len, &ro, &res, &rerr);
            print_trace(obj);
            if (r < 0) {
                fprintf(stderr, "bpflua run: %s", bpflua_prog_name(obj, i));
                if (pcap)
                    fprintf(stderr, " (packet %zu)", k + 1);
                fprintf(stderr, ": ");
                print_err(NULL, rerr, strerror(-r));
                if (rerr && strstr(rerr, "(") && strstr(rerr, "insn"))
                    show_source_line(obj, rerr);
                free(rerr);
                rc = EXIT_REJECTED;
                break;
            }
            free(rerr);
            uint32_t verdict = (uint32_t)res.retval;
            hist_add(&hists[i], verdict);
            if (!quiet) {
                printf("name=%s retval=%" PRIu32, bpflua_prog_name(obj, i), verdict);
                if (bl_prog_type_by_name(bpflua_prog_type(obj, i))->build == BL_BUILD_SKB)
                    printf(" mark=%" PRIu32 " priority=%" PRIu32, res.mark, res.priority);
                printf(" ns_per_run=%" PRIu64 " setup_ns=%" PRIu64, res.ns_per_run, res.setup_ns);
                if (pcap)
                    printf(" packet=%zu", k + 1);
                putchar('\n');
                print_events(obj);
            }
        }
    }
    free(buf);
    if (rc == 0 && hist)
        for (size_t i = 0; i < nprogs; i++)
            if (is_selected(obj, &sel, i))
                hist_print(bpflua_prog_name(obj, i), bpflua_prog_type(obj, i), &hists[i], pk.n);
    for (size_t i = 0; i < nprogs; i++) {
        free(hists[i].values);
        free(hists[i].counts);
    }
    free(hists);
    if (rc == 0 && dump)
        dump_maps(obj);
out:
    bpflua_object_free(obj);
    bl_packet_list_free(&pk);
    free(ctx_bytes);
    for (size_t i = 0; i < mem.n; i++)
        free(mem.bytes[i]);
    return rc;
}
