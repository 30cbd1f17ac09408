/* btf_write.c - .BTF and .BTF.ext for the objects bpflua writes.
 *
 * .BTF is built with libbpf's btf__ API and holds what clang would emit:
 *   - FUNC + FUNC_PROTO for every function placed in the ELF (programs
 *     global, subprograms static); the kernel needs one func_info record per
 *     subprogram, each bpf_loop callback included;
 *   - each map as clang's __uint()/__type() struct: `int (*type)[T]`,
 *     `K *key`, `V *value`, `int (*max_entries)[N]`, a VAR of that struct
 *     and a DATASEC ".maps" placing the VARs.
 * .BTF.ext (no libbpf writer) is written by hand: func_info, and line_info
 * whose strings are the .lua file name and the text of each line, so
 * bpftool and the kernel verifier log show Lua source.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/btf.h>

#include "elf_internal.h"

struct base_types {
    int int_id, u32_id, long_id, proto_main, proto_sub;
    int ints[2][9];   /* [signed][size] for sizes 1, 2, 4, 8 */
    int uchar_id;
    const bpflua_object *obj;
    int *rec_ids;     /* BTF id of each record's struct, 0 until added */
    int lpm_key;      /* struct bpflua_lpm_key, 0 until added */
};

static int btf_err(int rc)
{
    return rc < 0 ? rc : 0;
}

static int int_type(struct btf *btf, struct base_types *bt, uint32_t size, int is_signed)
{
    static const char *names[2][9] = {
        [0] = { [1] = "unsigned char", [2] = "unsigned short", [4] = "unsigned int",
                [8] = "unsigned long long" },
        [1] = { [1] = "signed char", [2] = "short", [4] = "int", [8] = "long long" },
    };
    is_signed = is_signed != 0;
    if (size == 1 || size == 2 || size == 4 || size == 8) {
        if (!bt->ints[is_signed][size])
            bt->ints[is_signed][size] = btf__add_int(btf, names[is_signed][size], (size_t)size,
                                                     is_signed ? BTF_INT_SIGNED : 0);
        return bt->ints[is_signed][size];
    }
    /* other sizes: unsigned char[size] */
    if (!bt->uchar_id)
        bt->uchar_id = int_type(btf, bt, 1, 0);
    if (bt->uchar_id < 0)
        return bt->uchar_id;
    return btf__add_array(btf, bt->int_id, bt->uchar_id, size);
}

static int add_base_types(struct btf *btf, struct base_types *bt)
{
    static const char *xdp_fields[] = { "data", "data_end", "data_meta",
                                        "ingress_ifindex", "rx_queue_index", "egress_ifindex" };
    bt->int_id = int_type(btf, bt, 4, 1);
    bt->u32_id = int_type(btf, bt, 4, 0);
    bt->long_id = btf__add_int(btf, "long", 8, BTF_INT_SIGNED);
    if (bt->int_id < 0 || bt->u32_id < 0 || bt->long_id < 0)
        return -ENOMEM;
    int xdp_md = btf__add_struct(btf, "xdp_md", 24);
    for (int i = 0; i < 6 && xdp_md > 0; i++)
        if (btf__add_field(btf, xdp_fields[i], bt->u32_id, i * 32, 0) < 0)
            return -ENOMEM;
    int ptr = xdp_md > 0 ? btf__add_ptr(btf, xdp_md) : xdp_md;
    bt->proto_main = ptr > 0 ? btf__add_func_proto(btf, bt->int_id) : ptr;
    if (bt->proto_main < 0 || btf__add_func_param(btf, "ctx", ptr) < 0)
        return -ENOMEM;
    bt->proto_sub = btf__add_func_proto(btf, bt->long_id);
    return btf_err(bt->proto_sub);
}

/* `int (*)[value]`, the type of __uint(name, value) */
static int uint_field_type(struct btf *btf, struct base_types *bt, uint32_t value)
{
    int arr = btf__add_array(btf, bt->int_id, bt->int_id, value);
    return arr > 0 ? btf__add_ptr(btf, arr) : arr;
}

