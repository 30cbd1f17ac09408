/* attach.h - live filters: a program attached to a network interface (XDP).
 *
 * An attachment owns a program loaded in the kernel and attached to one
 * interface with bpf_xdp_attach, plus the file descriptors of the maps the
 * program uses, so that a live view can read them. Freeing an attachment
 * detaches the program unless it was pinned on purpose (bl_attachment_pin).
 *
 * Conventions as bpflua.h: 0 or a negative errno; on failure a malloc'd
 * message in *err (err may be NULL). Nothing here prints or exits.
 */
#ifndef BPFLUA_ATTACH_H
#define BPFLUA_ATTACH_H

#include <stddef.h>
#include <stdint.h>

#include "bpflua.h"

#ifdef __cplusplus
extern "C" {
#endif

enum bl_attach_mode {
    BL_ATTACH_SKB = 0,      /* generic XDP (XDP_FLAGS_SKB_MODE): works on any device */
    BL_ATTACH_NATIVE = 1,   /* driver XDP (XDP_FLAGS_DRV_MODE) */
    BL_ATTACH_TC_INGRESS = 2, /* tc program on the clsact qdisc's ingress hook */
    BL_ATTACH_TC_EGRESS = 3,  /* ... on its egress hook */
};

struct bl_attachment;

/* "skb" / "generic" -> SKB, "native" / "drv" / "driver" -> NATIVE, "ingress",
 * "egress" -> TC_INGRESS, TC_EGRESS; else -EINVAL. A tc program (section
 * "tc" or "classifier") given SKB (the default) goes on ingress; a tc mode
 * for an XDP program, or NATIVE for a tc program, is refused. */
int bl_attach_parse_mode(const char *s, enum bl_attach_mode *out, char **err);
const char *bl_attach_mode_name(enum bl_attach_mode mode);

/* The interface index of ifname, or a negative errno with a message that
 * says the interface does not exist. */
int bl_attach_ifindex(const char *ifname, char **err);

/* Loads `obj` into the kernel (once, through the kernel loader of
 * engine/kernel.h: the object's ELF image through libbpf) and
 * attaches program `prog` to `ifname`. Refuses an interface that already
 * has an XDP program (-EBUSY, with a message naming `bpflua detach`). */
int bl_attach(bpflua_object *obj, size_t prog, const char *ifname,
              enum bl_attach_mode mode, struct bl_attachment **out, char **err);

/* The same for an ELF file loaded directly with libbpf (clang or bpflua
 * objects). prog_name NULL: the first XDP program in the file. */
int bl_attach_elf_file(const char *path, const char *prog_name, const char *ifname,
                       enum bl_attach_mode mode, struct bl_attachment **out, char **err);

/* Pins the program at `path` (on a bpffs) and each map at "<path>_<map>",
 * and marks the attachment to stay attached when freed. */
int bl_attachment_pin(struct bl_attachment *a, const char *path, char **err);

/* Whether our program is still attached: 0 if so; -ENODEV when the
 * interface is gone, -ESRCH when another program (or none) is attached
 * there now. Either way the attachment is then marked detached (so that
 * freeing it touches nothing), with a message in *err. */
int bl_attachment_check(struct bl_attachment *a, char **err);

/* Detaches now (only if our program is still the one attached). */
int bl_detach(struct bl_attachment *a, char **err);
/* Detaches unless pinned, closes everything. NULL is fine. */
void bl_attachment_free(struct bl_attachment *a);

/* Detaches whatever XDP program `ifname` has (any mode) and bpflua's tc
 * filters (vm/attach_tc.h) on either hook. -ENOENT with a message when it
 * has none of them. If pin_path is not NULL, also removes the pins
 * bl_attachment_pin made at that path. */
int bl_detach_dev(const char *ifname, const char *pin_path, char **err);

/* Async-signal-safe best effort: detaches every live, unpinned attachment
 * of this process (for fatal-signal handlers and atexit). */
void bl_attach_emergency_detach(void);

/* The most recent live attachment made by bl_attach for obj (its maps are
 * then the kernel's), or NULL. Lets p.maps read the live maps. */
struct bl_attachment *bl_attachment_for_object(const bpflua_object *obj);

/* ---- what is attached ---------------------------------------------------- */

const char *bl_attachment_ifname(const struct bl_attachment *a);
int bl_attachment_ifindex(const struct bl_attachment *a);
enum bl_attach_mode bl_attachment_mode(const struct bl_attachment *a);
const char *bl_attachment_prog_name(const struct bl_attachment *a);
uint32_t bl_attachment_prog_id(const struct bl_attachment *a);
int bl_attachment_prog_fd(const struct bl_attachment *a);
int bl_attachment_is_attached(const struct bl_attachment *a);

/* ---- its maps, read live from the kernel ------------------------------------ */

struct bl_attach_map_info {
    const char *name;
    uint32_t type;          /* enum bpf_map_type */
    uint32_t key_size;
    uint32_t value_size;    /* of one value (per CPU for per-CPU maps) */
    uint32_t max_entries;
    int key_signed, value_signed;
    int fd;
    int percpu;             /* values are per CPU: lookups return n_cpus slots */
    uint32_t n_cpus;        /* slots a lookup fills (1 unless percpu) */
    uint32_t value_stride;  /* bytes between per-CPU slots (value_size rounded to 8) */
};

size_t bl_attachment_map_count(const struct bl_attachment *a);
/* NULL when out of range. */
const struct bl_attach_map_info *bl_attachment_map(const struct bl_attachment *a, size_t i);
/* Index of the map called name, or -1. */
int bl_attachment_map_find(const struct bl_attachment *a, const char *name);
/* Bytes a lookup writes into `value` (n_cpus * value_stride for per-CPU maps). */
size_t bl_attachment_map_value_buf(const struct bl_attachment *a, size_t i);
/* key == NULL: the first key. -ENOENT after the last. */
int bl_attachment_map_next_key(const struct bl_attachment *a, size_t i,
                               const void *key, void *next_key);
/* -ENOENT when the key is absent. value must hold map_value_buf bytes. */
int bl_attachment_map_lookup(const struct bl_attachment *a, size_t i,
                             const void *key, void *value);
/* Sum over CPUs (for per-CPU maps) of a value read as an integer of
 * value_size 1, 2, 4 or 8 bytes (sign-extended when value_signed); other
 * sizes: the first 8 bytes. */
int64_t bl_attach_value_as_int(const struct bl_attach_map_info *m, const void *value);

#ifdef __cplusplus
}
#endif

#endif
