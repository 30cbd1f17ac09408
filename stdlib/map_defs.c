/* map_defs.c - a map definition entering an object, and the object's map
 * instances (created on first use).
 *
 * This sits in stdlib, not in the object model (core/object.c), because
 * both need each map type's rules and allocator: core/ is below stdlib and
 * calls nothing above it (docs/internals.md, 'Layers').
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "map_impl.h"

static uint64_t round8(uint64_t v)
{
    return (v + 7) & ~(uint64_t)7;
}

/* memory a map definition asks for (an estimate of what stdlib allocates) */
static uint64_t map_bytes(uint32_t type, uint32_t key_size, uint32_t value_size,
                          uint32_t max_entries)
{
    switch (type) {
    case BPFLUA_MAP_RINGBUF:
        return max_entries;
    case BPFLUA_MAP_HASH:
    case BPFLUA_MAP_LRU_HASH:
        return (uint64_t)max_entries * (round8(key_size) + round8(value_size) + 16);
    default:
        return (uint64_t)max_entries * round8(value_size);
    }
}

int bpflua_object_add_map(bpflua_object *obj, const struct bpflua_map_spec *spec)
{
    if (!obj)
        return -EINVAL;
    obj->last_error[0] = '\0';
    if (!spec || !spec->name || !spec->name[0] || strlen(spec->name) >= BL_NAME_MAX)
        return bl_object_fail(obj, -EINVAL, "a map needs a name of 1 to %d bytes", BL_NAME_MAX - 1);
    if (obj->map_rt)
        return bl_object_fail(obj, -EBUSY, "map '%s': maps are fixed once the object has run",
                        spec->name);
    for (uint32_t i = 0; i < obj->n_maps; i++)
        if (strcmp(obj->maps[i].name, spec->name) == 0)
            return bl_object_fail(obj, -EEXIST, "map '%s' is defined twice", spec->name);
    if (obj->n_maps >= BL_MAX_MAPS)
        return bl_object_fail(obj, -E2BIG, "map '%s': an object holds at most %u maps", spec->name,
                        BL_MAX_MAPS);
    int of_maps = spec->type == BPFLUA_MAP_ARRAY_OF_MAPS || spec->type == BPFLUA_MAP_HASH_OF_MAPS;
    if (of_maps != (spec->inner_map != 0))
        return bl_object_fail(obj, -EINVAL, "map '%s': %s", spec->name,
                              of_maps ? "a map of maps needs an inner map template"
                                      : "only maps of maps have an inner map template");
    if (of_maps) {
        const struct bl_map_def *t = spec->inner_map <= obj->n_maps ? &obj->maps[spec->inner_map - 1]
                                                                     : NULL;
        if (!t)
            return bl_object_fail(obj, -EINVAL, "map '%s': its inner map template %u is not an "
                                  "earlier map of the object", spec->name, spec->inner_map - 1);
        /* as the kernel's bpf_map_meta_alloc: no maps of maps of maps, no
         * maps of kernel objects inside */
        if (t->type == BPFLUA_MAP_ARRAY_OF_MAPS || t->type == BPFLUA_MAP_HASH_OF_MAPS ||
            t->type == BPFLUA_MAP_PROG_ARRAY || t->type == BPFLUA_MAP_PERF_EVENT_ARRAY)
            return bl_object_fail(obj, -ENOTSUP, "map '%s': a %s cannot be an inner map",
                                  spec->name, bl_map_type_name(t->type));
    }
    {
        /* stdlib's per-map size limits now, the kernel's other rules when
         * the map is created */
        struct bl_map_def def = { .type = spec->type, .key_size = spec->key_size,
                                  .value_size = spec->value_size,
                                  .max_entries = spec->max_entries, .flags = spec->flags };
        snprintf(def.name, sizeof def.name, "%s", spec->name);
        char *why = NULL;
        int rc = bl_map_check_def(&def, &why);
        if (rc == -E2BIG) {
            bl_object_fail(obj, rc, "%s", why ? why : "map too large");
            free(why);
            return rc;
        }
        free(why);
        uint64_t total = map_bytes(spec->type, spec->key_size, spec->value_size,
                                   spec->max_entries);
        for (uint32_t i = 0; i < obj->n_maps; i++)
            total += map_bytes(obj->maps[i].type, obj->maps[i].key_size,
                               obj->maps[i].value_size, obj->maps[i].max_entries);
        if (total > BL_MAX_TOTAL_MAP_BYTES)
            return bl_object_fail(obj, -E2BIG, "map '%s': the object's maps would take %llu MiB, "
                            "more than the limit of %llu MiB for all maps together",
                            spec->name, (unsigned long long)(total >> 20),
                            (unsigned long long)(BL_MAX_TOTAL_MAP_BYTES >> 20));
    }
    {
        const struct bl_record *kr = bl_object_record(obj, spec->key_record);
        const struct bl_record *vr = bl_object_record(obj, spec->value_record);
        if ((spec->key_record && (!kr || kr->size != spec->key_size)) ||
            (spec->value_record && (!vr || (spec->type != BPFLUA_MAP_RINGBUF &&
                                            vr->size != spec->value_size))))
            return bl_object_fail(obj, -EINVAL, "map '%s': its key or value record is not one "
                                  "of the object's records of the key/value size", spec->name);
        if (spec->event_type > BPFLUA_EVENT_RECORD ||
            (spec->event_type == BPFLUA_EVENT_RECORD) != (spec->type == BPFLUA_MAP_RINGBUF &&
                                                          spec->value_record != 0))
            return bl_object_fail(obj, -EINVAL, "map '%s': event_type %u does not fit the map",
                                  spec->name, spec->event_type);
    }
    if (spec->init_len && (!spec->init || spec->type != BPFLUA_MAP_ARRAY ||
                           spec->max_entries != 1 || spec->init_len > spec->value_size))
        return bl_object_fail(obj, -EINVAL, "map '%s': initial bytes are for an array of one "
                              "element, at most value_size of them", spec->name);
    if (spec->inner_map > obj->n_maps)
        return bl_object_fail(obj, -EINVAL, "map '%s': inner map %u is not defined before it",
                              spec->name, spec->inner_map - 1);
    uint8_t *init = NULL;
    if (spec->init_len) {
        init = malloc(spec->init_len);
        if (!init)
            return -ENOMEM;
        memcpy(init, spec->init, spec->init_len);
    }
    struct bl_map_def *nm = realloc(obj->maps, (obj->n_maps + 1) * sizeof *nm);
    if (!nm) {
        free(init);
        return -ENOMEM;
    }
    obj->maps = nm;
    struct bl_map_def *d = &obj->maps[obj->n_maps];
    memset(d, 0, sizeof *d);
    snprintf(d->name, sizeof d->name, "%s", spec->name);
    d->type = spec->type;
    d->key_size = spec->key_size;
    d->value_size = spec->value_size;
    d->max_entries = spec->max_entries;
    d->flags = spec->flags;
    d->key_signed = spec->key_signed != 0;
    d->value_signed = spec->value_signed != 0;
    d->key_record = spec->key_record;
    d->value_record = spec->value_record;
    d->event_type = spec->event_type;
    d->rdonly_prog = spec->rdonly_prog != 0;
    d->inner_map = spec->inner_map;
    d->data_init = init;
    d->data_init_len = spec->init_len;
    return (int)obj->n_maps++;
}