/* A record as the C struct its layout describes, named as the record
 * (bpftool prints map entries field by field from it). */
static int record_type(struct btf *btf, struct base_types *bt, uint32_t ref)
{
    const struct bl_record *r = bl_object_record(bt->obj, ref);
    if (!r)
        return -EINVAL;
    if (bt->rec_ids[ref - 1])
        return bt->rec_ids[ref - 1];
    for (uint32_t i = 0; i < r->n_fields; i++) {
        int t = int_type(btf, bt, r->fields[i].size, r->fields[i].is_signed);
        if (t < 0)
            return t;
    }
    int st = btf__add_struct(btf, r->name, r->size);
    for (uint32_t i = 0; i < r->n_fields && st > 0; i++) {
        const struct bl_field *f = &r->fields[i];
        int rc = btf__add_field(btf, f->name, int_type(btf, bt, f->size, f->is_signed),
                                f->offset * 8, 0);
        if (rc < 0)
            return rc;
    }
    if (st > 0)
        bt->rec_ids[ref - 1] = st;
    return st;
}

/* struct bpflua_lpm_key { __u32 prefixlen; __u8 addr[4]; }: the kernel
 * wants an LPM trie's BTF key to be a struct */
static int lpm_key_type(struct btf *btf, struct base_types *bt)
{
    if (bt->lpm_key)
        return bt->lpm_key;
    int u8 = int_type(btf, bt, 1, 0);
    int arr = u8 > 0 ? btf__add_array(btf, bt->int_id, u8, 4) : u8;
    int st = arr > 0 ? btf__add_struct(btf, "bpflua_lpm_key", 8) : arr;
    int rc = st > 0 ? btf__add_field(btf, "prefixlen", bt->u32_id, 0, 0) : st;
    rc = rc >= 0 ? btf__add_field(btf, "addr", arr, 32, 0) : rc;
    if (rc < 0)
        return rc;
    bt->lpm_key = st;
    return st;
}

/* `T *`, the type of __type(name, T): a record, the LPM key, or an integer */
static int type_field_type(struct btf *btf, struct base_types *bt, uint32_t size, int is_signed,
                           uint32_t record, int lpm)
{
    int t = record ? record_type(btf, bt, record)
                   : lpm ? lpm_key_type(btf, bt) : int_type(btf, bt, size, is_signed);
    return t > 0 ? btf__add_ptr(btf, t) : t;
}

/* The marker that says what a ring buffer's events are:
 * `typedef <record struct | unsigned long long> __bpflua_event__<map>`. */
static int add_event_marker(struct btf *btf, struct base_types *bt, const struct bl_map_def *m,
                            const char *name)
{
    if (m->type != BPFLUA_MAP_RINGBUF || m->event_type == BPFLUA_EVENT_RAW)
        return 0;
    int t = m->event_type == BPFLUA_EVENT_RECORD ? record_type(btf, bt, m->value_record)
                                                 : int_type(btf, bt, 8, 0);
    char tname[BL_NAME_MAX + 32];
    snprintf(tname, sizeof tname, "%s%s", BL_BTF_EVENT_PREFIX, name);
    return t > 0 ? btf_err(btf__add_typedef(btf, tname, t)) : t;
}

/* Map types whose key and value the kernel accepts as BTF types; the
 * others (prog_array, perf_event_array, devmap, queue, ...) are declared
 * by size, as C programs write them (__uint(key_size, 4)). */
static int btf_typed(uint32_t type)
{
    switch (type) {
    case BPFLUA_MAP_HASH: case BPFLUA_MAP_ARRAY: case BPFLUA_MAP_PERCPU_HASH:
    case BPFLUA_MAP_PERCPU_ARRAY: case BPFLUA_MAP_LRU_HASH: case BPFLUA_MAP_LRU_PERCPU_HASH:
    case BPFLUA_MAP_LPM_TRIE: case BPFLUA_MAP_RINGBUF:
        return 1;
    }
    return 0;
}

