/* object.c - creating, filling and freeing bpflua objects. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "object.h"
#include "progtype.h"

int bl_strbuf_append(struct bl_strbuf *sb, const char *data, size_t len)
{
    if (sb->len + len + 1 > sb->cap) {
        size_t cap = sb->cap ? sb->cap : 256;
        while (cap < sb->len + len + 1)
            cap *= 2;
        char *nb = realloc(sb->buf, cap);
        if (!nb)
            return -ENOMEM;
        sb->buf = nb;
        sb->cap = cap;
    }
    memcpy(sb->buf + sb->len, data, len);
    sb->len += len;
    sb->buf[sb->len] = '\0';
    return 0;
}

static int strbuf_vprintf(struct bl_strbuf *sb, const char *fmt, va_list ap)
{
    char small[256];
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    if (n < 0) {
        va_end(ap2);
        return -EINVAL;
    }
    if ((size_t)n < sizeof small) {
        va_end(ap2);
        return bl_strbuf_append(sb, small, (size_t)n);
    }
    char *big = malloc((size_t)n + 1);
    if (!big) {
        va_end(ap2);
        return -ENOMEM;
    }
    vsnprintf(big, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    int rc = bl_strbuf_append(sb, big, (size_t)n);
    free(big);
    return rc;
}

int bl_strbuf_printf(struct bl_strbuf *sb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = strbuf_vprintf(sb, fmt, ap);
    va_end(ap);
    return rc;
}

void bl_strbuf_free(struct bl_strbuf *sb)
{
    free(sb->buf);
    sb->buf = NULL;
    sb->len = sb->cap = 0;
}

char *bl_asprintf(const char *fmt, ...)
{
    struct bl_strbuf sb = {0};
    va_list ap;
    va_start(ap, fmt);
    int rc = strbuf_vprintf(&sb, fmt, ap);
    va_end(ap);
    if (rc < 0 || !sb.buf) {
        free(sb.buf);
        return NULL;
    }
    return sb.buf;
}

void bl_set_err(char **err, const char *fmt, ...)
{
    if (!err)
        return;
    struct bl_strbuf sb = {0};
    va_list ap;
    va_start(ap, fmt);
    strbuf_vprintf(&sb, fmt, ap);
    va_end(ap);
    free(*err);
    *err = sb.buf;
}

static void copy_name(char *dst, const char *src)
{
    snprintf(dst, BL_NAME_MAX, "%s", src ? src : "");
}

bpflua_object *bpflua_object_new(void)
{
    bpflua_object *obj = calloc(1, sizeof *obj);
    if (obj)
        snprintf(obj->license, sizeof obj->license, "GPL");
    return obj;
}

/* indexed by enum bpf_map_type */
static const char *const map_type_names[] = {
    [1] = "hash", [2] = "array", [3] = "prog_array", [4] = "perf_event_array",
    [5] = "percpu_hash", [6] = "percpu_array", [7] = "stack_trace", [8] = "cgroup_array",
    [9] = "lru_hash", [15] = "sockmap", [18] = "sockhash", [19] = "cgroup_storage",
    [21] = "percpu_cgroup_storage",
    [10] = "lru_percpu_hash", [11] = "lpm_trie", [12] = "array_of_maps", [13] = "hash_of_maps",
    [14] = "devmap", [16] = "cpumap", [17] = "xskmap", [22] = "queue", [23] = "stack",
    [24] = "sk_storage", [25] = "devmap_hash", [27] = "ringbuf",
};
#define N_MAP_TYPE_NAMES (sizeof map_type_names / sizeof map_type_names[0])

const char *bl_map_type_name(uint32_t type)
{
    return type < N_MAP_TYPE_NAMES ? map_type_names[type] : NULL;
}

uint32_t bl_map_type_by_name(const char *name)
{
    for (uint32_t t = 1; name && t < N_MAP_TYPE_NAMES; t++)
        if (map_type_names[t] && strcmp(map_type_names[t], name) == 0)
            return t;
    return 0;
}

void bl_prog_reset(struct bl_prog *p)
{
    p->verdict = 0;
    free(p->verify_error);
    p->verify_error = NULL;
    free(p->aux);
    p->aux = NULL;
    free(p->exec_insns);
    p->exec_insns = NULL;
    if (p->jit)
        p->jit_free(p->jit);
    p->jit = NULL;
    p->max_insns = 0;
    p->verified_insns = 0;
    p->verify_ns = 0;
}

