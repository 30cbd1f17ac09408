/* elf_btf.c - reading BTF from an ELF object: map definitions in the .maps
 * DATASEC and the func_info/line_info records of .BTF.ext.
 *
 * .BTF itself is parsed by libbpf (btf__new), which checks the header and
 * that every type fits in the data. It does not check that the type ids
 * types refer to exist, so every id followed here goes through
 * type_by_id(), and sizes are resolved by our own bounded walk rather than
 * btf__resolve_size(). .BTF.ext is parsed by hand, every offset and count
 * checked against the section size.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <bpf/btf.h>

#include "elf_internal.h"

#define MAX_TYPE_DEPTH 32

struct btf *bl_btf_parse(const void *data, size_t len, char **err)
{
    struct bl_strbuf log = {0};
    if (len > UINT32_MAX) {
        bl_set_err(err, "elf: .BTF section too large");
        return NULL;
    }
    bl_libbpf_capture_begin(&log);
    struct btf *btf = btf__new(data, (uint32_t)len);
    bl_libbpf_capture_end();
    if (!btf) {
        size_t n = log.len;
        while (n && log.buf[n - 1] == '\n')
            n--;
        bl_set_err(err, "elf: bad .BTF section%s%.*s", n ? ": " : "", (int)n,
                   n ? log.buf : "");
        bl_strbuf_free(&log);
        return NULL;
    }
    bl_strbuf_free(&log);
    return btf;
}

static const struct btf_type *type_by_id(const struct btf *btf, uint32_t id)
{
    if (id == 0 || id >= btf__type_cnt(btf))
        return NULL;
    return btf__type_by_id(btf, id);
}

/* Skips typedefs and qualifiers; NULL if the chain is broken or too long. */
static const struct btf_type *skip_mods(const struct btf *btf, uint32_t id, uint32_t *out_id)
{
    for (int depth = 0; depth < MAX_TYPE_DEPTH; depth++) {
        const struct btf_type *t = type_by_id(btf, id);
        if (!t)
            return NULL;
        switch (btf_kind(t)) {
        case BTF_KIND_TYPEDEF:
        case BTF_KIND_VOLATILE:
        case BTF_KIND_CONST:
        case BTF_KIND_RESTRICT:
        case BTF_KIND_TYPE_TAG:
            id = t->type;
            break;
        default:
            if (out_id)
                *out_id = id;
            return t;
        }
    }
    return NULL;
}

/* Size in bytes of a type; negative errno if it has none or BTF is bad. */
static int64_t type_size(const struct btf *btf, uint32_t id, int depth)
{
    if (depth > MAX_TYPE_DEPTH)
        return -ELOOP;
    const struct btf_type *t = skip_mods(btf, id, &id);
    if (!t)
        return -EINVAL;
    switch (btf_kind(t)) {
    case BTF_KIND_INT:
    case BTF_KIND_ENUM:
    case BTF_KIND_ENUM64:
    case BTF_KIND_STRUCT:
    case BTF_KIND_UNION:
    case BTF_KIND_FLOAT:
        return t->size;
    case BTF_KIND_PTR:
        return 8;
    case BTF_KIND_ARRAY: {
        const struct btf_array *a = btf_array(t);
        int64_t elem = type_size(btf, a->type, depth + 1);
        if (elem < 0)
            return elem;
        if (elem && a->nelems > UINT32_MAX / elem)
            return -E2BIG;
        return elem * a->nelems;
    }
    default:
        return -EINVAL;
    }
}

/* 1 if the type is a signed integer (or a signed enum), else 0. */
static int type_signed(const struct btf *btf, uint32_t id)
{
    const struct btf_type *t = skip_mods(btf, id, NULL);
    if (!t)
        return 0;
    if (btf_kind(t) == BTF_KIND_INT)
        return (btf_int_encoding(t) & BTF_INT_SIGNED) != 0;
    if (btf_kind(t) == BTF_KIND_ENUM || btf_kind(t) == BTF_KIND_ENUM64)
        return btf_kflag(t);
    return 0;
}