static uint32_t map_fields(const struct bl_map_def *m)
{
    return 2 + (m->key_size ? 1 : 0) + (m->value_size ? 1 : 0) + (m->flags ? 1 : 0);
}

/* The map's definition struct and VAR; returns the VAR id. The member
 * types come first: a struct's fields must follow it directly. */
static int def_struct(struct btf *btf, struct base_types *bt, const struct bl_map_def *m,
                      const struct bl_map_def *inner);

/* A map's definition struct and VAR; returns the VAR id. inner: a map of
 * maps' template, written as `__array(values, struct {...})` as libbpf
 * reads it. */
static int add_map(struct btf *btf, struct base_types *bt, const struct bl_map_def *m,
                   const struct bl_map_def *inner, const char *name)
{
    int st = def_struct(btf, bt, m, inner);
    return st < 0 ? st : btf__add_var(btf, name, BTF_VAR_GLOBAL_ALLOCATED, st);
}

/* The struct of a map definition; the member types come first: a struct's
 * fields must follow it directly. */
static int def_struct(struct btf *btf, struct base_types *bt, const struct bl_map_def *m,
                      const struct bl_map_def *inner)
{
    const char *names[6];
    int types[6], n = 0;
    names[n] = "type";
    types[n++] = uint_field_type(btf, bt, m->type);
    int typed = btf_typed(m->type);
    if (m->key_size) {
        names[n] = typed ? "key" : "key_size";
        types[n++] = !typed ? uint_field_type(btf, bt, m->key_size)
                            : type_field_type(btf, bt, m->key_size, m->key_signed, m->key_record,
                                              m->type == BPFLUA_MAP_LPM_TRIE);
    }
    if (m->value_size) {
        names[n] = typed ? "value" : "value_size";
        types[n++] = typed ? type_field_type(btf, bt, m->value_size, m->value_signed,
                                             m->value_record, 0)
                           : uint_field_type(btf, bt, m->value_size);
    }
    names[n] = "max_entries";
    types[n++] = uint_field_type(btf, bt, m->max_entries);
    if (m->flags) {
        names[n] = "map_flags";
        types[n++] = uint_field_type(btf, bt, m->flags);
    }
    if (inner) {
        int ist = def_struct(btf, bt, inner, NULL);
        int ptr = ist > 0 ? btf__add_ptr(btf, ist) : ist;
        names[n] = "values";
        types[n++] = ptr > 0 ? btf__add_array(btf, bt->int_id, ptr, 0) : ptr;
    }
    for (int i = 0; i < n; i++)
        if (types[i] < 0)
            return types[i];
    /* a zero-length `values` array last: the struct's size stops before it */
    int st = btf__add_struct(btf, NULL, (uint32_t)(n - (inner != NULL)) * 8);
    if (st < 0)
        return st;
    for (int i = 0; i < n; i++) {
        int rc = btf__add_field(btf, names[i], types[i], i * 64, 0);
        if (rc < 0)
            return rc;
    }
    return st;
}

/* ---- .BTF.ext records ------------------------------------------------------ */

struct ext_sec {
    const char *name;
    int name_off;
    struct bl_btf_func_rec *funcs;
    uint32_t n_funcs;
    struct bl_btf_line_rec *lines;
    uint32_t n_lines, cap_lines;
};

struct ext_builder {
    struct ext_sec *secs;
    uint32_t n_secs;
    uint32_t total_lines;
};

static struct ext_sec *ext_section(struct btf *btf, struct ext_builder *eb, const char *name)
{
    for (uint32_t i = 0; i < eb->n_secs; i++)
        if (strcmp(eb->secs[i].name, name) == 0)
            return &eb->secs[i];
    struct ext_sec *ns = realloc(eb->secs, (eb->n_secs + 1) * sizeof *ns);
    if (!ns)
        return NULL;
    eb->secs = ns;
    struct ext_sec *s = &ns[eb->n_secs];
    memset(s, 0, sizeof *s);
    s->name = name;
    s->name_off = btf__add_str(btf, name);
    if (s->name_off < 0)
        return NULL;
    eb->n_secs++;
    return s;
}