void bpflua_object_free(bpflua_object *obj)
{
    if (!obj)
        return;
    if (obj->kernel)
        obj->kernel_close(obj->kernel);
    for (uint32_t i = 0; i < obj->n_progs; i++) {
        struct bl_prog *p = &obj->progs[i];
        bl_prog_reset(p);
        free(p->insns);
        free(p->funcs);
        free(p->lines);
    }
    free(obj->progs);
    free(obj->uncalled);
    if (obj->map_rt)
        for (uint32_t i = 0; i < obj->n_maps; i++)
            obj->map_free(obj->map_rt[i]);
    free(obj->map_rt);
    bl_object_free_records(obj);
    for (uint32_t i = 0; i < obj->n_maps; i++)
        free(obj->maps[i].data_init);
    free(obj->maps);
    free(obj->elf_image);
    free(obj->source_name);
    free(obj->source_text);
    bl_strbuf_free(&obj->trace);
    bl_events_free(obj);
    free(obj);
}

int bpflua_object_set_license(bpflua_object *obj, const char *license)
{
    if (!obj || !license || strlen(license) >= sizeof obj->license)
        return -EINVAL;
    snprintf(obj->license, sizeof obj->license, "%s", license);
    return 0;
}

const char *bpflua_object_license(const bpflua_object *obj)
{
    return obj ? obj->license : NULL;
}

int bpflua_object_set_source(bpflua_object *obj, const char *name, const char *text)
{
    if (!obj)
        return -EINVAL;
    char *n = name ? strdup(name) : NULL;
    char *t = text ? strdup(text) : NULL;
    if ((name && !n) || (text && !t)) {
        free(n);
        free(t);
        return -ENOMEM;
    }
    free(obj->elf_image);
    free(obj->source_name);
    free(obj->source_text);
    obj->source_name = n;
    obj->source_text = t;
    return 0;
}

const char *bpflua_object_source_name(const bpflua_object *obj)
{
    return obj ? obj->source_name : NULL;
}

const char *bpflua_object_source_line(const bpflua_object *obj, uint32_t line, size_t *len)
{
    if (!obj || !obj->source_text || line == 0)
        return NULL;
    const char *s = obj->source_text;
    for (uint32_t l = 1; l < line; l++) {
        s = strchr(s, '\n');
        if (!s)
            return NULL;
        s++;
    }
    const char *e = strchr(s, '\n');
    size_t n = e ? (size_t)(e - s) : strlen(s);
    if (n && s[n - 1] == '\r')
        n--;
    if (len)
        *len = n;
    return s;
}

int bl_object_fail(bpflua_object *obj, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(obj->last_error, sizeof obj->last_error, fmt, ap);
    va_end(ap);
    return rc;
}

const char *bpflua_object_error(const bpflua_object *obj)
{
    return obj ? obj->last_error : "";
}

int bpflua_object_add_prog(bpflua_object *obj, const char *name, const char *section,
                           const void *insns, size_t n_insns,
                           const struct bpflua_func_info *funcs, size_t n_funcs,
                           const struct bpflua_line_info *lines, size_t n_lines)
{
    if (!obj)
        return -EINVAL;
    obj->last_error[0] = '\0';
    if (!name || strlen(name) >= BL_NAME_MAX)
        return bl_object_fail(obj, -EINVAL, "a program needs a name of at most %d bytes",
                        BL_NAME_MAX - 1);
    if (!insns || n_insns == 0)
        return bl_object_fail(obj, -EINVAL, "program '%s' has no instructions", name);
    if (n_insns > BL_MAX_PROG_INSNS)
        return bl_object_fail(obj, -E2BIG, "program '%s' has %zu instructions, more than the limit "
                        "of %u", name, n_insns, BL_MAX_PROG_INSNS);
    if (n_funcs > n_insns || n_lines > BL_MAX_PROG_INSNS)
        return bl_object_fail(obj, -E2BIG, "program '%s': %zu functions and %zu line records for %zu "
                        "instructions", name, n_funcs, n_lines, n_insns);
    if (obj->n_progs >= BL_MAX_PROGS)
        return bl_object_fail(obj, -E2BIG, "program '%s': an object holds at most %u programs", name,
                        BL_MAX_PROGS);
    struct bl_prog *np = realloc(obj->progs, (obj->n_progs + 1) * sizeof *np);
    if (!np)
        return -ENOMEM;
    obj->progs = np;
    struct bl_prog *p = &obj->progs[obj->n_progs];
    memset(p, 0, sizeof *p);
    copy_name(p->name, name);
    copy_name(p->section, section ? section : "xdp");
    /* a section no type claims runs as XDP, as before types existed;
     * bpflua_prog_set_type (--type) overrides */
    p->type = bl_prog_type_for_section(p->section);
    p->unsupported = bl_prog_type_unsupported(p->section);
    if (!p->type) {
        p->type = &bl_type_xdp;
        p->type_guessed = !p->unsupported;
    }
    p->insns = malloc(n_insns * sizeof *p->insns);
    p->funcs = calloc(n_funcs ? n_funcs : 1, sizeof *p->funcs);
    p->lines = n_lines ? malloc(n_lines * sizeof *p->lines) : NULL;
    if (!p->insns || !p->funcs || (n_lines && !p->lines)) {
        free(p->insns);
        free(p->funcs);
        free(p->lines);
        return -ENOMEM;
    }
    memcpy(p->insns, insns, n_insns * sizeof *p->insns);
    p->n_insns = (uint32_t)n_insns;
    if (n_funcs == 0) {
        copy_name(p->funcs[0].name, name);
        p->n_funcs = 1;
    } else {
        for (size_t i = 0; i < n_funcs; i++) {
            p->funcs[i].insn = funcs[i].insn;
            copy_name(p->funcs[i].name, funcs[i].name);
            if (funcs[i].section && strcmp(funcs[i].section, p->section))
                copy_name(p->funcs[i].section, funcs[i].section);
        }
        p->n_funcs = (uint32_t)n_funcs;
    }
    for (size_t i = 0; i < n_lines; i++) {
        p->lines[i].insn = lines[i].insn;
        p->lines[i].line = lines[i].line;
        p->lines[i].col = lines[i].col;
    }
    p->n_lines = (uint32_t)n_lines;
    return (int)obj->n_progs++;
}

