/* object.h - the internal layout of a bpflua object.
 *
 * Shared by every engine component. The object owns everything it points
 * to. Programs are stored "linked" the way libbpf presents them to the
 * kernel: main function first, subprograms (callbacks, local functions)
 * appended, calls and BL_PSEUDO_FUNC pc-relative, maps by index.
 */
#ifndef BPFLUA_OBJECT_H
#define BPFLUA_OBJECT_H

#include <stddef.h>
#include <stdint.h>

#include "bpflua.h"
#include "insn.h"

#define BL_NAME_MAX 64

/* Resource limits, enforced by bpflua_object_add_prog / _add_map (which
 * return -E2BIG and leave the reason in bpflua_object_error()). The
 * per-map size limit (256 MiB) is stdlib's (bl_map_check_def). */
#define BL_MAX_PROG_INSNS 1000000u        /* as the kernel's BPF_COMPLEXITY_LIMIT_INSNS */
#define BL_MAX_PROGS 4096u                /* programs per object */
#define BL_MAX_MAPS 1024u                 /* maps per object */
#define BL_MAX_TOTAL_MAP_BYTES (1ull << 30) /* all maps of an object together */

struct bl_map;          /* stdlib/maps.h: a runtime map instance */
struct bl_insn_aux;     /* vm/verifier.h: per-instruction annotations */
struct bl_jit_code;     /* jit/jit.h */
struct bl_kernel_obj;   /* engine/kernel.h: the object loaded through libbpf */

/* The object model (core/) is the bottom layer: the runtime parts that
 * upper layers hang on an object (map instances, JIT code, the kernel's
 * copy) are freed through the function their maker stored next to them,
 * so nothing here calls upward (docs/internals.md, 'Layers'). */

struct bl_map_def {
    char name[BL_NAME_MAX];
    uint32_t type, key_size, value_size, max_entries, flags;
    uint8_t key_signed, value_signed;
    /* version 1: records (1 + index into bpflua_object.records, 0 for an
     * integer), the ringbuf event type, initial contents */
    uint32_t key_record, value_record;
    uint32_t event_type;         /* enum bpflua_event_type (ringbuf) */
    uint8_t *init;               /* n_init entries of key_size + value_size bytes */
    uint32_t n_init;
    uint8_t rdonly_prog;         /* programs may not write values (.rodata) */
    uint32_t inner_map;          /* 1 + index of the inner maps' template, 0 none */
    uint8_t *data_init;          /* element 0's first bytes (global data), owned */
    uint32_t data_init_len;
    uint32_t spin_lock_off;      /* 1 + offset of the value's struct bpf_spin_lock (BTF), 0 none */
};

/* A record type: a struct of integer fields, laid out by its producer (the
 * compiler: source order, C alignment). docs/internals.md "Records". */
struct bl_field {
    char name[BL_NAME_MAX];
    uint32_t offset, size;       /* bytes; size 1, 2, 4 or 8 */
    uint8_t is_signed;
};

struct bl_record {
    char name[BL_NAME_MAX];
    uint32_t size;
    uint32_t n_fields;
    struct bl_field *fields;
};

/* section: where a subprogram came from when not the program's section
 * (".text": `verify --section .text` verifies it in its callers), else "" */
struct bl_func_info { uint32_t insn; char name[BL_NAME_MAX]; char section[BL_NAME_MAX]; };
struct bl_line_info { uint32_t insn; uint32_t line; uint32_t col; };

struct bl_prog_type;     /* core/progtype.h */

struct bl_prog {
    char name[BL_NAME_MAX];
    char section[BL_NAME_MAX];
    const struct bl_prog_type *type; /* from the section, or set (never NULL) */
    uint8_t type_guessed;        /* the section names no type: verification tries
                                  * bl_prog_type_guesses and keeps the first that passes */
    const char *unsupported;     /* the section's type is one bpflua lacks (static string) */
    struct bl_insn *insns;
    uint32_t n_insns;
    struct bl_func_info *funcs;
    uint32_t n_funcs;
    struct bl_line_info *lines;
    uint32_t n_lines;

    /* filled by the verifier */
    int verdict;                 /* 0 not verified, 1 accepted, -1 rejected */
    char *verify_error;          /* the rejection line, malloc'd */
    uint64_t max_insns;
    uint32_t verified_insns;
    uint64_t verify_ns;
    struct bl_insn_aux *aux;     /* n_insns entries */