static int add_line_rec(struct ext_sec *s, struct bl_btf_line_rec rec)
{
    if (s->n_lines == s->cap_lines) {
        uint32_t cap = s->cap_lines ? s->cap_lines * 2 : 64;
        struct bl_btf_line_rec *nl = realloc(s->lines, cap * sizeof *nl);
        if (!nl)
            return -ENOMEM;
        s->lines = nl;
        s->cap_lines = cap;
    }
    s->lines[s->n_lines++] = rec;
    return 0;
}

/* The BTF string of a source line (its text), "" when unknown. */
static int line_text_off(struct btf *btf, const bpflua_object *obj, uint32_t line)
{
    size_t len = 0;
    const char *text = bpflua_object_source_line(obj, line, &len);
    if (!text)
        return btf__add_str(btf, "");
    char *copy = strndup(text, len);
    if (!copy)
        return -ENOMEM;
    int off = btf__add_str(btf, copy);
    free(copy);
    return off;
}

/* line_info for one placed function: the object's records (the last one
 * where several share an instruction; none on the second half of an lddw,
 * which the kernel rejects), and always one at the function start (the
 * kernel rejects "missing bpf_line_info for func#N"). */
static int add_func_lines(struct btf *btf, const bpflua_object *obj, struct ext_sec *s,
                          const struct bl_placed_func *f, int file_off)
{
    const struct bl_prog *p = f->prog;
    uint32_t end = f->prog_insn + f->n_insns;
    size_t k = 0;
    while (k < p->n_lines && p->lines[k].insn < f->prog_insn)
        k++;
    for (uint32_t i = f->prog_insn; i < end; i++) {
        /* the record in effect at i: the last one at or before it */
        uint32_t line = 0, col = 0;
        int here = 0;
        while (k < p->n_lines && p->lines[k].insn <= i) {
            line = p->lines[k].line;
            col = p->lines[k].col;
            here = 1;
            k++;
        }
        if (i == f->prog_insn && !here) {
            line = bl_prog_insn_line(p, i);
            here = 1;
        }
        int is_second_half = i > f->prog_insn && bl_is_lddw(&p->insns[i - 1]);
        if (!here || is_second_half)
            continue;
        int text = line_text_off(btf, obj, line);
        if (text < 0)
            return text;
        struct bl_btf_line_rec rec = { (f->sec_insn + (i - f->prog_insn)) * 8, (uint32_t)file_off,
                                       (uint32_t)text, BL_LINE_COL_MAKE(line, col) };
        int rc = add_line_rec(s, rec);
        if (rc)
            return rc;
    }
    return 0;
}

static int has_lines(const bpflua_object *obj)
{
    for (uint32_t i = 0; i < obj->n_progs; i++)
        if (obj->progs[i].n_lines)
            return 1;
    return 0;
}

static void put_u32(uint8_t *p, size_t *pos, uint32_t v)
{
    memcpy(p + *pos, &v, 4);
    *pos += 4;
}

