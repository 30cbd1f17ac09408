/* conformance.c - runs bpf_conformance .data files:
 *
 *   -- asm      the program (vm/asm.c text form)
 *   -- mem      hex bytes; R1 = pointer to a copy, R2 = its length
 *   -- result   the expected R0
 *   -- error    expected failure (text the error must contain; optional)
 *   -- raw      expected encoding, one 64-bit little-endian slot per line
 *   -- c, -- no register offset   notes for other harnesses: ignored
 *   # comments anywhere outside -- c
 *
 * Helper ids follow the uBPF/bpf_conformance harness, not the kernel: 5 is
 * "unwind" (returns R1; a 0 return ends the program with R0 = 0).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asm.h"
#include "helpers.h"
#include "guard.h"
#include "interp.h"
#include "jit.h"

enum section { SEC_NONE, SEC_ASM, SEC_MEM, SEC_RESULT, SEC_ERROR, SEC_RAW, SEC_IGNORED };

struct data_file {
    const char *path;
    struct bl_strbuf asm_text, error_text;
    unsigned asm_line;           /* line of the first asm line */
    int has_asm, has_result, has_error, has_raw;
    uint8_t *mem;
    size_t mem_len, mem_cap;
    uint64_t result;
    uint64_t *raw;
    size_t n_raw, raw_cap;
    char *err;                   /* parse error, "file:line: message" */
};

static uint64_t unwind_helper(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                              struct bpflua_run_env *env)
{
    if (r1 == 0)
        env->fault = 1;
    return r1;
}

static const struct bpflua_helper conformance_helpers[] = {
    { 5, "unwind", unwind_helper, BPFLUA_RET_INTEGER, { BPFLUA_ARG_ANYTHING } },
};

static const struct bpflua_helper *conformance_helper_find(uint32_t id)
{
    for (size_t k = 0; k < sizeof conformance_helpers / sizeof conformance_helpers[0]; k++)
        if (conformance_helpers[k].id == id)
            return &conformance_helpers[k];
    return NULL;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\r')
        s++;
    size_t len = strlen(s);
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r'))
        s[--len] = '\0';
    return s;
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    if (*s == '-')
        *out = (uint64_t)strtoll(s, &end, 0);
    else
        *out = strtoull(s, &end, 0);
    return *s && !*end && !errno ? 0 : -EINVAL;
}

static int parse_mem_line(struct data_file *df, char *s, unsigned line)
{
    for (char *save = NULL, *tok = strtok_r(s, " \t", &save); tok;
         tok = strtok_r(NULL, " \t", &save)) {
        char *end;
        unsigned long b = strtoul(tok, &end, 16);
        if (*end || strlen(tok) != 2 || b > 0xff) {
            df->err = bl_asprintf("%s:%u: bad hex byte '%s' in -- mem", df->path, line, tok);
            return -EINVAL;
        }
        if (df->mem_len == df->mem_cap) {
            size_t cap = df->mem_cap ? df->mem_cap * 2 : 64;
            uint8_t *m = realloc(df->mem, cap);
            if (!m)
                return -ENOMEM;
            df->mem = m;
            df->mem_cap = cap;
        }
        df->mem[df->mem_len++] = (uint8_t)b;
    }
    return 0;
}

