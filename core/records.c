/* records.c - record types and initial map contents in the object model
 * (bpflua.h "records and initial map contents"; format in
 * docs/internals.md "Records, events and initial contents"). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "object.h"

#define MAX_RECORD_SIZE 65535u
#define MAX_RECORD_FIELDS 1024u
#define MAX_INIT_ENTRIES (1u << 20)

static int fail(bpflua_object *obj, int rc, const char *msg, const char *name)
{
    snprintf(obj->last_error, sizeof obj->last_error, "record '%s': %s", name, msg);
    return rc;
}

int bpflua_object_add_record(bpflua_object *obj, const char *name, uint32_t size,
                             const struct bpflua_field *fields, size_t n_fields)
{
    if (!obj)
        return -EINVAL;
    obj->last_error[0] = '\0';
    if (!name || !name[0] || strlen(name) >= BL_NAME_MAX) {
        snprintf(obj->last_error, sizeof obj->last_error,
                 "a record needs a name of 1 to %d bytes", BL_NAME_MAX - 1);
        return -EINVAL;
    }
    if (size == 0 || size > MAX_RECORD_SIZE)
        return fail(obj, -EINVAL, "size must be 1 to 65535 bytes", name);
    if (n_fields > MAX_RECORD_FIELDS || (n_fields && !fields))
        return fail(obj, -EINVAL, "too many fields", name);
    if (obj->n_records >= BL_MAX_MAPS * 2)
        return fail(obj, -E2BIG, "too many records in one object", name);
    for (size_t i = 0; i < n_fields; i++) {
        const struct bpflua_field *f = &fields[i];
        if (!f->name || !f->name[0] || strlen(f->name) >= BL_NAME_MAX)
            return fail(obj, -EINVAL, "a field needs a name of 1 to 63 bytes", name);
        if (f->size != 1 && f->size != 2 && f->size != 4 && f->size != 8)
            return fail(obj, -EINVAL, "field sizes are 1, 2, 4 or 8 bytes", name);
        if (f->offset > size || size - f->offset < f->size)
            return fail(obj, -EINVAL, "a field lies outside the record", name);
        for (size_t j = 0; j < i; j++)
            if (strcmp(fields[j].name, f->name) == 0)
                return fail(obj, -EINVAL, "duplicate field name", name);
    }
    struct bl_field *fs = calloc(n_fields ? n_fields : 1, sizeof *fs);
    struct bl_record *nr = fs ? realloc(obj->records, (obj->n_records + 1) * sizeof *nr) : NULL;
    if (!nr) {
        free(fs);
        return -ENOMEM;
    }
    obj->records = nr;
    for (size_t i = 0; i < n_fields; i++) {
        snprintf(fs[i].name, sizeof fs[i].name, "%s", fields[i].name);
        fs[i].offset = fields[i].offset;
        fs[i].size = fields[i].size;
        fs[i].is_signed = fields[i].is_signed != 0;
    }
    struct bl_record *r = &nr[obj->n_records];
    memset(r, 0, sizeof *r);
    snprintf(r->name, sizeof r->name, "%s", name);
    r->size = size;
    r->n_fields = (uint32_t)n_fields;
    r->fields = fs;
    return (int)obj->n_records++;
}

size_t bpflua_record_count(const bpflua_object *obj)
{
    return obj ? obj->n_records : 0;
}

const struct bl_record *bl_object_record(const bpflua_object *obj, uint32_t ref)
{
    if (!obj || ref == 0 || ref > obj->n_records)
        return NULL;
    return &obj->records[ref - 1];
}

const char *bpflua_record_info(const bpflua_object *obj, size_t rec, uint32_t *size,
                               size_t *n_fields)
{
    if (!obj || rec >= obj->n_records)
        return NULL;
    if (size)
        *size = obj->records[rec].size;
    if (n_fields)
        *n_fields = obj->records[rec].n_fields;
    return obj->records[rec].name;
}

int bpflua_record_field(const bpflua_object *obj, size_t rec, size_t i,
                        struct bpflua_field *out)
{
    if (!obj || !out || rec >= obj->n_records || i >= obj->records[rec].n_fields)
        return -ENOENT;
    const struct bl_field *f = &obj->records[rec].fields[i];
    out->name = f->name;
    out->offset = f->offset;
    out->size = f->size;
    out->is_signed = f->is_signed;
    return 0;
}

int bpflua_map_add_init(bpflua_object *obj, size_t map, const void *key, const void *value)
{
    if (!obj || map >= obj->n_maps || !key || !value)
        return -EINVAL;
    struct bl_map_def *d = &obj->maps[map];
    if (d->type == BPFLUA_MAP_RINGBUF || !d->key_size || !d->value_size)
        return -EINVAL;
    if (d->n_init >= MAX_INIT_ENTRIES || d->n_init >= d->max_entries)
        return -E2BIG;
    size_t entry = (size_t)d->key_size + d->value_size;
    uint8_t *ni = realloc(d->init, (d->n_init + 1) * entry);
    if (!ni)
        return -ENOMEM;
    d->init = ni;
    memcpy(ni + d->n_init * entry, key, d->key_size);
    memcpy(ni + d->n_init * entry + d->key_size, value, d->value_size);
    d->n_init++;
    return 0;
}

size_t bpflua_map_init_count(const bpflua_object *obj, size_t map)
{
    return obj && map < obj->n_maps ? obj->maps[map].n_init : 0;
}

int bpflua_map_init_entry(const bpflua_object *obj, size_t map, size_t i,
                          const void **key, const void **value)
{
    if (!obj || map >= obj->n_maps || i >= obj->maps[map].n_init)
        return -ENOENT;
    const struct bl_map_def *d = &obj->maps[map];
    const uint8_t *e = d->init + i * ((size_t)d->key_size + d->value_size);
    if (key)
        *key = e;
    if (value)
        *value = e + d->key_size;
    return 0;
}

void bl_object_free_records(bpflua_object *obj)
{
    for (uint32_t i = 0; i < obj->n_records; i++)
        free(obj->records[i].fields);
    free(obj->records);
    obj->records = NULL;
    obj->n_records = 0;
    for (uint32_t i = 0; i < obj->n_maps; i++) {
        free(obj->maps[i].init);
        obj->maps[i].init = NULL;
        obj->maps[i].n_init = 0;
    }
}
