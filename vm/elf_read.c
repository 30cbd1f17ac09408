/* STUB (the ELF component replaces this file) */
#include <errno.h>
#include "object.h"
#include "kernel.h"
bpflua_object *bpflua_object_open_elf(const char *p, char **err) { bl_set_err(err, "ELF reader not built yet"); return NULL; }
bpflua_object *bpflua_object_from_elf(const void *b, size_t l, const char *n, char **err) { bl_set_err(err, "ELF reader not built yet"); return NULL; }
int bpflua_object_to_elf(bpflua_object *o, void **b, size_t *l, char **err) { bl_set_err(err, "ELF writer not built yet"); return -ENOSYS; }
int bpflua_object_write_elf(bpflua_object *o, const char *p, char **err) { bl_set_err(err, "ELF writer not built yet"); return -ENOSYS; }
int bl_kernel_available(char **why) { bl_set_err(why, "kernel engine not built yet"); return 0; }
int bl_kernel_load(bpflua_object *o, char **err) { return -ENOSYS; }
int bl_kernel_run(bpflua_object *o, size_t p, void *pkt, size_t len, uint64_t r, struct bpflua_run_result *res, char **err) { return -ENOSYS; }
void bl_kernel_close(struct bl_kernel_obj *k) {}