static int is_spin_lock(const struct btf *btf, const struct btf_type *t)
{
    const char *n = t ? btf__name_by_offset(btf, t->name_off) : NULL;
    return t && btf_kind(t) == BTF_KIND_STRUCT && n && strcmp(n, "bpf_spin_lock") == 0;
}

/* 1 + the offset of a value's struct bpf_spin_lock (the value itself or
 * a member of it, as the kernel looks for it), 0 if it has none. */
static uint32_t spin_lock_off(const struct btf *btf, uint32_t id)
{
    const struct btf_type *t = skip_mods(btf, id, NULL);
    if (is_spin_lock(btf, t))
        return 1;
    if (!t || btf_kind(t) != BTF_KIND_STRUCT)
        return 0;
    const struct btf_member *m = btf_members(t);
    for (uint16_t i = 0; i < btf_vlen(t); i++, m++)
        if (is_spin_lock(btf, skip_mods(btf, m->type, NULL)) && !btf_kflag(t) && m->offset % 8 == 0)
            return m->offset / 8 + 1;
    return 0;
}

/* __uint(name, val) is `int (*name)[val]`: the value is the array length. */
static int member_uint(const struct btf *btf, uint32_t type_id, uint32_t *val)
{
    const struct btf_type *ptr = skip_mods(btf, type_id, NULL);
    if (!ptr || btf_kind(ptr) != BTF_KIND_PTR)
        return -EINVAL;
    const struct btf_type *arr = skip_mods(btf, ptr->type, NULL);
    if (!arr || btf_kind(arr) != BTF_KIND_ARRAY)
        return -EINVAL;
    *val = btf_array(arr)->nelems;
    return 0;
}

/* __type(name, T) is `T *name`: the pointee. */
static int member_type(const struct btf *btf, uint32_t type_id, uint32_t *pointee)
{
    const struct btf_type *ptr = skip_mods(btf, type_id, NULL);
    if (!ptr || btf_kind(ptr) != BTF_KIND_PTR)
        return -EINVAL;
    *pointee = ptr->type;
    return 0;
}

static const struct btf_type *find_maps_datasec(const struct btf *btf)
{
    uint32_t n = btf__type_cnt(btf);
    for (uint32_t id = 1; id < n; id++) {
        const struct btf_type *t = btf__type_by_id(btf, id);
        if (!t || btf_kind(t) != BTF_KIND_DATASEC)
            continue;
        const char *name = btf__name_by_offset(btf, t->name_off);
        if (name && strcmp(name, ".maps") == 0)
            return t;
    }
    return NULL;
}

static int map_member(const struct btf *btf, const char *map, const char *field,
                      uint32_t type_id, struct bl_map_def *def, struct bl_map_def *inner,
                      char **err);

/* `__array(values, struct { ... })` of a map of maps: the inner map
 * template, a struct of the same members. Other `values` (a prog_array's
 * initial programs) describe no map: ignored. */
static int inner_def(const struct btf *btf, const char *map, uint32_t type_id,
                     struct bl_map_def *inner, char **err)
{
    const struct btf_type *arr = skip_mods(btf, type_id, NULL);
    if (!arr || btf_kind(arr) != BTF_KIND_ARRAY)
        return 0;
    const struct btf_type *ptr = skip_mods(btf, btf_array(arr)->type, NULL);
    const struct btf_type *st = ptr && btf_kind(ptr) == BTF_KIND_PTR
                                    ? skip_mods(btf, ptr->type, NULL) : NULL;
    if (!st || btf_kind(st) != BTF_KIND_STRUCT)
        return 0;
    memset(inner, 0, sizeof *inner);
    snprintf(inner->name, sizeof inner->name, "%.*s__inner", BL_NAME_MAX - 8, map);
    const struct btf_member *m = btf_members(st);
    for (uint16_t j = 0; j < btf_vlen(st); j++, m++) {
        const char *field = btf__name_by_offset(btf, m->name_off);
        if (!field) {
            bl_set_err(err, "elf: map '%s': bad member name in BTF", map);
            return -EINVAL;
        }
        int rc = map_member(btf, inner->name, field, m->type, inner, NULL, err);
        if (rc)
            return rc;
    }
    return 0;
}

