/* elf_init.c - the .bpflua.init section: maps' initial contents (`init =
 * {...}`) in an ELF object. libbpf and bpftool skip a non-allocated
 * PROGBITS section they do not know, so the object still loads elsewhere
 * (with empty maps); bpflua's loaders fill the maps from it.
 *
 * Layout (little endian, no padding; docs/internals.md):
 *   magic "BLINIT1\0"
 *   per map with entries:
 *     u32 name_len, name (name_len bytes, no NUL: the map's ELF symbol)
 *     u32 key_size, u32 value_size, u32 count
 *     count x { key (key_size bytes), value (value_size bytes) }
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "elf_internal.h"

static const char MAGIC[8] = "BLINIT1";

static int put(struct bl_strbuf *sb, const void *p, size_t n)
{
    return bl_strbuf_append(sb, (const char *)p, n);
}

static int put_u32(struct bl_strbuf *sb, uint32_t v)
{
    uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
    return put(sb, b, 4);
}

int bl_init_encode(const bpflua_object *obj, const char *const *map_names, void **buf,
                   size_t *len)
{
    *buf = NULL;
    *len = 0;
    struct bl_strbuf sb = {0};
    int rc = 0, any = 0;
    for (uint32_t i = 0; i < obj->n_maps && !rc; i++) {
        const struct bl_map_def *d = &obj->maps[i];
        if (!d->n_init)
            continue;
        if (!any)
            rc = put(&sb, MAGIC, sizeof MAGIC);
        any = 1;
        const char *name = map_names ? map_names[i] : d->name;
        size_t nl = strlen(name);
        if (!rc) rc = put_u32(&sb, (uint32_t)nl);
        if (!rc) rc = put(&sb, name, nl);
        if (!rc) rc = put_u32(&sb, d->key_size);
        if (!rc) rc = put_u32(&sb, d->value_size);
        if (!rc) rc = put_u32(&sb, d->n_init);
        if (!rc) rc = put(&sb, d->init, (size_t)d->n_init * (d->key_size + d->value_size));
    }
    if (rc) {
        bl_strbuf_free(&sb);
        return rc;
    }
    *buf = sb.buf;
    *len = sb.len;
    return 0;
}

struct cursor { const uint8_t *p; size_t len, pos; };

static int get_u32(struct cursor *c, uint32_t *v)
{
    if (c->len - c->pos < 4)
        return -EINVAL;
    const uint8_t *b = c->p + c->pos;
    *v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    c->pos += 4;
    return 0;
}

int bl_init_decode(bpflua_object *obj, const void *data, size_t len, char **err)
{
    struct cursor c = { data, len, 0 };
    if (len < sizeof MAGIC || memcmp(data, MAGIC, sizeof MAGIC) != 0) {
        bl_set_err(err, "elf: %s: unknown format", BL_INIT_SECTION);
        return -EINVAL;
    }
    c.pos = sizeof MAGIC;
    while (c.pos < c.len) {
        uint32_t nl, ks, vs, count;
        if (get_u32(&c, &nl) || nl == 0 || nl >= BL_NAME_MAX || c.len - c.pos < nl) {
            bl_set_err(err, "elf: %s: truncated or bad map name at byte %zu", BL_INIT_SECTION,
                       c.pos);
            return -EINVAL;
        }
        char name[BL_NAME_MAX];
        memcpy(name, c.p + c.pos, nl);
        name[nl] = '\0';
        c.pos += nl;
        if (get_u32(&c, &ks) || get_u32(&c, &vs) || get_u32(&c, &count)) {
            bl_set_err(err, "elf: %s: map '%s': truncated header", BL_INIT_SECTION, name);
            return -EINVAL;
        }
        int m = bpflua_map_find(obj, name);
        if (m < 0 || obj->maps[m].key_size != ks || obj->maps[m].value_size != vs) {
            bl_set_err(err, "elf: %s: entries for map '%s' that the object does not have "
                       "(or of other key/value sizes)", BL_INIT_SECTION, name);
            return -EINVAL;
        }
        uint64_t need = (uint64_t)count * ((uint64_t)ks + vs);
        if (need > c.len - c.pos) {
            bl_set_err(err, "elf: %s: map '%s': %u entries do not fit the section",
                       BL_INIT_SECTION, name, count);
            return -EINVAL;
        }
        for (uint32_t i = 0; i < count; i++) {
            const uint8_t *e = c.p + c.pos + (size_t)i * (ks + vs);
            int rc = bpflua_map_add_init(obj, (size_t)m, e, e + ks);
            if (rc) {
                bl_set_err(err, "elf: %s: map '%s': cannot add entry %u: %s", BL_INIT_SECTION,
                           name, i, strerror(-rc));
                return rc;
            }
        }
        c.pos += (size_t)need;
    }
    return 0;
}
