/* STUB (the verifier replaces this file) */
#include <errno.h>
#include "verifier.h"
int bl_verify_prog(bpflua_object *obj, struct bl_prog *p, int lvl, char **log) { return -ENOSYS; }
int bpflua_verify(bpflua_object *o, size_t p, int lvl, struct bpflua_verify_info *i, char **err, char **log) { bl_set_err(err, "verifier not built yet"); return -ENOSYS; }