static int map_member(const struct btf *btf, const char *map, const char *field,
                      uint32_t type_id, struct bl_map_def *def, struct bl_map_def *inner,
                      char **err)
{
    uint32_t pointee = 0;
    int rc = 0;
    if (strcmp(field, "values") == 0 && inner)
        return inner_def(btf, map, type_id, inner, err);
    if (strcmp(field, "type") == 0)
        rc = member_uint(btf, type_id, &def->type);
    else if (strcmp(field, "max_entries") == 0)
        rc = member_uint(btf, type_id, &def->max_entries);
    else if (strcmp(field, "map_flags") == 0)
        rc = member_uint(btf, type_id, &def->flags);
    else if (strcmp(field, "key_size") == 0)
        rc = member_uint(btf, type_id, &def->key_size);
    else if (strcmp(field, "value_size") == 0)
        rc = member_uint(btf, type_id, &def->value_size);
    else if (strcmp(field, "key") == 0 || strcmp(field, "value") == 0) {
        rc = member_type(btf, type_id, &pointee);
        int64_t size = rc ? rc : type_size(btf, pointee, 0);
        if (size < 0) {
            bl_set_err(err, "elf: map '%s': bad BTF type for '%s'", map, field);
            return -EINVAL;
        }
        if (field[0] == 'k') {
            def->key_size = (uint32_t)size;
            def->key_signed = (uint8_t)type_signed(btf, pointee);
        } else {
            def->value_size = (uint32_t)size;
            def->value_signed = (uint8_t)type_signed(btf, pointee);
            def->spin_lock_off = spin_lock_off(btf, pointee);
            if (def->spin_lock_off && def->spin_lock_off - 1 + 4 > def->value_size)
                def->spin_lock_off = 0;
        }
    }
    /* other members (pinning, numa_node, ...): nothing the engine needs */
    if (rc) {
        bl_set_err(err, "elf: map '%s': bad BTF definition of '%s'", map, field);
        return -EINVAL;
    }
    return 0;
}

/* The definition struct of the map VAR `name` in the .maps DATASEC.
 * clang leaves DATASEC offsets 0 (libbpf fixes them from the symbols):
 * the VAR is found by name. */
static const struct btf_type *map_struct(const struct btf *btf, const struct btf_type *sec,
                                         const char *name, uint32_t offset, char **err)
{
    const struct btf_var_secinfo *vi = btf_var_secinfos(sec);
    for (uint16_t i = 0; i < btf_vlen(sec); i++, vi++) {
        const struct btf_type *var = type_by_id(btf, vi->type);
        if (!var || btf_kind(var) != BTF_KIND_VAR) {
            bl_set_err(err, "elf: map '%s': .maps DATASEC entry is not a variable", name);
            return NULL;
        }
        const char *var_name = btf__name_by_offset(btf, var->name_off);
        if (!var_name || strcmp(var_name, name) != 0)
            continue;
        const struct btf_type *st = skip_mods(btf, var->type, NULL);
        if (!st || btf_kind(st) != BTF_KIND_STRUCT) {
            bl_set_err(err, "elf: map '%s': definition is not a struct", name);
            return NULL;
        }
        return st;
    }
    bl_set_err(err, "elf: map '%s' (.maps offset %u) has no BTF definition", name, offset);
    return NULL;
}

int bl_btf_map_def(const struct btf *btf, uint32_t offset, struct bl_map_def *def,
                   struct bl_map_def *inner, char **err)
{
    if (inner)
        memset(inner, 0, sizeof *inner);
    if (!btf) {
        bl_set_err(err, "elf: map '%s': .maps needs BTF, but the object has no .BTF section",
                   def->name);
        return -EINVAL;
    }
    const struct btf_type *sec = find_maps_datasec(btf);
    if (!sec) {
        bl_set_err(err, "elf: no .maps DATASEC in .BTF");
        return -EINVAL;
    }
    const struct btf_type *st = map_struct(btf, sec, def->name, offset, err);
    if (!st)
        return -EINVAL;
    const struct btf_member *m = btf_members(st);
    for (uint16_t j = 0; j < btf_vlen(st); j++, m++) {
        const char *field = btf__name_by_offset(btf, m->name_off);
        if (!field) {
            bl_set_err(err, "elf: map '%s': bad member name in BTF", def->name);
            return -EINVAL;
        }
        int rc = map_member(btf, def->name, field, m->type, def, inner, err);
        if (rc)
            return rc;
    }
    return 0;
}