static int serialize_ext(struct ext_builder *eb, int with_lines, struct bl_btf_image *img)
{
    size_t func_len = 4, line_len = with_lines ? 4 : 0;
    for (uint32_t i = 0; i < eb->n_secs; i++) {
        if (eb->secs[i].n_funcs)
            func_len += 8 + eb->secs[i].n_funcs * sizeof(struct bl_btf_func_rec);
        if (with_lines && eb->secs[i].n_lines)
            line_len += 8 + eb->secs[i].n_lines * sizeof(struct bl_btf_line_rec);
    }
    struct bl_btf_ext_header h = {
        .magic = BL_BTF_EXT_MAGIC, .version = 1, .flags = 0, .hdr_len = sizeof h,
        .func_info_off = 0, .func_info_len = (uint32_t)func_len,
        .line_info_off = (uint32_t)func_len, .line_info_len = (uint32_t)line_len,
    };
    size_t total = sizeof h + func_len + line_len;
    uint8_t *buf = calloc(1, total);
    if (!buf)
        return -ENOMEM;
    size_t pos = 0;
    memcpy(buf, &h, sizeof h);
    pos = sizeof h;
    put_u32(buf, &pos, sizeof(struct bl_btf_func_rec));
    for (uint32_t i = 0; i < eb->n_secs; i++) {
        struct ext_sec *s = &eb->secs[i];
        if (!s->n_funcs)
            continue;
        put_u32(buf, &pos, (uint32_t)s->name_off);
        put_u32(buf, &pos, s->n_funcs);
        memcpy(buf + pos, s->funcs, s->n_funcs * sizeof *s->funcs);
        pos += s->n_funcs * sizeof *s->funcs;
    }
    if (with_lines) {
        put_u32(buf, &pos, sizeof(struct bl_btf_line_rec));
        for (uint32_t i = 0; i < eb->n_secs; i++) {
            struct ext_sec *s = &eb->secs[i];
            if (!s->n_lines)
                continue;
            put_u32(buf, &pos, (uint32_t)s->name_off);
            put_u32(buf, &pos, s->n_lines);
            memcpy(buf + pos, s->lines, s->n_lines * sizeof *s->lines);
            pos += s->n_lines * sizeof *s->lines;
        }
    }
    img->ext = buf;
    img->ext_len = total;
    return 0;
}

static void ext_free(struct ext_builder *eb)
{
    for (uint32_t i = 0; i < eb->n_secs; i++) {
        free(eb->secs[i].funcs);
        free(eb->secs[i].lines);
    }
    free(eb->secs);
}

/* char LICENSE[n] SEC("license"), as clang describes it */
static int add_license(struct btf *btf, struct base_types *bt, const char *name, uint32_t size)
{
    int ch = btf__add_int(btf, "char", 1, BTF_INT_SIGNED);
    int arr = ch > 0 ? btf__add_array(btf, bt->int_id, ch, size) : ch;
    int var = arr > 0 ? btf__add_var(btf, name, BTF_VAR_GLOBAL_ALLOCATED, arr) : arr;
    int sec = var > 0 ? btf__add_datasec(btf, "license", size) : var;
    int rc = sec > 0 ? btf__add_datasec_var_info(btf, var, 0, size) : sec;
    return btf_err(rc);
}

static int build(struct btf *btf, const bpflua_object *obj, const struct bl_placed_func *funcs,
                 size_t n_funcs, const char *const *map_names, const char *license_name,
                 struct bl_btf_image *img, struct ext_builder *eb)
{
    struct base_types bt;
    memset(&bt, 0, sizeof bt);
    bt.obj = obj;
    bt.rec_ids = calloc(obj->n_records ? obj->n_records : 1, sizeof *bt.rec_ids);
    if (!bt.rec_ids)
        return -ENOMEM;
    int rc = add_base_types(btf, &bt);
    for (uint32_t i = 0; i < obj->n_records && !rc; i++)
        rc = btf_err(record_type(btf, &bt, i + 1));
    for (uint32_t i = 0; i < obj->n_maps && !rc; i++)
        rc = add_event_marker(btf, &bt, &obj->maps[i], map_names[i]);
    if (rc) {
        free(bt.rec_ids);
        return rc;
    }