static int parse_line(struct data_file *df, enum section *sec, char *raw_line, unsigned line)
{
    if (strncmp(raw_line, "-- ", 3) == 0) {
        const char *name = trim(raw_line + 3);
        if (strcmp(name, "asm") == 0) {
            *sec = SEC_ASM;
            df->has_asm = 1;
            df->asm_line = line + 1;
        } else if (strcmp(name, "mem") == 0) {
            *sec = SEC_MEM;
        } else if (strcmp(name, "result") == 0) {
            *sec = SEC_RESULT;
        } else if (strncmp(name, "error", 5) == 0) {
            *sec = SEC_ERROR;
            df->has_error = 1;
        } else if (strcmp(name, "raw") == 0) {
            *sec = SEC_RAW;
            df->has_raw = 1;
        } else if (strcmp(name, "c") == 0 || strcmp(name, "no register offset") == 0) {
            *sec = SEC_IGNORED;
        } else {
            df->err = bl_asprintf("%s:%u: unknown section '-- %s'", df->path, line, name);
            return -EINVAL;
        }
        return 0;
    }
    if (*sec == SEC_ASM) /* the assembler strips comments itself */
        return bl_strbuf_printf(&df->asm_text, "%s\n", raw_line);
    if (*sec == SEC_IGNORED)
        return 0;
    raw_line[strcspn(raw_line, "#")] = '\0';
    char *s = trim(raw_line);
    if (!*s)
        return 0;
    switch (*sec) {
    case SEC_NONE:
        df->err = bl_asprintf("%s:%u: text before the first section: '%s'", df->path, line, s);
        return -EINVAL;
    case SEC_MEM:
        return parse_mem_line(df, s, line);
    case SEC_RESULT:
        if (df->has_result || parse_u64(s, &df->result) < 0) {
            df->err = bl_asprintf("%s:%u: bad result '%s'", df->path, line, s);
            return -EINVAL;
        }
        df->has_result = 1;
        return 0;
    case SEC_ERROR:
        return bl_strbuf_printf(&df->error_text, "%s%s", df->error_text.len ? " " : "", s);
    case SEC_RAW: {
        uint64_t v;
        if (parse_u64(s, &v) < 0) {
            df->err = bl_asprintf("%s:%u: bad raw instruction '%s'", df->path, line, s);
            return -EINVAL;
        }
        if (df->n_raw == df->raw_cap) {
            size_t cap = df->raw_cap ? df->raw_cap * 2 : 16;
            uint64_t *r = realloc(df->raw, cap * sizeof *r);
            if (!r)
                return -ENOMEM;
            df->raw = r;
            df->raw_cap = cap;
        }
        df->raw[df->n_raw++] = v;
        return 0;
    }
    default:
        return 0;
    }
}