int bl_btf_map_values_off(const struct btf *btf, const char *map, uint32_t *off)
{
    const struct btf_type *sec = btf ? find_maps_datasec(btf) : NULL;
    const struct btf_type *st = sec ? map_struct(btf, sec, map, 0, NULL) : NULL;
    if (!st)
        return -ENOENT;
    const struct btf_member *m = btf_members(st);
    for (uint16_t j = 0; j < btf_vlen(st); j++, m++) {
        const char *field = btf__name_by_offset(btf, m->name_off);
        if (field && strcmp(field, "values") == 0 && !btf_kflag(st) && m->offset % 8 == 0) {
            *off = m->offset / 8;
            return 0;
        }
    }
    return -ENOENT;
}

/* A struct of 1, 2, 4 or 8-byte integer members at byte offsets, no
 * bitfields: a record. Added to obj (once per BTF id); returns 1 + its
 * index, 0 when the type is not one. */
static uint32_t btf_record(const struct btf *btf, bpflua_object *obj, uint32_t id,
                           uint32_t *seen_ids)
{
    const struct btf_type *t = skip_mods(btf, id, &id);
    if (!t || btf_kind(t) != BTF_KIND_STRUCT || btf_vlen(t) == 0 || btf_kflag(t))
        return 0;
    for (uint32_t i = 0; i < obj->n_records; i++)
        if (seen_ids[i] == id)
            return i + 1;
    const char *name = btf__name_by_offset(btf, t->name_off);
    struct bpflua_field fields[64];
    uint16_t n = btf_vlen(t);
    if (!name || !name[0] || n > 64)
        return 0;
    const struct btf_member *m = btf_members(t);
    for (uint16_t i = 0; i < n; i++, m++) {
        const struct btf_type *ft = skip_mods(btf, m->type, NULL);
        if (!ft || btf_kind(ft) != BTF_KIND_INT || m->offset % 8 || btf_int_offset(ft) ||
            btf_int_bits(ft) != ft->size * 8)
            return 0;
        fields[i].name = btf__name_by_offset(btf, m->name_off);
        fields[i].offset = m->offset / 8;
        fields[i].size = ft->size;
        fields[i].is_signed = (btf_int_encoding(ft) & BTF_INT_SIGNED) != 0;
    }
    int idx = bpflua_object_add_record(obj, name, t->size, fields, n);
    if (idx < 0)
        return 0;
    seen_ids[idx] = id;
    return (uint32_t)idx + 1;
}