    /* filled when first run: executable forms */
    struct bl_insn *exec_insns;  /* maps resolved to pointers, ctx loads rewritten */
    struct bl_jit_code *jit;
    void (*jit_free)(struct bl_jit_code *code); /* set with jit */
};

/* Events: records the programs sent to ring buffers, drained after each run
 * (vm/events.c). Only the first run of a bpflua_run is kept; the events of
 * its other runs (--repeat) are counted in `unshown`. */
struct bl_event { uint32_t map, size; unsigned char *data; };
struct bl_event_log {
    struct bl_event *ev;
    size_t n, cap;
    uint64_t unshown;            /* events of runs after the first */
    uint64_t dropped;            /* emits refused: the ring buffer was full */
    unsigned char *buf;          /* drain scratch */
    size_t buf_cap;
};

/* growable text buffer (trace_printk output, logs) */
struct bl_strbuf { char *buf; size_t len, cap; };

struct bpflua_object {
    char license[128];
    char *source_name;
    char *source_text;
    struct bl_map_def *maps;
    uint32_t n_maps;
    struct bl_map **map_rt;      /* n_maps runtime instances, created lazily */
    void (*map_free)(struct bl_map *m);           /* set with map_rt */
    struct bl_record *records;   /* record types the maps refer to */
    uint32_t n_records;
    struct bl_prog *progs;
    uint32_t n_progs;
    struct bl_strbuf trace;
    struct bl_event_log events;
    struct bl_kernel_obj *kernel;
    void (*kernel_close)(struct bl_kernel_obj *k); /* set with kernel */
    char last_error[256];        /* why the last add_prog/add_map failed */
    struct bl_func_info *uncalled; /* .text functions no program calls (name, section):
                                    `verify --section .text` reports them */
    uint32_t n_uncalled;
    void *elf_image;             /* the ELF file as read, kept when it has global data
                                    (the kernel engine loads it as it is) */
    size_t elf_len;
};

/* object.c */
int bl_strbuf_append(struct bl_strbuf *sb, const char *data, size_t len);
int bl_strbuf_printf(struct bl_strbuf *sb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void bl_strbuf_free(struct bl_strbuf *sb);
/* malloc'd printf, for *err messages */
char *bl_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void bl_set_err(char **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The kernel's name of a map type (enum bpf_map_type without its prefix,
 * lower case: "hash", "lpm_trie") or NULL; and back (0 if unknown). */
const char *bl_map_type_name(uint32_t type);
uint32_t bl_map_type_by_name(const char *name);

struct bl_prog *bl_object_prog(bpflua_object *obj, size_t prog);
/* The source line of an instruction, or 0 when there is no line info. */
uint32_t bl_prog_insn_line(const struct bl_prog *p, uint32_t insn);
/* Index into funcs[] of the function containing insn. */
uint32_t bl_prog_insn_func(const struct bl_prog *p, uint32_t insn);
/* Records why an add_prog/add_map failed (bpflua_object_error); returns rc. */
int bl_object_fail(bpflua_object *obj, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* core/events.c: appends one event (keep) or counts it (unshown); -ENOMEM.
 * The engines fill the log (engine/events_drain.c, engine/kernel.c). */
int bl_events_add(bpflua_object *obj, uint32_t map, const void *data, uint32_t size, int keep);
void bl_events_free(bpflua_object *obj);
/* 1 if the object has a ring buffer map (events need draining). */
int bl_object_has_ringbuf(const bpflua_object *obj);
/* Maps named "__bpflua..." are bpflua's own (compiler/compiler.lua):
 * listings (--dump-maps, p.maps, attach) leave them out. The one there
 * is: "__bpflua_drops", a per-CPU array with one u64 per ring buffer that
 * compiled programs add to when an emit finds the buffer full. */
#define BL_INTERNAL_MAP_PREFIX "__bpflua"
#define BL_DROPS_MAP "__bpflua_drops"
/* 1 if a map of this name and shape is the drops map (a per-CPU array of
 * u32 keys and u64 values named BL_DROPS_MAP); the index of the object's,
 * or -1. */
int bl_map_is_drops(const char *name, uint32_t type, uint32_t key_size, uint32_t value_size);
int bl_object_drops_map(const bpflua_object *obj);
/* The record of a map's key or value (def->key_record etc.), or NULL. */
const struct bl_record *bl_object_record(const bpflua_object *obj, uint32_t ref);
/* Frees records and init entries (object.c's bpflua_object_free). */
void bl_object_free_records(bpflua_object *obj);

/* Drops verification results and executable forms (after editing insns). */
void bl_prog_reset(struct bl_prog *p);

#endif
