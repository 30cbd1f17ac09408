/* STUB (engine core replaces this file) */
#include <errno.h>
#include "object.h"
int bpflua_run(bpflua_object *o, size_t p, void *pkt, size_t len, const struct bpflua_run_opts *opts, struct bpflua_run_result *r, char **err) { bl_set_err(err, "engine not built yet"); return -ENOSYS; }