int bl_btf_map_records(const struct btf *btf, bpflua_object *obj, struct bl_map_def *def,
                       char **err)
{
    /* records added for this object so far, by BTF id (a small object:
     * records are few) */
    uint32_t seen[BL_MAX_MAPS * 2];
    if (!btf || obj->n_records >= BL_MAX_MAPS * 2)
        return 0;
    memset(seen, 0, sizeof seen);
    /* the BTF ids of records already added are those of their names */
    for (uint32_t i = 0; i < obj->n_records; i++) {
        int id = btf__find_by_name_kind(btf, obj->records[i].name, BTF_KIND_STRUCT);
        seen[i] = id > 0 ? (uint32_t)id : 0;
    }
    const struct btf_type *sec = find_maps_datasec(btf);
    const struct btf_type *st = sec ? map_struct(btf, sec, def->name, 0, err) : NULL;
    if (!st)
        return -EINVAL;
    const struct btf_member *m = btf_members(st);
    for (uint16_t j = 0; j < btf_vlen(st); j++, m++) {
        const char *field = btf__name_by_offset(btf, m->name_off);
        uint32_t pointee = 0;
        if (!field || member_type(btf, m->type, &pointee))
            continue;
        if (strcmp(field, "key") == 0)
            def->key_record = btf_record(btf, obj, pointee, seen);
        else if (strcmp(field, "value") == 0)
            def->value_record = btf_record(btf, obj, pointee, seen);
    }
    if (def->key_record && bl_object_record(obj, def->key_record)->size != def->key_size)
        def->key_record = 0;
    if (def->value_record && bl_object_record(obj, def->value_record)->size != def->value_size)
        def->value_record = 0;
    if (def->type == BPFLUA_MAP_RINGBUF) {
        char tname[BL_NAME_MAX + 32];
        snprintf(tname, sizeof tname, "%s%s", BL_BTF_EVENT_PREFIX, def->name);
        int id = btf__find_by_name_kind(btf, tname, BTF_KIND_TYPEDEF);
        const struct btf_type *t = id > 0 ? type_by_id(btf, (uint32_t)id) : NULL;
        if (t) {
            def->value_record = btf_record(btf, obj, t->type, seen);
            const struct btf_type *it = skip_mods(btf, t->type, NULL);
            if (def->value_record)
                def->event_type = BPFLUA_EVENT_RECORD;
            else if (it && btf_kind(it) == BTF_KIND_INT && it->size == 8)
                def->event_type = BPFLUA_EVENT_INT;
        }
    }
    return 0;
}

/* ---- .BTF.ext ---------------------------------------------------------------- */

struct ext_cursor {
    const uint8_t *p;
    size_t len;      /* bytes of this info block */
    size_t pos;
};

static int read_u32(struct ext_cursor *c, uint32_t *v)
{
    if (c->len - c->pos < 4)
        return -EINVAL;
    memcpy(v, c->p + c->pos, 4);
    c->pos += 4;
    return 0;
}

static const char *btf_str(const struct btf *btf, uint32_t off)
{
    const char *s = btf__name_by_offset(btf, off);
    return s;
}

/* Walks one info block (func_info or line_info), calling add() per record. */
static int walk_info(const struct btf *btf, const uint8_t *block, size_t len, size_t min_rec,
                     const char *what,
                     int (*add)(struct bl_ext_info *, const char *, const uint8_t *, const struct btf *),
                     struct bl_ext_info *out, char **err)
{
    struct ext_cursor c = { block, len, 0 };
    uint32_t rec_size;
    if (len == 0)
        return 0;
    if (read_u32(&c, &rec_size) || rec_size < min_rec || rec_size > 1024 || rec_size % 4) {
        bl_set_err(err, "elf: .BTF.ext %s: bad record size", what);
        return -EINVAL;
    }
    while (c.pos < c.len) {
        uint32_t sec_off, num;
        if (read_u32(&c, &sec_off) || read_u32(&c, &num)) {
            bl_set_err(err, "elf: .BTF.ext %s: truncated section header", what);
            return -EINVAL;
        }
        const char *sec = btf_str(btf, sec_off);
        if (!sec || !sec[0]) {
            bl_set_err(err, "elf: .BTF.ext %s: bad section name offset %u", what, sec_off);
            return -EINVAL;
        }
        if (num == 0 || (c.len - c.pos) / rec_size < num) {
            bl_set_err(err, "elf: .BTF.ext %s: %u records for '%s' do not fit the section",
                       what, num, sec);
            return -EINVAL;
        }
        for (uint32_t i = 0; i < num; i++) {
            int rc = add(out, sec, c.p + c.pos, btf);
            if (rc) {
                bl_set_err(err, "elf: .BTF.ext %s: bad record %u for '%s'", what, i, sec);
                return rc;
            }
            c.pos += rec_size;
        }
    }
    return 0;
}

/* Arrays grow to 64, then double: at n == 0 and at each power of two >= 64. */
static int grow_now(size_t n)
{
    return n == 0 || (n >= 64 && (n & (n - 1)) == 0);
}