/* A new instance gets the map's initial contents (`init`), in order, as
 * bpf(2) updates: a per-CPU map's value in every CPU's slot. */
static int place_init(bpflua_object *obj, size_t map, struct bl_map *m, char **err)
{
    size_t n = bpflua_map_init_count(obj, map);
    for (size_t i = 0; i < n; i++) {
        const void *key, *value;
        int rc = bpflua_map_init_entry(obj, map, i, &key, &value);
        /* a map of maps' value names a map of the object (its index):
         * bpflua_map_update checks it against the template and stores the
         * instance (the map being made is already obj->map_rt[map]) */
        if (rc == 0)
            rc = m->of_maps ? bpflua_map_update(obj, map, key, value, BL_ANY)
                            : bl_map_update_cpus(m, key, value, BL_ANY, 1);
        if (rc < 0) {
            bl_set_err(err, "map '%s': cannot store initial entry %zu: %s",
                       obj->maps[map].name, i + 1, strerror(-rc));
            return rc;
        }
    }
    return 0;
}

struct bl_map *bl_object_map(bpflua_object *obj, size_t map, char **err)
{
    if (!obj || map >= obj->n_maps) {
        bl_set_err(err, "no map %zu", map);
        return NULL;
    }
    if (!obj->map_rt) {
        obj->map_rt = calloc(obj->n_maps ? obj->n_maps : 1, sizeof *obj->map_rt);
        if (!obj->map_rt) {
            bl_set_err(err, "out of memory");
            return NULL;
        }
        obj->map_free = bl_map_free; /* the object model frees what we made */
    }
    if (!obj->map_rt[map]) {
        const struct bl_map_def *d = &obj->maps[map];
        obj->map_rt[map] = bl_map_create(d, err);
        if (obj->map_rt[map] && place_init(obj, map, obj->map_rt[map], err) < 0) {
            bl_map_free(obj->map_rt[map]);
            obj->map_rt[map] = NULL;
        }
        /* global data starts as the section's bytes */
        uint32_t key = 0;
        uint8_t *v = obj->map_rt[map] && d->data_init_len
                   ? bl_map_lookup_sys(obj->map_rt[map], &key) : NULL;
        if (v)
            memcpy(v, d->data_init, d->data_init_len);
    }
    return obj->map_rt[map];
}