size_t bpflua_prog_count(const bpflua_object *obj)
{
    return obj ? obj->n_progs : 0;
}

const char *bpflua_prog_type(const bpflua_object *obj, size_t prog)
{
    if (!obj || prog >= obj->n_progs)
        return NULL;
    return obj->progs[prog].unsupported ? obj->progs[prog].unsupported : obj->progs[prog].type->name;
}

int bpflua_prog_type_guessed(const bpflua_object *obj, size_t prog)
{
    return obj && prog < obj->n_progs && obj->progs[prog].type_guessed;
}

int bpflua_prog_set_type(bpflua_object *obj, size_t prog, const char *type)
{
    const struct bl_prog_type *t = bl_prog_type_by_name(type);
    if (!obj || prog >= obj->n_progs || !t)
        return -EINVAL;
    struct bl_prog *p = &obj->progs[prog];
    if (p->type != t || p->type_guessed || p->unsupported) {
        bl_prog_reset(p);
        p->type = t;
    }
    p->type_guessed = 0;
    p->unsupported = NULL;
    return 0;
}

struct bl_prog *bl_object_prog(bpflua_object *obj, size_t prog)
{
    return obj && prog < obj->n_progs ? &obj->progs[prog] : NULL;
}

const char *bpflua_prog_name(const bpflua_object *obj, size_t prog)
{
    return obj && prog < obj->n_progs ? obj->progs[prog].name : NULL;
}

const char *bpflua_prog_section(const bpflua_object *obj, size_t prog)
{
    return obj && prog < obj->n_progs ? obj->progs[prog].section : NULL;
}

int bpflua_prog_find(const bpflua_object *obj, const char *name)
{
    for (uint32_t i = 0; obj && name && i < obj->n_progs; i++)
        if (strcmp(obj->progs[i].name, name) == 0)
            return (int)i;
    return -1;
}

const void *bpflua_prog_insns(const bpflua_object *obj, size_t prog, size_t *n_insns)
{
    if (!obj || prog >= obj->n_progs)
        return NULL;
    if (n_insns)
        *n_insns = obj->progs[prog].n_insns;
    return obj->progs[prog].insns;
}

uint32_t bl_prog_insn_line(const struct bl_prog *p, uint32_t insn)
{
    /* lines[] is sorted by insn: the last record at or before insn */
    uint32_t lo = 0, hi = p->n_lines, line = 0;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (p->lines[mid].insn <= insn) {
            line = p->lines[mid].line;
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return line;
}

uint32_t bl_prog_insn_func(const struct bl_prog *p, uint32_t insn)
{
    uint32_t best = 0;
    for (uint32_t i = 0; i < p->n_funcs; i++)
        if (p->funcs[i].insn <= insn && p->funcs[i].insn >= p->funcs[best].insn)
            best = i;
    return best;
}

const char *bpflua_trace_output(const bpflua_object *obj)
{
    return obj && obj->trace.buf ? obj->trace.buf : "";
}

void bpflua_trace_clear(bpflua_object *obj)
{
    if (obj) {
        obj->trace.len = 0;
        if (obj->trace.buf)
            obj->trace.buf[0] = '\0';
    }
}