static size_t grown(size_t n)
{
    return n < 64 ? 64 : n * 2;
}

static int add_func(struct bl_ext_info *out, const char *sec, const uint8_t *rec,
                    const struct btf *btf)
{
    struct bl_btf_func_rec r;
    memcpy(&r, rec, sizeof r);
    if (r.insn_off % 8)
        return -EINVAL;
    const char *name = "";
    const struct btf_type *t = type_by_id(btf, r.type_id);
    if (!t || btf_kind(t) != BTF_KIND_FUNC)
        return -EINVAL;
    name = btf_str(btf, t->name_off);
    struct bl_ext_func *nf = out->funcs;
    if (grow_now(out->n_funcs)) {
        nf = realloc(out->funcs, grown(out->n_funcs) * sizeof *nf);
        if (!nf)
            return -ENOMEM;
        out->funcs = nf;
    }
    nf[out->n_funcs++] = (struct bl_ext_func){ sec, r.insn_off / 8, name ? name : "" };
    return 0;
}

static int add_line(struct bl_ext_info *out, const char *sec, const uint8_t *rec,
                    const struct btf *btf)
{
    struct bl_btf_line_rec r;
    memcpy(&r, rec, sizeof r);
    const char *file = btf_str(btf, r.file_name_off);
    const char *text = btf_str(btf, r.line_off);
    if (r.insn_off % 8 || !file || !text)
        return -EINVAL;
    struct bl_ext_line *nl = out->lines;
    if (grow_now(out->n_lines)) {
        nl = realloc(out->lines, grown(out->n_lines) * sizeof *nl);
        if (!nl)
            return -ENOMEM;
        out->lines = nl;
    }
    nl[out->n_lines++] = (struct bl_ext_line){ sec, r.insn_off / 8, BL_LINE_NUM(r.line_col),
                                              BL_LINE_COL(r.line_col), file, text };
    return 0;
}

int bl_btf_ext_parse(const void *data, size_t len, const struct btf *btf,
                     struct bl_ext_info *out, char **err)
{
    struct bl_btf_ext_header h;
    memset(out, 0, sizeof *out);
    if (!btf) {
        bl_set_err(err, "elf: .BTF.ext without .BTF");
        return -EINVAL;
    }
    if (len < 8) {
        bl_set_err(err, "elf: .BTF.ext truncated");
        return -EINVAL;
    }
    memset(&h, 0, sizeof h);
    memcpy(&h, data, len < sizeof h ? len : sizeof h);
    if (h.magic != BL_BTF_EXT_MAGIC) {
        bl_set_err(err, "elf: .BTF.ext: bad magic 0x%04x", h.magic);
        return -EINVAL;
    }
    if (h.version != 1) {
        bl_set_err(err, "elf: .BTF.ext: unsupported version %u", h.version);
        return -EINVAL;
    }
    if (h.hdr_len < sizeof h || h.hdr_len > len) {
        bl_set_err(err, "elf: .BTF.ext: bad header length %u", h.hdr_len);
        return -EINVAL;
    }
    const uint8_t *base = (const uint8_t *)data + h.hdr_len;
    size_t avail = len - h.hdr_len;
    if (h.func_info_off > avail || h.func_info_len > avail - h.func_info_off ||
        h.line_info_off > avail || h.line_info_len > avail - h.line_info_off) {
        bl_set_err(err, "elf: .BTF.ext: info block out of bounds");
        return -EINVAL;
    }
    int rc = walk_info(btf, base + h.func_info_off, h.func_info_len,
                       sizeof(struct bl_btf_func_rec), "func_info", add_func, out, err);
    if (!rc)
        rc = walk_info(btf, base + h.line_info_off, h.line_info_len,
                       sizeof(struct bl_btf_line_rec), "line_info", add_line, out, err);
    if (rc)
        bl_ext_info_free(out);
    return rc;
}

void bl_ext_info_free(struct bl_ext_info *info)
{
    free(info->funcs);
    free(info->lines);
    memset(info, 0, sizeof *info);
}
