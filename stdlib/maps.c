/* STUB (maps and helpers replace this file) */
#include <errno.h>
#include "../vm/object.h"
#include "maps.h"
#include "helpers.h"
struct bl_map *bl_map_create(const struct bl_map_def *d, char **err) { bl_set_err(err, "maps not built yet"); return NULL; }
void bl_map_free(struct bl_map *m) {}
size_t bpflua_map_count(const bpflua_object *o) { return o ? o->n_maps : 0; }
int bpflua_map_find(const bpflua_object *o, const char *n) { return -1; }
int bpflua_map_spec(const bpflua_object *o, size_t m, struct bpflua_map_spec *s) { return -ENOSYS; }
int bpflua_map_lookup(bpflua_object *o, size_t m, const void *k, void *v) { return -ENOSYS; }
int bpflua_map_update(bpflua_object *o, size_t m, const void *k, const void *v, uint64_t f) { return -ENOSYS; }
int bpflua_map_delete(bpflua_object *o, size_t m, const void *k) { return -ENOSYS; }
int bpflua_map_next_key(bpflua_object *o, size_t m, const void *k, void *n) { return -ENOSYS; }
int bpflua_ringbuf_pop(bpflua_object *o, size_t m, void *b, size_t c) { return -ENOSYS; }