static int parse_file(struct data_file *df, char *text)
{
    enum section sec = SEC_NONE;
    unsigned line = 1;
    for (char *s = text, *next; s && *s; s = next, line++) {
        next = strchr(s, '\n');
        if (next)
            *next++ = '\0';
        int rc = parse_line(df, &sec, s, line);
        if (rc < 0) {
            if (!df->err)
                df->err = bl_asprintf("%s:%u: %s", df->path, line, strerror(-rc));
            return rc;
        }
    }
    line--; /* the last line */
    if (!df->has_asm) {
        df->err = bl_asprintf("%s:%u: missing '-- asm' section", df->path, line);
        return -EINVAL;
    }
    if (!df->has_result && !df->has_error) {
        df->err = bl_asprintf("%s:%u: missing '-- result' or '-- error' section", df->path, line);
        return -EINVAL;
    }
    return 0;
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    struct bl_strbuf sb = { 0 };
    char chunk[4096];
    size_t n;
    int rc = 0;
    while (rc == 0 && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        rc = bl_strbuf_append(&sb, chunk, n);
    int bad = ferror(f) || rc < 0 || memchr(sb.buf ? sb.buf : "", '\0', sb.len);
    fclose(f);
    if (bad) {
        bl_strbuf_free(&sb);
        return NULL;
    }
    if (!sb.buf)
        return strdup("");
    return sb.buf;
}

/* Runs the assembled program; 0 with *r0, or negative with *msg (malloc'd). */
static int run_program(bpflua_object *obj, struct data_file *df, enum bpflua_engine engine,
                       int unchecked, uint64_t *r0, char **msg)
{
    size_t n;
    const struct bl_insn *insns = bpflua_prog_insns(obj, 0, &n);
    uint64_t args[5] = { (uint64_t)(uintptr_t)df->mem, df->mem_len, 0, 0, 0 };
    struct bpflua_run_env env = { .obj = obj };

    if (engine == BPFLUA_ENGINE_JIT) {
        if (!bl_jit_available()) {
            *msg = strdup("JIT not available");
            return -ENOTSUP;
        }
        struct bl_prog *p = bl_object_prog(obj, 0);
        p->exec_insns = malloc(n * sizeof *p->exec_insns);
        if (!p->exec_insns)
            return -ENOMEM;
        memcpy(p->exec_insns, insns, n * sizeof *insns);
        /* unverified code: the JIT's raw mode checks every access */
        struct bl_jit_opts jo = { .raw = 1, .helper_find = conformance_helper_find };
        int rc = bl_jit_compile_opts(p, &jo, msg);
        if (rc < 0)
            return rc;
        *r0 = bl_jit_run_mem(p->jit, args[0], args[1], df->mem, df->mem_len, &env);
        if (env.fault) /* a bad access, or helper 5 unwinding: R0 = 0 either way */
            *r0 = 0;
        return 0;
    }
    struct bl_interp_opts opts = {
        .raw = !unchecked,
        .guard = unchecked && bl_guard_default(), /* test builds: frames in guarded memory */
        .helper_find = conformance_helper_find,
        .regions = { { (uint64_t)(uintptr_t)df->mem, df->mem_len } },
        .n_regions = df->mem ? 1 : 0,
    };
    struct bl_interp_result res;
    int rc = bl_interp_exec(insns, (uint32_t)n, args, &opts, &env, &res);
    if (rc < 0) {
        *msg = strdup(res.msg[0] ? res.msg : strerror(-rc));
        return rc;
    }
    *r0 = res.r0;
    return 0;
}

/* Compares the assembled program against -- raw. */
static int check_raw(bpflua_object *obj, struct data_file *df, FILE *out)
{
    size_t n;
    const struct bl_insn *insns = bpflua_prog_insns(obj, 0, &n);
    if (n != df->n_raw) {
        fprintf(out, "%s: expected %zu raw instructions got %zu\n", df->path, df->n_raw, n);
        return 1;
    }
    for (size_t k = 0; k < n; k++) {
        uint64_t v;
        memcpy(&v, &insns[k], sizeof v);
        if (v != df->raw[k]) {
            fprintf(out, "%s: raw insn %zu: expected 0x%016llx got 0x%016llx\n", df->path, k,
                    (unsigned long long)df->raw[k], (unsigned long long)v);
            return 1;
        }
    }
    return 0;
}

static int run_data_file(struct data_file *df, enum bpflua_engine engine, int unchecked,
                         FILE *out)
{
    char *err = NULL;
    bpflua_object *obj = bl_asm_assemble(df->asm_text.buf ? df->asm_text.buf : "", df->path,
                                         df->asm_line, &err);
    if (!obj) {
        int expected = df->has_error &&
                       (!df->error_text.len || (err && strstr(err, df->error_text.buf)));
        if (!expected)
            fprintf(out, "%s\n", err ? err : "assembly failed");
        free(err);
        return expected ? 0 : 1;
    }
    int failed = df->has_raw ? check_raw(obj, df, out) : 0;
    uint64_t r0 = 0;
    char *msg = NULL;
    int rc = failed ? 0 : run_program(obj, df, engine, unchecked, &r0, &msg);
    if (failed) {
        /* reported by check_raw */
    } else if (df->has_error) {
        if (rc == 0) {
            fprintf(out, "%s: expected error '%s' got 0x%llx\n", df->path,
                    df->error_text.len ? df->error_text.buf : "", (unsigned long long)r0);
            failed = 1;
        } else if (df->error_text.len && msg && !strstr(msg, df->error_text.buf)) {
            fprintf(out, "%s: expected error '%s' got '%s'\n", df->path, df->error_text.buf, msg);
            failed = 1;
        }
    } else if (rc < 0) {
        fprintf(out, "%s: expected 0x%llx got error: %s\n", df->path,
                (unsigned long long)df->result, msg ? msg : strerror(-rc));
        failed = 1;
    } else if (r0 != df->result) {
        fprintf(out, "%s: expected 0x%llx got 0x%llx\n", df->path,
                (unsigned long long)df->result, (unsigned long long)r0);
        failed = 1;
    }
    free(msg);
    bpflua_object_free(obj);
    return failed;
}

static int conformance_file(const char *path, enum bpflua_engine engine, int unchecked,
                            void *out_file)
{
    FILE *out = out_file ? out_file : stderr;
    if (!path)
        return 2;
    char *text = read_file(path);
    if (!text) {
        fprintf(out, "%s: cannot read: %s\n", path, errno ? strerror(errno) : "not a text file");
        return 2;
    }
    struct data_file df = { .path = path };
    int rc;
    if (parse_file(&df, text) < 0) {
        fprintf(out, "%s\n", df.err ? df.err : "parse error");
        rc = 1;
    } else {
        rc = run_data_file(&df, engine, unchecked, out);
    }
    free(text);
    free(df.err);
    free(df.mem);
    free(df.raw);
    bl_strbuf_free(&df.asm_text);
    bl_strbuf_free(&df.error_text);
    return rc;
}

int bpflua_conformance_file(const char *path, enum bpflua_engine engine, void *out)
{
    return conformance_file(path, engine, 0, out);
}

int bl_conformance_file_unchecked(const char *path, void *out)
{
    return conformance_file(path, BPFLUA_ENGINE_INTERP, 1, out);
}