    /* maps: VARs, then the DATASEC placing them */
    int *vars = calloc(obj->n_maps ? obj->n_maps : 1, sizeof *vars);
    img->map_sizes = calloc(obj->n_maps ? obj->n_maps : 1, sizeof *img->map_sizes);
    if (!vars || !img->map_sizes) {
        free(vars);
        free(bt.rec_ids);
        return -ENOMEM;
    }
    uint32_t maps_size = 0;
    for (uint32_t i = 0; i < obj->n_maps && !rc; i++) {
        const struct bl_map_def *m = &obj->maps[i];
        vars[i] = add_map(btf, &bt, m,
                          m->inner_map && m->inner_map <= obj->n_maps ? &obj->maps[m->inner_map - 1]
                                                                      : NULL,
                          map_names[i]);
        rc = btf_err(vars[i]);
        img->map_sizes[i] = map_fields(&obj->maps[i]) * 8;
        maps_size += img->map_sizes[i];
    }
    free(bt.rec_ids);
    bt.rec_ids = NULL;
    if (!rc && obj->n_maps) {
        rc = btf_err(btf__add_datasec(btf, ".maps", maps_size));
        uint32_t off = 0;
        for (uint32_t i = 0; i < obj->n_maps && !rc; i++) {
            rc = btf_err(btf__add_datasec_var_info(btf, vars[i], off, img->map_sizes[i]));
            off += img->map_sizes[i];
        }
    }
    free(vars);
    if (!rc)
        rc = add_license(btf, &bt, license_name, (uint32_t)strlen(obj->license) + 1);
    if (rc)
        return rc;

    /* functions and their records */
    const char *file = obj->source_name ? obj->source_name : "unknown";
    int file_off = btf__add_str(btf, file);
    if (file_off < 0)
        return file_off;
    for (size_t i = 0; i < n_funcs; i++) {
        const struct bl_placed_func *f = &funcs[i];
        int id = btf__add_func(btf, f->name, f->is_main ? BTF_FUNC_GLOBAL : BTF_FUNC_STATIC,
                               f->is_main ? bt.proto_main : bt.proto_sub);
        if (id < 0)
            return id;
        struct ext_sec *s = ext_section(btf, eb, f->section);
        if (!s)
            return -ENOMEM;
        struct bl_btf_func_rec *nf = realloc(s->funcs, (s->n_funcs + 1) * sizeof *nf);
        if (!nf)
            return -ENOMEM;
        s->funcs = nf;
        nf[s->n_funcs++] = (struct bl_btf_func_rec){ f->sec_insn * 8, (uint32_t)id };
        rc = add_func_lines(btf, obj, s, f, file_off);
        if (rc)
            return rc;
    }

    uint32_t size = 0;
    const void *raw = btf__raw_data(btf, &size);
    if (!raw)
        return -ENOMEM;
    img->btf = malloc(size);
    if (!img->btf)
        return -ENOMEM;
    memcpy(img->btf, raw, size);
    img->btf_len = size;
    return serialize_ext(eb, has_lines(obj), img);
}

int bl_btf_build(const bpflua_object *obj, const struct bl_placed_func *funcs, size_t n_funcs,
                 const char *const *map_names, const char *license_name,
                 struct bl_btf_image *img, char **err)
{
    memset(img, 0, sizeof *img);
    struct btf *btf = btf__new_empty();
    if (!btf) {
        bl_set_err(err, "elf: cannot create BTF");
        return -ENOMEM;
    }
    struct ext_builder eb = {0};
    struct bl_strbuf log = {0};
    bl_libbpf_capture_begin(&log);
    int rc = build(btf, obj, funcs, n_funcs, map_names, license_name, img, &eb);
    bl_libbpf_capture_end();
    if (rc) {
        bl_set_err(err, "elf: building BTF failed: %s%s%s", strerror(-rc),
                   log.len ? ": " : "", log.len ? log.buf : "");
        bl_btf_image_free(img);
    }
    bl_strbuf_free(&log);
    ext_free(&eb);
    btf__free(btf);
    return rc;
}

void bl_btf_image_free(struct bl_btf_image *img)
{
    free(img->btf);
    free(img->ext);
    free(img->map_sizes);
    memset(img, 0, sizeof *img);
}
